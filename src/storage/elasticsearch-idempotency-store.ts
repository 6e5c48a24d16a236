import type { Client } from '@elastic/elasticsearch';
import type { IdempotencyRecord, IdempotencyStore, StoredIdempotencyRecord } from '../events/idempotency-store-type.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import { statusOf } from './elasticsearch-errors.js';
import { IDEMPOTENCY_INDEX } from './index-names.js';

function versionOf(response: { _seq_no?: number; _primary_term?: number }): RecordVersion {
  return { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 };
}

/**
 * Idempotency-Key records in IDEMPOTENCY_INDEX, one document per (IS, key). Conditional writes rely on
 * Elasticsearch's create and if_seq_no/if_primary_term; reads are real-time gets, so no refresh is needed.
 */
export class ElasticsearchIdempotencyStore implements IdempotencyStore {
  constructor(private readonly client: Client) {}

  async read(id: string): Promise<StoredIdempotencyRecord | undefined> {
    const response = await this.client.get<IdempotencyRecord>({ index: IDEMPOTENCY_INDEX, id }, { ignore: [404] });
    if (!response.found || response._source === undefined) return undefined;
    return { record: response._source, version: versionOf(response) };
  }

  async create(id: string, record: IdempotencyRecord): Promise<RecordVersion | undefined> {
    try {
      return versionOf(await this.client.create({ index: IDEMPOTENCY_INDEX, id, document: record }));
    } catch (error) {
      if (statusOf(error) === 409) return undefined;
      throw error;
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
      throw error;
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
      throw error;
    }
  }

  async removeClaimedBefore(before: Date): Promise<number> {
    const response = await this.client.deleteByQuery(
      {
        index: IDEMPOTENCY_INDEX,
        query: { range: { claimed_at: { lt: before.toISOString() } } },
        conflicts: 'proceed',
        ignore_unavailable: true,
        allow_no_indices: true,
      },
      { ignore: [404] },
    );
    return response.deleted ?? 0;
  }
}
