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

/** The bytes of the leaf input: RFC 8785 canonical JSON of the leaf, UTF-8. */
export function leafInput(leaf: LogLeaf): Buffer {
  return Buffer.from(canonicalJson(leaf), 'utf8');
}

/** MTH({leaf}) = SHA-256(0x00 || leaf input). */
export function hashLeaf(leaf: LogLeaf): Buffer {
  return leafHash(leafInput(leaf));
}

/** "yyyy.MM" of an ISO time, in UTC: the month part of an event index's name. */
export function monthOf(receivedIso: string): string {
  return `${receivedIso.slice(0, 4)}.${receivedIso.slice(5, 7)}`;
}
