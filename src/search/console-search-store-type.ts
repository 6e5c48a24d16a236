import type { QueryNode } from './query-language.js';

/** Where a console reading looks: every system's events (or chosen ones), the personal-data projections, the rejections, MLog's own audit. */
export type ConsoleScope = { kind: 'events'; systems: string[] } | { kind: 'personal-data' } | { kind: 'rejections' } | { kind: 'audit' };

/** From (inclusive) to (exclusive), epoch milliseconds, on the scope's time field (@received for rejections, event_time elsewhere). */
export interface TimeRange {
  fromMillis: number;
  toMillis: number;
}

/** One stored document, as stored. `system` is the IS code of an event or a projection. */
export interface ConsoleHit {
  index: string;
  id: string;
  system?: string;
  source: Record<string, unknown>;
}

export interface FieldTop {
  name: string;
  top: { value: string | number | boolean; count: number; share: number }[];
}

export interface FieldDescription {
  name: string;
  type: string;
  /** False for a field stored without values to count or sort (`@hash`): no field top is asked of it. */
  aggregatable: boolean;
  /** False for a field kept in the document only (`@hash`): a query naming it is refused as naming no known field. */
  searchable: boolean;
}

export interface ConsoleSearchRequest {
  scope: ConsoleScope;
  query: QueryNode;
  range: TimeRange;
  size: number;
  /** The opaque cursor of the previous page. */
  after?: string;
  histogram: boolean;
  /** The fields to give the top 5 values of; none when empty. */
  fields: readonly string[];
}

export interface ConsoleSearchPage {
  total: number;
  /** Newest first. */
  hits: ConsoleHit[];
  /** The next page's cursor, when there may be one. */
  cursor?: string;
  histogram?: { interval: string; buckets: { key: number; count: number }[] };
  fields?: FieldTop[];
}

export type CorrelationField = 'event_correlation' | 'user' | 'subject';

/** Reads the record for the console. Every failure of storage leaves as an MLog error. */
export interface ConsoleSearchStore {
  search(request: ConsoleSearchRequest): Promise<ConsoleSearchPage>;
  /** The searchable fields of the scope's indices, as their mappings say. */
  fields(scope: ConsoleScope): Promise<FieldDescription[]>;
  /** A document of an index the console reads (events, projections, rejections, audit); undefined when there is none. */
  document(index: string, id: string): Promise<ConsoleHit | undefined>;
  /** Up to `size` events of the same system just before and just after `hit`, by event_time (ties by @id). */
  surrounding(hit: ConsoleHit, size: number): Promise<{ before: ConsoleHit[]; after: ConsoleHit[] }>;
  /** Every system's events with `field` = `value`, oldest event_time first, at most `limit`. */
  correlate(field: CorrelationField, value: string, limit: number): Promise<ConsoleHit[]>;
  /** The whole result of a search, newest first, in pages read one ahead; only `columns` of each document when given. */
  exportPages(request: Omit<ConsoleSearchRequest, 'size' | 'after' | 'histogram' | 'fields'>, pageSize: number, columns?: readonly string[]): AsyncIterable<ConsoleHit[]>;
}
