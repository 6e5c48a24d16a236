import type { JsonObject } from '../events/json-object-parser.js';

/** One document MLog writes, with its id chosen before the first attempt so retries are idempotent. */
export interface DocumentToWrite {
  index: string;
  id: string;
  document: JsonObject;
  /** Where the document came from, for messages ("line 3"). */
  origin: string;
}

/** A filter condition of a range query: exact on keyword fields, full text on event_message. */
export interface FieldCondition {
  field: string;
  values: string[];
  match: 'exact' | 'full-text';
}

export interface EventSearch {
  /** The IS whose events are searched: only its indices, and only documents whose @is is this code. */
  isCode: string;
  uid?: string;
  /** event_time from (inclusive) and to (exclusive), epoch milliseconds. */
  range?: { fromMillis: number; toMillis: number };
  conditions: FieldCondition[];
  from: number;
  size: number;
  order: 'newest-first' | 'registration-order';
}

export interface EventPage {
  total: number;
  events: JsonObject[];
}

/**
 * Where events live. Promises of every implementation:
 * - writeAll is all or nothing and synchronous: it resolves only after the store acknowledged every
 *   document durably; when it throws, none of the documents remain. Each id is written with create
 *   semantics, so repeating a write after a lost answer stores nothing twice.
 * - search sees every document whose writeAll has resolved (read-your-writes).
 */
export interface EventStore {
  writeAll(documents: DocumentToWrite[]): Promise<void>;
  search(search: EventSearch): Promise<EventPage>;
  /** The mapped types of the named fields in the IS's indices ('object' for a field holding nested fields); a field never seen is absent. */
  fieldTypes(isCode: string, fields: string[]): Promise<Map<string, string[]>>;
}
