import { ValidationError } from '../errors/mlog-error.js';
import {
  DEFAULT_PAGE_SIZE,
  parseLegalParameters,
  parseOptionalTimeBound,
  parsePagination,
  type LegalParameters,
  type Pagination,
} from './query-parameters.js';
import { checkKeywordLength } from './query-limits.js';
import { singleParameter, type QueryParameter } from './query-string.js';

/** A time bound as the client wrote it (for the ClientQuery record) and in epoch milliseconds. */
export interface TimeBound {
  text: string;
  millis: number;
}

/** GET /personal-data: the projections about one subject, from every IS. */
export interface PersonalDataQuery extends Pagination {
  /** Matched exactly as the IS registered it (case and inner spaces count). */
  subject: string;
  /** event_time from (inclusive); no lower bound when absent. */
  from?: TimeBound;
  /** event_time to (exclusive); no upper bound when absent. */
  to?: TimeBound;
  legal: LegalParameters;
}

/**
 * Parses the query string of GET /personal-data. `subject` and `legal_basis` are required; the time
 * bounds are optional (the contract does not require them) but, when given, are checked as /query
 * checks them; page and page_size follow /query's rules and 10,000 cap. A `filter` is refused rather
 * than silently ignored: the answer is every projection about the subject.
 */
export function parsePersonalDataQuery(parameters: Map<string, QueryParameter[]>): PersonalDataQuery {
  const subject = singleParameter(parameters, 'subject')?.value;
  if (subject === undefined || subject.trim() === '') {
    throw new ValidationError('subject is missing: name the person or organisation whose data was accessed (for example an IDNP).');
  }
  checkKeywordLength(subject, 'subject');
  const legal = parseLegalParameters(parameters);
  if (legal.legal_basis === undefined) throw new ValidationError('legal_basis is missing: a query of personal data must state its legal basis.');
  if (parameters.has('filter')) {
    throw new ValidationError('GET /personal-data takes no filter; it answers every PersonalData projection about the subject in the time range.');
  }
  const from = parseOptionalTimeBound(parameters, 'event_time_from');
  const to = parseOptionalTimeBound(parameters, 'event_time_to');
  if (from !== undefined && to !== undefined && from.millis >= to.millis) {
    throw new ValidationError(`event_time_from (${from.text}) must be before event_time_to (${to.text}); the range includes its start and excludes its end.`);
  }
  return {
    subject,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    legal,
    ...parsePagination(parameters, DEFAULT_PAGE_SIZE),
  };
}
