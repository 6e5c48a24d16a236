/**
 * Every Elasticsearch index name MLog uses, derived in one place. IS codes are lower-case letters,
 * digits and "-", so MLog's own indices start with "mlog_" (an underscore no code can hold) and can
 * never be mistaken for an IS's "mlog-<code>-<yyyy.MM>".
 */
import { utcMonth } from '../events/event-time.js';
import type { IndexTarget } from '../events/event-store-type.js';
import type { ManagedIndexName } from '../jobs/index-catalog-type.js';
import { STORED_IS_CODE_PATTERN } from '../systems/information-system.js';

export const SYSTEMS_INDEX = 'mlog_systems';
/** MLog's own events (retention deletions, activations): one index, never subject to retention. */
export const AUDIT_INDEX = 'mlog_audit';
/** Leases that let one MLog instance at a time run a shared job. */
export const LEASES_INDEX = 'mlog_leases';
/** Idempotency-Key records: one document per (IS, key), kept 24 hours. */
export const IDEMPOTENCY_INDEX = 'mlog_idempotency';
/** The console's administrator accounts: one document per username. */
export const ADMINS_INDEX = 'mlog_admins';
/** The console's sessions, each under the SHA-256 of its cookie secret. */
export const SESSIONS_INDEX = 'mlog_sessions';
/** Failed console sign-ins per account and per address, for the lockout rule. */
export const LOCKOUTS_INDEX = 'mlog_lockouts';
/** The console's dashboards: one document per dashboard id. */
export const DASHBOARDS_INDEX = 'mlog_dashboards';
/** Alert rules: one document per rule. */
export const ALERT_RULES_INDEX = 'mlog_alert_rules';
/** Each alert rule's evaluation state: last evaluated point, groups, transitions still to announce. */
export const ALERT_STATE_INDEX = 'mlog_alert_state';
/** Alert notifications waiting for delivery (or delivered, for a week): one document per notification and channel. */
export const ALERT_OUTBOX_INDEX = 'mlog_alert_outbox';
/** The evidence chain: signed checkpoints and tombstones, one document per seq (docs/evidence.md). */
export const EVIDENCE_INDEX = 'mlog_evidence';
/** The leaves of the evidence logs, 1,024 positions per document (id "<log>:<first position>"). */
export const EVIDENCE_LEAVES_INDEX = 'mlog_evidence_leaves';
export const REJECTIONS_INDEX_PREFIX = 'mlog_rejections-';
export const PERSONAL_DATA_INDEX_PREFIX = 'personaldata-';
export const EVENT_INDEX_PREFIX = 'mlog-';

/** "yyyy.MM" of an instant, in UTC: the month suffix of the monthly indices. */
export const monthSuffix = utcMonth;

export function eventIndexName(isCode: string, at: Date): string {
  return `${EVENT_INDEX_PREFIX}${isCode}-${monthSuffix(at)}`;
}

/**
 * The index expression of exactly one IS's event indices. "mlog-mpass-*" alone would also reach
 * "mlog-mpass-test-2026.11" (code mpass-test); a month suffix holds no "-", so excluding
 * "mlog-mpass-*-*" leaves only mpass's own. Searches also filter on @is, as a second wall.
 */
export function eventIndexPattern(isCode: string): string {
  return `${EVENT_INDEX_PREFIX}${isCode}-*,-${EVENT_INDEX_PREFIX}${isCode}-*-*`;
}

/** The index a document belongs to. */
export function indexNameOf(target: IndexTarget): string {
  return target.kind === 'events' ? eventIndexName(target.isCode, target.receivedAt) : personalDataIndexName(target.receivedAt);
}

export function personalDataIndexName(at: Date): string {
  return `${PERSONAL_DATA_INDEX_PREFIX}${monthSuffix(at)}`;
}

export const PERSONAL_DATA_INDEX_PATTERN = `${PERSONAL_DATA_INDEX_PREFIX}*`;

export function rejectionsIndexName(at: Date): string {
  return `${REJECTIONS_INDEX_PREFIX}${monthSuffix(at)}`;
}

export const REJECTIONS_INDEX_PATTERN = `${REJECTIONS_INDEX_PREFIX}*`;

const MONTH = /^(\d{4})\.(0[1-9]|1[0-2])$/;
const EVENTS = /^mlog-(.+)-(\d{4}\.\d{2})$/;

/**
 * Reads a managed index name: mlog-<code>-<yyyy.MM>, personaldata-<yyyy.MM> or
 * mlog_rejections-<yyyy.MM>, exactly; anything else (mlog_systems, mlog_audit, mlog_leases, a
 * malformed month, a code outside [a-z0-9][a-z0-9-]{1,30}) is undefined. The code of an event index
 * is the text between "mlog-" and the last "-" (a month holds none), so mlog-mpass-test-2020.01
 * belongs to mpass-test, never to mpass.
 */
export function parseManagedIndexName(name: string): ManagedIndexName | undefined {
  if (name.startsWith(PERSONAL_DATA_INDEX_PREFIX)) {
    const month = name.slice(PERSONAL_DATA_INDEX_PREFIX.length);
    return MONTH.test(month) ? { kind: 'personaldata', month } : undefined;
  }
  if (name.startsWith(REJECTIONS_INDEX_PREFIX)) {
    const month = name.slice(REJECTIONS_INDEX_PREFIX.length);
    return MONTH.test(month) ? { kind: 'rejections', month } : undefined;
  }
  if (name.startsWith(EVENT_INDEX_PREFIX)) {
    const match = EVENTS.exec(name);
    if (match === null) return undefined;
    const [, code = '', month = ''] = match;
    return STORED_IS_CODE_PATTERN.test(code) && MONTH.test(month) ? { kind: 'events', code, month } : undefined;
  }
  return undefined;
}
