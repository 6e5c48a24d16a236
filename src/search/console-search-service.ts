import { createHash } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { mayDo, type ConsoleAction, type ConsoleActor, type Purpose } from '../admins/administrator.js';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import { recordBeforeReading } from '../audit/record-before-reading.js';
import { verifyCompactJws } from '../auth/jws-verifier.js';
import { ForbiddenError, MLogError, NotFoundError, PreconditionRequiredError, ValidationError } from '../errors/mlog-error.js';
import { EVENT_TIME_SYNTAX, parseEventTime } from '../events/event-time.js';
import type { Logger } from '../logging/logger.js';
import type { KnownSystem } from '../systems/system-registry.js';
import { STORED_IS_CODE_PATTERN } from '../systems/information-system.js';
import type { ConsoleHit, ConsoleScope, ConsoleSearchStore, CorrelationField, FieldDescription, FieldTop, TimeRange } from './console-search-store-type.js';
import { parseQuery, type QueryNode } from './query-language.js';
import type { DocumentEvidence, DocumentEvidenceSource } from './document-evidence-type.js';

/** The event type of every reading of the record made in the console. */
export const ADMIN_QUERY_EVENT_TYPE = 'MLog.Admin.Query';

/** The audit records the console's audit trail shows: what people did (see auditTrail). */
const PEOPLE_RECORDS: QueryNode = {
  kind: 'or',
  children: [
    { kind: 'prefix', field: 'event_type', value: 'MLog.Admin.', column: 1 },
    { kind: 'prefix', field: 'event_type', value: 'MLog.Evidence.Verify', column: 1 },
    { kind: 'match', field: 'event_type', value: 'MLog.Rejection.Listed', phrase: false, column: 1 },
  ],
};
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
/**
 * The longest cursor (`after`) a search takes, in characters. A cursor carries Elasticsearch's
 * point-in-time id, which grows with the shards in scope (about 150 characters each): a search over
 * every system of a registrar with hundreds of monthly indices makes one of tens of kilobytes. The
 * administration listener's 1 MB body limit bounds it anyway.
 */
const MAX_CURSOR_CHARACTERS = 512 * 1024;
export const DEFAULT_SURROUNDING = 5;
export const MAX_SURROUNDING = 50;
/** A correlation timeline shows at most this many steps. */
export const MAX_CORRELATION_STEPS = 1_000;
/** Rows read from storage per page of an export. */
export const EXPORT_PAGE_SIZE = 2_000;
/** Field tops are given for at most this many fields in one search. */
export const MAX_TOP_FIELDS = 50;
const MAX_SYSTEMS_IN_SCOPE = 100;
const MAX_VALUE_LENGTH = 1_024;
const DEFAULT_RANGE_MS = 24 * 60 * 60 * 1000;

/** The information systems as the registry knows them now (a deleted one is undefined). */
export interface SystemDirectory {
  findByCode(code: string): Promise<KnownSystem | undefined>;
}

export interface HitView extends ConsoleHit {
  systemName?: string;
}

export interface SearchAnswer {
  total: number;
  hits: HitView[];
  cursor?: string;
  histogram?: { interval: string; buckets: { key: number; count: number }[] };
  fields?: FieldTop[];
}

export type SignatureStatus = 'valid' | 'invalid' | 'unsigned' | 'certificate-not-registered';

export interface DocumentAnswer {
  hit: HitView;
  signature: { status: SignatureStatus; kid?: string; alg?: string };
  jws?: string;
  /** Its @hash, log position, what its receipt promised, and whether its inclusion proof verifies now. */
  evidence: DocumentEvidence;
}

export interface ExportFile {
  contentType: string;
  filename: string;
  /** The file, chunk by chunk; the last chunk is the line that states the query, scope, range, row count and SHA-256. */
  body: AsyncIterable<string>;
}

type Action = 'search' | 'fields' | 'document' | 'surrounding' | 'correlation' | 'export' | 'audit-trail';

/** What each reading is, in words, for the audit record's event_message: done, and refused. */
const READING_WORDS: Record<Action, { done: string; refused: string }> = {
  search: { done: 'searched the record', refused: 'searching the record' },
  fields: { done: 'listed the fields of the record', refused: 'listing the fields of the record' },
  document: { done: 'opened a document', refused: 'opening a document' },
  surrounding: { done: 'read the events around a document', refused: 'reading the events around a document' },
  correlation: { done: 'followed a correlation across systems', refused: 'following a correlation across systems' },
  export: { done: 'exported search results', refused: 'exporting search results' },
  'audit-trail': { done: 'read the audit trail', refused: 'reading the audit trail' },
};

interface Reading {
  action: Action;
  scope?: ConsoleScope;
  query?: string;
  range?: TimeRange;
  details?: Record<string, string | number | boolean | string[] | undefined>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the `scope` of a console call: an object, or its JSON text in a query string. */
export function parseScope(value: unknown): ConsoleScope {
  let scope = value;
  if (typeof scope === 'string') {
    try {
      scope = JSON.parse(scope);
    } catch {
      throw new ValidationError('scope is not JSON; give it as {"kind":"events","systems":[…]}, {"kind":"personal-data"}, {"kind":"rejections"} or {"kind":"audit"}.');
    }
  }
  if (scope === undefined) return { kind: 'events', systems: [] };
  if (!isRecord(scope)) throw new ValidationError('scope must be an object such as {"kind":"events","systems":["mpass"]}.');
  switch (scope.kind) {
    case 'events': {
      const systems = scope.systems ?? [];
      if (!Array.isArray(systems) || systems.length > MAX_SYSTEMS_IN_SCOPE) {
        throw new ValidationError(`scope.systems must be a list of at most ${MAX_SYSTEMS_IN_SCOPE} IS codes (empty for every system).`);
      }
      for (const code of systems) {
        if (typeof code !== 'string' || !STORED_IS_CODE_PATTERN.test(code)) {
          throw new ValidationError(`scope.systems holds ${JSON.stringify(code).slice(0, 40)}, which is not an IS code (lower-case letters, digits and "-", 2 to 31 characters).`);
        }
      }
      return { kind: 'events', systems: [...new Set(systems as string[])] };
    }
    case 'personal-data':
    case 'rejections':
    case 'audit':
      return { kind: scope.kind };
    default:
      throw new ValidationError(`scope.kind must be "events", "personal-data", "rejections" or "audit", not ${JSON.stringify(scope.kind ?? null).slice(0, 40)}.`);
  }
}

function instant(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ValidationError(`${name} must be an instant written as ${EVENT_TIME_SYNTAX}.`);
  const parsed = parseEventTime(value.trim());
  if (!parsed.ok) throw new ValidationError(`${name} "${value.slice(0, 64)}" ${parsed.reason}; write it as ${EVENT_TIME_SYNTAX}.`);
  return parsed.epochMillis;
}

/** from (inclusive) and to (exclusive); without `to`, now; without `from`, 24 hours before `to`. */
export function parseTimeRange(from: unknown, to: unknown, now: Date): TimeRange {
  const toMillis = instant(to, 'to') ?? now.getTime();
  const fromMillis = instant(from, 'from') ?? toMillis - DEFAULT_RANGE_MS;
  if (fromMillis >= toMillis) throw new ValidationError(`from must be before to; the range includes its start and excludes its end.`);
  return { fromMillis, toMillis };
}

function integer(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const number = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > max) {
    throw new ValidationError(`${name} must be a whole number from 1 to ${max}.`);
  }
  return number;
}

function text(value: unknown, name: string, max: number): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new ValidationError(`${name} must be text.`);
  if (value.length > max) throw new ValidationError(`${name} is ${value.length} characters long; the limit is ${max}.`);
  return value;
}

function columnsOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > 100 || value.some((column) => typeof column !== 'string' || column === '' || column.length > 256)) {
    throw new ValidationError('columns must be a list of 1 to 100 field names.');
  }
  return value as string[];
}

/** The time field each scope is ordered and ranged on. */
function timeFieldOf(scope: ConsoleScope): string {
  return scope.kind === 'rejections' ? '@received' : 'event_time';
}

const DEFAULT_COLUMNS: Record<ConsoleScope['kind'], string[]> = {
  events: ['event_time', '@is', 'event_type', 'event_id', 'event_correlation', 'user', 'subject', 'object', 'event_message'],
  'personal-data': ['event_time', '@is', 'event_type', 'event_correlation', 'user', 'subject', 'object', 'legal_basis'],
  rejections: ['@received', 'status', 'is', 'method', 'path', 'reason'],
  audit: ['event_time', 'event_type', 'user', 'event_message'],
};

/** The value of a column of a stored document: a top-level field, or a dotted path into its objects. */
export function columnValue(source: Record<string, unknown>, column: string): unknown {
  if (column in source) return source[column];
  let value: unknown = source;
  for (const part of column.split('.')) {
    if (!isRecord(value)) return undefined;
    value = value[part];
  }
  return value;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const AGGREGATABLE_TYPES = new Set(['keyword', 'boolean', 'long', 'integer', 'short', 'byte', 'double', 'float']);

/**
 * The console's reading of the record: search, fields, document view with its signature re-verified,
 * surrounding events, correlation across systems, export, and the audit trail. Promises: every
 * reading is refused unless the actor's role allows it (403, recorded) and a purpose is stated
 * (428); every answered reading is recorded in the audit as MLog.Admin.Query before its answer is
 * given, and when it cannot be recorded no result is given (503).
 */
export class ConsoleSearchService {
  constructor(
    private readonly store: ConsoleSearchStore,
    private readonly audit: AuditLog,
    private readonly systems: SystemDirectory,
    private readonly logger: Logger,
    private readonly evidence?: DocumentEvidenceSource,
  ) {}

  private async allow(actor: ConsoleActor, action: ConsoleAction, reading: Reading): Promise<Purpose> {
    if (!mayDo(actor.role, action)) {
      await this.record(actor, reading, { outcome: 'refused' }, Date.now());
      throw new ForbiddenError(`A ${actor.role} may not ${action === 'read-audit-trail' ? 'read the audit trail' : 'read events'}; it takes the auditor or administrator role.`);
    }
    const purpose = actor.purpose;
    if (purpose === null || purpose.legal_basis.trim() === '' || purpose.reason.trim() === '') {
      throw new PreconditionRequiredError('State the purpose of your search first: a legal basis and a reason (PUT /console/api/session/purpose).');
    }
    return purpose;
  }

  private async record(actor: ConsoleActor, reading: Reading, outcome: Record<string, string | number | boolean | string[] | undefined>, startedAt: number): Promise<void> {
    const scope = reading.scope;
    const event: AuditEvent = {
      event_type: ADMIN_QUERY_EVENT_TYPE,
      event_message: `${actor.username} (${actor.role}) ${outcome.outcome === 'refused' ? `was refused ${READING_WORDS[reading.action].refused}` : READING_WORDS[reading.action].done} in the console`,
      user: actor.username,
      admin_role: actor.role,
      action: reading.action,
      purpose_legal_basis: actor.purpose?.legal_basis,
      purpose_reason: actor.purpose?.reason,
      session_id: actor.sessionId,
      source_address: actor.address,
      scope: scope?.kind,
      scope_systems: scope?.kind === 'events' && scope.systems.length > 0 ? scope.systems : undefined,
      query: reading.query,
      time_from: reading.range === undefined ? undefined : new Date(reading.range.fromMillis).toISOString(),
      time_to: reading.range === undefined ? undefined : new Date(reading.range.toMillis).toISOString(),
      ...reading.details,
      ...outcome,
      duration_ms: Date.now() - startedAt,
    };
    await recordBeforeReading(this.audit, event, {
      refusal: 'The reading could not be recorded in the audit trail, so its result is not shown; try again later.',
      warning: { logger: this.logger, message: 'console reading not recorded; its result is withheld', fields: { action: reading.action } },
    });
  }

  private async withSystemName(hit: ConsoleHit): Promise<HitView> {
    if (hit.system === undefined) return hit;
    const known = await this.systems.findByCode(hit.system);
    return known === undefined ? hit : { ...hit, systemName: known.system.name };
  }

  private async parse(scope: ConsoleScope, queryText: string): Promise<QueryNode> {
    const known = (await this.store.fields(scope)).filter((field) => field.searchable).map((field) => field.name);
    // A scope with no documents yet knows no field; its query is still read, and matches nothing.
    return parseQuery(queryText, known.length === 0 ? undefined : known);
  }

  /** POST /console/api/search. */
  async search(actor: ConsoleActor, body: unknown, now = new Date()): Promise<SearchAnswer> {
    const startedAt = Date.now();
    const input = isRecord(body) ? body : {};
    const scope = parseScope(input.scope);
    const queryText = text(input.query, 'query', 8_192);
    const range = parseTimeRange(input.from, input.to, now);
    const reading: Reading = { action: 'search', scope, query: queryText, range };
    await this.allow(actor, 'read-events', reading);
    return this.runSearch(actor, reading, input, await this.parse(scope, queryText), startedAt);
  }

  private async runSearch(actor: ConsoleActor, reading: Reading, input: Record<string, unknown>, query: QueryNode, startedAt: number): Promise<SearchAnswer> {
    const scope = reading.scope!;
    const size = integer(input.size, 'size', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const after = input.after === undefined || input.after === null || input.after === '' ? undefined : text(input.after, 'after', MAX_CURSOR_CHARACTERS);
    const histogram = input.histogram === undefined ? after === undefined : input.histogram === true;
    const fields = await this.topFields(scope, input.fields, after === undefined);
    const page = await this.store.search({ scope, query, range: reading.range!, size, ...(after === undefined ? {} : { after }), histogram, fields });
    await this.record(actor, reading, { outcome: 'answered', result_count: page.total, ...(after === undefined ? {} : { page: 'next' }) }, startedAt);
    return { ...page, hits: await Promise.all(page.hits.map((hit) => this.withSystemName(hit))) };
  }

  private async topFields(scope: ConsoleScope, value: unknown, firstPage: boolean): Promise<string[]> {
    if (value === false || (value === undefined && !firstPage)) return [];
    if (Array.isArray(value)) {
      if (value.length > MAX_TOP_FIELDS || value.some((name) => typeof name !== 'string' || name === '')) {
        throw new ValidationError(`fields must be true, false or a list of at most ${MAX_TOP_FIELDS} field names.`);
      }
      const known = new Map((await this.store.fields(scope)).map((field) => [field.name, field.aggregatable ? field.type : 'not aggregatable']));
      for (const name of value as string[]) {
        if (!AGGREGATABLE_TYPES.has(known.get(name) ?? '')) throw new ValidationError(`fields names ${JSON.stringify(name).slice(0, 80)}, which has no values to count in this scope.`);
      }
      return value as string[];
    }
    if (value !== undefined && value !== true) throw new ValidationError(`fields must be true, false or a list of at most ${MAX_TOP_FIELDS} field names.`);
    return (await this.store.fields(scope)).filter((field) => field.aggregatable && AGGREGATABLE_TYPES.has(field.type) && field.name !== timeFieldOf(scope)).slice(0, MAX_TOP_FIELDS).map((field) => field.name);
  }

  /** GET /console/api/fields. */
  async fields(actor: ConsoleActor, scopeText: unknown): Promise<{ fields: FieldDescription[] }> {
    const startedAt = Date.now();
    const scope = parseScope(scopeText);
    const reading: Reading = { action: 'fields', scope };
    await this.allow(actor, 'read-events', reading);
    const fields = await this.store.fields(scope);
    await this.record(actor, reading, { outcome: 'answered', result_count: fields.length }, startedAt);
    return { fields };
  }

  private async find(index: string, id: string): Promise<ConsoleHit> {
    if (index.length > 255 || id.length > 512) throw new NotFoundError(`There is no document ${id.slice(0, 80)} in ${index.slice(0, 80)}.`);
    const hit = await this.store.document(index, id);
    if (hit === undefined) throw new NotFoundError(`There is no document ${id.slice(0, 80)} in ${index.slice(0, 80)} that the console can show.`);
    return hit;
  }

  /** GET /console/api/documents/<index>/<id>: the document as stored, and its signature verified now. */
  async document(actor: ConsoleActor, index: string, id: string): Promise<DocumentAnswer> {
    const startedAt = Date.now();
    const reading: Reading = { action: 'document', details: { document_index: index.slice(0, 255), document_id: id.slice(0, 512) } };
    await this.allow(actor, 'read-events', reading);
    const hit = await this.find(index, id);
    const answer = await this.verify(hit);
    const evidence: DocumentEvidence = this.evidence === undefined ? { status: 'unavailable', message: 'This MLog has no evidence service (no signing key).' } : await this.evidence.evidenceOf(hit.source);
    await this.record(actor, reading, { outcome: 'answered', result_count: 1, signature: answer.signature.status, evidence: evidence.status }, startedAt);
    return { ...answer, evidence, hit: await this.withSystemName(hit) };
  }

  /**
   * The signature of a stored event, verified now against the certificates its system has registered
   * now. The certificate's validity is judged at the time the event was received.
   */
  private async verify(hit: ConsoleHit): Promise<Omit<DocumentAnswer, 'hit' | 'evidence'>> {
    const source = hit.source;
    if (source['@signed'] !== true) return { signature: { status: 'unsigned' } };
    const kid = typeof source['@kid'] === 'string' ? source['@kid'] : undefined;
    const alg = typeof source['@alg'] === 'string' ? source['@alg'] : undefined;
    const described = { ...(kid === undefined ? {} : { kid }), ...(alg === undefined ? {} : { alg }) };
    let jws = typeof source['@jws'] === 'string' ? source['@jws'] : undefined;
    if (jws === undefined && typeof source['@jws_ref'] === 'string') {
      const first = await this.store.document(hit.index, source['@jws_ref']);
      jws = typeof first?.source['@jws'] === 'string' ? first.source['@jws'] : undefined;
    }
    if (jws === undefined) return { signature: { status: 'invalid', ...described } };
    const known = hit.system === undefined ? undefined : await this.systems.findByCode(hit.system);
    if (known === undefined || kid === undefined || !known.certificatesBySerial.has(kid)) {
      return { signature: { status: 'certificate-not-registered', ...described }, jws };
    }
    const received = typeof source['@received'] === 'string' ? new Date(source['@received']) : new Date();
    try {
      await verifyCompactJws(jws, known.certificatesBySerial, 'The stored event', Number.isNaN(received.getTime()) ? new Date() : received);
      return { signature: { status: 'valid', ...described }, jws };
    } catch (error) {
      if (!(error instanceof MLogError)) throw error;
      return { signature: { status: 'invalid', ...described }, jws };
    }
  }

  /** GET /console/api/documents/<index>/<id>/surrounding. */
  async surrounding(actor: ConsoleActor, index: string, id: string, sizeText: unknown): Promise<{ before: HitView[]; after: HitView[] }> {
    const startedAt = Date.now();
    const size = integer(sizeText, 'size', DEFAULT_SURROUNDING, MAX_SURROUNDING);
    const reading: Reading = { action: 'surrounding', details: { document_index: index.slice(0, 255), document_id: id.slice(0, 512) } };
    await this.allow(actor, 'read-events', reading);
    const hit = await this.find(index, id);
    const around = await this.store.surrounding(hit, size);
    await this.record(actor, reading, { outcome: 'answered', result_count: around.before.length + around.after.length }, startedAt);
    return {
      before: await Promise.all(around.before.map((each) => this.withSystemName(each))),
      after: await Promise.all(around.after.map((each) => this.withSystemName(each))),
    };
  }

  /** GET /console/api/correlation: every system's events sharing a correlation id, user or subject, in event_time order. */
  async correlate(actor: ConsoleActor, fieldText: unknown, valueText: unknown): Promise<{ steps: { hit: HitView; systemName?: string; gapMs: number | null }[] }> {
    const startedAt = Date.now();
    if (fieldText !== 'event_correlation' && fieldText !== 'user' && fieldText !== 'subject') {
      throw new ValidationError('field must be event_correlation, user or subject.');
    }
    const field: CorrelationField = fieldText;
    const value = text(valueText, 'value', MAX_VALUE_LENGTH);
    if (value === '') throw new ValidationError(`value is empty; give the ${field} to follow.`);
    const reading: Reading = { action: 'correlation', details: { correlation_field: field, correlation_value: value } };
    await this.allow(actor, 'read-events', reading);
    const hits = await this.store.correlate(field, value, MAX_CORRELATION_STEPS);
    await this.record(actor, reading, { outcome: 'answered', result_count: hits.length }, startedAt);
    let previous: number | undefined;
    const steps = [];
    for (const hit of hits) {
      const view = await this.withSystemName(hit);
      const time = typeof hit.source.event_time === 'string' ? parseEventTime(hit.source.event_time) : undefined;
      const millis = time?.ok === true ? time.epochMillis : undefined;
      steps.push({ hit: view, ...(view.systemName === undefined ? {} : { systemName: view.systemName }), gapMs: previous === undefined || millis === undefined ? null : millis - previous });
      if (millis !== undefined) previous = millis;
    }
    return { steps };
  }

  /**
   * GET /console/api/audit: the records of what people did, newest first: MLog.Admin.* (the console's
   * and the administration API's readings, sign-ins, changes), the runs of `mlog verify`
   * (MLog.Evidence.Verify*) and the listings of refused calls (MLog.Rejection.Listed). MLog's own
   * jobs' records (retention, alerts) are not in it.
   */
  async auditTrail(actor: ConsoleActor, parameters: { query?: unknown; from?: unknown; to?: unknown; after?: unknown; size?: unknown }, now = new Date()): Promise<SearchAnswer> {
    const startedAt = Date.now();
    const scope: ConsoleScope = { kind: 'audit' };
    const queryText = text(parameters.query, 'query', 8_192);
    const range = parseTimeRange(parameters.from, parameters.to, now);
    const reading: Reading = { action: 'audit-trail', scope, query: queryText, range };
    await this.allow(actor, 'read-audit-trail', reading);
    const parsed = await this.parse(scope, queryText);
    const query: QueryNode = parsed.kind === 'all' ? PEOPLE_RECORDS : { kind: 'and', children: [PEOPLE_RECORDS, parsed] };
    return this.runSearch(actor, reading, { size: parameters.size, after: parameters.after, histogram: false, fields: false }, query, startedAt);
  }

  /**
   * POST /console/api/export. The export is recorded before its first row and again, with its row
   * count and SHA-256, before its last line; when that record fails the file ends without it.
   */
  async export(actor: ConsoleActor, body: unknown, now = new Date()): Promise<ExportFile> {
    const startedAt = Date.now();
    const input = isRecord(body) ? body : {};
    const scope = parseScope(input.scope);
    const queryText = text(input.query, 'query', 8_192);
    const range = parseTimeRange(input.from, input.to, now);
    if (input.format !== 'csv' && input.format !== 'ndjson') throw new ValidationError('format must be "csv" or "ndjson".');
    const format = input.format;
    const columns = columnsOf(input.columns);
    const reading: Reading = { action: 'export', scope, query: queryText, range, details: { export_format: format } };
    await this.allow(actor, 'read-events', reading);
    const query = await this.parse(scope, queryText);
    await this.record(actor, reading, { outcome: 'started' }, startedAt);
    const csvColumns = columns ?? DEFAULT_COLUMNS[scope.kind];
    const pages = this.store.exportPages({ scope, query, range }, EXPORT_PAGE_SIZE, format === 'csv' ? csvColumns : columns);
    const self = this;
    const statement = { query: queryText, scope, from: new Date(range.fromMillis).toISOString(), to: new Date(range.toMillis).toISOString() };
    async function* file(): AsyncGenerator<string> {
      const hash = createHash('sha256');
      let rows = 0;
      const emit = (chunk: string): string => {
        hash.update(chunk);
        return chunk;
      };
      if (format === 'csv') yield emit(stringify([csvColumns]));
      for await (const page of pages) {
        rows += page.length;
        if (format === 'csv') {
          yield emit(stringify(page.map((hit) => csvColumns.map((column) => cell(columnValue(hit.source, column))))));
        } else {
          const lines = page.map((hit) => {
            const source = columns === undefined ? hit.source : Object.fromEntries(columns.map((column) => [column, columnValue(hit.source, column) ?? null]));
            return `${JSON.stringify({ index: hit.index, id: hit.id, source })}\n`;
          });
          yield emit(lines.join(''));
        }
      }
      const sha256 = hash.digest('hex');
      await self.record(actor, reading, { outcome: 'answered', result_count: rows, export_rows: rows, export_sha256: sha256 }, startedAt);
      const trailer = JSON.stringify({ mlog_export: { ...statement, rows, sha256 } });
      yield format === 'csv' ? `# ${trailer}\n` : `${trailer}\n`;
    }
    const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
    return { contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8', filename: `mlog-${scope.kind}-${stamp}.${format}`, body: file() };
  }
}
