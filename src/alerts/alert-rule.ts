/**
 * Alert rules (docs/alerts.md): what a rule is, its defaults, and the reading of a rule sent by an
 * administrator. Every refusal is a ValidationError naming the path of the value at fault
 * ("params.window_minutes must be …"); a query that does not parse is a QuerySyntaxError with its
 * column and "params.query" in the message.
 */
import { randomBytes } from 'node:crypto';
import cron from 'node-cron';
import { QuerySyntaxError, ValidationError } from '../errors/mlog-error.js';
import { parseEventTime } from '../events/event-time.js';
import type { ConsoleScope } from '../search/console-search-store-type.js';
import { parseQuery } from '../search/query-language.js';
import { STORED_IS_CODE_PATTERN } from '../systems/information-system.js';
import type { AlertChannel } from './alert-notifier-type.js';

export const ALERT_RULE_TYPES = ['threshold', 'absence', 'new-value', 'refusals'] as const;
export type AlertRuleType = (typeof ALERT_RULE_TYPES)[number];
export const COMPARATORS = ['>', '>=', '<', '<='] as const;
export type Comparator = (typeof COMPARATORS)[number];
export const REFUSAL_CAUSES = ['refused', 'signature'] as const;
export type RefusalCause = (typeof REFUSAL_CAUSES)[number];

export const DEFAULT_SCHEDULE = '* * * * *';
export const DEFAULT_RENOTIFY_MINUTES = 60;
/** The "stopped reporting" rule every active system has. */
export const DEFAULT_ABSENCE_MINUTES = 60;
export const MAX_WINDOW_MINUTES = 7 * 24 * 60;
export const MAX_LOOKBACK_DAYS = 365;
export const MAX_CHANNELS = 10;
export const MAX_EMAIL_RECIPIENTS = 20;
export const MAX_NAME_LENGTH = 200;
export const MAX_RENOTIFY_MINUTES = 7 * 24 * 60;
export const MAX_QUERY_TEXT = 8_192;
export const MAX_RULES = 1_000;
/** Group values (per value of group_by, new values) kept and reported per evaluation. */
export const MAX_GROUPS = 500;

export interface ThresholdParams {
  scope: ConsoleScope;
  query: string;
  window_minutes: number;
  group_by?: string;
  comparator: Comparator;
  value: number;
}
export type AbsenceParams = { system: string; duration_minutes: number } | { scope: ConsoleScope; query: string; duration_minutes: number };
export interface NewValueParams {
  scope: ConsoleScope;
  query: string;
  field: string;
  lookback_days: number;
}
export interface RefusalsParams {
  system?: string;
  causes: RefusalCause[];
  window_minutes: number;
  threshold: number;
}

export type RuleDefinition =
  | { type: 'threshold'; params: ThresholdParams }
  | { type: 'absence'; params: AbsenceParams }
  | { type: 'new-value'; params: NewValueParams }
  | { type: 'refusals'; params: RefusalsParams };

/** A rule as stored (secrets included). */
export type AlertRule = RuleDefinition & {
  id: string;
  name: string;
  enabled: boolean;
  schedule: string;
  channels: AlertChannel[];
  renotify_minutes: number;
  muted_until: string | null;
  /** Only on the default "stopped reporting" rules, one per active system. */
  managed?: { by: 'system'; system: string };
  created_at: string;
  created_by: string;
  updated_at: string;
};

/** What an answer says of a rule's evaluation. */
export interface RuleStateSummary {
  active_groups: number;
  last_evaluated_to: string | null;
  last_fired_at: string | null;
}

/** A channel as answered: a webhook's secret is never given back. */
export type ChannelView = { kind: 'webhook'; url: string; secret_set: boolean } | { kind: 'email'; to: string[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quoted(value: unknown): string {
  return (JSON.stringify(value) ?? String(value)).slice(0, 60);
}

function onlyKeys(value: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ValidationError(`${path === '' ? '' : `${path}.`}${key} is not a field of ${path === '' ? 'a rule' : path}; the fields are ${allowed.join(', ')}.`);
  }
}

function wholeNumber(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${path} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

function text(value: unknown, path: string, max: number, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.trim() === '') || value.length > max) {
    throw new ValidationError(`${path} must be ${allowEmpty ? '' : 'non-empty '}text of at most ${max} characters.`);
  }
  return value;
}

function systemCode(value: unknown, path: string): string {
  if (typeof value !== 'string' || !STORED_IS_CODE_PATTERN.test(value)) {
    throw new ValidationError(`${path} must be an IS code (lower-case letters, digits and "-", 2 to 31 characters), not ${quoted(value)}.`);
  }
  return value;
}

function fieldName(value: unknown, path: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_@][A-Za-z0-9_@.-]{0,127}$/.test(value)) {
    throw new ValidationError(`${path} must be a field name (letters, digits, "_", "@", "." and "-", at most 128 characters), not ${quoted(value)}.`);
  }
  return value;
}

/** Reads a rule's scope, as the console's: {"kind":"events","systems":[…]}, personal-data, rejections or audit. */
export function readScope(value: unknown, path: string): ConsoleScope {
  if (value === undefined) return { kind: 'events', systems: [] };
  if (!isRecord(value)) throw new ValidationError(`${path} must be an object such as {"kind":"events","systems":["mpass"]}.`);
  switch (value.kind) {
    case 'events': {
      onlyKeys(value, path, ['kind', 'systems']);
      const systems = value.systems ?? [];
      if (!Array.isArray(systems) || systems.length > 100) throw new ValidationError(`${path}.systems must be a list of at most 100 IS codes (empty for every system).`);
      return { kind: 'events', systems: [...new Set(systems.map((code, index) => systemCode(code, `${path}.systems[${index}]`)))] };
    }
    case 'personal-data':
    case 'rejections':
    case 'audit':
      onlyKeys(value, path, ['kind']);
      return { kind: value.kind };
    default:
      throw new ValidationError(`${path}.kind must be "events", "personal-data", "rejections" or "audit", not ${quoted(value.kind ?? null)}.`);
  }
}

/** Reads a query of the console's language; a query that does not parse is refused with its column, naming `path`. */
export function readQuery(value: unknown, path: string): string {
  if (value === undefined || value === null) return '';
  const query = text(value, path, MAX_QUERY_TEXT, true);
  try {
    parseQuery(query);
  } catch (error) {
    if (error instanceof QuerySyntaxError) {
      throw new QuerySyntaxError(`${path}: ${error.message}`, { column: error.column, expected: error.expected, ...(error.suggestions === undefined ? {} : { suggestions: error.suggestions }) });
    }
    throw error;
  }
  return query;
}

function readParams(type: AlertRuleType, value: unknown): RuleDefinition {
  if (!isRecord(value)) throw new ValidationError('params must be an object; see docs/alerts.md for the parameters of each rule type.');
  switch (type) {
    case 'threshold': {
      onlyKeys(value, 'params', ['scope', 'query', 'window_minutes', 'group_by', 'comparator', 'value']);
      if (!(COMPARATORS as readonly unknown[]).includes(value.comparator ?? '>')) throw new ValidationError(`params.comparator must be one of ${COMPARATORS.map((c) => `"${c}"`).join(', ')}.`);
      return {
        type,
        params: {
          scope: readScope(value.scope, 'params.scope'),
          query: readQuery(value.query, 'params.query'),
          window_minutes: wholeNumber(value.window_minutes ?? 5, 'params.window_minutes', 1, MAX_WINDOW_MINUTES),
          ...(value.group_by === undefined || value.group_by === null || value.group_by === '' ? {} : { group_by: fieldName(value.group_by, 'params.group_by') }),
          comparator: (value.comparator ?? '>') as Comparator,
          value: wholeNumber(value.value, 'params.value', 0, 1_000_000_000),
        },
      };
    }
    case 'absence': {
      const duration_minutes = wholeNumber(value.duration_minutes ?? DEFAULT_ABSENCE_MINUTES, 'params.duration_minutes', 1, MAX_WINDOW_MINUTES);
      if (value.system !== undefined) {
        onlyKeys(value, 'params', ['system', 'duration_minutes']);
        return { type, params: { system: systemCode(value.system, 'params.system'), duration_minutes } };
      }
      onlyKeys(value, 'params', ['scope', 'query', 'duration_minutes']);
      if (value.scope === undefined && value.query === undefined) throw new ValidationError('params must name a "system", or a "scope" and a "query", whose events are awaited.');
      return { type, params: { scope: readScope(value.scope, 'params.scope'), query: readQuery(value.query, 'params.query'), duration_minutes } };
    }
    case 'new-value':
      onlyKeys(value, 'params', ['scope', 'query', 'field', 'lookback_days']);
      return {
        type,
        params: {
          scope: readScope(value.scope, 'params.scope'),
          query: readQuery(value.query, 'params.query'),
          field: fieldName(value.field, 'params.field'),
          lookback_days: wholeNumber(value.lookback_days ?? 30, 'params.lookback_days', 1, MAX_LOOKBACK_DAYS),
        },
      };
    case 'refusals': {
      onlyKeys(value, 'params', ['system', 'causes', 'window_minutes', 'threshold']);
      const causes = value.causes ?? [...REFUSAL_CAUSES];
      if (!Array.isArray(causes) || causes.length === 0 || causes.some((cause) => !(REFUSAL_CAUSES as readonly unknown[]).includes(cause))) {
        throw new ValidationError('params.causes must be a non-empty list of "refused" and "signature".');
      }
      return {
        type,
        params: {
          ...(value.system === undefined || value.system === null ? {} : { system: systemCode(value.system, 'params.system') }),
          causes: [...new Set(causes as RefusalCause[])],
          window_minutes: wholeNumber(value.window_minutes ?? 5, 'params.window_minutes', 1, MAX_WINDOW_MINUTES),
          threshold: wholeNumber(value.threshold, 'params.threshold', 0, 1_000_000_000),
        },
      };
    }
  }
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** Reads the channels; a webhook without "secret" keeps the secret of the same URL in `previous` (an edit need not send it again). */
export function readChannels(value: unknown, previous: readonly AlertChannel[] = []): AlertChannel[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_CHANNELS) throw new ValidationError(`channels must be a list of at most ${MAX_CHANNELS} channels.`);
  return value.map((channel, index): AlertChannel => {
    const path = `channels[${index}]`;
    if (!isRecord(channel)) throw new ValidationError(`${path} must be an object: {"kind":"webhook","url","secret"} or {"kind":"email","to":[…]}.`);
    if (channel.kind === 'webhook') {
      onlyKeys(channel, path, ['kind', 'url', 'secret', 'secret_set']);
      const url = text(channel.url, `${path}.url`, 2_048);
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new ValidationError(`${path}.url must be an http or https URL.`);
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ValidationError(`${path}.url must be an http or https URL.`);
      const kept = previous.find((old): old is Extract<AlertChannel, { kind: 'webhook' }> => old.kind === 'webhook' && old.url === url);
      const secret = channel.secret === undefined ? kept?.secret : text(channel.secret, `${path}.secret`, 1_024);
      if (secret === undefined || secret.length < 16) throw new ValidationError(`${path}.secret must be text of 16 to 1024 characters (the key of the X-MLog-Signature HMAC).`);
      return { kind: 'webhook', url, secret };
    }
    if (channel.kind === 'email') {
      onlyKeys(channel, path, ['kind', 'to']);
      const to = channel.to;
      if (!Array.isArray(to) || to.length === 0 || to.length > MAX_EMAIL_RECIPIENTS) throw new ValidationError(`${path}.to must be a list of 1 to ${MAX_EMAIL_RECIPIENTS} e-mail addresses.`);
      return {
        kind: 'email',
        to: to.map((address, at) => {
          if (typeof address !== 'string' || !EMAIL.test(address)) throw new ValidationError(`${path}.to[${at}] must be an e-mail address, not ${quoted(address)}.`);
          return address;
        }),
      };
    }
    throw new ValidationError(`${path}.kind must be "webhook" or "email", not ${quoted(channel.kind ?? null)}.`);
  });
}

/** Reads an ISO instant (or null) for muted_until. */
export function readInstant(value: unknown, path: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new ValidationError(`${path} must be an ISO instant such as 2026-01-31T12:00:00Z, or null.`);
  const parsed = parseEventTime(value.trim());
  if (!parsed.ok) throw new ValidationError(`${path} "${value.slice(0, 64)}" ${parsed.reason}; write it as an ISO instant such as 2026-01-31T12:00:00Z.`);
  return new Date(parsed.epochMillis).toISOString();
}

export function readSchedule(value: unknown): string {
  if (value === undefined || value === null) return DEFAULT_SCHEDULE;
  if (typeof value !== 'string' || value.length > 100 || !cron.validate(value)) {
    throw new ValidationError(`schedule must be a cron expression of 5 fields (or 6, with seconds first) such as "${DEFAULT_SCHEDULE}" (every minute), not ${quoted(value)}.`);
  }
  return value.trim();
}

/** What an administrator sends to create or replace a rule, read and checked. `previous` is the rule being replaced. */
export type RuleInput = Omit<AlertRule, 'id' | 'created_at' | 'created_by' | 'updated_at' | 'managed'> & { id?: string };

const RULE_FIELDS = ['id', 'name', 'enabled', 'schedule', 'type', 'params', 'channels', 'renotify_minutes', 'muted_until', 'version', 'managed', 'state', 'created_at', 'created_by', 'updated_at'];

/** Reads a rule sent to POST (no `previous`) or PUT /alert-rules. Fields of answers only (state, created_at…) are ignored. */
export function parseRuleInput(body: unknown, previous?: AlertRule): RuleInput {
  if (!isRecord(body)) throw new ValidationError('The body must be a JSON object: a rule with "name", "type", "params" and "channels" (docs/alerts.md).');
  onlyKeys(body, '', RULE_FIELDS);
  const type = body.type ?? previous?.type;
  if (!(ALERT_RULE_TYPES as readonly unknown[]).includes(type)) throw new ValidationError(`type must be one of ${ALERT_RULE_TYPES.map((t) => `"${t}"`).join(', ')}, not ${quoted(type ?? null)}.`);
  if (previous !== undefined && type !== previous.type) throw new ValidationError(`type cannot be changed (the rule is a "${previous.type}" rule); create a new rule instead.`);
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean') throw new ValidationError('enabled must be true or false.');
  const definition = readParams(type as AlertRuleType, body.params ?? previous?.params);
  let id: string | undefined;
  if (previous === undefined && body.id !== undefined) {
    if (typeof body.id !== 'string' || !/^[a-z0-9-]{1,64}$/.test(body.id)) throw new ValidationError('id must be 1 to 64 lower-case letters, digits and "-".');
    id = body.id;
  }
  return {
    ...(id === undefined ? {} : { id }),
    name: text(body.name ?? previous?.name, 'name', MAX_NAME_LENGTH),
    enabled: (body.enabled as boolean | undefined) ?? previous?.enabled ?? true,
    schedule: readSchedule(body.schedule ?? previous?.schedule),
    ...definition,
    channels: readChannels(body.channels ?? previous?.channels, previous?.channels),
    renotify_minutes: wholeNumber(body.renotify_minutes ?? previous?.renotify_minutes ?? DEFAULT_RENOTIFY_MINUTES, 'renotify_minutes', 0, MAX_RENOTIFY_MINUTES),
    muted_until: body.muted_until === undefined ? (previous?.muted_until ?? null) : readInstant(body.muted_until, 'muted_until'),
  } as RuleInput;
}

/** A rule id made from its name: lower-case words joined by "-", with a random tail so two rules of one name differ. */
export function ruleIdFrom(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  const tail = randomBytes(4).toString('hex');
  return slug === '' ? `rule-${tail}` : `${slug}-${tail}`;
}

/** The id of the default "stopped reporting" rule of a system. */
export function managedRuleId(system: string): string {
  return `stopped-reporting-${system}`;
}

/** The default "stopped reporting" rule of an active system, as first created. */
export function defaultAbsenceRule(system: { code: string; name: string }, now: Date): AlertRule {
  const at = now.toISOString();
  return {
    id: managedRuleId(system.code),
    name: `${system.name} (${system.code}) stopped reporting`,
    enabled: true,
    schedule: DEFAULT_SCHEDULE,
    type: 'absence',
    params: { system: system.code, duration_minutes: DEFAULT_ABSENCE_MINUTES },
    channels: [],
    renotify_minutes: DEFAULT_RENOTIFY_MINUTES,
    muted_until: null,
    managed: { by: 'system', system: system.code },
    created_at: at,
    created_by: 'mlog',
    updated_at: at,
  };
}

/** The channels as an answer gives them: a webhook's secret replaced by "secret_set". */
export function describeChannels(channels: readonly AlertChannel[]): ChannelView[] {
  return channels.map((channel) => (channel.kind === 'webhook' ? { kind: 'webhook', url: channel.url, secret_set: channel.secret !== '' } : { kind: 'email', to: [...channel.to] }));
}

/** True while the rule is muted at `now`. */
export function isMuted(rule: Pick<AlertRule, 'muted_until'>, now: Date): boolean {
  return rule.muted_until !== null && Date.parse(rule.muted_until) > now.getTime();
}
