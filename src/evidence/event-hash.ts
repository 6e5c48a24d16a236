import { createRequire } from 'node:module';
import type { JsonObject } from '../json/json-object-parser.js';
import { sha256Hex } from './merkle.js';

/**
 * RFC 8785 canonicalisation of JSON data, by safe-stable-stringify with its members sorted (CommonJS).
 * For JSON data (what MLog parses and stores) its text is the RFC 8785 text: members sorted by their
 * names' UTF-16 code units (plain string comparison), strings, numbers and literals written exactly
 * as ECMAScript's JSON.stringify writes them (which RFC 8785 § 3.2.2 adopts), undefined members left
 * out; NaN, Infinity, functions and cycles throw. It is the same text as the reference
 * implementation's (`canonicalize`, which test/unit/event-hash.test.ts compares it with, awkward
 * strings and numbers included) at about two thirds of its CPU: this runs for every stored event,
 * on the ingest path and in `mlog verify`.
 */
const canonicalize = (createRequire(import.meta.url)('safe-stable-stringify') as { configure(options: object): (input: unknown) => string | undefined }).configure({
  deterministic: true,
  strict: true,
  circularValue: Error,
  bigint: false,
});

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
    // A spread copies a member named "__proto__" (JSON.parse makes it an own member) as a member; Object.assign would set the prototype instead.
    hashed = { ...document };
    delete hashed[HASH_FIELD];
  }
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
