import { createHash } from 'node:crypto';
import type { JsonObject } from '../json/json-object-parser.js';
import { HASH_FIELD, LOG_FIELD, membersInCanonicalOrder, POSITION_FIELD, storedEventHash } from './event-hash.js';
import { sha256Hex } from './merkle.js';

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
  return checkedEvent(hit.index, hit.id, hit.source, hashHolds(hit, hit.source[HASH_FIELD]));
}

/** The members of a stored event's top object that `mlog verify` reads, besides `@hash`. */
const READ_MEMBERS = new Set(['@log', '@position', '@uid', '@jws', '@is', '@received']);

const SHORT_ESCAPES = new Set([0x22, 0x5c, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const HEX4 = /^[0-9a-f]{4}$/;

/** Whether text[from, to) is only the digits 0 to 9. */
function plainDigits(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * A scanner of text that is exactly RFC 8785 canonical JSON: JSON.stringify's text (no whitespace,
 * its escapes, numbers in their shortest form) with every object's members in strictly increasing
 * order of their names' UTF-16 code units (so no member twice). Each method gives the index after
 * the value that starts at `i`, or -1 when the text there is not in that form.
 */
class CanonicalScanner {
  /** Whether the last string scanned held an escape. */
  private escapes = false;

  constructor(private readonly text: string) {}

  value(i: number): number {
    const text = this.text;
    const code = text.charCodeAt(i);
    if (code === 0x7b) return this.object(i, undefined);
    if (code === 0x22) return this.string(i);
    if (code === 0x5b) {
      let j = i + 1;
      if (text.charCodeAt(j) === 0x5d) return j + 1;
      for (;;) {
        j = this.value(j);
        if (j < 0) return -1;
        const next = text.charCodeAt(j);
        if (next === 0x5d) return j + 1;
        if (next !== 0x2c) return -1;
        j += 1;
      }
    }
    if (code === 0x74) return text.startsWith('true', i) ? i + 4 : -1;
    if (code === 0x66) return text.startsWith('false', i) ? i + 5 : -1;
    if (code === 0x6e) return text.startsWith('null', i) ? i + 4 : -1;
    if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      let j = i + 1;
      for (;;) {
        const c = text.charCodeAt(j);
        if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x2b || c === 0x2d) j++;
        else break;
      }
      // A whole number of up to 15 digits without a leading zero is its own shortest form.
      if (j - i <= 15 && (code !== 0x30 || j === i + 1) && code !== 0x2d && plainDigits(text, i + 1, j)) return j;
      // JSON.stringify writes a finite number as String(number): its shortest form, never -0.
      const token = text.slice(i, j);
      const number = Number(token);
      return Number.isFinite(number) && String(number) === token ? j : -1;
    }
    return -1;
  }

  /**
   * A string as JSON.stringify writes it: raw characters (no control character, surrogates only in
   * well-formed pairs), short escapes, \u00xx for other control characters, \udxxx for a lone
   * surrogate. A loop over the code units: most strings are a few characters long, where setting up
   * a regular expression costs more than the characters.
   */
  string(i: number): number {
    const text = this.text;
    let j = i + 1;
    for (;;) {
      const code = text.charCodeAt(j);
      if (code === 0x22) return j + 1;
      // NaN (the text ended) fails this too.
      if (!(code >= 0x20)) return -1;
      if (code < 0xd800 && code !== 0x5c) {
        j += 1;
        continue;
      }
      if (code > 0xdfff) {
        j += 1;
        continue;
      }
      if (code !== 0x5c) {
        // A surrogate as it is: only a high one followed by a low one.
        const low = text.charCodeAt(j + 1);
        if (code > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) return -1;
        j += 2;
        continue;
      }
      this.escapes = true;
      const escaped = text.charCodeAt(j + 1);
      if (SHORT_ESCAPES.has(escaped)) {
        j += 2;
        continue;
      }
      if (escaped !== 0x75) return -1;
      const hex = text.slice(j + 2, j + 6);
      if (!HEX4.test(hex)) return -1;
      const unit = Number.parseInt(hex, 16);
      j += 6;
      if (unit < 0x20 && unit !== 0x08 && unit !== 0x09 && unit !== 0x0a && unit !== 0x0c && unit !== 0x0d) continue;
      if (unit >= 0xdc00 && unit <= 0xdfff) continue;
      // A lone high surrogate: the next code unit, written or escaped, is no low surrogate.
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const next = text.charCodeAt(j);
        if (next >= 0xdc00 && next <= 0xdfff) return -1;
        if (next === 0x5c && text.charCodeAt(j + 1) === 0x75 && /^d[c-f]/.test(text.slice(j + 2, j + 4))) return -1;
        continue;
      }
      return -1;
    }
  }

  /** The member name of the string token [start, end). */
  private name(start: number, end: number, escaped: boolean): string {
    return escaped ? (JSON.parse(this.text.slice(start, end)) as string) : this.text.slice(start + 1, end - 1);
  }

  /**
   * Whether the name token [start, end) comes strictly after the name token [previousStart,
   * previousEnd) in UTF-16 code unit order. Tokens without escapes are compared where they stand
   * (their code units are the names'), so no name is copied out of the text.
   */
  private nameAfter(previousStart: number, previousEnd: number, previousEscaped: boolean, start: number, end: number, escaped: boolean): boolean {
    if (previousEscaped || escaped) return this.name(previousStart, previousEnd, previousEscaped) < this.name(start, end, escaped);
    const text = this.text;
    const previousLength = previousEnd - previousStart;
    const length = end - start;
    const shorter = Math.min(previousLength, length) - 1;
    for (let k = 1; k < shorter; k++) {
      const before = text.charCodeAt(previousStart + k);
      const now = text.charCodeAt(start + k);
      if (before !== now) return before < now;
    }
    return previousLength < length;
  }

  /**
   * An object with its members in RFC 8785 order. For the top object of a stored event (`read`
   * given), the members from `i` on follow its `@hash` member: none may be `@hash` again, and where
   * each member named in READ_MEMBERS has its value is kept in `read`.
   */
  object(i: number, read: Map<string, [number, number]> | undefined): number {
    const text = this.text;
    let j = i + 1;
    // After the comma that follows `@hash`, at least one member.
    if (text.charCodeAt(j) === 0x7d && read === undefined) return j + 1;
    let previousStart = -1;
    let previousEnd = -1;
    let previousEscaped = false;
    for (;;) {
      if (text.charCodeAt(j) !== 0x22) return -1;
      this.escapes = false;
      const nameEnd = this.string(j);
      if (nameEnd < 0 || text.charCodeAt(nameEnd) !== 0x3a) return -1;
      const escaped = this.escapes;
      if (previousStart >= 0 && !this.nameAfter(previousStart, previousEnd, previousEscaped, j, nameEnd, escaped)) return -1;
      previousStart = j;
      previousEnd = nameEnd;
      previousEscaped = escaped;
      const valueEnd = this.value(nameEnd + 1);
      if (valueEnd < 0) return -1;
      // Every name verify reads, and @hash, starts with "@" (written as it is, or escaped).
      if (read !== undefined && (escaped || text.charCodeAt(j + 1) === 0x40)) {
        const name = this.name(j, nameEnd, escaped);
        if (name === HASH_FIELD) return -1;
        if (READ_MEMBERS.has(name)) read.set(name, [nameEnd + 1, valueEnd]);
      }
      const next = text.charCodeAt(valueEnd);
      if (next === 0x7d) return valueEnd + 1;
      if (next !== 0x2c) return -1;
      j = valueEnd + 1;
    }
  }
}

/** A stored event read from its canonical text without parsing the whole document. */
export interface CanonicalStoredText {
  /** The index after the text's last character. */
  end: number;
  /** `@hash` as stored. */
  hash: string;
  /** SHA-256 of the document's canonical form without `@hash`: what `@hash` must be. */
  computed: string;
  /** The members `mlog verify` reads (READ_MEMBERS), parsed. */
  members: JsonObject;
}

/**
 * Reads the stored event whose text starts at `start` of `text` when that text is exactly what
 * hashedEventText writes: `{"@hash":"<64 characters>"` then the rest of the document's RFC 8785
 * form. Then SHA-256 of the text without its `@hash` member is the hash of the canonical form (as
 * storedTextHash tells for a parsed document), found without parsing the document or writing it
 * again; only the members verify reads are parsed. Undefined when the text is not in that form
 * (written by an older MLog, rewritten by an update, or forged): then the document must be parsed
 * and canonicalised again. `ascii`, when given, is `text` as bytes, one per character (a text all
 * ASCII): the hash is then taken from its bytes where they stand, not from a copy of the text
 * encoded again, and the comma after `@hash` in it is overwritten with `{` for that.
 */
export function readCanonicalStoredText(text: string, start: number, ascii?: Uint8Array): CanonicalStoredText | undefined {
  if (!text.startsWith(HASH_PREFIX, start)) return undefined;
  const scanner = new CanonicalScanner(text);
  const hashEnd = scanner.string(start + HASH_PREFIX.length - 1);
  if (hashEnd !== start + HASHED_HEAD || text.slice(start + HASH_PREFIX.length, hashEnd - 1).includes('\\')) return undefined;
  const read = new Map<string, [number, number]>();
  let end: number;
  const next = text.charCodeAt(hashEnd);
  try {
    if (next === 0x7d) end = hashEnd + 1;
    else if (next === 0x2c) end = scanner.object(hashEnd, read);
    else return undefined;
  } catch {
    // A document nested deeper than the stack allows: parsed the ordinary way.
    return undefined;
  }
  if (end < 0) return undefined;
  const members: JsonObject = {};
  for (const [name, [from, to]] of read) {
    const token = text.slice(from, to);
    members[name] = token.charCodeAt(0) === 0x22 && !token.includes('\\') ? token.slice(1, -1) : (JSON.parse(token) as JsonObject[string]);
  }
  return {
    end,
    hash: text.slice(start + HASH_PREFIX.length, hashEnd - 1),
    computed: sha256Hex(next === 0x7d ? '{}' : ascii === undefined ? `{${text.slice(hashEnd + 1, end)}` : openedAt(ascii, hashEnd, end)),
    members,
  };
}

/** bytes[from, to) with its first byte (the comma after `@hash`) made `{`: the document's canonical text without `@hash`. */
function openedAt(bytes: Uint8Array, from: number, to: number): Uint8Array {
  bytes[from] = 0x7b;
  return bytes.subarray(from, to);
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

/**
 * A CheckedEvent of the members read from a stored event, and whether its `@hash` holds. Members
 * are set one by one, not spread from conditional objects: this runs once per event.
 */
function checkedEvent(index: string, id: string, source: JsonObject, hashHolds: boolean): CheckedEvent {
  const event: CheckedEvent = { index, id, hashHolds };
  const uid = source['@uid'];
  if (typeof uid === 'string') event.uid = uid;
  const log = source[LOG_FIELD];
  if (typeof log === 'string') event.log = log;
  const position = source[POSITION_FIELD];
  if (typeof position === 'number' && Number.isSafeInteger(position) && position >= 0) event.position = position;
  const hash = source[HASH_FIELD];
  if (typeof hash === 'string') event.hash = hash;
  const jws = source['@jws'];
  if (typeof jws === 'string') event.signed = { jws, is: String(source['@is'] ?? ''), received: String(source['@received'] ?? '') };
  return event;
}

type SearchAnswer = { pit_id?: string; hits?: { hits?: { _index: string; _id: string; _source?: JsonObject; sort?: unknown[] }[] } };

/**
 * Checks every hit of the raw JSON of an Elasticsearch search answer (its text, or its UTF-8 bytes).
 * Each hit's `_source` text that is in the canonical form MLog writes is read where it stands
 * (readCanonicalStoredText: its hash and the few members verify needs, nothing else parsed); any
 * other is parsed and canonicalised again. The rest of the answer (each hit's index, id and sort
 * values) is parsed with each `_source` left out.
 */
export function checkSearchPage(raw: string | Uint8Array): CheckedPage {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  // As many characters as bytes, none of them U+FFFD (what an invalid byte decodes to): every byte
  // is ASCII, so a character's index is its byte's.
  const ascii = typeof raw !== 'string' && text.length === raw.byteLength && !text.includes('\ufffd') ? raw : undefined;
  const read: ({ source: JsonObject; hashHolds: boolean } | undefined)[] = [];
  const envelope: string[] = [];
  let cursor = 0;
  for (;;) {
    const key = text.indexOf(SOURCE_KEY, cursor);
    if (key < 0) break;
    const start = key + SOURCE_KEY.length;
    if (text.charCodeAt(start) !== 0x7b) return checkParsedPage(text);
    const canonical = readCanonicalStoredText(text, start, ascii);
    let end: number;
    if (canonical !== undefined) {
      end = canonical.end;
      // The members object is this call's own: @hash joins it rather than a copy.
      const source = canonical.members;
      source[HASH_FIELD] = canonical.hash;
      read.push({ source, hashHolds: canonical.computed === canonical.hash });
    } else {
      end = jsonValueEnd(text, start);
      if (end < 0) return checkParsedPage(text);
      const source = JSON.parse(text.slice(start, end)) as JsonObject;
      const hash = source[HASH_FIELD];
      read.push({ source, hashHolds: typeof hash === 'string' && storedEventHash(source) === hash });
    }
    envelope.push(text.slice(cursor, start), '0');
    cursor = end;
  }
  envelope.push(text.slice(cursor));
  const answer = JSON.parse(envelope.join('')) as SearchAnswer;
  const hits = answer.hits?.hits ?? [];
  if (hits.length !== read.length) return checkParsedPage(text);
  const last = hits.at(-1);
  return {
    events: hits.map((hit, i) => {
      const { source, hashHolds } = read[i] as { source: JsonObject; hashHolds: boolean };
      return checkedEvent(hit._index, hit._id, source, hashHolds);
    }),
    ...(last?.sort === undefined ? {} : { lastSort: last.sort }),
    ...(answer.pit_id === undefined ? {} : { pitId: answer.pit_id }),
    count: hits.length,
  };
}

/** checkSearchPage on the answer parsed whole: for an answer whose `_source` texts cannot be told apart. */
function checkParsedPage(text: string): CheckedPage {
  const answer = JSON.parse(text) as SearchAnswer;
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

/**
 * A CheckedPage as columns, for the trip from a worker thread back to the verifier's: a structured
 * clone of one object per event writes every member name again for each, while strings in arrays,
 * numbers in typed arrays and the few distinct indices and logs in tables cost about a third.
 */
export interface PackedPage {
  count: number;
  lastSort?: unknown[];
  pitId?: string;
  /** Per event: bit 0 uid, 1 log, 2 position, 3 hash present; 4 hashHolds; 5 signed. */
  flags: Uint8Array;
  indexTable: string[];
  indexOf: Uint32Array;
  logTable: string[];
  logOf: Uint32Array;
  positions: Float64Array;
  ids: string[];
  /** The uid, hash of each event that has one, in event order. */
  uids: string[];
  hashes: string[];
  signed: NonNullable<CheckedEvent['signed']>[];
}

const UID = 1;
const LOG = 2;
const POSITION = 4;
const HASH = 8;
const HOLDS = 16;
const SIGNED = 32;

/** The entry of `value` in `table` (added when new). */
function tableEntry(table: string[], entries: Map<string, number>, value: string): number {
  let entry = entries.get(value);
  if (entry === undefined) {
    entry = table.length;
    table.push(value);
    entries.set(value, entry);
  }
  return entry;
}

export function packCheckedPage(page: CheckedPage): PackedPage {
  const n = page.events.length;
  const packed: PackedPage = {
    count: page.count,
    ...(page.lastSort === undefined ? {} : { lastSort: page.lastSort }),
    ...(page.pitId === undefined ? {} : { pitId: page.pitId }),
    flags: new Uint8Array(n),
    indexTable: [],
    indexOf: new Uint32Array(n),
    logTable: [],
    logOf: new Uint32Array(n),
    positions: new Float64Array(n),
    ids: new Array<string>(n),
    uids: [],
    hashes: [],
    signed: [],
  };
  const indices = new Map<string, number>();
  const logs = new Map<string, number>();
  page.events.forEach((event, i) => {
    let flags = event.hashHolds ? HOLDS : 0;
    packed.indexOf[i] = tableEntry(packed.indexTable, indices, event.index);
    packed.ids[i] = event.id;
    if (event.uid !== undefined) {
      flags |= UID;
      packed.uids.push(event.uid);
    }
    if (event.log !== undefined) {
      flags |= LOG;
      packed.logOf[i] = tableEntry(packed.logTable, logs, event.log);
    }
    if (event.position !== undefined) {
      flags |= POSITION;
      packed.positions[i] = event.position;
    }
    if (event.hash !== undefined) {
      flags |= HASH;
      packed.hashes.push(event.hash);
    }
    if (event.signed !== undefined) {
      flags |= SIGNED;
      packed.signed.push(event.signed);
    }
    packed.flags[i] = flags;
  });
  return packed;
}

/** The CheckedPage a PackedPage was made from (packCheckedPage). */
export function unpackCheckedPage(packed: PackedPage): CheckedPage {
  const events: CheckedEvent[] = new Array<CheckedEvent>(packed.flags.length);
  let uid = 0;
  let hash = 0;
  let signed = 0;
  for (let i = 0; i < packed.flags.length; i++) {
    const flags = packed.flags[i] as number;
    const event: CheckedEvent = { index: packed.indexTable[packed.indexOf[i] as number] as string, id: packed.ids[i] as string, hashHolds: (flags & HOLDS) !== 0 };
    if ((flags & UID) !== 0) event.uid = packed.uids[uid++] as string;
    if ((flags & LOG) !== 0) event.log = packed.logTable[packed.logOf[i] as number] as string;
    if ((flags & POSITION) !== 0) event.position = packed.positions[i] as number;
    if ((flags & HASH) !== 0) event.hash = packed.hashes[hash++] as string;
    if ((flags & SIGNED) !== 0) event.signed = packed.signed[signed++] as NonNullable<CheckedEvent['signed']>;
    events[i] = event;
  }
  return {
    events,
    ...(packed.lastSort === undefined ? {} : { lastSort: packed.lastSort }),
    ...(packed.pitId === undefined ? {} : { pitId: packed.pitId }),
    count: packed.count,
  };
}
