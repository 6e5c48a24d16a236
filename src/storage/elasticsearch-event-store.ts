import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, estypes } from '@elastic/elasticsearch';
import { StorageUnavailableError, ValidationError } from '../errors/mlog-error.js';
import type { JsonObject } from '../events/json-object-parser.js';
import type { Logger } from '../logging/logger.js';
import { buildEventSearchBody } from './event-query-builder.js';
import type { DocumentToWrite, EventPage, EventSearch, EventStore } from './event-store-type.js';
import { isConnectionProblem, isStorageUnavailable } from './elasticsearch-errors.js';
import { eventIndexPattern } from './index-names.js';

export interface WriteRetryPolicy {
  /** Total time a write may take, retries included, before the call is answered 503. */
  deadlineMs: number;
  firstBackoffMs: number;
  maxBackoffMs: number;
}

const DEFAULT_RETRY: WriteRetryPolicy = { deadlineMs: 10_000, firstBackoffMs: 50, maxBackoffMs: 1_000 };

type ItemOutcome = 'written' | 'transient' | 'rejected';

function classifyItem(item: estypes.BulkResponseItem): ItemOutcome {
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

export class ElasticsearchEventStore implements EventStore {
  constructor(
    private readonly client: Client,
    private readonly logger: Logger,
    private readonly retry: WriteRetryPolicy = DEFAULT_RETRY,
  ) {}

  async writeAll(documents: DocumentToWrite[]): Promise<void> {
    const started = Date.now();
    const written: DocumentToWrite[] = [];
    let pending = documents;
    let backoff = this.retry.firstBackoffMs;
    for (let attempt = 1; ; attempt++) {
      let items: estypes.BulkResponseItem[];
      try {
        const response = await this.client.bulk({
          operations: pending.flatMap((doc) => [{ create: { _index: doc.index, _id: doc.id } }, doc.document]),
          refresh: false,
        });
        items = response.items.map((item) => item.create as estypes.BulkResponseItem);
      } catch (error) {
        if (Date.now() - started + backoff > this.retry.deadlineMs || !isConnectionProblem(error)) {
          await this.removeWritten([...written, ...pending]);
          throw this.unavailable(error);
        }
        this.logger.warn('bulk write failed; retrying', { attempt, error: (error as Error).message });
        await sleep(backoff + Math.random() * backoff);
        backoff = Math.min(backoff * 2, this.retry.maxBackoffMs);
        continue;
      }
      const retry: DocumentToWrite[] = [];
      for (const [position, item] of items.entries()) {
        const doc = pending[position] as DocumentToWrite;
        const outcome = classifyItem(item);
        if (outcome === 'written') written.push(doc);
        else if (outcome === 'transient') retry.push(doc);
        else {
          await this.removeWritten([...written, ...pending.slice(position + 1), ...retry]);
          throw new ValidationError(`${doc.origin}: the event cannot be stored: ${describeRejection(item.error)}.`);
        }
      }
      if (retry.length === 0) return;
      if (Date.now() - started + backoff > this.retry.deadlineMs) {
        await this.removeWritten([...written, ...retry]);
        throw new StorageUnavailableError('Elasticsearch did not accept the events in time; nothing was registered. Retry later.');
      }
      this.logger.warn('bulk items refused for now; retrying', { attempt, items: retry.length });
      pending = retry;
      await sleep(backoff + Math.random() * backoff);
      backoff = Math.min(backoff * 2, this.retry.maxBackoffMs);
    }
  }

  /** Removes documents of a call that cannot be registered whole, so that a refused call stores nothing. */
  private async removeWritten(documents: DocumentToWrite[]): Promise<void> {
    if (documents.length === 0) return;
    try {
      const response = await this.client.bulk({
        operations: documents.map((doc) => ({ delete: { _index: doc.index, _id: doc.id } })),
        refresh: false,
      });
      const failed = response.items.filter((item) => item.delete !== undefined && item.delete.status >= 300 && item.delete.status !== 404);
      if (failed.length > 0) this.logger.error('could not remove documents of a refused call', { ids: failed.map((item) => item.delete?._id) });
    } catch (error) {
      this.logger.error('could not remove documents of a refused call', { ids: documents.map((doc) => doc.id), error: (error as Error).message });
    }
  }

  private unavailable(error: unknown): StorageUnavailableError {
    return new StorageUnavailableError('Elasticsearch is unavailable; nothing was registered. Retry later.', { cause: error });
  }

  async search(search: EventSearch): Promise<EventPage> {
    const index = eventIndexPattern(search.isCode);
    try {
      await this.client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
      const response = await this.client.search<JsonObject>({
        index,
        ignore_unavailable: true,
        allow_no_indices: true,
        ...buildEventSearchBody(search),
      });
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
      });
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
    if (isStorageUnavailable(error)) {
      return new StorageUnavailableError('Elasticsearch is unavailable; try the query again later.', { cause: error });
    }
    return error as Error;
  }
}
