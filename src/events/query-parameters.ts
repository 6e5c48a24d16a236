import { ValidationError } from '../errors/mlog-error.js';
import { EVENT_TIME_SYNTAX, parseEventTime } from './event-time.js';
import { parseFilter, type FilterPair } from './filter-parser.js';
import { checkKeywordLength } from './query-limits.js';
import { decodeQueryComponent, singleParameter, type QueryParameter } from './query-string.js';

/** Elasticsearch's window: (page + 1) × page_size may not pass it. */
export const MAX_RESULT_WINDOW = 10_000;
export const DEFAULT_PAGE_SIZE = 50;
/** A UID query answers every event of the call on one page unless asked otherwise. */
export const DEFAULT_UID_PAGE_SIZE = MAX_RESULT_WINDOW;

export const LEGAL_PARAMETERS = ['legal_entity', 'legal_basis', 'legal_reason', 'user', 'user_address'] as const;
export type LegalParameters = Partial<Record<(typeof LEGAL_PARAMETERS)[number], string>>;

export interface Pagination {
  page: number;
  pageSize: number;
}

export interface UidQuery extends Pagination {
  uid: string;
  legal: LegalParameters;
}

export interface RangeQuery extends Pagination {
  from: { text: string; millis: number };
  to: { text: string; millis: number };
  legal: LegalParameters;
  filter: FilterPair[];
}

type Parameters = Map<string, QueryParameter[]>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function legalParameters(parameters: Parameters): LegalParameters {
  const legal: LegalParameters = {};
  for (const name of LEGAL_PARAMETERS) {
    const value = singleParameter(parameters, name)?.value.trim();
    if (value === undefined || value === '') continue;
    checkKeywordLength(value, name);
    legal[name] = value;
  }
  return legal;
}

function wholeNumber(parameters: Parameters, name: string, fallback: number, minimum: number): number {
  const parameter = singleParameter(parameters, name);
  if (parameter === undefined || parameter.value.trim() === '') return fallback;
  const text = parameter.value.trim();
  if (!/^\d{1,9}$/.test(text) || Number(text) < minimum) {
    throw new ValidationError(`${name} "${text.slice(0, 40)}" must be a whole number ${minimum === 0 ? '0 or more' : `of at least ${minimum}`}.`);
  }
  return Number(text);
}

/** `advice`: what the caller can do instead of paging past the cap (by default, narrowing the search). */
export function parsePagination(parameters: Parameters, defaultPageSize: number, advice = 'Narrow the time range or the filter.'): Pagination {
  const page = wholeNumber(parameters, 'page', 0, 0);
  const pageSize = wholeNumber(parameters, 'page_size', defaultPageSize, 1);
  if ((page + 1) * pageSize > MAX_RESULT_WINDOW) {
    throw new ValidationError(
      `page ${page} with page_size ${pageSize} reaches result ${(page + 1) * pageSize}; (page + 1) × page_size may not pass ${MAX_RESULT_WINDOW}. ${advice}`,
    );
  }
  return { page, pageSize };
}

function eventTimeBound(parameters: Parameters, name: string): { text: string; millis: number } {
  const parameter = singleParameter(parameters, name);
  if (parameter === undefined || parameter.value.trim() === '') {
    throw new ValidationError(`${name} is missing; give it as ${EVENT_TIME_SYNTAX}.`);
  }
  // A "+" offset sent unencoded (as curl users do) is read as "+", not as a space: a time has no spaces.
  const text = decodeQueryComponent(parameter.raw.replace(/\+/g, '%2B'), name).trim();
  const parsed = parseEventTime(text);
  if (!parsed.ok) throw new ValidationError(`${name} "${text.slice(0, 64)}" ${parsed.reason}.`);
  return { text, millis: parsed.epochMillis };
}

export function parseUidQuery(uid: string, parameters: Parameters): UidQuery {
  if (!UUID.test(uid)) throw new ValidationError(`"${uid.slice(0, 80)}" is not a UID: MLog answers /register with a UUID such as 3f2b…-….`);
  // A call registers at most a 256 KB body, far fewer than 10,000 events: with the default page_size they are all on page 0.
  const advice = `The events of one UID all fit on page 0 with the default page_size (${DEFAULT_UID_PAGE_SIZE}).`;
  return { uid: uid.toLowerCase(), legal: legalParameters(parameters), ...parsePagination(parameters, DEFAULT_UID_PAGE_SIZE, advice) };
}

export function parseRangeQuery(parameters: Parameters): RangeQuery {
  const from = eventTimeBound(parameters, 'event_time_from');
  const to = eventTimeBound(parameters, 'event_time_to');
  if (from.millis >= to.millis) {
    throw new ValidationError(`event_time_from (${from.text}) must be before event_time_to (${to.text}); the range includes its start and excludes its end.`);
  }
  const legal = legalParameters(parameters);
  if (legal.legal_basis === undefined) throw new ValidationError('legal_basis is missing: a query by time range must state its legal basis.');
  const filterParameter = singleParameter(parameters, 'filter');
  return {
    from,
    to,
    legal,
    filter: filterParameter === undefined ? [] : parseFilter(filterParameter.raw),
    ...parsePagination(parameters, DEFAULT_PAGE_SIZE),
  };
}

/** The legal parameters of a query (legal_entity, legal_basis, legal_reason, user, user_address), trimmed; empty ones left out; each at most 32,766 bytes. */
export function parseLegalParameters(parameters: Parameters): LegalParameters {
  return legalParameters(parameters);
}

/**
 * A time bound that may be left out: undefined when the parameter is absent or empty, otherwise
 * checked exactly as /query checks event_time_from and event_time_to.
 */
export function parseOptionalTimeBound(parameters: Parameters, name: string): { text: string; millis: number } | undefined {
  const parameter = singleParameter(parameters, name);
  if (parameter === undefined || parameter.value.trim() === '') return undefined;
  return eventTimeBound(parameters, name);
}
