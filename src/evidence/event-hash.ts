import { createRequire } from 'node:module';
import type { JsonObject } from '../json/json-object-parser.js';
import { addMember, canonicalOrder, namesInCanonicalOrder, NOT_PLAIN } from '../json/canonical-order.js';
import { sha256Hex } from './merkle.js';

/**
 * safe-stable-stringify with its members sorted (CommonJS), the general RFC 8785 serialiser. For JSON
 * data its text is the RFC 8785 text: members sorted by their names' UTF-16 code units (plain string
 * comparison), strings, numbers and literals written exactly as ECMAScript's JSON.stringify writes
 * them (which RFC 8785 § 3.2.2 adopts), undefined members left out; NaN, Infinity, functions,
 * symbols, BigInt and cycles throw. canonicalJson hands it what native JSON.stringify cannot write in
 * sorted order.
 */
const sortedStringify = (createRequire(import.meta.url)('safe-stable-stringify') as { configure(options: object): (input: unknown) => string | undefined }).configure({
  deterministic: true,
  strict: true,
  circularValue: Error,
  bigint: false,
});

/** Whether every object in `value` lists its members in RFC 8785 order, from member `from` of the top one: JSON.stringify then writes its RFC 8785 text. */
export function membersInCanonicalOrder(value: unknown, from = 0): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every((item) => membersInCanonicalOrder(item));
  const names = Object.keys(value);
  if (!namesInCanonicalOrder(from === 0 ? names : names.slice(from))) return false;
  for (let i = from; i < names.length; i++) if (!membersInCanonicalOrder((value as Record<string, unknown>)[names[i] as string])) return false;
  return true;
}

/**
 * RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: native JSON.stringify of the value with
 * every object's members in sorted order (RFC 8785 adopts ECMAScript's serialisation of strings,
 * numbers and literals, so for JSON data that is its text), copying only the objects whose members
 * are not in that order yet. What that cannot be trusted with (see canonicalOrder, json/canonical-order.ts) goes to the
 * general serialiser, which writes the same text for JSON data and throws for NaN, Infinity,
 * functions, symbols, BigInt and cycles. test/unit/event-hash.test.ts compares it with the reference
 * implementation (`canonicalize`). It runs for every stored event, on the ingest path and in
 * `mlog verify`.
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(canonicalOrder(value, 0));
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return generalCanonicalJson(value);
  }
  if (text === undefined) throw new TypeError('the value has no JSON form');
  return text;
}

/**
 * RFC 8785 text of a value by the general serialiser alone (safe-stable-stringify), what canonicalJson
 * hands what native JSON.stringify cannot write in order: the same text for JSON data, at more CPU.
 * Every `@hash` MLog stored before canonicalJson used native JSON.stringify was computed over it.
 */
export function generalCanonicalJson(value: unknown): string {
  const text = sortedStringify(value);
  if (text === undefined) throw new TypeError('the value has no JSON form');
  return text;
}

/** The field of a stored event that holds its hash; the hash covers every other field. */
export const HASH_FIELD = '@hash';
/** The fields of a stored event that place it in the evidence log. */
export const LOG_FIELD = '@log';
export const POSITION_FIELD = '@position';

/**
 * `@hash` of a stored event: SHA-256, in lowercase hex, of the RFC 8785 canonical form of the
 * document exactly as stored, without its own `@hash` field (so `@log`, `@position` and the
 * client's `@jws`, when present, are covered).
 */
export function storedEventHash(document: JsonObject): string {
  if (!Object.prototype.hasOwnProperty.call(document, HASH_FIELD)) return sha256Hex(canonicalJson(document));
  // A copy without @hash, built member by member (a copy and a delete would leave V8 a slower object to serialise).
  const hashed: JsonObject = {};
  for (const name of Object.keys(document)) if (name !== HASH_FIELD) addMember(hashed, name, document[name]);
  return sha256Hex(canonicalJson(hashed));
}

/**
 * `@hash` of a document about to be stored, and the document's JSON text with it: `@hash` first,
 * then the members of the canonical form hashed (what a store may send as it is, instead of
 * serialising the document a second time). The document must not hold `@hash` yet.
 */
export function hashedEventText(document: JsonObject): { hash: string; text: string } {
  const canonical = canonicalJson(document);
  const hash = sha256Hex(canonical);
  const rest = canonical.slice(1);
  return { hash, text: `{"${HASH_FIELD}":"${hash}"${rest === '}' ? '' : ','}${rest}` };
}
