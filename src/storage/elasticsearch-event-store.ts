import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, estypes } from '@elastic/elasticsearch';
import { OverloadedError, StorageUnavailableError, TooManyRequestsError, ValidationError } from '../errors/mlog-error.js';
import type { JsonObject } from '../json/json-object-parser.js';
import type { Logger } from '../logging/logger.js';
import { buildEventSearchBody } from './event-query-builder.js';
import { CLIENT_QUERY_EVENT_TYPE, type DocumentToWrite, type EventPage, type EventSearch, type EventStore, type WriteKind } from '../events/event-store-type.js';
import { describeStorageFailure, isTransientFailure, storageFailure } from './elasticsearch-errors.js';
import { BatchRefusedError, BulkBatcher, prepareCreate, type BulkBatcherOptions, type BulkItemResult, type BulkOutcome, type PreparedOperation } from './bulk-batcher.js';
import { EVENT_INDEX_PREFIX, eventIndexPattern } from './index-names.js';

export interface WriteRetryPolicy {
  /** Total time a write may take, retries included, before the call is answered 503. Each attempt's request timeout is what remains of it. */
  deadlineMs: number;
  firstBackoffMs: number;
  maxBackoffMs: number;
  /**
   * How long the documents of a refused call keep being deleted again after a first acknowledged
   * delete, to remove a bulk that Elasticsearch applied after MLog stopped waiting for it (a paused or
   * overloaded node runs a request it had already received when it resumes).
   */
  lateWriteWindowMs: number;
}

const DEFAULT_RETRY: WriteRetryPolicy = { deadlineMs: 10_000, firstBackoffMs: 50, maxBackoffMs: 1_000, lateWriteWindowMs: 120_000 };

/** Least time worth giving one bulk attempt; with less left of the deadline, the call is answered 503. */
const MIN_ATTEMPT_MS = 200;
/** Longest a refused call's answer waits for the first compensation delete; the rest happens in the background. */
const FOREGROUND_COMPENSATION_MS = 2_000;

/** Retry-After of a call refused because its system's lane of the group commit is full, and because the whole batcher is. */
const LANE_RETRY_AFTER_SECONDS = 1;
const INSTANCE_RETRY_AFTER_SECONDS = 2;

/** The call's deadline passed while its bulk was gathered or on its way (named like the client's timeout, so it counts as retryable). */
class WriteTimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * Which event indices this instance changed (created or deleted documents in) since it last refreshed
 * them, so that a search refreshes only when one of its indices holds a change of this instance not
 * yet visible that the search could match. Each change gets a generation number; a refresh started
 * after a change was acknowledged makes it visible, so after refreshing the indices found dirty at
 * generation g, every mark up to g is cleared and later ones stay.
 *
 * Query records are tracked apart: a search by UID never matches one (its UID is never given out), nor
 * does a search whose event_type filter leaves MLog.ClientQuery out, so those searches do not wait for
 * a refresh that would only make the record of an earlier query visible. Other searches do.
 */
export class RefreshTracker {
  private generation = 0;
  private readonly changed = new Map<string, number>();
  private readonly recordsChanged = new Map<string, number>();

  /** Marks the event indices of `documents` changed (others, like personaldata-*, are refreshed by their own readers); call after Elasticsearch acknowledged the change, before answering. */
  touch(documents: Iterable<{ index: string }>, kind: WriteKind = 'events'): void {
    const generation = ++this.generation;
    const marks = kind === 'events' ? this.changed : this.recordsChanged;
    for (const doc of documents) if (doc.index.startsWith(EVENT_INDEX_PREFIX)) marks.set(doc.index, generation);
  }

  /** The changed indices of one IS (its event indices `mlog-<code>-<yyyy.MM>` only), and the generation they were read at; query records only when asked for. */
  dirty(isCode: string, withQueryRecords = true): { indices: string[]; generation: number } {
    const prefix = `${EVENT_INDEX_PREFIX}${isCode}-`;
    const indices = new Set<string>();
    const own = (index: string): boolean => index.startsWith(prefix) && !index.includes('-', prefix.length);
    for (const index of this.changed.keys()) if (own(index)) indices.add(index);
    if (withQueryRecords) for (const index of this.recordsChanged.keys()) if (own(index)) indices.add(index);
    return { indices: [...indices], generation: this.generation };
  }

  /** `indices` were refreshed by a refresh started after `generation` was read: clears their marks up to it. */
  refreshed(indices: string[], generation: number): void {
    for (const marks of [this.changed, this.recordsChanged]) {
      for (const index of indices) if ((marks.get(index) ?? 0) <= generation) marks.delete(index);
    }
  }
}

/** Whether a search could match a query record: not by UID, and not when its event_type filter leaves the record's type out. */
export function couldMatchQueryRecords(search: EventSearch): boolean {
  if (search.uid !== undefined) return false;
  const eventType = search.conditions.find((condition) => condition.field === 'event_type' && condition.match === 'exact');
  return eventType === undefined || eventType.values.includes(CLIENT_QUERY_EVENT_TYPE);
}

type ItemOutcome = 'written' | 'transient' | 'rejected';

function classifyItem(item: BulkItemResult): ItemOutcome {
  if (item.status === 200 || item.status === 201) return 'written';
  // Create semantics: an id that already exists was written by an earlier attempt of this same call.
  if (item.status === 409) return 'written';
  if (item.status === 429 || item.status >= 500) return 'transient';
  // A blocked or closed index is the cluster's state, not the event's fault: retry, then 503.
  if (item.error?.type === 'cluster_block_exception' || item.error?.type === 'index_closed_exception') return 'transient';
  return 'rejected';
}

/** Plain-English reason of a document refused by Elasticsearch (type conflicts, field limits). */
export function describeRejection(error: estypes.ErrorCause | undefined): string {
  if (error === undefined) return 'Elasticsearch refused it';
  const reason = error.reason ?? error.type;
  if (/Limit of total fields \[(\d+)\]/.test(reason)) {
    const limit = /Limit of total fields \[(\d+)\]/.exec(reason)?.[1];
    return `it would take your events past the limit of ${limit} distinct field names per index; use fewer distinct field names`;
  }
  const objectThenValue = /object mapping for \[([^\]]+)\] tried to parse field \[[^\]]*\] as object, but found a concrete value/.exec(reason);
  if (objectThenValue !== null) {
    return `field ${objectThenValue[1]} holds a single value here, but earlier events of your system sent it as an object with nested fields; keep one shape per field name`;
  }
  const valueThenObject = /failed to parse field \[([^\]]+)\] of type \[([^\]]+)\]/.exec(reason);
  if (valueThenObject !== null) {
    return `field ${valueThenObject[1]} cannot be stored as ${valueThenObject[2]} (earlier events of your system sent it as a single value, or it must be one); keep one shape per field name`;
  }
  const cause = error.caused_by?.reason;
  return cause === undefined || cause === null ? reason : `${reason}: ${cause}`;
}

/** A document's place: the same id is used in an event index and in the PersonalData index. */
function placeOf(doc: DocumentToWrite): string {
  return `${doc.index}/${doc.id}`;
}

function jittered(ms: number): number {
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
class CompensationDeletes {
  /** Places (index/id) being deleted, with the document they were handed over as (a later write of the place takes it back). */
  private readonly pending = new Map<string, DocumentToWrite>();
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
    private readonly onDeleted: (documents: DocumentToWrite[]) => void = () => {},
  ) {}

  /** Starts deleting `documents`; resolves once the first delete is acknowledged, or after `waitMs`, whichever is first. */
  remove(documents: DocumentToWrite[], waitMs: number): Promise<void> {
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
  async takeBack(documents: DocumentToWrite[]): Promise<void> {
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

  private live(documents: DocumentToWrite[]): DocumentToWrite[] {
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

  private async run(documents: DocumentToWrite[], acknowledge: () => void): Promise<void> {
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
  private async deleteOnce(documents: DocumentToWrite[], late: boolean): Promise<boolean> {
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

export interface EventStoreOptions {
  /** Group commit: how concurrent calls' writes are gathered into shared bulks (see BulkBatcher). */
  batching?: Partial<BulkBatcherOptions>;
}

export class ElasticsearchEventStore implements EventStore {
  private readonly compensation: CompensationDeletes;
  private readonly batcher: BulkBatcher;
  private readonly visibility = new RefreshTracker();

  constructor(
    private readonly client: Client,
    private readonly logger: Logger,
    private readonly retry: WriteRetryPolicy = DEFAULT_RETRY,
    options: EventStoreOptions = {},
  ) {
    this.compensation = new CompensationDeletes(client, logger, retry.lateWriteWindowMs, (documents) => this.visibility.touch(documents));
    this.batcher = new BulkBatcher((body, timeoutMs) => this.sendBulk(body, timeoutMs), options.batching);
  }

  /**
   * All or nothing, bounded in time. Every bulk attempt carries a request timeout (and an
   * Elasticsearch-side `timeout`) no longer than what remains of `deadlineMs`, so the call is answered
   * by then (plus at most FOREGROUND_COMPENSATION_MS). Items are classified one by one: written (201,
   * or 409 — the id was created by an earlier attempt of this call), transient (429, 5xx, a write
   * block) → retried with capped jittered backoff, or rejected (mapping or document error) → 400.
   * When it throws, every document of the call is handed to the compensation deletes (see
   * CompensationDeletes for that promise and its limits).
   *
   * Group commit: each attempt hands the call's operations (serialised once, before the first
   * attempt) to the BulkBatcher, which sends them in a `_bulk` shared with other calls in flight and
   * gives back exactly this call's items. Everything above stays per call: another call's refused
   * item, retry or deadline never changes this call's outcome; this call's transient items are retried
   * in a later group; when its deadline passes first, operations not sent yet are withdrawn, and sent
   * ones are covered by the compensation deletes like any bulk whose answer MLog stopped waiting for.
   * Once it resolves, the written event indices are marked for refresh before the next search.
   *
   * Fairness: the attempt waits in the lane of `system`, so bulks are formed round-robin between
   * systems; when that lane (or the batcher) already has as much waiting as it may hold, the call is
   * refused at once: 429 for the system's own bound, 503 for the instance's.
   */
  async writeAll(documents: DocumentToWrite[], kind: WriteKind, system: string): Promise<void> {
    const deadline = Date.now() + this.retry.deadlineMs;
    await this.compensation.takeBack(documents);
    // Serialised once; retries send the same lines.
    const operations = documents.map((doc) => prepareCreate(doc.index, doc.id, doc.document));
    let pending = operations.map((operation, position) => ({ operation, doc: documents[position] as DocumentToWrite }));
    let backoff = this.retry.firstBackoffMs;
    let lastProblem: unknown;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining < MIN_ATTEMPT_MS) {
        await this.compensation.remove(documents, FOREGROUND_COMPENSATION_MS);
        throw new StorageUnavailableError('Elasticsearch did not accept the events in time; nothing was registered. Retry later.', { cause: lastProblem });
      }
      // Every attempt joins the next shared bulk; the call stops waiting for it at its own deadline.
      const outcome = await this.attempt(pending.map((entry) => entry.operation), deadline, system);
      let items: BulkItemResult[] | undefined;
      if (outcome.ok) items = outcome.items;
      else {
        const error = outcome.error;
        if (error instanceof BatchRefusedError) {
          // Nothing of this attempt was sent; an earlier attempt may have written part of the call.
          if (attempt > 1) await this.compensation.remove(documents, FOREGROUND_COMPENSATION_MS);
          throw this.refused(error, system);
        }
        if (!isTransientFailure(error)) {
          await this.compensation.remove(documents, FOREGROUND_COMPENSATION_MS);
          throw this.unavailable(error);
        }
        lastProblem = error;
        this.logger.warn('bulk write failed; retrying', { attempt, error: (error as Error).message });
      }
      if (items !== undefined) {
        const retry: typeof pending = [];
        for (const [position, item] of items.entries()) {
          const entry = pending[position] as (typeof pending)[number];
          const outcome = classifyItem(item);
          if (outcome === 'transient') {
            retry.push(entry);
          } else if (outcome === 'rejected') {
            await this.compensation.remove(documents, FOREGROUND_COMPENSATION_MS);
            throw new ValidationError(`${entry.doc.origin}: the event cannot be stored: ${describeRejection(item.error)}.`);
          }
        }
        if (retry.length === 0) {
          this.visibility.touch(documents, kind);
          return;
        }
        lastProblem = items.find((item) => classifyItem(item) === 'transient')?.error;
        this.logger.warn('bulk items refused for now; retrying', { attempt, items: retry.length });
        pending = retry;
      }
      const wait = jittered(backoff);
      backoff = Math.min(backoff * 2, this.retry.maxBackoffMs);
      if (Date.now() + wait + MIN_ATTEMPT_MS > deadline) {
        await this.compensation.remove(documents, FOREGROUND_COMPENSATION_MS);
        throw new StorageUnavailableError('Elasticsearch did not accept the events in time; nothing was registered. Retry later.', { cause: lastProblem });
      }
      await sleep(wait);
    }
  }

  /**
   * One attempt through the batcher, bounded by the call's deadline: when the deadline comes first the
   * operations are withdrawn if not sent yet, and the attempt counts as timed out (retryable; the
   * caller's deadline check then answers 503 and hands the documents to the compensation deletes).
   */
  private async attempt(operations: PreparedOperation[], deadline: number, system: string): Promise<BulkOutcome> {
    const ticket = this.batcher.submit(operations, deadline, system);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<BulkOutcome>((resolve) => {
      timer = setTimeout(() => {
        ticket.withdraw();
        resolve({ ok: false, error: new WriteTimeoutError('the bulk write was not answered before the write deadline') });
      }, Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([ticket.outcome, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one shared bulk body (see BulkBatcher); only status and error of each item come back. */
  private async sendBulk(body: string, timeoutMs: number): Promise<BulkItemResult[]> {
    const response = await this.client.bulk(
      { body, refresh: false, timeout: `${Math.max(1, timeoutMs - 50)}ms`, filter_path: 'errors,items.*.status,items.*.error' } as unknown as estypes.BulkRequest,
      { requestTimeout: timeoutMs, maxRetries: 0 },
    );
    const items = (response.items ?? []) as Partial<Record<estypes.BulkOperationType, BulkItemResult>>[];
    return items.map((item) => item.create ?? { status: 500, error: { type: 'unexpected_item', reason: 'Elasticsearch answered an item that is not a create' } });
  }

  /** Gives the background removal of refused calls' documents up to `graceMs` to be acknowledged (on shutdown). */
  close(graceMs: number): Promise<void> {
    return this.compensation.close(graceMs);
  }

  /** The answer to a call whose attempt the batcher refused: 429 for its system's bound, 503 for the instance's. */
  private refused(error: BatchRefusedError, system: string): TooManyRequestsError | OverloadedError {
    if (error.bound === 'lane') {
      return new TooManyRequestsError(`Information system "${system}" has too many events waiting to be written: ${error.message}; nothing of this call was registered. Retry after ${LANE_RETRY_AFTER_SECONDS} s.`, LANE_RETRY_AFTER_SECONDS);
    }
    return new OverloadedError(`MLog has too many events waiting to be written: ${error.message}; nothing of this call was registered. Retry after ${INSTANCE_RETRY_AFTER_SECONDS} s.`, INSTANCE_RETRY_AFTER_SECONDS);
  }

  private unavailable(error: unknown): StorageUnavailableError {
    return new StorageUnavailableError('Elasticsearch is unavailable; nothing was registered. Retry later.', { cause: error, detail: describeStorageFailure(error) });
  }

  async search(search: EventSearch): Promise<EventPage> {
    const index = eventIndexPattern(search.isCode);
    try {
      const deadline = Date.now() + this.retry.deadlineMs;
      // Read-your-writes without a refresh per query: only indices this instance changed since its last refresh of them.
      const dirty = this.visibility.dirty(search.isCode, couldMatchQueryRecords(search));
      if (dirty.indices.length > 0) {
        await this.client.indices.refresh(
          { index: dirty.indices.join(','), ignore_unavailable: true, allow_no_indices: true },
          { requestTimeout: this.retry.deadlineMs, maxRetries: 0 },
        );
        this.visibility.refreshed(dirty.indices, dirty.generation);
      }
      const remaining = Math.max(MIN_ATTEMPT_MS, deadline - Date.now());
      const response = await this.client.search<JsonObject>(
        {
          index,
          ignore_unavailable: true,
          allow_no_indices: true,
          ...buildEventSearchBody(search),
        },
        { requestTimeout: remaining, maxRetries: 0 },
      );
      const total = response.hits.total;
      return {
        total: typeof total === 'number' ? total : (total?.value ?? 0),
        events: response.hits.hits.map((hit) => hit._source as JsonObject),
      };
    } catch (error) {
      throw this.readFailure(error);
    }
  }

  async fieldTypes(isCode: string, fields: string[]): Promise<Map<string, string[]>> {
    const types = new Map<string, string[]>();
    if (fields.length === 0) return types;
    try {
      const response = await this.client.fieldCaps({
        index: eventIndexPattern(isCode),
        fields: fields.flatMap((field) => [field, `${field}.*`]),
        ignore_unavailable: true,
        allow_no_indices: true,
      }, { requestTimeout: this.retry.deadlineMs, maxRetries: 0 });
      const found = Object.entries(response.fields);
      for (const field of fields) {
        const own = response.fields[field];
        if (own !== undefined) types.set(field, Object.keys(own));
        else if (found.some(([name]) => name.startsWith(`${field}.`))) types.set(field, ['object']);
      }
      return types;
    } catch (error) {
      throw this.readFailure(error);
    }
  }

  private readFailure(error: unknown): Error {
    return storageFailure(error, 'the query cannot be answered now');
  }
}
