/**
 * The rules of retention, as pure functions: which indices MLog manages, when a monthly index has
 * passed its retention, and what a retention run would do with each index. Everything is computed in
 * UTC; the process's time zone never matters.
 */
import { daysInMonth, utcMonth } from '../events/event-time.js';
import type { IndexSize, ManagedIndexName } from './index-catalog-type.js';

export type { IndexSize, ManagedIndexName } from './index-catalog-type.js';

export interface RetentionPolicy {
  /** Retention in months of each registered IS, by code. A code absent here is never deleted. */
  systemMonths: ReadonlyMap<string, number>;
  /** Retention of the shared personaldata-<yyyy.MM> indices. */
  personalDataMonths: number;
  /** Retention of the mlog_rejections-<yyyy.MM> indices. */
  rejectionsMonths: number;
}

/** What a retention run does with one managed index, and why. */
export interface RetentionPlanEntry {
  index: string;
  kind: ManagedIndexName['kind'];
  /** The IS code, for event indices. */
  code?: string;
  month: string;
  docs: number;
  bytes: number;
  decision: 'delete' | 'keep';
  reason: string;
  /** The retention that applied, when one did. */
  retentionMonths?: number;
  /** now − retentionMonths: an index whose month ended at or before this instant is deleted. */
  cutoff?: Date;
  /** The first instant at which this index may be deleted (its month's end + retentionMonths). */
  deletableFrom?: Date;
}

const MONTH = /^(\d{4})\.(0[1-9]|1[0-2])$/;

/** A UTC instant from calendar fields; unlike Date.UTC, years 0–99 stay what they are. */
function utc(year: number, monthIndex: number, day: number, hours = 0, minutes = 0, seconds = 0, ms = 0): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(hours, minutes, seconds, ms);
  return date;
}

/** `at` moved by whole calendar months in UTC, the day clamped to the target month's length. */
function addMonths(at: Date, months: number): Date {
  const total = at.getUTCFullYear() * 12 + at.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const monthIndex = total - year * 12;
  const day = Math.min(at.getUTCDate(), daysInMonth(year, monthIndex + 1));
  return utc(year, monthIndex, day, at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), at.getUTCMilliseconds());
}

function isRetentionMonths(months: number): boolean {
  return Number.isInteger(months) && months >= 0;
}

/**
 * `now` minus `months` calendar months in UTC, keeping the time of day and clamping the day to the
 * length of the target month (31 March − 1 month = 28 or 29 February). Throws a RangeError when
 * `months` is not a whole number of 0 or more.
 */
export function retentionCutoff(now: Date, months: number): Date {
  if (!isRetentionMonths(months)) throw new RangeError(`${months} is not a number of months (a whole number, 0 or more).`);
  return addMonths(now, -months);
}

/** The first instant of the month "yyyy.MM" (UTC). Throws a RangeError on another shape. */
export function monthStart(month: string): Date {
  const match = MONTH.exec(month);
  if (match === null) throw new RangeError(`"${month}" is not a month of the form yyyy.MM.`);
  return utc(Number(match[1]), Number(match[2]) - 1, 1);
}

/** The end of the month "yyyy.MM": the first instant of the next month (UTC), itself not in the month. */
export function monthEnd(month: string): Date {
  const start = monthStart(month);
  return utc(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
}

function day(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The plan of a retention run at `now`: one entry per managed index of `indices` (other names are
 * left out, so never deleted), sorted by name. An index is deleted only when all hold:
 * - its month is before the current UTC month (the index being written, and any future one, is kept);
 * - for an event index, its IS is in the registry (an unknown code is kept: "no registered IS");
 * - its month's end (the first instant of the next month, UTC) is at or before the cut-off,
 *   now − the retention months of its IS, of personal data, or of rejections.
 */
export function selectIndicesToDelete(indices: readonly IndexSize[], policy: RetentionPolicy, now: Date): RetentionPlanEntry[] {
  const currentMonth = utcMonth(now);
  const entries: RetentionPlanEntry[] = [];
  for (const index of indices) {
    const parsed = index.holds;
    if (parsed === undefined) continue;
    const entry: RetentionPlanEntry = {
      index: index.name,
      kind: parsed.kind,
      ...(parsed.kind === 'events' ? { code: parsed.code } : {}),
      month: parsed.month,
      docs: index.docs,
      bytes: index.bytes,
      decision: 'keep',
      reason: '',
    };
    entries.push(entry);

    if (parsed.month === currentMonth) {
      entry.reason = 'current month (being written)';
      continue;
    }
    if (parsed.month > currentMonth) {
      entry.reason = 'future month';
      continue;
    }
    if (parsed.kind === 'events' && !policy.systemMonths.has(parsed.code)) {
      entry.reason = 'no registered IS';
      continue;
    }
    // A registry record may lack the field (or hold garbage) whatever its type says: keep its indices.
    const months: number | undefined =
      parsed.kind === 'events' ? policy.systemMonths.get(parsed.code) : parsed.kind === 'personaldata' ? policy.personalDataMonths : policy.rejectionsMonths;
    if (months === undefined || !isRetentionMonths(months)) {
      entry.reason = `no valid retention period (${String(months)})`;
      continue;
    }
    const cutoff = retentionCutoff(now, months);
    const end = monthEnd(parsed.month);
    entry.retentionMonths = months;
    entry.cutoff = cutoff;
    entry.deletableFrom = addMonths(end, months);
    const period = `${months} month${months === 1 ? '' : 's'}`;
    if (end.getTime() <= cutoff.getTime()) {
      entry.decision = 'delete';
      entry.reason = `past retention (${period}; cut-off ${day(cutoff)})`;
    } else {
      entry.reason = `within retention (${period}; deletable from ${day(entry.deletableFrom)})`;
    }
  }
  return entries.sort((a, b) => (a.index < b.index ? -1 : a.index > b.index ? 1 : 0));
}
