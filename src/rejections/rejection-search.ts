import type { AuditLog } from '../audit/audit-log.js';
import { recordBeforeReading } from '../audit/record-before-reading.js';
import { ValidationError } from '../errors/mlog-error.js';
import { EVENT_TIME_SYNTAX, parseEventTime } from '../events/event-time.js';
import { DEFAULT_PAGE_SIZE, parseOptionalTimeBound, parsePagination, type Pagination } from '../events/query-parameters.js';
import { parseQueryString, singleParameter } from '../events/query-string.js';
import { STORED_IS_CODE_PATTERN } from '../systems/information-system.js';

/** Recorded in mlog_audit before refused calls are read for a person: who, and with which filters. */
export const REJECTIONS_LISTED_EVENT = 'MLog.Rejection.Listed';

/** Who reads the refused calls: "cli by <user> on <host>", or "admin-api" with the caller's address. */
export interface RejectionReaderIdentity {
  user: string;
  sourceAddress?: string;
}

/** Without `from`, the search covers the 24 hours before `to` (or before now). */
export const DEFAULT_REJECTION_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A search of the rejections index: by IS, time of refusal (@received) and status; newest first. */
export interface RejectionQuery extends Pagination {
  system?: string;
  status?: number;
  /** @received from (inclusive), epoch milliseconds. */
  fromMillis: number;
  /** @received to (exclusive), epoch milliseconds; no upper bound when absent. */
  toMillis?: number;
}

/** One refused call as the rejections index holds it (see index-templates/mlog-rejections.json). */
export interface StoredRejection {
  '@received': string;
  status: number;
  reason: string;
  is?: string;
  certificate_fingerprint?: string;
  source_address: string;
  /** Absent when the call was refused before its request line was read (a 431, unparsable HTTP). */
  method?: string;
  path?: string;
  request_id: string;
  /** True when the record was stored in a reduced form (docs/reliability.md). */
  reduced?: boolean;
  body_excerpt?: string;
  body_bytes: number;
}

export interface RejectionPage {
  total: number;
  /** Newest @received first, ties by request_id. */
  rejections: StoredRejection[];
}

/** Reads the rejections index. Sees every rejection whose write has completed; `total` is exact. */
export interface RejectionReader {
  searchRejections(query: RejectionQuery): Promise<RejectionPage>;
}

export interface RejectionAnswer {
  result: StoredRejection[];
  pagination: { 'record-count': number; page: number; 'page-size': number };
}

interface TimeBound {
  text: string;
  millis: number;
}

/** A time given on the command line (same syntax as event_time). */
export function parseTimeOption(text: string, name: string): TimeBound {
  const parsed = parseEventTime(text.trim());
  if (!parsed.ok) throw new ValidationError(`${name} "${text.slice(0, 64)}" ${parsed.reason}; give it as ${EVENT_TIME_SYNTAX}.`);
  return { text: text.trim(), millis: parsed.epochMillis };
}

/** The pieces of a rejection search, already read from the query string or the command line, checked and completed with defaults. */
export function buildRejectionQuery(
  input: { system?: string | undefined; status?: string | undefined; from?: TimeBound | undefined; to?: TimeBound | undefined } & Pagination,
  now: Date,
): RejectionQuery {
  const system = input.system?.trim();
  if (system !== undefined && system !== '' && !STORED_IS_CODE_PATTERN.test(system)) {
    throw new ValidationError(`system "${system.slice(0, 40)}" is not an IS code (lower-case letters, digits and "-", 2 to 31 characters).`);
  }
  const statusText = input.status?.trim();
  let status: number | undefined;
  if (statusText !== undefined && statusText !== '') {
    status = /^\d{3}$/.test(statusText) ? Number(statusText) : Number.NaN;
    if (!(status >= 400 && status <= 499)) {
      throw new ValidationError(`status "${statusText.slice(0, 20)}" must be an HTTP status from 400 to 499: only refused calls (4xx) are recorded.`);
    }
  }
  if (input.from !== undefined && input.to !== undefined && input.from.millis >= input.to.millis) {
    throw new ValidationError(`from (${input.from.text}) must be before to (${input.to.text}); the range includes its start and excludes its end.`);
  }
  const fromMillis = input.from?.millis ?? (input.to?.millis ?? now.getTime()) - DEFAULT_REJECTION_WINDOW_MS;
  return {
    ...(system === undefined || system === '' ? {} : { system }),
    ...(status === undefined ? {} : { status }),
    fromMillis,
    ...(input.to === undefined ? {} : { toMillis: input.to.millis }),
    page: input.page,
    pageSize: input.pageSize,
  };
}

/**
 * Parses the query string of GET /admin/rejections: system, from, to (event_time syntax, on the time
 * of refusal; default the last 24 hours), status (4xx), page and page_size (/query's rules and cap).
 */
export function parseRejectionSearch(rawQuery: string, now: Date): RejectionQuery {
  const parameters = parseQueryString(rawQuery);
  return buildRejectionQuery(
    {
      system: singleParameter(parameters, 'system')?.value,
      status: singleParameter(parameters, 'status')?.value,
      from: parseOptionalTimeBound(parameters, 'from'),
      to: parseOptionalTimeBound(parameters, 'to'),
      ...parsePagination(parameters, DEFAULT_PAGE_SIZE),
    },
    now,
  );
}

/**
 * Administrators' search of refused calls. An empty page is an answer (200), not an error. Refused
 * calls keep the first bytes of their bodies, so every search is recorded in mlog_audit before the
 * rejections are read; when it cannot be, nothing is read (StorageUnavailableError).
 */
export class RejectionSearch {
  constructor(
    private readonly reader: RejectionReader,
    private readonly audit: AuditLog,
  ) {}

  /** The page a query (from buildRejectionQuery) selects, as stored: for the command line. */
  async page(query: RejectionQuery, by: RejectionReaderIdentity): Promise<RejectionPage> {
    await this.recordListing(query, by);
    return this.reader.searchRejections(query);
  }

  async search(rawQuery: string, now: Date, by: RejectionReaderIdentity): Promise<RejectionAnswer> {
    const query = parseRejectionSearch(rawQuery, now);
    const page = await this.page(query, by);
    return { result: page.rejections, pagination: { 'record-count': page.total, page: query.page, 'page-size': query.pageSize } };
  }

  private async recordListing(query: RejectionQuery, by: RejectionReaderIdentity): Promise<void> {
    const from = new Date(query.fromMillis).toISOString();
    const to = query.toMillis === undefined ? undefined : new Date(query.toMillis).toISOString();
    await recordBeforeReading(
      this.audit,
      {
        event_type: REJECTIONS_LISTED_EVENT,
        event_message: `${by.user} listed refused calls${query.system === undefined ? '' : ` of IS ${query.system}`} from ${from} to ${to ?? 'now'}`,
        user: by.user,
        ...(by.sourceAddress === undefined ? {} : { source_address: by.sourceAddress }),
        filter_system: query.system,
        filter_status: query.status,
        time_from: from,
        time_to: to,
        // As text: the console's readings record `page` as "next", and mlog_audit maps a field by the first value it sees.
        page: String(query.page),
        page_size: String(query.pageSize),
      },
      {
        refusal: 'The listing of refused calls cannot be recorded in the audit index (mlog_audit), so no refused call is read; try again once it accepts writes.',
        // Elasticsearch not answering at all is said as such.
        unreachableAsIs: true,
      },
    );
  }
}
