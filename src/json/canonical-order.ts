/**
 * RFC 8785 (JSON Canonicalization Scheme) order of members: names sorted by their UTF-16 code units
 * (plain string comparison). `canonicalOrder` gives a value whose objects list their members in that
 * order, for native JSON.stringify to write its RFC 8785 text (evidence/event-hash.ts); the stored
 * event's builder (events/stored-event.ts) uses it to place the event's nested objects in that order
 * as it builds the document.
 */

import { RecentShapes } from './recent-shapes.js';

/** Thrown inside canonicalOrder when a value is one that native JSON.stringify cannot be trusted with. */
export const NOT_PLAIN = new Error('not plain JSON data');
/** Deeper than this, canonicalOrder gives up (a cycle, or data no event holds) and the general serialiser decides. */
const MAX_DEPTH = 256;
const OBJECT_PROTOTYPE = Object.prototype;
const ARRAY_PROTOTYPE = Array.prototype;

/** Whether an object's own enumerable names, as listed, are in RFC 8785 order (strictly increasing UTF-16 code units). */
export function namesInCanonicalOrder(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if ((names[i - 1] as string) >= (names[i] as string)) return false;
  return true;
}

/**
 * `names` (an object's own names, not in RFC 8785 order) sorted by UTF-16 code units, or undefined
 * when an object cannot list them in that order: ECMAScript lists integer-like names ("2", "10")
 * first, in numeric order, whatever the order they are added in.
 */
function sortNames(names: string[]): string[] | undefined {
  const sorted = [...names].sort(); // by UTF-16 code units: RFC 8785's order
  const listable = sorted.every((name) => !/^[0-9]/.test(name)) || namesInCanonicalOrder(Object.keys(Object.fromEntries(sorted.map((name) => [name, 0]))));
  return listable ? sorted : undefined;
}

/** The orders of the latest 16 shapes: the events of the latest calls, and the objects inside them. */
const canonicalNames = new RecentShapes(16, sortNames);

/** Adds a member to a copy being built; a name "__proto__" becomes a member, not the prototype. */
export function addMember(copy: Record<string, unknown>, name: string, value: unknown): void {
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
export function canonicalOrder(value: unknown, depth: number): unknown {
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
  const names = inOrder ? listed : canonicalNames.of(listed);
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
 * `value` with every object's members in RFC 8785 order (itself when they already are, otherwise the
 * copies `canonicalOrder` makes), or `value` itself when it cannot be put in that order (integer-like
 * names, anything but plain JSON data): the canonical text then takes its general path.
 */
export function inCanonicalOrder(value: unknown): unknown {
  try {
    return canonicalOrder(value, 1);
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return value;
  }
}
