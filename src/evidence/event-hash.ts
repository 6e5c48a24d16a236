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
