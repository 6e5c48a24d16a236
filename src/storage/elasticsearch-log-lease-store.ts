import type { Client } from '@elastic/elasticsearch';
import type { LoggedEvent, LogLease, LogLeaseStore, StoredLogLease } from '../evidence/log-lease-store-type.js';
import { ElasticsearchConditionalLeaseStore, versionOf } from './elasticsearch-conditional-lease-store.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { EVENT_INDEX_PREFIX, LEASES_INDEX, parseManagedIndexName } from './index-names.js';
import type { JsonObject } from '../json/json-object-parser.js';

const LEASE_UNAVAILABLE = 'the lease of an evidence log cannot be read or written now';
/** Document ids of the evidence logs' leases in mlog_leases (beside the leases of shared jobs). */
const ID_PREFIX = 'evidence-log:';
/** Lapsed leases read per search page, and at most this many pages per call (leases of other deployments' keys are read past, not returned). */
const LAPSED_PAGE = 200;
const LAPSED_PAGES = 50;
/** Events read back per search page when a log is sealed. */
const EVENT_PAGE = 1_000;

type LeaseDocument = LogLease & { name: string };

function documentOf(lease: LogLease): LeaseDocument {
  return { name: ID_PREFIX + lease.log, ...lease };
}

function leaseOf(source: LeaseDocument): LogLease {
  const { log, state, holder, run_by, kid, acquired_at, expires_at } = source;
  return { log, state, holder, run_by, kid: typeof kid === 'string' ? kid : '', acquired_at, expires_at };
}

/**
 * The evidence logs' leases in LEASES_INDEX (id "evidence-log:<log>"; the conditional writes are every
 * lease's), the lapsed ones found, and a log's events read back from every event index.
 */
export class ElasticsearchLogLeaseStore extends ElasticsearchConditionalLeaseStore<LogLease, LeaseDocument> implements LogLeaseStore {
  constructor(client: Client) {
    super(client, { idOf: (log) => ID_PREFIX + log, keyOf: (lease) => lease.log, documentOf, leaseOf, unavailable: LEASE_UNAVAILABLE });
  }

  async lapsed(now: Date, limit: number, kid: string): Promise<StoredLogLease[]> {
    const found: StoredLogLease[] = [];
    try {
      let after: [string, string] | undefined;
      for (let page = 0; page < LAPSED_PAGES && found.length < limit; page++) {
        const response = await this.client.search<LeaseDocument>({
          index: LEASES_INDEX,
          ignore_unavailable: true,
          size: LAPSED_PAGE,
          seq_no_primary_term: true,
          query: { bool: { filter: [{ prefix: { name: ID_PREFIX } }, { range: { expires_at: { lt: now.toISOString() } } }] } },
          sort: [{ expires_at: 'asc' }, { name: 'asc' }],
          ...(after === undefined ? {} : { search_after: after }),
        });
        const hits = response.hits.hits;
        for (const hit of hits) {
          if (hit._source === undefined || typeof hit._source.log !== 'string') continue;
          const lease = leaseOf(hit._source);
          if (lease.kid === kid && found.length < limit) found.push({ lease, version: versionOf(hit) });
        }
        if (hits.length < LAPSED_PAGE) break;
        after = hits[hits.length - 1]!.sort as [string, string];
      }
      return found;
    } catch (error) {
      if (statusOf(error) === 404) return found;
      throw storageFailure(error, LEASE_UNAVAILABLE);
    }
  }

  async eventsOfLog(log: string, from: number, each: (events: LoggedEvent[]) => void): Promise<void> {
    const index = `${EVENT_INDEX_PREFIX}*`;
    try {
      await this.client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
      let after: number | undefined;
      for (;;) {
        const response = await this.client.search<JsonObject>({
          index,
          ignore_unavailable: true,
          allow_no_indices: true,
          size: EVENT_PAGE,
          track_total_hits: false,
          query: { bool: { filter: [{ term: { '@log': log } }, { range: { '@position': { gte: from } } }] } },
          sort: [{ '@position': { order: 'asc', unmapped_type: 'long' } }],
          ...(after === undefined ? {} : { search_after: [after] }),
        });
        const hits = response.hits.hits;
        const events: LoggedEvent[] = [];
        for (const hit of hits) {
          const position = hit._source?.['@position'];
          const hash = hit._source?.['@hash'];
          const index = parseManagedIndexName(hit._index);
          if (typeof position !== 'number' || index?.kind !== 'events' || hit._source === undefined) continue;
          events.push({ id: hit._id ?? '', is: index.code, month: index.month, position, hash: typeof hash === 'string' ? hash : '', source: hit._source });
        }
        if (events.length > 0) each(events);
        if (hits.length < EVENT_PAGE) return;
        const last = hits.at(-1)?.sort?.[0];
        if (typeof last !== 'number') return;
        after = last;
      }
    } catch (error) {
      throw storageFailure(error, 'the events of an evidence log cannot be read now');
    }
  }
}
