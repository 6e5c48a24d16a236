import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import { CLIENT_QUERY_EVENT_TYPE, type DocumentToWrite, type EventSearch, type EventStore, type FieldCondition } from './event-store-type.js';
import type { KnownSystem } from '../systems/system-registry.js';
import { FULL_TEXT_FIELD, type FilterPair } from './filter-parser.js';
import type { JsonObject } from '../json/json-object-parser.js';
import { isPredefinedField } from './predefined-fields.js';
import type { LegalParameters, Pagination, RangeQuery, UidQuery } from './query-parameters.js';
import { buildRegistrationDocuments } from './stored-event.js';


export interface QueryAnswer {
  result: JsonObject[];
  pagination: { 'record-count': number; page: number; 'page-size': number };
}

/** A field name as a message quotes it: its first 80 characters. */
function quoted(field: string): string {
  return field.length > 80 ? `${field.slice(0, 80)}…` : field;
}

/** Turns filter pairs into search conditions, refusing fields that cannot be filtered. Repeated fields mean any of their values. */
export async function resolveFilter(pairs: FilterPair[], isCode: string, store: EventStore): Promise<FieldCondition[]> {
  const byField = new Map<string, string[]>();
  for (const { field, value } of pairs) {
    if (field.startsWith('_') || field.startsWith('@')) {
      throw new ValidationError(`The filter names "${quoted(field)}": names starting with "_" or "@" are reserved and cannot be filtered.`);
    }
    if (field === 'event_details') throw new ValidationError('The filter names event_details, which is stored but not indexed, so it cannot be filtered.');
    if (field === 'event_time') throw new ValidationError('The filter names event_time; use event_time_from and event_time_to instead.');
    byField.set(field, [...(byField.get(field) ?? []), value]);
  }
  const custom = [...byField.keys()].filter((field) => !isPredefinedField(field));
  const types = await store.fieldTypes(isCode, custom);
  for (const field of custom) {
    const fieldTypes = types.get(field);
    if (fieldTypes === undefined) {
      throw new ValidationError(`The filter names "${quoted(field)}", an unknown field: it is not predefined and none of your events has it.`);
    }
    if (!fieldTypes.includes('keyword')) {
      throw new ValidationError(`The filter names "${quoted(field)}", which holds nested fields; name one of them, such as ${quoted(field)}.<name>.`);
    }
  }
  return [...byField].map(([field, values]) => ({ field, values, match: field === FULL_TEXT_FIELD ? 'full-text' : 'exact' }));
}

/** What an MLog.ClientQuery record states: the parts of its event_message. */
export interface QueryDescription {
  from: string;
  to: string;
  basis: string;
  reason: string;
  filter: FilterPair[];
  page: number;
  pageSize: number;
}

function percentEncoded(character: string): string {
  return `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
}

/**
 * The event_message of an MLog.ClientQuery record: `from=…;to=…;basis=…;reason=…;filter=…;page=…;page_size=…`.
 * Promise: it reads back to exactly the query made, whatever the values hold. In each value "%" and
 * ";" are percent-encoded, so ";" only separates parts; the filter part is the pairs searched,
 * `field=value` joined by ",", with "%", ";", "," and "=" percent-encoded in each field and value.
 */
export function describeClientQuery(query: QueryDescription): string {
  const value = (text: string): string => text.replace(/[%;]/g, percentEncoded);
  const component = (text: string): string => text.replace(/[%;,=]/g, percentEncoded);
  return [
    `from=${value(query.from)}`,
    `to=${value(query.to)}`,
    `basis=${value(query.basis)}`,
    `reason=${value(query.reason)}`,
    `filter=${query.filter.map((pair) => `${component(pair.field)}=${component(pair.value)}`).join(',')}`,
    `page=${query.page}`,
    `page_size=${query.pageSize}`,
  ].join(';');
}

/**
 * Queries of an IS over its own events. Promises: an IS sees only events it registered; every query,
 * answered or not found, is itself registered as an MLog.ClientQuery event in the caller's index
 * before the answer is sent.
 */
export class QueryService {
  constructor(
    private readonly store: EventStore,
    private readonly logger: Logger,
  ) {}

  async byUid(caller: KnownSystem, query: UidQuery, receivedAt: Date): Promise<QueryAnswer> {
    const search: EventSearch = {
      isCode: caller.system.code,
      uid: query.uid,
      conditions: [],
      from: query.page * query.pageSize,
      size: query.pageSize,
      order: 'registration-order',
    };
    const description = describeClientQuery({
      from: '',
      to: '',
      basis: query.legal.legal_basis ?? '',
      reason: query.legal.legal_reason ?? '',
      filter: [{ field: 'UID', value: query.uid }],
      page: query.page,
      pageSize: query.pageSize,
    });
    return this.answer(caller, search, query, query.legal, description, receivedAt);
  }

  async byRange(caller: KnownSystem, query: RangeQuery, receivedAt: Date): Promise<QueryAnswer> {
    const conditions = await resolveFilter(query.filter, caller.system.code, this.store);
    const search: EventSearch = {
      isCode: caller.system.code,
      range: { fromMillis: query.from.millis, toMillis: query.to.millis },
      conditions,
      from: query.page * query.pageSize,
      size: query.pageSize,
      order: 'newest-first',
    };
    const description = describeClientQuery({
      from: query.from.text,
      to: query.to.text,
      basis: query.legal.legal_basis ?? '',
      reason: query.legal.legal_reason ?? '',
      filter: query.filter,
      page: query.page,
      pageSize: query.pageSize,
    });
    return this.answer(caller, search, query, query.legal, description, receivedAt);
  }

  private async answer(
    caller: KnownSystem,
    search: EventSearch,
    pagination: Pagination,
    legal: LegalParameters,
    description: string,
    receivedAt: Date,
  ): Promise<QueryAnswer> {
    // The search and the record of the query go to Elasticsearch together, and both finish before the
    // answer. The search leaves the record out, so an answer never depends on which of the two landed first.
    const recordUid = randomUUID();
    const [page] = await Promise.all([
      this.store.search(search.uid === undefined ? { ...search, excludeUid: recordUid } : search),
      this.recordClientQuery(caller, legal, description, receivedAt, recordUid),
    ]);
    if (page.total === 0) throw new NotFoundError('No data was found for the given parameters.');
    if (page.events.length === 0) {
      throw new NotFoundError(`No data was found on page ${pagination.page}: ${page.total} events match, ${pagination.pageSize} per page.`);
    }
    return { result: page.events, pagination: { 'record-count': page.total, page: pagination.page, 'page-size': pagination.pageSize } };
  }

  /** Registers the query itself, in the caller's own index, as an MLog.ClientQuery event. */
  async recordClientQuery(caller: KnownSystem, legal: LegalParameters, description: string, at: Date, uid: string = randomUUID()): Promise<void> {
    await this.store.writeAll(clientQueryRecordDocuments(caller.system, legal, description, at, uid), 'query-record', caller.system.code);
    this.logger.debug('client query recorded', { system: caller.system.code, uid });
  }
}

/** The documents of one query's MLog.ClientQuery record, for the caller's own index (the benchmark writes the same). */
export function clientQueryRecordDocuments(system: { code: string; idno: string }, legal: LegalParameters, description: string, at: Date, uid: string): DocumentToWrite[] {
  const event: JsonObject = {
    event_time: at.toISOString(),
    event_type: CLIENT_QUERY_EVENT_TYPE,
    event_source: 'MLog',
    legal_entity: legal.legal_entity ?? system.idno,
    ...legal,
    event_message: description,
  };
  return buildRegistrationDocuments([{ event, origin: CLIENT_QUERY_EVENT_TYPE, line: 0 }], { uid, isCode: system.code, receivedAt: at });
}
