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

