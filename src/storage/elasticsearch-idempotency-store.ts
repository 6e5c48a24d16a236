import type { Client } from '@elastic/elasticsearch';
import type { IdempotencyRecord, IdempotencyStore, StoredIdempotencyRecord } from '../events/idempotency-store-type.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import { itemFailure, statusOf, storageFailure } from './elasticsearch-errors.js';
import { IDEMPOTENCY_INDEX } from './index-names.js';

const KEYS_UNAVAILABLE = 'the Idempotency-Key cannot be checked or recorded now';
const PURGE_UNAVAILABLE = 'expired Idempotency-Keys cannot be deleted now';

function versionOf(response: { _seq_no?: number; _primary_term?: number }): RecordVersion {
  return { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 };
}

/**
 * Idempotency-Key records in IDEMPOTENCY_INDEX, one document per (IS, key). Conditional writes rely on
 * Elasticsearch's create and if_seq_no/if_primary_term; reads are real-time gets, so no refresh is needed.
 */
export class ElasticsearchIdempotencyStore implements IdempotencyStore {
  /** `purgeBatchSize`: expired records found and deleted per search and bulk by removeClaimedBefore. */
  constructor(
    private readonly client: Client,
    private readonly purgeBatchSize = 1_000,
  ) {}

  async read(id: string): Promise<StoredIdempotencyRecord | undefined> {
    let response;
    try {
      response = await this.client.get<IdempotencyRecord>({ index: IDEMPOTENCY_INDEX, id }, { ignore: [404] });
    } catch (error) {
      throw storageFailure(error, KEYS_UNAVAILABLE);
    }
    if (!response.found || response._source === undefined) return undefined;
    return { record: response._source, version: versionOf(response) };
  }

  async create(id: string, record: IdempotencyRecord): Promise<RecordVersion | undefined> {
    try {
      return versionOf(await this.client.create({ index: IDEMPOTENCY_INDEX, id, document: record }));
    } catch (error) {
      if (statusOf(error) === 409) return undefined;
      throw storageFailure(error, KEYS_UNAVAILABLE);
    }
  }

  async replace(id: string, record: IdempotencyRecord, version: RecordVersion): Promise<RecordVersion | undefined> {
    try {
      return versionOf(
        await this.client.index({ index: IDEMPOTENCY_INDEX, id, document: record, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm }),
      );
    } catch (error) {
      // 409: changed meanwhile; 404: the record (or the index) vanished meanwhile.
      if (statusOf(error) === 409 || statusOf(error) === 404) return undefined;
      throw storageFailure(error, KEYS_UNAVAILABLE);
    }
  }

  async remove(id: string, version: RecordVersion): Promise<boolean> {
    try {
      const response = await this.client.delete(
        { index: IDEMPOTENCY_INDEX, id, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm },
        { ignore: [404] },
      );
      return response.result === 'deleted';
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw storageFailure(error, KEYS_UNAVAILABLE);
    }
  }

  /**
   * Searches the records claimed before `before` and deletes them in bulks of `purgeBatchSize`, each
   * delete conditional on the version found: a key renewed or taken over between the search and the
   * delete is left alone (its claim is new). Elasticsearch without _delete_by_query (the integ-test
   * distribution MLog is provisioned with) can do all of this. Stops between bulks when `signal` is aborted.
   * A refresh first makes every acknowledged write searchable, so a record written within the last
   * refresh interval is not missed.
   */
  async removeClaimedBefore(before: Date, signal?: AbortSignal): Promise<number> {
    let deleted = 0;
    if (signal?.aborted !== true) await this.client.indices.refresh({ index: IDEMPOTENCY_INDEX, ignore_unavailable: true, allow_no_indices: true });
    while (signal?.aborted !== true) {
      let batch: { found: number; removed: number };
      try {
        batch = await this.purgeBatch(before);
      } catch (error) {
        throw storageFailure(error, `${PURGE_UNAVAILABLE} (${deleted} deleted)`);
      }
      deleted += batch.removed;
      if (batch.found < this.purgeBatchSize || batch.removed === 0) break;
    }
    return deleted;
  }

  /** One search of expired records and one bulk of conditional deletes: how many were found and how many deleted. */
  private async purgeBatch(before: Date): Promise<{ found: number; removed: number }> {
    const found = await this.client.search({
      index: IDEMPOTENCY_INDEX,
      ignore_unavailable: true,
      allow_no_indices: true,
      query: { range: { claimed_at: { lt: before.toISOString() } } },
      sort: [{ claimed_at: { order: 'asc' } }],
      size: this.purgeBatchSize,
      _source: false,
      seq_no_primary_term: true,
      track_total_hits: false,
    });
    const hits = found.hits.hits;
    if (hits.length === 0) return { found: 0, removed: 0 };
    const response = await this.client.bulk({
      refresh: true,
      operations: hits.map((hit) => ({
        delete: { _index: IDEMPOTENCY_INDEX, _id: hit._id as string, if_seq_no: hit._seq_no as number, if_primary_term: hit._primary_term as number },
      })),
    });
    let removed = 0;
    for (const item of response.items) {
      const status = item.delete?.status ?? 500;
      // 404: deleted meanwhile (by another instance's purge); 409: renewed meanwhile, so no longer expired.
      if (status < 300) removed++;
      else if (status !== 404 && status !== 409) throw itemFailure(status, item.delete?.error);
    }
    return { found: hits.length, removed };
  }
}
