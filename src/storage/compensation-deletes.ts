import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@elastic/elasticsearch';
import type { DocumentToWrite } from '../events/event-store-type.js';
import type { Logger } from '../logging/logger.js';

/** A document to write with the name of its index, derived once from its target (see index-names.ts). */
export type LocatedDocument = DocumentToWrite & { index: string };

/** A document's place: the same id is used in an event index and in the PersonalData index. */
function placeOf(doc: LocatedDocument): string {
  return `${doc.index}/${doc.id}`;
}

export function jittered(ms: number): number {
  return ms + Math.random() * ms;
}

/**
 * Deletes the documents of calls that were refused after some of their documents may have been
 * written (a 400 for one item, a deadline passed, a bulk whose answer never came).
 *
 * Promise, kept while this process lives: every document handed over is deleted, retried with capped
 * jittered backoff until Elasticsearch acknowledges the delete (404 counts: never written); then
 * deleted again at growing intervals for `windowMs`, so that a bulk Elasticsearch applies late (it had
 * received it before it paused or slowed down, and runs it when it resumes) is removed as well.
 *
 * Limits: the work lives in memory. If MLog is killed (SIGKILL, crash) before the deletes are
 * acknowledged, or a late bulk is applied after the window, documents of a call answered 4xx/503 can
 * remain; they carry a UID the caller never received. On a graceful stop the remaining work gets the
 * shutdown grace, and the ids still pending are logged.
 */
export class CompensationDeletes {
  /** Places (index/id) being deleted, with the document they were handed over as (a later write of the place takes it back). */
  private readonly pending = new Map<string, LocatedDocument>();
  private readonly unacknowledged = new Set<Promise<void>>();
  private readonly tasks = new Set<Promise<void>>();
  /** Places whose delete request is on its way, with that request. */
  private readonly deleting = new Map<string, Promise<unknown>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly client: Client,
    private readonly logger: Logger,
    private readonly windowMs: number,
    /** Told which documents a delete request may have removed (their indices must be refreshed before a search). */
    private readonly onDeleted: (documents: LocatedDocument[]) => void = () => {},
  ) {}

  /** Starts deleting `documents`; resolves once the first delete is acknowledged, or after `waitMs`, whichever is first. */
  remove(documents: LocatedDocument[], waitMs: number): Promise<void> {
    if (documents.length === 0) return Promise.resolve();
    for (const doc of documents) this.pending.set(placeOf(doc), doc);
    let acknowledge: () => void = () => {};
    const acknowledged = new Promise<void>((resolve) => (acknowledge = resolve));
    this.unacknowledged.add(acknowledged);
    void acknowledged.then(() => this.unacknowledged.delete(acknowledged));
    const task = this.run(documents, acknowledge).finally(() => {
      acknowledge();
      this.tasks.delete(task);
      for (const doc of documents) if (this.pending.get(placeOf(doc)) === doc) this.pending.delete(placeOf(doc));
    });
    this.tasks.add(task);
    return Promise.race([acknowledged, sleep(waitMs, undefined, { ref: false })]);
  }

  /**
   * These ids are being written again (an Idempotency-Key retry of a refused call, in this process):
   * stop deleting them, and resolve once no delete of them is on its way to Elasticsearch, so that no
   * delete sent earlier can land after the new write.
   */
  async takeBack(documents: LocatedDocument[]): Promise<void> {
    // The common case on the hot path: nothing is being deleted at all.
    if (this.pending.size === 0 && this.deleting.size === 0) return;
    const sent: Promise<unknown>[] = [];
    for (const doc of documents) {
      const place = placeOf(doc);
      this.pending.delete(place);
      const inFlight = this.deleting.get(place);
      if (inFlight !== undefined) sent.push(inFlight);
    }
    if (sent.length > 0) await Promise.allSettled(sent);
  }

  /** Waits up to `graceMs` for every first delete to be acknowledged, then stops; logs what may remain. */
  async close(graceMs: number): Promise<void> {
    if (this.unacknowledged.size > 0) await Promise.race([Promise.all([...this.unacknowledged]), sleep(graceMs, undefined, { ref: false })]);
    const left = [...this.pending.keys()];
    this.stopping.abort();
    await Promise.allSettled([...this.tasks]);
    if (this.unacknowledged.size > 0) {
      this.logger.error('stopped before Elasticsearch acknowledged the removal of documents of refused calls; they may remain', { ids: left });
    }
  }

  private live(documents: LocatedDocument[]): LocatedDocument[] {
    return documents.filter((doc) => this.pending.get(placeOf(doc)) === doc);
  }

  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { ref: false, signal: this.stopping.signal });
      return true;
    } catch {
      return false;
    }
  }

  private async run(documents: LocatedDocument[], acknowledge: () => void): Promise<void> {
    let backoff = 100;
    while (!(await this.deleteOnce(this.live(documents), false))) {
      if (!(await this.pause(jittered(backoff)))) return;
      backoff = Math.min(backoff * 2, 5_000);
    }
    acknowledge();
    const until = Date.now() + this.windowMs;
    let interval = 500;
    let lastAcknowledged = true;
    while (Date.now() < until || !lastAcknowledged) {
      if (!(await this.pause(Math.max(0, Math.min(interval, until - Date.now()))))) return;
      const live = this.live(documents);
      if (live.length === 0) return;
      lastAcknowledged = await this.deleteOnce(live, true);
      interval = Math.min(interval * 2, 30_000);
    }
  }

  /** One bulk delete; true when Elasticsearch acknowledged every item (deleted, or not found). */
  private async deleteOnce(documents: LocatedDocument[], late: boolean): Promise<boolean> {
    if (documents.length === 0) return true;
    const request = this.client.bulk(
      { operations: documents.map((doc) => ({ delete: { _index: doc.index, _id: doc.id } })), refresh: false, timeout: '5s' },
      { requestTimeout: 5_000, signal: this.stopping.signal },
    );
    for (const doc of documents) this.deleting.set(placeOf(doc), request);
    try {
      const response = await request;
      this.onDeleted(documents);
      const items = response.items.map((item) => item.delete);
      const removed = items.filter((item) => item?.status === 200).map((item) => item?._id);
      if (late && removed.length > 0) this.logger.warn('removed documents of a refused call that Elasticsearch wrote late', { ids: removed });
      const failed = items.filter((item) => item === undefined || (item.status !== 200 && item.status !== 404));
      if (failed.length > 0) this.logger.warn('removal of documents of a refused call not acknowledged yet; retrying', { items: failed.length });
      return failed.length === 0;
    } catch (error) {
      if (!this.stopping.signal.aborted) this.logger.warn('removal of documents of a refused call failed; retrying', { error: (error as Error).message });
      return false;
    } finally {
      for (const doc of documents) if (this.deleting.get(placeOf(doc)) === request) this.deleting.delete(placeOf(doc));
    }
  }
}
