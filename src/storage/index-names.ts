/**
 * Every Elasticsearch index name MLog uses, derived in one place. IS codes are lower-case letters,
 * digits and "-", so MLog's own indices start with "mlog_" (an underscore no code can hold) and can
 * never be mistaken for an IS's "mlog-<code>-<yyyy.MM>".
 */

/** A new IS code: 2 to 31 lower-case letters, digits and "-", starting and ending with a letter or digit. */
export const IS_CODE_PATTERN = /^[a-z0-9][a-z0-9-]{0,29}[a-z0-9]$/;

/**
 * An IS code as it may appear in an index name or a search: also a code ending in "-", which earlier
 * versions of MLog registered, so the indices of such a system stay managed and searchable.
 */
export const STORED_IS_CODE_PATTERN = /^[a-z0-9][a-z0-9-]{1,30}$/;

export const SYSTEMS_INDEX = 'mlog_systems';
/** MLog's own events (retention deletions, activations): one index, never subject to retention. */
export const AUDIT_INDEX = 'mlog_audit';
/** Leases that let one MLog instance at a time run a shared job. */
export const LEASES_INDEX = 'mlog_leases';
/** Idempotency-Key records: one document per (IS, key), kept 24 hours. */
export const IDEMPOTENCY_INDEX = 'mlog_idempotency';
export const REJECTIONS_INDEX_PREFIX = 'mlog_rejections-';
export const PERSONAL_DATA_INDEX_PREFIX = 'personaldata-';
export const EVENT_INDEX_PREFIX = 'mlog-';

/** "yyyy.MM" of an instant, in UTC. */
export function monthSuffix(at: Date): string {
  return `${at.getUTCFullYear().toString().padStart(4, '0')}.${(at.getUTCMonth() + 1).toString().padStart(2, '0')}`;
}

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

export function personalDataIndexName(at: Date): string {
  return `${PERSONAL_DATA_INDEX_PREFIX}${monthSuffix(at)}`;
}

export const PERSONAL_DATA_INDEX_PATTERN = `${PERSONAL_DATA_INDEX_PREFIX}*`;

export function rejectionsIndexName(at: Date): string {
  return `${REJECTIONS_INDEX_PREFIX}${monthSuffix(at)}`;
}

export const REJECTIONS_INDEX_PATTERN = `${REJECTIONS_INDEX_PREFIX}*`;
