import type { Client } from '@elastic/elasticsearch';
import type { AlertOutboxStore, OutboxEntry, StoredOutboxEntry } from '../alerts/alert-outbox-store-type.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { ALERT_OUTBOX_INDEX } from './index-names.js';

const OUTBOX_UNAVAILABLE = 'the alert notifications cannot be stored or read now';

function versionOf(response: { _seq_no?: number; _primary_term?: number }): RecordVersion {
  return { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 };
}

/**
 * The alert outbox in ALERT_OUTBOX_INDEX, one document per notification and channel. Writes refresh
 * the index (a handful of documents a minute), so the next reading of what is due sees them; the
 * conditional writes rely on create and if_seq_no/if_primary_term.
 */
export class ElasticsearchAlertOutboxStore implements AlertOutboxStore {
  constructor(private readonly client: Client) {}

  async create(entry: OutboxEntry): Promise<boolean> {
    try {
      await this.client.create({ index: ALERT_OUTBOX_INDEX, id: entry.id, document: entry, refresh: true });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw storageFailure(error, OUTBOX_UNAVAILABLE);
    }
  }

  async read(id: string): Promise<StoredOutboxEntry | undefined> {
    let response;
    try {
      response = await this.client.get<OutboxEntry>({ index: ALERT_OUTBOX_INDEX, id }, { ignore: [404] });
    } catch (error) {
      throw storageFailure(error, OUTBOX_UNAVAILABLE);
    }
    if (!response.found || response._source === undefined) return undefined;
    return { entry: response._source, version: versionOf(response) };
  }

  async due(now: Date, size: number): Promise<StoredOutboxEntry[]> {
    const at = now.toISOString();
    let response;
    try {
      response = await this.client.search<OutboxEntry>({
        index: ALERT_OUTBOX_INDEX,
        ignore_unavailable: true,
        allow_no_indices: true,
        size,
        seq_no_primary_term: true,
        sort: [{ next_attempt_at: 'asc' }],
        query: {
          bool: {
            should: [
              { bool: { filter: [{ term: { status: 'pending' } }, { range: { next_attempt_at: { lte: at } } }] } },
              { bool: { filter: [{ term: { status: 'sending' } }, { range: { claimed_until: { lt: at } } }] } },
            ],
            minimum_should_match: 1,
          },
        },
      });
    } catch (error) {
      throw storageFailure(error, OUTBOX_UNAVAILABLE);
    }
    return response.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [{ entry: hit._source, version: versionOf(hit) }]));
  }

  async nextAttemptAt(): Promise<Date | undefined> {
    let response;
    try {
      response = await this.client.search<OutboxEntry>({
        index: ALERT_OUTBOX_INDEX,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 1,
        _source: ['next_attempt_at'],
        sort: [{ next_attempt_at: 'asc' }],
        query: { term: { status: 'pending' } },
      });
    } catch (error) {
      throw storageFailure(error, OUTBOX_UNAVAILABLE);
    }
    const next = response.hits.hits[0]?._source?.next_attempt_at;
    return next === undefined ? undefined : new Date(next);
  }

  async replace(entry: OutboxEntry, version: RecordVersion): Promise<RecordVersion | undefined> {
    try {
      return versionOf(
        await this.client.index({ index: ALERT_OUTBOX_INDEX, id: entry.id, document: entry, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm, refresh: true }),
      );
    } catch (error) {
      // 409: another instance claimed or settled it meanwhile; 404: it was purged meanwhile.
      if (statusOf(error) === 409 || statusOf(error) === 404) return undefined;
      throw storageFailure(error, OUTBOX_UNAVAILABLE);
    }
  }

  async purgeFinished(before: Date): Promise<number> {
    try {
      const found = await this.client.search({
        index: ALERT_OUTBOX_INDEX,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 1000,
        _source: false,
        query: { bool: { filter: [{ terms: { status: ['delivered', 'failed'] } }, { range: { finished_at: { lt: before.toISOString() } } }] } },
      });
      const ids = found.hits.hits.map((hit) => hit._id as string);
      if (ids.length === 0) return 0;
      const response = await this.client.bulk({ refresh: true, operations: ids.map((id) => ({ delete: { _index: ALERT_OUTBOX_INDEX, _id: id } })) });
      return response.items.filter((item) => item.delete?.result === 'deleted').length;
    } catch (error) {
      throw storageFailure(error, OUTBOX_UNAVAILABLE);
    }
  }
}
