import type { ConsoleScope } from '../search/console-search-store-type.js';
import type { QueryNode } from '../search/query-language.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import type { AlertNotification } from './alert-notifier-type.js';
import type { AlertRule } from './alert-rule.js';

export interface StoredRule {
  rule: AlertRule;
  version: RecordVersion;
}

/** Where alert rules live, shared by every MLog instance; every write is conditional, and visible to list() at once. */
export interface AlertRuleStore {
  list(): Promise<StoredRule[]>;
  get(id: string): Promise<StoredRule | undefined>;
  /** Stores a new rule; undefined when a rule of that id exists. */
  create(rule: AlertRule): Promise<RecordVersion | undefined>;
  /** Replaces the rule read at `version`; undefined when it changed or vanished meanwhile. */
  replace(rule: AlertRule, version: RecordVersion): Promise<RecordVersion | undefined>;
  /** Deletes the rule (at `version` when given); false when it was not there or had changed. */
  remove(id: string, version?: RecordVersion): Promise<boolean>;
}

/** One group of a rule (a value of group_by, a new value, or '' for the whole rule). */
export interface AlertGroupState {
  group: string;
  state: 'active' | 'recovered';
  /** When the group became active (or recovered). */
  since: string;
  value: number | string;
  last_notified_at: string | null;
  /** Counts the group's activations; part of the notifications' deterministic ids. */
  sequence: number;
}

/** A transition decided and stored, whose audit record and notification are still to be written (see the engine). */
export interface PendingTransition {
  notification: AlertNotification;
  /** False while the rule is muted: the transition is recorded but nobody is notified. */
  notify: boolean;
}

/** The evaluation state of one rule. */
export interface AlertRuleState {
  rule_id: string;
  /** The end of the last evaluated window (ISO), on @received. */
  last_evaluated_to: string | null;
  last_fired_at: string | null;
  groups: AlertGroupState[];
  pending: PendingTransition[];
}

export interface StoredRuleState {
  state: AlertRuleState;
  version: RecordVersion;
}

/** Where rules' evaluation state lives; conditional writes, so of two instances evaluating one rule only one stores its outcome. */
export interface AlertStateStore {
  get(ruleId: string): Promise<StoredRuleState | undefined>;
  list(): Promise<AlertRuleState[]>;
  /** Creates (no version) or replaces (at `version`) the state; undefined when another writer got there first. */
  put(state: AlertRuleState, version: RecordVersion | undefined): Promise<RecordVersion | undefined>;
  remove(ruleId: string): Promise<void>;
}

/** A stored document that triggered an alert. */
export interface EventRef {
  index: string;
  id: string;
}

/** Documents of a scope matching a query whose @received (MLog's receive time) is in (from, to]. */
export interface AlertSearch {
  scope: ConsoleScope;
  query: QueryNode;
  from: Date;
  to: Date;
}

/** The readings of the record the engine needs, all on @received. Every failure leaves as an MLog error. */
export interface AlertDataSource {
  /** The number of matching documents, per value of `groupBy` (the `maxGroups` most frequent) or as one group '' without it. */
  groupCounts(search: AlertSearch, groupBy: string | undefined, maxGroups: number): Promise<{ key: string; count: number }[]>;
  /** Which of `values` of `field` occur in the search. */
  valuesSeen(search: AlertSearch, field: string, values: readonly string[]): Promise<Set<string>>;
  /** Up to `size` matching documents, newest @received first (only those with `field` = `value` when given). */
  evidence(search: AlertSearch, size: number, match?: { field: string; value: string }): Promise<EventRef[]>;
}

export interface AlertHistoryEntry {
  time: string;
  kind: 'fired' | 'recovered' | 'notified' | 'notification-failed';
  group: string;
  value: number | string | null;
  channel?: string;
  error?: string;
  events: EventRef[];
}

/** Reads a rule's history (MLog.Alert.* records of the audit index), newest first. */
export interface AlertHistoryReader {
  history(ruleId: string, size: number, after?: string): Promise<{ entries: AlertHistoryEntry[]; cursor?: string }>;
}
