import { ValidationError } from '../errors/mlog-error.js';
import { EVENT_TIME_SYNTAX, parseEventTime } from '../events/event-time.js';
import {
  PERSONAL_DATA_RECOMMENDED_FIELDS,
  TYPE_SAMPLES_PER_FIELD,
  type ConformanceFacts,
  type ConformancePeriod,
  type CountedName,
  type PersonalDataRecommendedField,
} from './conformance-facts-type.js';
import type { InformationSystem } from '../systems/information-system.js';

/** The period a report covers when none is given: the last 30 days of registrations. */
export const DEFAULT_CONFORMANCE_DAYS = 30;
const DAY_MILLIS = 86_400_000;

/**
 * The codes of findings, in the order the report lists them (the three checks of the connection
 * procedure: declared events recorded; fields complete and correctly named; no needless fields;
 * then the calls MLog refused).
 */
export const FINDING_CODES = [
  'no-declared-types',
  'declared-not-seen',
  'undeclared-type',
  'non-standard-field',
  'wrong-type',
  'personaldata-missing-fields',
  'refused-calls',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export interface Finding {
  code: FindingCode;
  message: string;
  event_type?: string;
  field?: string;
  /** Events (or calls) concerned. */
  count?: number;
}

/** The JSON shape of a value as an integrator sent it. */
export type ValueShape = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';

export interface ConformanceReport {
  system: { code: string; name: string; status: string; require_signature: boolean; declared_event_types: string[] };
  /** Registration time (`@received`) of the events considered: from inclusive, to exclusive. */
  period: { from: string; to: string; field: '@received' };
  generated_at: string;
  events: { total: number; client_queries: number };
  event_types: {
    declared: { event_type: string; count: number }[];
    undeclared: { event_type: string; count: number }[];
    /** Events of further undeclared types that are not listed. */
    other_undeclared_events: number;
  };
  non_standard_fields: { field: string; count: number; example_shape: ValueShape; nested_fields: string[] }[];
  predefined_field_types: {
    expected: 'string';
    samples_per_field: number;
    /** Fields with at least one value that looks like a number or a boolean. */
    fields: { field: string; candidates: number; inspected: number; wrong: number; wrong_shapes: string[]; sampled: boolean }[];
  };
  personal_data: {
    recommended_fields: PersonalDataRecommendedField[];
    events: number;
    by_event_type: { event_type: string; count: number; missing_any: number; missing: Record<PersonalDataRecommendedField, number> }[];
  };
  signatures: { require_signature: boolean; signed: number; unsigned: number; refused: number };
  refused_calls: {
    total: number;
    by_status: { status: number; count: number }[];
    by_reason: { reason: string; count: number }[];
    other_reasons: number;
    by_path: { path: string; count: number }[];
  };
  /** True when some part of the report rests on a sample rather than on every event. */
  sampled: boolean;
  notes: string[];
  findings: Finding[];
}

/**
 * The period of a conformance report from optional `from` / `to` texts in the event_time syntax:
 * to defaults to now, from to 30 days before to. Throws ValidationError on a malformed bound or an
 * empty period.
 */
export function resolveConformancePeriod(from: string | undefined, to: string | undefined, now: Date): ConformancePeriod {
  const parse = (name: string, text: string): number => {
    const parsed = parseEventTime(text);
    if (!parsed.ok) throw new ValidationError(`${name} "${text.slice(0, 64)}" ${parsed.reason}; use ${EVENT_TIME_SYNTAX}.`);
    return parsed.epochMillis;
  };
  const toMillis = to === undefined ? now.getTime() : parse('to', to);
  const fromMillis = from === undefined ? toMillis - DEFAULT_CONFORMANCE_DAYS * DAY_MILLIS : parse('from', from);
  if (fromMillis >= toMillis) {
    throw new ValidationError(`from (${new Date(fromMillis).toISOString()}) must be before to (${new Date(toMillis).toISOString()}).`);
  }
  return { fromMillis, toMillis };
}

export function valueShape(value: unknown): ValueShape {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'object';
  }
}

/**
 * The shape of a predefined field's value when it is not a string (or an array of strings), else
 * undefined: "number", "boolean", "object", or "array of number" / "array of boolean, number".
 * Nulls are no values and never wrong.
 */
export function wrongShape(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    const shapes = [...new Set(value.map(valueShape).filter((shape) => shape !== 'string' && shape !== 'null'))].sort();
    return shapes.length === 0 ? undefined : `array of ${shapes.join(', ')}`;
  }
  const shape = valueShape(value);
  return shape === 'string' || shape === 'null' ? undefined : shape;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function byCountThenName(a: CountedName, b: CountedName): number {
  return b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * The conformance report of an IS for a period, from the gathered facts: what the administrators
 * verify before an IS leaves staging. Pure; every finding carries a code from FINDING_CODES.
 * Unsigned events are counted, not a finding: an IS that must sign is refused unsigned events anyway.
 */
export function buildConformanceReport(system: InformationSystem, period: ConformancePeriod, facts: ConformanceFacts, generatedAt: Date): ConformanceReport {
  const findings: Finding[] = [];
  const notes: string[] = [];

  if (system.event_types.length === 0) {
    findings.push({
      code: 'no-declared-types',
      message: `Information system "${system.code}" declares no event types; the connection procedure asks for the complete list of event types it will log.`,
    });
  }

  const declaredCounts = new Map(facts.declaredTypeCounts.map((entry) => [entry.name, entry.count]));
  const declared = system.event_types.map((eventType) => ({ event_type: eventType, count: declaredCounts.get(eventType) ?? 0 }));
  for (const entry of declared) {
    if (entry.count === 0) {
      findings.push({ code: 'declared-not-seen', event_type: entry.event_type, count: 0, message: `Declared event type "${entry.event_type}" was not registered in the period.` });
    }
  }

  const declaredSet = new Set(system.event_types);
  const undeclared = facts.undeclaredTypes
    .filter((entry) => entry.count > 0 && !declaredSet.has(entry.name))
    .sort(byCountThenName)
    .map((entry) => ({ event_type: entry.name, count: entry.count }));
  for (const entry of undeclared) {
    findings.push({
      code: 'undeclared-type',
      event_type: entry.event_type,
      count: entry.count,
      message: `Event type "${entry.event_type}" was registered ${plural(entry.count, 'time')} but is not declared.`,
    });
  }
  if (facts.otherUndeclaredEvents > 0) {
    findings.push({
      code: 'undeclared-type',
      count: facts.otherUndeclaredEvents,
      message: `${plural(facts.otherUndeclaredEvents, 'more event')} of further undeclared types ${facts.otherUndeclaredEvents === 1 ? 'was' : 'were'} registered (only the ${undeclared.length} most frequent types are listed).`,
    });
  }

  const nonStandard = facts.customFields
    .filter((field) => field.count > 0)
    .sort((a, b) => byCountThenName(a, b))
    .map((field) => ({ field: field.name, count: field.count, example_shape: valueShape(field.sampleValue), nested_fields: [...field.nestedFields].sort() }));
  for (const field of nonStandard) {
    findings.push({
      code: 'non-standard-field',
      field: field.field,
      count: field.count,
      message: `Field "${field.field}" is not a predefined field (${field.example_shape}); ${plural(field.count, 'event carries', 'events carry')} it. Keep it only if it is necessary.`,
    });
  }
  if (nonStandard.length > 0) notes.push('The shape of a non-standard field is that of its value in the newest event carrying it.');

  const typeFields = facts.predefinedTypes
    .filter((entry) => entry.candidates > 0)
    .map((entry) => {
      const shapes = entry.inspectedValues.map(wrongShape).filter((shape): shape is string => shape !== undefined);
      return {
        field: entry.field,
        candidates: entry.candidates,
        inspected: entry.inspectedValues.length,
        wrong: shapes.length,
        wrong_shapes: [...new Set(shapes)].sort(),
        sampled: entry.candidates > entry.inspectedValues.length,
      };
    })
    .sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
  for (const entry of typeFields) {
    if (entry.wrong === 0) continue;
    const how = entry.sampled ? `${plural(entry.wrong, 'event')} in a sample of ${entry.inspected} (of ${entry.candidates} candidates)` : plural(entry.wrong, 'event');
    findings.push({
      code: 'wrong-type',
      field: entry.field,
      count: entry.wrong,
      message: `Predefined field "${entry.field}" must be a string, but ${how} sent it as ${entry.wrong_shapes.join(' or ')}.`,
    });
  }
  const sampledFields = typeFields.filter((entry) => entry.sampled).map((entry) => entry.field);
  if (sampledFields.length > 0) {
    notes.push(
      `Value types of ${sampledFields.join(', ')} were checked on a sample: ${TYPE_SAMPLES_PER_FIELD} of the events whose value looks like a number or a boolean, newest first; the other predefined fields were checked on every such event.`,
    );
  }

  const personalData = facts.personalData
    .filter((entry) => entry.count > 0)
    .sort((a, b) => (a.eventType < b.eventType ? -1 : a.eventType > b.eventType ? 1 : 0))
    .map((entry) => ({ event_type: entry.eventType, count: entry.count, missing_any: entry.missingAny, missing: { ...entry.missing } }));
  for (const entry of personalData) {
    if (entry.missing_any === 0) continue;
    const lacking = PERSONAL_DATA_RECOMMENDED_FIELDS.filter((field) => entry.missing[field] > 0).map((field) => `${field} (${entry.missing[field]})`);
    findings.push({
      code: 'personaldata-missing-fields',
      event_type: entry.event_type,
      count: entry.missing_any,
      message: `${entry.missing_any} of ${plural(entry.count, `"${entry.event_type}" event`)} ${entry.missing_any === 1 ? 'lacks' : 'lack'} fields a PersonalData event should carry: ${lacking.join(', ')}.`,
    });
  }

  const refusals = facts.refusals;
  const refusedSignatures = refusals.byStatus.find((entry) => entry.status === 401)?.count ?? 0;
  if (refusals.total > 0) {
    const statuses = [...refusals.byStatus].sort((a, b) => a.status - b.status).map((entry) => `${entry.status}: ${entry.count}`);
    findings.push({
      code: 'refused-calls',
      count: refusals.total,
      message: `MLog refused ${plural(refusals.total, 'call')} of the IS in the period (${statuses.join(', ')}); see refused_calls for the reasons.`,
    });
  }

  return {
    system: {
      code: system.code,
      name: system.name,
      status: system.status,
      require_signature: system.require_signature,
      declared_event_types: [...system.event_types],
    },
    period: { from: new Date(period.fromMillis).toISOString(), to: new Date(period.toMillis).toISOString(), field: '@received' },
    generated_at: generatedAt.toISOString(),
    events: { total: facts.totalEvents, client_queries: facts.clientQueries },
    event_types: { declared, undeclared, other_undeclared_events: facts.otherUndeclaredEvents },
    non_standard_fields: nonStandard,
    predefined_field_types: { expected: 'string', samples_per_field: TYPE_SAMPLES_PER_FIELD, fields: typeFields },
    personal_data: {
      recommended_fields: [...PERSONAL_DATA_RECOMMENDED_FIELDS],
      events: personalData.reduce((sum, entry) => sum + entry.count, 0),
      by_event_type: personalData,
    },
    signatures: { require_signature: system.require_signature, signed: facts.signatures.signed, unsigned: facts.signatures.unsigned, refused: refusedSignatures },
    refused_calls: {
      total: refusals.total,
      by_status: [...refusals.byStatus].sort((a, b) => a.status - b.status),
      by_reason: [...refusals.byReason].sort(byCountThenName).map((entry) => ({ reason: entry.name, count: entry.count })),
      other_reasons: refusals.otherReasons,
      by_path: [...refusals.byPath].sort(byCountThenName).map((entry) => ({ path: entry.name, count: entry.count })),
    },
    sampled: sampledFields.length > 0,
    notes,
    findings,
  };
}
