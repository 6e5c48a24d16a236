import { PREDEFINED_FIELDS, type PredefinedField } from '../events/predefined-fields.js';

/**
 * What a conformance report is built from: the facts gathered from storage about one IS's events and
 * refused calls in a period. The gathering (Elasticsearch queries) and the judging
 * (conformance-report.ts, pure) are kept apart so the judging can be tested exhaustively.
 */

/** A period of registration time (`@received`): from inclusive, to exclusive, epoch milliseconds. */
export interface ConformancePeriod {
  fromMillis: number;
  toMillis: number;
}

/** Fields an event of a kind should carry; today the only kind the seeds define is PersonalData. */
export const PERSONAL_DATA_RECOMMENDED_FIELDS = ['subject', 'legal_basis', 'user'] as const;
export type PersonalDataRecommendedField = (typeof PERSONAL_DATA_RECOMMENDED_FIELDS)[number];

/**
 * Predefined fields whose values are checked for their JSON type. The seeds define every predefined
 * field as a string; event_time and event_type are already refused at registration unless they are
 * strings, and event_details is stored unindexed whatever its type (the contract allows that).
 */
export const TYPE_CHECKED_PREDEFINED_FIELDS: readonly PredefinedField[] = PREDEFINED_FIELDS.filter(
  (field) => field !== 'event_time' && field !== 'event_type' && field !== 'event_details',
);

/** How many documents are inspected per predefined field when checking value types. */
export const TYPE_SAMPLES_PER_FIELD = 100;

/** How many undeclared event types and refusal reasons are listed (the rest is counted). */
export const UNDECLARED_TYPES_LISTED = 200;
export const REFUSAL_REASONS_LISTED = 20;

/** The statuses of calls refused because of what the IS sent or how (not 404 "no data", not 429). */
export const REFUSAL_STATUSES = [400, 401, 403, 413, 415] as const;

export interface CountedName {
  name: string;
  count: number;
}

/** A field outside the predefined list (top-level name), as found in the IS's index mappings. */
export interface CustomFieldFacts {
  name: string;
  /** Events of the period that carry it. */
  count: number;
  /** The value of one such event (the newest); never copied into the report, only its shape. */
  sampleValue: unknown;
  /** Dotted names of the leaves under it, when it holds nested fields. */
  nestedFields: string[];
}

/**
 * A predefined field's value-type check. Candidates are the events whose indexed value looks like a
 * number or a boolean (as a keyword, 12 and "12" are the same term, so the index alone cannot tell);
 * up to TYPE_SAMPLES_PER_FIELD of them are read from `_source`. When every candidate is inspected the
 * check is exact; otherwise it is a sample.
 */
export interface PredefinedTypeFacts {
  field: string;
  candidates: number;
  /** The field's value in each inspected candidate, as sent. */
  inspectedValues: unknown[];
}

export interface PersonalDataTypeFacts {
  eventType: string;
  count: number;
  /** Events lacking at least one recommended field. */
  missingAny: number;
  /** Events lacking the field (absent, null or the empty string). */
  missing: Record<PersonalDataRecommendedField, number>;
}

export interface RefusalFacts {
  total: number;
  byStatus: { status: number; count: number }[];
  /** Top REFUSAL_REASONS_LISTED reasons; a reason over 1,024 characters is counted under "(reason too long to group)". */
  byReason: CountedName[];
  /** Refusals whose reason is not among those listed. */
  otherReasons: number;
  byPath: CountedName[];
}

/** Everything gathered for one IS and period. Events exclude MLog's own MLog.ClientQuery records unless said. */
export interface ConformanceFacts {
  totalEvents: number;
  /** MLog.ClientQuery records MLog wrote for the IS's queries in the period. */
  clientQueries: number;
  /** Each declared event type with its count (MLog.ClientQuery included if it is declared). */
  declaredTypeCounts: CountedName[];
  /** Event types seen but not declared, most frequent first (at most UNDECLARED_TYPES_LISTED). */
  undeclaredTypes: CountedName[];
  /** Events of further undeclared types, not listed. */
  otherUndeclaredEvents: number;
  customFields: CustomFieldFacts[];
  predefinedTypes: PredefinedTypeFacts[];
  personalData: PersonalDataTypeFacts[];
  signatures: { signed: number; unsigned: number };
  refusals: RefusalFacts;
}

export interface ConformanceFactsQuery {
  code: string;
  declaredTypes: string[];
  period: ConformancePeriod;
}

/** Where the facts come from. gather() sees every event registered before it was called. */
export interface ConformanceFactsSource {
  gather(query: ConformanceFactsQuery): Promise<ConformanceFacts>;
}
