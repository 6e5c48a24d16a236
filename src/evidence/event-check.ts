import type { JsonObject } from '../json/json-object-parser.js';
import { HASH_FIELD, LOG_FIELD, POSITION_FIELD, storedEventHash } from './event-hash.js';

/**
 * The part of `mlog verify` done for each stored event apart from the others: reading its evidence
 * fields and recomputing its `@hash`. Pure, so it runs in worker threads (event-check-worker.ts) on
 * the raw text of search pages, and only these few fields travel back.
 */
export interface CheckedEvent {
  index: string;
  /** The document id. */
  id: string;
  uid?: string;
  log?: string;
  position?: number;
  /** `@hash` as stored. */
  hash?: string;
  /** Whether the document as stored hashes to its `@hash`. */
  hashHolds: boolean;
  /** A stored client signature to verify again: the JWS, and the IS and time it was received under. */
  signed?: { jws: string; is: string; received: string };
}

/** A stored event: its index, document id and its _source exactly as stored. */
export interface StoredEventHit {
  index: string;
  id: string;
  source: JsonObject;
}

export function checkStoredEvent(hit: StoredEventHit): CheckedEvent {
  const source = hit.source;
  const hash = source[HASH_FIELD];
  const log = source[LOG_FIELD];
  const position = source[POSITION_FIELD];
  const uid = source['@uid'];
  const jws = source['@jws'];
  const hashHolds = typeof hash === 'string' && storedEventHash(source) === hash;
  return {
    index: hit.index,
    id: hit.id,
    ...(typeof uid === 'string' ? { uid } : {}),
    ...(typeof log === 'string' ? { log } : {}),
    ...(typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? { position } : {}),
    ...(typeof hash === 'string' ? { hash } : {}),
    hashHolds,
    ...(typeof jws === 'string' ? { signed: { jws, is: String(source['@is'] ?? ''), received: String(source['@received'] ?? '') } } : {}),
  };
}

/** What a search page of events gives: each event checked, and where the next page starts. */
export interface CheckedPage {
  events: CheckedEvent[];
  /** The sort values of the last hit (search_after), when there is one. */
  lastSort?: unknown[];
  pitId?: string;
  /** Hits on the page. */
  count: number;
}

/** Checks every hit of the raw JSON text of an Elasticsearch search answer. */
export function checkSearchPage(text: string): CheckedPage {
  const answer = JSON.parse(text) as { pit_id?: string; hits?: { hits?: { _index: string; _id: string; _source?: JsonObject; sort?: unknown[] }[] } };
  const hits = answer.hits?.hits ?? [];
  const last = hits.at(-1);
  return {
    events: hits.map((hit) => checkStoredEvent({ index: hit._index, id: hit._id, source: hit._source ?? {} })),
    ...(last?.sort === undefined ? {} : { lastSort: last.sort }),
    ...(answer.pit_id === undefined ? {} : { pitId: answer.pit_id }),
    count: hits.length,
  };
}
