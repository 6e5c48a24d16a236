import type { JsonObject } from '../json/json-object-parser.js';

/** The event type of MLog's record of each client query (MLog.ClientQuery), written to the caller's own index. */
export const CLIENT_QUERY_EVENT_TYPE = 'MLog.ClientQuery';

/**
 * What a write adds: events registered by a client, or MLog's own record of a client's query (an
 * MLog.ClientQuery event, whose UID is never given out).
 */
export type WriteKind = 'events' | 'query-record';

/**
 * Which index a document belongs to: the events of one IS in the month of their registration, or the
 * shared PersonalData projections of that month. The store derives the index name from it.
 */
export type IndexTarget = { kind: 'events'; isCode: string; receivedAt: Date } | { kind: 'personal-data'; receivedAt: Date };

/** One document MLog writes, with its id chosen before the first attempt so retries are idempotent. */
export interface DocumentToWrite {
  target: IndexTarget;
  id: string;
  document: JsonObject;
  /** The document's JSON text when the writer already made it (the evidence log's canonical form); the store then sends it as is. */
  serialized?: string;
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
  /** Leaves out the documents of this call: the query's own MLog.ClientQuery record, written while the search runs. */
  excludeUid?: string;
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
 * - search sees every document whose writeAll has resolved (read-your-writes) — for query records
 *   (kind 'query-record') as soon as the search could match them: a search by UID never can.
 */
export interface EventStore {
  /** `system`: the IS the documents belong to; a store may share its write path fairly between systems, and refuse a system that has too much waiting (429). */
  writeAll(documents: DocumentToWrite[], kind: WriteKind, system: string): Promise<void>;
  search(search: EventSearch): Promise<EventPage>;
  /** The mapped types of the named fields in the IS's indices ('object' for a field holding nested fields); a field never seen is absent. */
  fieldTypes(isCode: string, fields: string[]): Promise<Map<string, string[]>>;
  /**
   * Makes the IS's event index of `at`'s month exist before its first write, which would otherwise
   * wait for the store to create it. Never throws (a failure leaves the first write to create it).
   */
  prepareIndex(isCode: string, at: Date): Promise<void>;
}
