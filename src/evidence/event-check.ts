import { createHash } from 'node:crypto';
import type { JsonObject } from '../json/json-object-parser.js';
import { HASH_FIELD, LOG_FIELD, POSITION_FIELD, storedEventHash } from './event-hash.js';
import { hashLeaf, type LogLeaf } from './evidence-log-entry.js';
import { MerkleFrontier } from './merkle.js';

/**
 * The part of `mlog verify` done for each stored event apart from the others: reading its evidence
 * fields and recomputing its `@hash`. Pure, so it runs in worker threads (event-check-worker.ts) on
 * the raw bytes of search pages, and only these few fields travel back.
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
  /** The text of `_source` as Elasticsearch returned it, when known (the bytes MLog sent). */
  sourceText?: string;
}

const HASH_PREFIX = `{"${HASH_FIELD}":"`;
/** Length of `{"@hash":"<64 hex>"`, the start of the text hashedEventText gives. */
const HASHED_HEAD = HASH_PREFIX.length + 64 + 1;

/** Whether every object in `value` lists its members in RFC 8785 order (sorted by UTF-16 code units), from member `from` of the top one. */
function membersInCanonicalOrder(value: unknown, from = 0): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every((item) => membersInCanonicalOrder(item));
  const keys = Object.keys(value);
  for (let i = from; i < keys.length; i++) {
    if (i > from && (keys[i - 1] as string) >= (keys[i] as string)) return false;
    if (!membersInCanonicalOrder((value as Record<string, unknown>)[keys[i] as string])) return false;
  }
  return true;
}

/**
 * `@hash` of a stored event computed from its stored text, when that text is exactly what
 * hashedEventText writes for the document parsed from it: `{"@hash":"<hex>",` then the rest of the
 * document's RFC 8785 form. Then the hash of the text without its `@hash` member is the hash of the
 * canonical form, which is storedEventHash(document) without canonicalising it again. Undefined when
 * the text is not in that form (written by an older MLog, or rewritten by an update): then only
 * storedEventHash tells. The text is in that form when it starts with `@hash`, JSON.stringify of the
 * parsed document gives it back (no whitespace, same escapes and numbers, no duplicate member) and
 * every object's members are in RFC 8785 order: RFC 8785 is JSON.stringify with sorted members.
 */
export function storedTextHash(document: JsonObject, text: string): string | undefined {
  if (!text.startsWith(HASH_PREFIX) || text.charCodeAt(HASHED_HEAD - 1) !== 0x22) return undefined;
  const next = text.charCodeAt(HASHED_HEAD);
  if (next !== 0x2c && next !== 0x7d) return undefined;
  if (Object.keys(document)[0] !== HASH_FIELD || !membersInCanonicalOrder(document, 1) || JSON.stringify(document) !== text) return undefined;
  return createHash('sha256')
    .update('{')
    .update(text.slice(next === 0x2c ? HASHED_HEAD + 1 : HASHED_HEAD))
    .digest('hex');
}

/**
 * `@hash` holds when SHA-256 of the stored document's RFC 8785 form, without `@hash`, is `@hash`.
 * MLog stores each event as the canonical text it hashed (`hashedEventText`), so when the stored
 * text is in that form it is hashed as it is (storedTextHash), and the document is canonicalised
 * again only when it is not. Both give the same hash, so the verdict does not depend on the route.
 */
function hashHolds(hit: StoredEventHit, hash: unknown): boolean {
  if (typeof hash !== 'string') return false;
  const fromText = hit.sourceText === undefined ? undefined : storedTextHash(hit.source, hit.sourceText);
  return (fromText ?? storedEventHash(hit.source)) === hash;
}

export function checkStoredEvent(hit: StoredEventHit): CheckedEvent {
  const source = hit.source;
  const hash = source[HASH_FIELD];
  const log = source[LOG_FIELD];
  const position = source[POSITION_FIELD];
  const uid = source['@uid'];
  const jws = source['@jws'];
  const holds = hashHolds(hit, hash);
  return {
    index: hit.index,
    id: hit.id,
    ...(typeof uid === 'string' ? { uid } : {}),
    ...(typeof log === 'string' ? { log } : {}),
    ...(typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? { position } : {}),
    ...(typeof hash === 'string' ? { hash } : {}),
    hashHolds: holds,
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

const SOURCE_KEY = '"_source":';

/**
 * Where the JSON object or array that starts at `start` ends (the index after its closing bracket),
 * or -1 when the text ends first. Strings are skipped whole, so brackets inside them do not count.
 */
export function jsonValueEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      // A string: to the next quote not escaped by an odd run of backslashes.
      let quote = i;
      for (;;) {
        quote = text.indexOf('"', quote + 1);
        if (quote < 0) return -1;
        let backslashes = 0;
        while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      i = quote;
    } else if (code === 0x7b || code === 0x5b) depth++;
    else if (code === 0x7d || code === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * The text of each hit's `_source` in a search answer, in hit order, or undefined when they cannot
 * all be found. Only hits' `_source` values hold a stored document's members, and each is skipped
 * whole; the key `"_source":` cannot occur inside a JSON string (its quotes would be escaped); so
 * the next `"_source":` after one hit's source is the next hit's.
 */
export function sourceTexts(text: string, hits: number): string[] | undefined {
  const texts: string[] = [];
  let cursor = text.indexOf('"hits":[');
  if (cursor < 0) return hits === 0 ? texts : undefined;
  for (let i = 0; i < hits; i++) {
    const key = text.indexOf(SOURCE_KEY, cursor);
    if (key < 0) return undefined;
    const start = key + SOURCE_KEY.length;
    if (text.charCodeAt(start) !== 0x7b) return undefined;
    const end = jsonValueEnd(text, start);
    if (end < 0) return undefined;
    texts.push(text.slice(start, end));
    cursor = end;
  }
  return texts;
}

/** Checks every hit of the raw JSON of an Elasticsearch search answer (its text, or its UTF-8 bytes). */
export function checkSearchPage(raw: string | Uint8Array): CheckedPage {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  const answer = JSON.parse(text) as { pit_id?: string; hits?: { hits?: { _index: string; _id: string; _source?: JsonObject; sort?: unknown[] }[] } };
  const hits = answer.hits?.hits ?? [];
  const last = hits.at(-1);
  const texts = sourceTexts(text, hits.length);
  return {
    events: hits.map((hit, i) => {
      const sourceText = hit._source === undefined ? undefined : texts?.[i];
      return checkStoredEvent({ index: hit._index, id: hit._id, source: hit._source ?? {}, ...(sourceText === undefined ? {} : { sourceText }) });
    }),
    ...(last?.sort === undefined ? {} : { lastSort: last.sort }),
    ...(answer.pit_id === undefined ? {} : { pitId: answer.pit_id }),
    count: hits.length,
  };
}

/** The leaf hashes of a leaf chunk, computed apart from the verifier's thread, and the root they give. */
export interface HashedLeaves {
  /** MTH({leaf}) of each leaf, in order: 32 bytes each. */
  hashes: Uint8Array;
  /** Lowercase hex root of the chunk's leaves (the empty tree's for none). */
  root: string;
}

/** Hashes the leaves of one leaf chunk (RFC 9162 leaf hashes of their RFC 8785 form) and their root. */
export function hashLeafChunk(leaves: readonly LogLeaf[]): HashedLeaves {
  const hashes = new Uint8Array(new ArrayBuffer(leaves.length * 32));
  const frontier = new MerkleFrontier();
  for (let i = 0; i < leaves.length; i++) {
    const hash = hashLeaf(leaves[i] as LogLeaf);
    hashes.set(hash, i * 32);
    frontier.append(hash);
  }
  return { hashes, root: frontier.root().toString('hex') };
}
