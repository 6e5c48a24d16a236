/**
 * Reads what MLog stored, straight from Elasticsearch (MLOG_TEST_ELASTICSEARCH_URL), bypassing MLog's
 * own query API: the e2e tests check the documents themselves. Read-only except for refreshes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@elastic/elasticsearch';
import type { StoredRejection } from '../../src/rejections/rejection-search.js';
import { elasticsearchUrl } from './test-mlog.js';

export interface StoredDocument {
  index: string;
  id: string;
  source: Record<string, any>;
}

let shared: Client | undefined;

/** One raw client per test process (on every node when MLOG_TEST_ELASTICSEARCH_URL lists a cluster's, comma separated). */
export function inspectionClient(): Client {
  shared ??= new Client({ nodes: elasticsearchUrl().split(','), requestTimeout: 30_000 });
  return shared;
}

export async function closeInspectionClient(): Promise<void> {
  const client = shared;
  shared = undefined;
  await client?.close();
}

/** "yyyy.MM" of an instant in UTC, as MLog names its monthly indices. */
export function monthOf(at: Date): string {
  return `${at.getUTCFullYear()}.${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function eventIndexPattern(code: string): string {
  return `mlog-${code}-*`;
}

export const PERSONAL_DATA_PATTERN = 'personaldata-*';

/** Makes everything written so far to these indices searchable. */
export async function refresh(...patterns: string[]): Promise<void> {
  await inspectionClient().indices.refresh({ index: patterns.join(','), ignore_unavailable: true, allow_no_indices: true });
}

/** Documents of `pattern` matching `query`, refreshed first, in @id order when the field exists. */
export async function searchDocuments(pattern: string, query: Record<string, unknown>, size = 200): Promise<StoredDocument[]> {
  await refresh(pattern);
  const response = await inspectionClient().search<Record<string, any>>({
    index: pattern,
    ignore_unavailable: true,
    allow_no_indices: true,
    query,
    size,
    sort: [{ '@id': { order: 'asc', unmapped_type: 'keyword' } }],
  });
  return response.hits.hits.map((hit) => ({ index: hit._index, id: hit._id as string, source: hit._source as Record<string, any> }));
}

/** The events of one /register call (by @uid) in the IS's indices. */
export function storedEvents(code: string, uid: string): Promise<StoredDocument[]> {
  return searchDocuments(eventIndexPattern(code), { term: { '@uid': uid } });
}

/** The PersonalData projections of one /register call (by @uid). */
export function personalDataCopies(uid: string): Promise<StoredDocument[]> {
  return searchDocuments(PERSONAL_DATA_PATTERN, { term: { '@uid': uid } });
}

/**
 * Documents that carry `marker` in event_correlation, event_id or the custom field `marker`, in the
 * IS's indices and (by event_correlation) in personaldata-*: how the tests prove that a refused call
 * stored nothing.
 */
export async function documentsWithMarker(code: string, marker: string): Promise<StoredDocument[]> {
  const query = {
    bool: {
      should: [{ term: { event_correlation: marker } }, { term: { event_id: marker } }, { term: { marker } }],
      minimum_should_match: 1,
    },
  };
  const own = await searchDocuments(eventIndexPattern(code), query);
  const personal = await searchDocuments(PERSONAL_DATA_PATTERN, { term: { event_correlation: marker } });
  return [...own, ...personal];
}

/** How many documents of `pattern` match `query` (after a refresh). */
export async function countDocuments(pattern: string, query: Record<string, unknown>): Promise<number> {
  await refresh(pattern);
  const response = await inspectionClient().count({ index: pattern, ignore_unavailable: true, allow_no_indices: true, query });
  return response.count;
}

/** MLog's own records in mlog_audit of `eventType` whose fields equal `filter` (e.g. `{ user }` or `{ address }`), newest first. */
export async function auditRecords(eventType: string, filter: Record<string, string>): Promise<Record<string, unknown>[]> {
  const client = inspectionClient();
  await client.indices.refresh({ index: 'mlog_audit' });
  const response = await client.search<Record<string, unknown>>({
    index: 'mlog_audit',
    size: 100,
    sort: [{ event_time: 'desc' }],
    query: { bool: { filter: [{ term: { event_type: eventType } }, ...Object.entries(filter).map(([field, value]) => ({ term: { [field]: value } }))] } },
  });
  return response.hits.hits.map((hit) => hit._source ?? {});
}

/**
 * `work`'s result, run while mlog_audit refuses writes (an index write block on the real
 * Elasticsearch); the block is lifted after, whether `work` succeeds or throws.
 */
export async function whileAuditRefusesWrites<T>(work: () => Promise<T>): Promise<T> {
  await inspectionClient().indices.putSettings({ index: 'mlog_audit', settings: { 'index.blocks.write': true } });
  try {
    return await work();
  } finally {
    await inspectionClient().indices.putSettings({ index: 'mlog_audit', settings: { 'index.blocks.write': null } });
  }
}

/** The rejection recorded for the call answered with X-Request-Id `requestId`, waiting up to 10 s for it (the recorder writes in the background). */
export async function findRejection(requestId: string): Promise<StoredRejection> {
  for (let attempt = 0; attempt < 40; attempt++) {
    await refresh('mlog_rejections-*');
    const found = await inspectionClient().search<StoredRejection>({ index: 'mlog_rejections-*', ignore_unavailable: true, allow_no_indices: true, query: { term: { request_id: requestId } } });
    const hit = found.hits.hits[0]?._source;
    if (hit !== undefined) return hit;
    await sleep(250);
  }
  throw new Error(`no rejection recorded for request ${requestId}`);
}
