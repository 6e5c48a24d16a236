import { createRequire } from 'node:module';
import type { JsonObject } from '../json/json-object-parser.js';
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

/** Thrown inside canonicalOrder when a value is one that native JSON.stringify cannot be trusted with. */
const NOT_PLAIN = new Error('not plain JSON data');
/** Deeper than this, canonicalOrder gives up (a cycle, or data no event holds) and the general serialiser decides. */
const MAX_DEPTH = 256;
const OBJECT_PROTOTYPE = Object.prototype;
const ARRAY_PROTOTYPE = Array.prototype;

/** Whether an object's own enumerable names, as listed, are in RFC 8785 order (strictly increasing UTF-16 code units). */
function namesInCanonicalOrder(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if ((names[i - 1] as string) >= (names[i] as string)) return false;
  return true;
}

/** Whether every object in `value` lists its members in RFC 8785 order, from member `from` of the top one: JSON.stringify then writes its RFC 8785 text. */
export function membersInCanonicalOrder(value: unknown, from = 0): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every((item) => membersInCanonicalOrder(item));
  const names = Object.keys(value);
  if (!namesInCanonicalOrder(from === 0 ? names : names.slice(from))) return false;
  for (let i = from; i < names.length; i++) if (!membersInCanonicalOrder((value as Record<string, unknown>)[names[i] as string])) return false;
  return true;
}

/** How many orders of names canonicalOrder keeps: the shapes of the events of the latest calls, and of the objects inside them. */
const KNOWN_ORDERS = 16;

/** An object's names as Object.keys lists them, and the same names in RFC 8785 order (undefined when ECMAScript cannot list them in that order). */
interface NameOrder {
  listed: string[];
  sorted: string[] | undefined;
}

/** The latest orders worked out, the most recently used first: events of one system mostly share a few shapes, so each is sorted once. */
const knownOrders: NameOrder[] = [];

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `names` (an object's own names, not in RFC 8785 order) sorted by UTF-16 code units, or undefined
 * when an object cannot list them in that order: ECMAScript lists integer-like names ("2", "10")
 * first, in numeric order, whatever the order they are added in.
 */
function canonicalNames(names: string[]): string[] | undefined {
  for (let i = 0; i < knownOrders.length; i++) {
    const known = knownOrders[i] as NameOrder;
    if (sameNames(known.listed, names)) {
      if (i > 0) {
        knownOrders.splice(i, 1);
        knownOrders.unshift(known);
      }
      return known.sorted;
    }
  }
  const sorted = [...names].sort(); // by UTF-16 code units: RFC 8785's order
  const listable = sorted.every((name) => !/^[0-9]/.test(name)) || namesInCanonicalOrder(Object.keys(Object.fromEntries(sorted.map((name) => [name, 0]))));
  knownOrders.unshift({ listed: names, sorted: listable ? sorted : undefined });
  if (knownOrders.length > KNOWN_ORDERS) knownOrders.pop();
  return listable ? sorted : undefined;
}

/** Adds a member to a copy being built; a name "__proto__" becomes a member, not the prototype. */
function addMember(copy: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(copy, name, { value, enumerable: true, writable: true, configurable: true });
  else copy[name] = value;
}

/**
 * `value` with every object's members in RFC 8785 order, for native JSON.stringify: the value itself
 * where its objects already list their members in that order (no copy), otherwise copies of the
 * objects that do not and of the objects and arrays holding them. Throws NOT_PLAIN for anything but
 * strings, finite numbers, booleans, null, undefined, plain objects and arrays (a Date, a class
 * instance, a function, NaN...), for an object whose names JSON.stringify lists in another order
 * whatever the order they are added in (integer-like names such as "10" and "2", which ECMAScript
 * lists first, in numeric order), and below MAX_DEPTH levels.
 */
function canonicalOrder(value: unknown, depth: number): unknown {
  if (typeof value !== 'object') {
    if (typeof value === 'string' || typeof value === 'boolean' || value === undefined || (typeof value === 'number' && Number.isFinite(value))) return value;
    throw NOT_PLAIN;
  }
  if (value === null) return value;
  if (depth > MAX_DEPTH) throw NOT_PLAIN;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype === ARRAY_PROTOTYPE) {
    const array = value as unknown[];
    let copy: unknown[] | undefined;
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      const ordered = typeof item === 'string' ? item : canonicalOrder(item, depth + 1);
      if (ordered !== item) {
        copy ??= array.slice();
        copy[i] = ordered;
      }
    }
    return copy ?? array;
  }
  if (prototype !== OBJECT_PROTOTYPE && prototype !== null) throw NOT_PLAIN;
  const object = value as Record<string, unknown>;
  const listed = Object.keys(object);
  const inOrder = namesInCanonicalOrder(listed);
  const names = inOrder ? listed : canonicalNames(listed);
  if (names === undefined) throw NOT_PLAIN;
  // In order already: the object itself, unless a member's value has to be copied; otherwise a copy in order.
  let copy: Record<string, unknown> | undefined = inOrder ? undefined : {};
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const item = object[name];
    // Most members are strings: they need no call.
    const ordered = typeof item === 'string' ? item : canonicalOrder(item, depth + 1);
    if (copy === undefined) {
      if (ordered === item) continue;
      copy = {};
      for (let j = 0; j < i; j++) addMember(copy, names[j] as string, object[names[j] as string]);
    }
    addMember(copy, name, ordered);
  }
  return copy ?? object;
}

/**
 * RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: native JSON.stringify of the value with
 * every object's members in sorted order (RFC 8785 adopts ECMAScript's serialisation of strings,
 * numbers and literals, so for JSON data that is its text), copying only the objects whose members
 * are not in that order yet. What that cannot be trusted with (see canonicalOrder) goes to the
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
