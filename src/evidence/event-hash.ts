import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { JsonObject } from '../json/json-object-parser.js';

/** RFC 8785 canonicalisation (the reference implementation's package, CommonJS: its types misdeclare a default export). */
const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined;

/** The field of a stored event that holds its hash; the hash covers every other field. */
export const HASH_FIELD = '@hash';
/** The fields of a stored event that place it in the evidence log. */
export const LOG_FIELD = '@log';
export const POSITION_FIELD = '@position';

/** RFC 8785 (JSON Canonicalization Scheme) text of a JSON value. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('the value has no JSON form');
  return text;
}

/**
 * `@hash` of a stored event: SHA-256, in lowercase hex, of the RFC 8785 canonical form of the
 * document exactly as stored, without its own `@hash` field (so `@log`, `@position` and the
 * client's `@jws`, when present, are covered).
 */
export function storedEventHash(document: JsonObject): string {
  let hashed: JsonObject = document;
  if (Object.prototype.hasOwnProperty.call(document, HASH_FIELD)) {
    hashed = Object.assign({}, document);
    delete hashed[HASH_FIELD];
  }
  return createHash('sha256').update(canonicalJson(hashed)).digest('hex');
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
 * `@hash` of a document about to be stored, and the document's JSON text with it: `@hash` first,
 * then the members of the canonical form hashed (what a store may send as it is, instead of
 * serialising the document a second time). The document must not hold `@hash` yet.
 */
export function hashedEventText(document: JsonObject): { hash: string; text: string } {
  const canonical = canonicalJson(document);
  const hash = createHash('sha256').update(canonical).digest('hex');
  const rest = canonical.slice(1);
  return { hash, text: `{"${HASH_FIELD}":"${hash}"${rest === '}' ? '' : ','}${rest}` };
}
