import type { ConsoleHit, ConsoleScope, TimeRange } from '../search/console-search-store-type.js';
import type { QueryNode } from '../search/query-language.js';
import type { DashboardDefinition } from './dashboard.js';

/** A dashboard as stored: its definition and who saved it when. */
export interface StoredDashboard extends DashboardDefinition {
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

/** Where dashboards live; shared by every MLog instance. Writes are visible to list() at once. */
export interface DashboardStore {
  /** False when a dashboard with this id exists. */
  create(dashboard: StoredDashboard): Promise<boolean>;
  /** The dashboard and its version (opaque), or undefined. */
  get(id: string): Promise<{ dashboard: StoredDashboard; version: string } | undefined>;
  /** Replaces the dashboard read at `version`: "stale" when it changed since (or the version is not one the store gave), "missing" when it is gone. */
  replace(dashboard: StoredDashboard, version: string): Promise<'replaced' | 'stale' | 'missing'>;
  /** Writes the dashboard whatever is stored under its id (an import with overwrite). */
  put(dashboard: StoredDashboard): Promise<void>;
  /** False when there was no such dashboard. */
  remove(id: string): Promise<boolean>;
  /** Every dashboard, with its version. */
  list(): Promise<{ dashboard: StoredDashboard; version: string }[]>;
}

/** What a panel reads: a scope, a parsed query and a time range (on the scope's time field). */
export interface PanelQuery {
  scope: ConsoleScope;
  query: QueryNode;
  range: TimeRange;
}

export interface CountsOverTime {
  interval: string;
  series: string[];
  points: { time: number; series: string; count: number }[];
  total: number;
}

export interface TopValues {
  total: number;
  values: { value: string | number | boolean; count: number; share: number }[];
  /** Matching documents whose value is not among those listed. */
  other: number;
}

/** What a metric panel measures. */
export type MetricMeasure = { metric: 'count' } | { metric: 'distinct'; field: string };

/** A system as the health panel needs it (from the registry). */
export interface HealthSystem {
  code: string;
  name: string;
  status: string;
  event_types: readonly string[];
}

export interface SystemHealth {
  code: string;
  name: string;
  status: string;
  last_event_received: string | null;
  events_per_hour: number;
  /** Refused calls ÷ (events + refused calls) in the range, 0 when there were neither. */
  refusal_rate: number;
  declared_types_never_seen: string[];
}

/**
 * The aggregations a dashboard's panels read. Promises: nothing but counts and values of the named
 * fields leaves storage, except latest() (columns only). Every failure leaves as an MLog error; a query
 * that cannot be searched as the scope's fields are indexed is refused with its column.
 */
export interface DashboardDataStore {
  /** Throws the QuerySyntaxError a search with this query would give (a wildcard on a text field…), without searching. */
  check(scope: ConsoleScope, query: QueryNode): void;
  /** The names of the scope's searchable fields (unknown fields are refused with the closest ones). */
  fieldNames(scope: ConsoleScope): Promise<string[]>;
  /** Matching documents per interval (the console's histogram rule), split by the `topN` most frequent values of `splitField` when given. */
  countsOverTime(request: PanelQuery, split?: { field: string; topN: number }): Promise<CountsOverTime>;
  topValues(request: PanelQuery, field: string, topN: number): Promise<TopValues>;
  /**
   * The count of matching documents, or the number of distinct values of `field` (HyperLogLog: exact
   * below 3,000), in the request's range and in `previous` (the period just before it).
   */
  metric(request: PanelQuery, measure: MetricMeasure, previous: TimeRange): Promise<{ value: number; previous: number }>;
  /** The newest `size` matching documents, with only `columns` of each. */
  latest(request: PanelQuery, columns: readonly string[], size: number): Promise<{ total: number; hits: ConsoleHit[] }>;
  /** Per system: last event received (ever), events and refused calls received in the range, the event types seen in it. */
  systemHealth(range: TimeRange, systems: readonly HealthSystem[]): Promise<SystemHealth[]>;
}
