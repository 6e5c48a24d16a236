import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Client, estypes } from '@elastic/elasticsearch';
import { OverloadedError, StorageUnavailableError, TooManyRequestsError, ValidationError } from '../errors/mlog-error.js';
import type { JsonObject } from '../json/json-object-parser.js';
import type { Logger } from '../logging/logger.js';
import { buildEventSearchBody, EVENT_SEARCH_FILTER_PATH } from './event-query-builder.js';
import type { DocumentToWrite, EventPage, EventSearch, EventStore, WriteKind } from '../events/event-store-type.js';
import { CompensationDeletes, jittered, type LocatedDocument } from './compensation-deletes.js';
import { couldMatchQueryRecords, RefreshTracker } from './refresh-tracker.js';
import { describeStorageFailure, isTransientFailure, storageFailure } from './elasticsearch-errors.js';
import { BatchRefusedError, BulkBatcher, prepareCreate, SerializedJson, type BulkBatcherOptions, type BulkItemResult, type BulkOutcome, type PreparedOperation } from './bulk-batcher.js';
import { eventIndexName, eventIndexPattern, indexNameOf } from './index-names.js';

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

/** The backoff between attempts and the late-write window; the deadline is MLOG_WRITE_DEADLINE_SECONDS, given by the composition. */
const RETRY_TIMING: Omit<WriteRetryPolicy, 'deadlineMs'> = { firstBackoffMs: 50, maxBackoffMs: 1_000, lateWriteWindowMs: 120_000 };

/** Least time worth giving one bulk attempt; with less left of the deadline, the call is answered 503. */
const MIN_ATTEMPT_MS = 200;
/** Documents serialised between two turns of the event loop (see writeAll). */
const DOCUMENTS_PER_TURN = 256;
/** Event indices prepareIndex remembers as existing, so that it asks Elasticsearch once per index; the set is emptied past it. */
const PREPARED_INDICES_REMEMBERED = 10_000;
/** Longest a refused call's answer waits for the first compensation delete; the rest happens in the background. */
const FOREGROUND_COMPENSATION_MS = 2_000;

/** Retry-After of a call refused because its system's lane of the group commit is full, and because the whole batcher is. */
const LANE_RETRY_AFTER_SECONDS = 1;
const INSTANCE_RETRY_AFTER_SECONDS = 2;

/** The call's deadline passed while its bulk was gathered or on its way (named like the client's timeout, so it counts as retryable). */
class WriteTimeoutError extends Error {
  override name = 'TimeoutError';
}

type ItemOutcome = 'written' | 'transient' | 'rejected';

function classifyItem(item: BulkItemResult): ItemOutcome {
  if (item.status === 200 || item.status === 201) return 'written';
  // Create semantics: an id that already exists was written by an earlier attempt of this same call.
  if (item.status === 409) return 'written';
  // 5xx includes 503 unavailable_shards_exception: fewer active copies than wait_for_active_shards asks for, within the bulk's timeout.
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

/**
 * The requests of every registration and query: without the client's OpenTelemetry span (MLog
 * exports no traces; building a no-op span and its attributes per request showed in CPU profiles).
 */
const UNTRACED = { openTelemetry: { enabled: false } } as const;

export interface EventStoreOptions {
  /** Group commit: how concurrent calls' writes are gathered into shared bulks (see BulkBatcher). */
  batching?: Partial<BulkBatcherOptions>;
  /**
   * Copies of each shard (primary included) that must be active before a bulk is written, or 'all'
   * (Elasticsearch's `wait_for_active_shards`; default 1, the primary). An acknowledged event is then
   * on every in-sync copy; when the copies are not there by the call's deadline, the items come back
   * 503 (unavailable_shards_exception) and the call is answered 503 with Retry-After.
   */
  waitForActiveShards?: number | 'all';
}

export class ElasticsearchEventStore implements EventStore {
  private readonly compensation: CompensationDeletes;
  private readonly batcher: BulkBatcher;
  private readonly visibility = new RefreshTracker();
  /** Event indices known to exist (prepareIndex); forgotten in a block past PREPARED_INDICES_REMEMBERED. */
  private readonly preparedIndices = new Set<string>();

  private readonly retry: WriteRetryPolicy;
  private readonly waitForActiveShards: number | 'all';

  constructor(
    private readonly client: Client,
    private readonly logger: Logger,
    retry: Pick<WriteRetryPolicy, 'deadlineMs'> & Partial<WriteRetryPolicy>,
    options: EventStoreOptions = {},
  ) {
    this.retry = { ...RETRY_TIMING, ...retry };
    this.waitForActiveShards = options.waitForActiveShards ?? 1;
    this.compensation = new CompensationDeletes(client, logger, this.retry.lateWriteWindowMs, (documents) => this.visibility.touch(documents));
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
   * refused at once: 429 for the system's own bound, 503 for the instance's. A call larger than one
   * bulk travels in several parts, other systems' bulks leaving between them; it is still one attempt:
   * its items are classified together once every part is answered, and when a part fails the whole
   * call is retried or refused, the documents its other parts wrote going to the compensation deletes.
   */
  async writeAll(documents: DocumentToWrite[], kind: WriteKind, system: string): Promise<void> {
    const deadline = Date.now() + this.retry.deadlineMs;
    // Serialised once; retries send the same lines. A large call is serialised in slices, between
    // turns of the event loop, so that other calls are served meanwhile.
    const located: LocatedDocument[] = [];
    const operations: PreparedOperation[] = [];
    // Documents that share a target (one registration's, or a run of one-event registrations') share its index name.
    let lastTarget: DocumentToWrite['target'] | undefined;
    let index = '';
    for (const doc of documents) {
      if (operations.length > 0 && operations.length % DOCUMENTS_PER_TURN === 0) await nextTurn();
      if (doc.target !== lastTarget) index = indexNameOf((lastTarget = doc.target));
      located.push(Object.assign({ index }, doc));
      operations.push(prepareCreate(index, doc.id, doc.serialized === undefined ? doc.document : new SerializedJson(doc.serialized)));
    }
    await this.compensation.takeBack(located);
    const progress = { sent: false };
    try {
      await this.writeWithRetries(located, operations, deadline, system, progress);
    } catch (error) {
      // The one exit of a refused call: whatever an attempt may have written is deleted first (the
      // answer waits for the first acknowledged delete, up to FOREGROUND_COMPENSATION_MS).
      if (progress.sent) await this.compensation.remove(located, FOREGROUND_COMPENSATION_MS);
      throw error;
    }
    this.visibility.touch(located, kind);
  }

  /**
   * The attempts of one call until every item is written; throws the call's answer otherwise (400 for
   * a refused event, 429/503 when the batcher refuses it, 503 past the deadline or when Elasticsearch
   * cannot take it). `progress.sent` tells whether any attempt may have written something.
   */
  private async writeWithRetries(documents: LocatedDocument[], operations: PreparedOperation[], deadline: number, system: string, progress: { sent: boolean }): Promise<void> {
    let pending = operations.map((operation, position) => ({ operation, doc: documents[position] as LocatedDocument }));
    let backoff = this.retry.firstBackoffMs;
    let lastProblem: unknown;
    const tooLate = () => new StorageUnavailableError('Elasticsearch did not accept the events in time; nothing was registered. Retry later.', { cause: lastProblem });
    for (let attempt = 1; ; attempt++) {
      if (deadline - Date.now() < MIN_ATTEMPT_MS) throw tooLate();
      // Every attempt joins the next shared bulk; the call stops waiting for it at its own deadline.
      const outcome = await this.attempt(pending.map((entry) => entry.operation), deadline, system);
      // Refused by the batcher: nothing of this attempt was sent (an earlier one may have written part of the call).
      if (!outcome.ok && outcome.error instanceof BatchRefusedError) throw this.refused(outcome.error, system);
      progress.sent = true;
      if (!outcome.ok) {
        if (!isTransientFailure(outcome.error)) throw this.unavailable(outcome.error);
        lastProblem = outcome.error;
        this.logger.warn('bulk write failed; retrying', { attempt, error: (outcome.error as Error).message });
      } else {
        const retry: typeof pending = [];
        for (const [position, item] of outcome.items.entries()) {
          const entry = pending[position] as (typeof pending)[number];
          const classified = classifyItem(item);
          if (classified === 'transient') retry.push(entry);
          else if (classified === 'rejected') throw new ValidationError(`${entry.doc.origin}: the event cannot be stored: ${describeRejection(item.error)}.`);
        }
        if (retry.length === 0) return;
        lastProblem = outcome.items.find((item) => classifyItem(item) === 'transient')?.error;
        this.logger.warn('bulk items refused for now; retrying', { attempt, items: retry.length });
        pending = retry;
      }
      const wait = jittered(backoff);
      backoff = Math.min(backoff * 2, this.retry.maxBackoffMs);
      if (Date.now() + wait + MIN_ATTEMPT_MS > deadline) throw tooLate();
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
      { body, refresh: false, wait_for_active_shards: this.waitForActiveShards, timeout: `${Math.max(1, timeoutMs - 50)}ms`, filter_path: 'errors,items.*.status,items.*.error' } as unknown as estypes.BulkRequest,
      { requestTimeout: timeoutMs, maxRetries: 0, ...UNTRACED },
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
          filter_path: EVENT_SEARCH_FILTER_PATH,
          ...buildEventSearchBody(search),
        },
        { requestTimeout: remaining, maxRetries: 0, ...UNTRACED },
      );
      const total = response.hits?.total;
      return {
        total: typeof total === 'number' ? total : (total?.value ?? 0),
        events: (response.hits?.hits ?? []).map((hit) => hit._source as JsonObject),
      };
    } catch (error) {
      throw this.readFailure(error);
    }
  }

  /**
   * Creates the IS's index of `at`'s month (with MLog's index template) when it does not exist yet,
   * so that the first bulks into it do not wait for Elasticsearch to create the index and start its
   * shard. Asks once per index and process; never throws (the first write then creates it, as before).
   */
  async prepareIndex(isCode: string, at: Date): Promise<void> {
    const index = eventIndexName(isCode, at);
    if (this.preparedIndices.has(index)) return;
    if (this.preparedIndices.size >= PREPARED_INDICES_REMEMBERED) this.preparedIndices.clear();
    this.preparedIndices.add(index);
    try {
      await this.client.indices.create({ index }, { ignore: [400], maxRetries: 0, ...UNTRACED });
    } catch (error) {
      this.preparedIndices.delete(index);
      this.logger.debug('the event index could not be created ahead of its first write; the first write creates it', { index, error: (error as Error).message });
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
