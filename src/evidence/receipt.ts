import { canonicalJson } from './event-hash.js';

/**
 * The receipt MLog gives the registering system (docs/evidence.md, docs/api.md): a compact JWS in
 * the `MLog-Receipt` header of a /register answer, MLog's signed promise that the events of the call,
 * with these hashes at these positions, are in the next checkpoint of log `log`.
 */

export const RECEIPT_HEADER = 'MLog-Receipt';
/** The JWS header `typ` of a receipt. */
export const RECEIPT_TYP = 'mlog-receipt+jws';
/** Events listed one by one in a receipt; above it only `events_root` commits to them (the header stays under 8 KB). */
export const RECEIPT_LISTED_EVENTS_MAX = 64;

export interface ReceiptEvent {
  /** The stored document id (`@id`). */
  id: string;
  position: number;
  /** `@hash` of the stored event. */
  hash: string;
}

/** The payload of a receipt, signed as its RFC 8785 text. */
export interface ReceiptPayload {
  iss: 'MLog';
  uid: string;
  /** The IS code of the registering system. */
  is: string;
  /** `@received` of the events (ISO instant). */
  received: string;
  log: string;
  /** The position of the call's first event; its events hold first_position … first_position + count − 1. */
  first_position: number;
  count: number;
  /** Lowercase hex RFC 9162 root of the call's leaf hashes, in position order. */
  events_root: string;
  /** Listed when count ≤ RECEIPT_LISTED_EVENTS_MAX. */
  events?: ReceiptEvent[];
}


/**
 * RFC 8785 text of a receipt payload, the exact bytes signed. Its members are strings and integers
 * with fixed names, so the text is JSON.stringify of a copy whose members are in RFC 8785 order
 * (names sorted by UTF-16 code units; strings and integers written as JSON.stringify writes them):
 * the general canonicaliser's text at a fraction of its cost, for every /register call. Anything
 * else (a position or count that is not a safe integer) goes through the general canonicaliser.
 */
export function receiptText(payload: ReceiptPayload): string {
  const integers = [payload.first_position, payload.count, ...(payload.events ?? []).map((event) => event.position)];
  if (!integers.every((value) => Number.isSafeInteger(value))) return canonicalJson(payload);
  return JSON.stringify({
    count: payload.count,
    ...(payload.events === undefined ? {} : { events: payload.events.map((event) => ({ hash: event.hash, id: event.id, position: event.position })) }),
    events_root: payload.events_root,
    first_position: payload.first_position,
    is: payload.is,
    iss: payload.iss,
    log: payload.log,
    received: payload.received,
    uid: payload.uid,
  });
}
