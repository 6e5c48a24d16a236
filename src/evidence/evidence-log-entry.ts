import { canonicalJson } from './event-hash.js';
import { leafHash } from './merkle.js';

/**
 * A leaf of an evidence log: what was written at one position. The leaf input hashed into the tree
 * is the RFC 8785 text of this object, so the tree commits to where each event lives (its IS and
 * the month of its registration, which name its index) as well as to its `@hash`: a position whose
 * event is gone can be told "deleted with its index by retention" (a tombstone names that index)
 * from "deleted by someone".
 *
 * - `event`: the event of document id `id`, stored in the IS's index of that month (UTC month of
 *   `@received`, "yyyy.MM"), whose `@hash` is `hash`.
 * - `void`: a position given to a document whose write was refused (nothing of that call remains).
 */
export type LogLeaf =
  | { kind: 'event'; id: string; hash: string; is: string; month: string }
  | { kind: 'void'; reason: string };

/**
 * RFC 8785 canonical JSON of a leaf. A leaf's members are strings with fixed names, so its canonical
 * text is JSON.stringify of a copy whose members are in RFC 8785 order (names sorted by UTF-16 code
 * units; RFC 8785 serialises strings exactly as ECMAScript's JSON.stringify does): the same text as
 * the general canonicaliser, at a fraction of its cost, on the ingest path twice per event.
 * Anything else (a leaf read back with other members) goes through the general canonicaliser.
 */
export function leafText(leaf: LogLeaf): string {
  if (leaf.kind === 'event' && typeof leaf.hash === 'string' && typeof leaf.id === 'string' && typeof leaf.is === 'string' && typeof leaf.month === 'string' && Object.keys(leaf).length === 5) {
    return JSON.stringify({ hash: leaf.hash, id: leaf.id, is: leaf.is, kind: leaf.kind, month: leaf.month });
  }
  if (leaf.kind === 'void' && typeof leaf.reason === 'string' && Object.keys(leaf).length === 2) {
    return JSON.stringify({ kind: leaf.kind, reason: leaf.reason });
  }
  return canonicalJson(leaf);
}

/** The bytes of the leaf input: RFC 8785 canonical JSON of the leaf, UTF-8. */
export function leafInput(leaf: LogLeaf): Buffer {
  return Buffer.from(leafText(leaf), 'utf8');
}

/** MTH({leaf}) = SHA-256(0x00 || leaf input). */
export function hashLeaf(leaf: LogLeaf): Buffer {
  return leafHash(leafText(leaf));
}

/** "yyyy.MM" of an ISO time, in UTC: the month part of an event index's name. */
export function monthOf(receivedIso: string): string {
  return `${receivedIso.slice(0, 4)}.${receivedIso.slice(5, 7)}`;
}
