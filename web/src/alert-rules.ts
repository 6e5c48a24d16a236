import type { AlertChannel, AlertRule, AlertRuleInput, AlertRuleType, Comparator, RefusalCause, Scope } from './api';

/** How the console names each rule type. */
export const RULE_TYPES: { value: AlertRuleType; text: string; description: string }[] = [
  { value: 'threshold', text: 'Threshold', description: 'The number of events matching a query in a window, optionally per value of a field, compared with a number.' },
  { value: 'absence', text: 'Absence', description: 'A system (or a query) has had no events for a duration.' },
  { value: 'new-value', text: 'New value', description: 'A value of a field not seen in the previous days.' },
  { value: 'refusals', text: 'Refusals', description: 'Refused calls or signature failures over a threshold in a window.' },
];

export const COMPARATORS: Comparator[] = ['>', '>=', '<', '<='];

export const DEFAULT_SCHEDULE = '* * * * *';

/** The rule form's state: numbers stay text until sent, so MLog names what is wrong with them. */
export interface RuleDraft {
  name: string;
  enabled: boolean;
  type: AlertRuleType;
  schedule: string;
  renotifyMinutes: string;
  scope: Scope;
  query: string;
  windowMinutes: string;
  groupBy: string;
  comparator: Comparator;
  value: string;
  absenceOf: 'system' | 'query';
  system: string;
  durationMinutes: string;
  field: string;
  lookbackDays: string;
  causes: RefusalCause[];
  threshold: string;
  webhooks: { url: string; secret: string; secretSet: boolean }[];
  emails: string[];
  version?: string;
  mutedUntil: string | null;
}

const text = (value: unknown, fallback = ''): string => (value === undefined || value === null ? fallback : String(value));

function scopeOf(value: unknown): Scope {
  if (value !== null && typeof value === 'object' && 'kind' in value) return value as Scope;
  return { kind: 'events' };
}

/** The form's state for a rule being edited, or for a new one. */
export function draftOf(rule?: AlertRule): RuleDraft {
  const params = rule?.params ?? {};
  const channels = rule?.channels ?? [];
  return {
    name: rule?.name ?? '',
    enabled: rule?.enabled ?? true,
    type: rule?.type ?? 'threshold',
    schedule: rule?.schedule ?? DEFAULT_SCHEDULE,
    renotifyMinutes: text(rule?.renotify_minutes, '60'),
    scope: scopeOf(params.scope),
    query: text(params.query),
    windowMinutes: text(params.window_minutes, '5'),
    groupBy: text(params.group_by),
    comparator: (COMPARATORS as unknown[]).includes(params.comparator) ? (params.comparator as Comparator) : '>',
    value: text(params.value, '0'),
    absenceOf: rule?.type === 'absence' && params.system === undefined ? 'query' : 'system',
    system: text(params.system),
    durationMinutes: text(params.duration_minutes, '60'),
    field: text(params.field),
    lookbackDays: text(params.lookback_days, '30'),
    causes: Array.isArray(params.causes) ? (params.causes as RefusalCause[]) : ['refused', 'signature'],
    threshold: text(params.threshold, '10'),
    webhooks: channels.flatMap((channel) => (channel.kind === 'webhook' ? [{ url: channel.url, secret: '', secretSet: channel.secret_set === true }] : [])),
    emails: channels.flatMap((channel) => (channel.kind === 'email' ? channel.to : [])),
    version: rule?.version,
    mutedUntil: rule?.muted_until ?? null,
  };
}

/** A number as typed, or the text itself when it is not one, so MLog's answer names the field. */
function numberOf(value: string): number | string {
  const trimmed = value.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

/** The parameters of the draft's type, and only those. */
export function paramsOf(draft: RuleDraft): Record<string, unknown> {
  switch (draft.type) {
    case 'threshold':
      return {
        scope: draft.scope,
        query: draft.query,
        window_minutes: numberOf(draft.windowMinutes),
        ...(draft.groupBy.trim() === '' ? {} : { group_by: draft.groupBy.trim() }),
        comparator: draft.comparator,
        value: numberOf(draft.value),
      };
    case 'absence':
      return draft.absenceOf === 'system'
        ? { system: draft.system.trim(), duration_minutes: numberOf(draft.durationMinutes) }
        : { scope: draft.scope, query: draft.query, duration_minutes: numberOf(draft.durationMinutes) };
    case 'new-value':
      return { scope: draft.scope, query: draft.query, field: draft.field.trim(), lookback_days: numberOf(draft.lookbackDays) };
    case 'refusals':
      return {
        ...(draft.system.trim() === '' ? {} : { system: draft.system.trim() }),
        causes: draft.causes,
        window_minutes: numberOf(draft.windowMinutes),
        threshold: numberOf(draft.threshold),
      };
  }
}

/**
 * The rule MLog is sent. A webhook whose secret was left empty while editing keeps its stored secret
 * (the field is write-only); MLog decides what a missing secret means.
 */
export function ruleOf(draft: RuleDraft, managed?: AlertRule['managed']): AlertRuleInput {
  const channels: AlertChannel[] = [
    ...draft.webhooks.map((hook): AlertChannel => ({ kind: 'webhook', url: hook.url.trim(), ...(hook.secret === '' ? {} : { secret: hook.secret }) })),
    ...(draft.emails.length === 0 ? [] : [{ kind: 'email' as const, to: draft.emails }]),
  ];
  return {
    name: draft.name.trim(),
    enabled: draft.enabled,
    schedule: draft.schedule.trim() === '' ? DEFAULT_SCHEDULE : draft.schedule.trim(),
    type: draft.type,
    params: paramsOf(draft),
    channels,
    renotify_minutes: numberOf(draft.renotifyMinutes) as number,
    muted_until: draft.mutedUntil,
    ...(managed === undefined ? {} : { managed }),
    ...(draft.version === undefined ? {} : { version: draft.version }),
  };
}

/** The path an error message of MLog starts with ("params.window_minutes must be …" → "params.window_minutes"). */
export function errorPath(message: string): string | undefined {
  const match = /^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*)(?=[\s:])/.exec(message);
  return match?.[1];
}

/**
 * Whether an error at `path` belongs to the form row of `row`: the row itself or anything under it
 * ("channels[0].url" belongs to the row "channels[0].url" and to "channels").
 */
export function belongsTo(path: string | undefined, row: string): boolean {
  if (path === undefined) return false;
  return path === row || path.startsWith(`${row}.`) || path.startsWith(`${row}[`);
}

/** One line that says what a rule watches, for the rules table. */
export function describeRule(rule: AlertRule): string {
  const p = rule.params;
  const scope = describeScope(p.scope);
  const query = text(p.query) === '' ? 'every event' : `events matching ${text(p.query)}`;
  switch (rule.type) {
    case 'threshold':
      return `${query}${scope} ${text(p.comparator)} ${text(p.value)} in ${text(p.window_minutes)} min${p.group_by === undefined ? '' : ` per ${text(p.group_by)}`}`;
    case 'absence':
      return `no events of ${p.system !== undefined ? `system ${text(p.system)}` : `${query}${scope}`} for ${text(p.duration_minutes)} min`;
    case 'new-value':
      return `a ${text(p.field)} of ${query}${scope} not seen in ${text(p.lookback_days)} days`;
    case 'refusals':
      return `${Array.isArray(p.causes) ? p.causes.join(' or ') : 'refusals'} of ${p.system === undefined ? 'any system' : text(p.system)} over ${text(p.threshold)} in ${text(p.window_minutes)} min`;
  }
}

function describeScope(value: unknown): string {
  if (value === undefined) return '';
  const scope = scopeOf(value);
  if (scope.kind === 'events') return scope.systems !== undefined && scope.systems.length > 0 ? ` of ${scope.systems.join(', ')}` : '';
  return ` in ${scope.kind}`;
}

/** An instant `label` from now ("1h", "8h", "24h", "30m"), for the mute choices. */
export function instantAfter(label: string, now = Date.now()): string {
  const match = /^(\d+)([mhd])$/.exec(label);
  if (match === null) throw new Error(`"${label}" is not a duration such as 30m, 1h or 1d`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
  return new Date(now + Number(match[1]) * unit).toISOString();
}

/** Whether a rule is muted at `now`. */
export const isMuted = (rule: AlertRule, now = Date.now()): boolean => rule.muted_until !== null && Date.parse(rule.muted_until) > now;

const DAY = 86_400_000;

/**
 * Discover's address for one triggering event of a firing: its scope from the index it is stored in
 * and a query for its @id. Events are indexed by the month MLog received them, while Discover filters
 * on event_time, which a system may set well before; so the range reaches 30 days before the firing
 * and one day after it. A rejection has no id to search by: its link shows the rejections of the day
 * before the firing (they are filtered on @received).
 */
export function discoverLinkOf(event: { index: string; id: string }, firedAt: string): Record<string, string> {
  const at = Number.isFinite(Date.parse(firedAt)) ? Date.parse(firedAt) : Date.now();
  const iso = (millis: number) => new Date(millis).toISOString();
  if (event.index.startsWith('mlog_rejections-')) return { scope: 'rejections', from: iso(at - DAY), to: iso(at + 60_000) };
  const id = event.id.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const range = { query: `@id:"${id}"`, from: iso(at - 30 * DAY), to: iso(at + DAY) };
  if (event.index.startsWith('personaldata-')) return { scope: 'personal-data', ...range };
  const system = /^mlog-(.+)-\d{4}\.\d{2}$/.exec(event.index)?.[1];
  return { scope: 'events', ...(system === undefined ? {} : { systems: system }), ...range };
}
