import type { Client, estypes } from '@elastic/elasticsearch';
import { ValidationError } from '../errors/mlog-error.js';
import type {
  ConsoleHit,
  ConsoleScope,
  ConsoleSearchPage,
  ConsoleSearchRequest,
  ConsoleSearchStore,
  CorrelationField,
  FieldDescription,
  FieldTop,
} from '../search/console-search-store-type.js';
import {
  AUDIT_QUERY_SCHEMA,
  buildConsoleQuery,
  EVENT_QUERY_SCHEMA,
  PERSONAL_DATA_QUERY_SCHEMA,
  REJECTION_QUERY_SCHEMA,
  type ConsoleQuerySchema,
} from './console-query-builder.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import {
  AUDIT_INDEX,
  EVENT_INDEX_PREFIX,
  eventIndexPattern,
  parseManagedIndexName,
  PERSONAL_DATA_INDEX_PATTERN,
  PERSONAL_DATA_INDEX_PREFIX,
  REJECTIONS_INDEX_PATTERN,
  REJECTIONS_INDEX_PREFIX,
} from './index-names.js';

type Query = estypes.QueryDslQueryContainer;

/** How long a point in time stays open between two pages of the console (or of an export). */
const POINT_IN_TIME_KEEP_ALIVE = '5m';
/** Field tops are counted over a sample of this many matching documents per shard, as Kibana's Discover does. */
export const FIELD_TOP_SAMPLE_SIZE = 5_000;
const FIELD_CACHE_MS = 30_000;
export const MAX_HISTOGRAM_BUCKETS = 100;
const UNITS: readonly [string, number][] = [
  ['s', 1_000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
];

/**
 * The fixed interval that splits `spanMillis` into 50 to 100 buckets: a hundredth of the span,
 * rounded up to whole seconds, minutes, hours or days (1 second at least, so fewer for spans under 100 s).
 */
export function histogramInterval(spanMillis: number): [string, number] {
  const raw = Math.max(1_000, spanMillis / MAX_HISTOGRAM_BUCKETS);
  const [unit, millis] = UNITS.findLast(([, size]) => raw >= size) ?? UNITS[0]!;
  const count = Math.ceil(raw / millis);
  return [`${count}${unit}`, count * millis];
}

export interface ScopeTarget {
  index: string;
  schema: ConsoleQuerySchema;
  timeField: string;
  filter: Query[];
}

/**
 * The indices of a scope, and the filters that keep a search inside them even when a cursor's point in
 * time was opened on other indices: _index (and, for chosen systems, @is) as a second wall.
 */
export function target(scope: ConsoleScope): ScopeTarget {
  const within = (prefix: string): Query => ({ prefix: { _index: prefix } });
  switch (scope.kind) {
    case 'events':
      // Every system's: mlog-* (MLog's own indices start with "mlog_"). Chosen ones: each system's own pattern.
      return scope.systems.length === 0
        ? { index: `${EVENT_INDEX_PREFIX}*`, schema: EVENT_QUERY_SCHEMA, timeField: 'event_time', filter: [within(EVENT_INDEX_PREFIX)] }
        : {
            index: scope.systems.map(eventIndexPattern).join(','),
            schema: EVENT_QUERY_SCHEMA,
            timeField: 'event_time',
            filter: [within(EVENT_INDEX_PREFIX), { terms: { '@is': scope.systems } }],
          };
    case 'personal-data':
      return { index: PERSONAL_DATA_INDEX_PATTERN, schema: PERSONAL_DATA_QUERY_SCHEMA, timeField: 'event_time', filter: [within(PERSONAL_DATA_INDEX_PREFIX)] };
    case 'rejections':
      return { index: REJECTIONS_INDEX_PATTERN, schema: REJECTION_QUERY_SCHEMA, timeField: '@received', filter: [within(REJECTIONS_INDEX_PREFIX)] };
    case 'audit':
      return { index: AUDIT_INDEX, schema: AUDIT_QUERY_SCHEMA, timeField: 'event_time', filter: [{ term: { _index: AUDIT_INDEX } }] };
  }
}

/** The indices the console may read a document of: events, projections, rejections and the audit; never systems, leases or idempotency records. */
export function isReadableIndex(index: string): boolean {
  return index === AUDIT_INDEX || parseManagedIndexName(index) !== undefined;
}

interface Cursor {
  pit: string;
  sort: estypes.SortResults;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    const sort = value.sort;
    if (typeof value.pit === 'string' && Array.isArray(sort) && sort.every((each) => typeof each === 'number' || typeof each === 'string')) return { pit: value.pit, sort };
  } catch {
    // refused below
  }
  throw new ValidationError('after is not a cursor MLog gave: pass the "cursor" of the previous page unchanged.');
}

function readFailure(error: unknown): Error {
  return storageFailure(error, 'try the search again later');
}

function toHit(hit: estypes.SearchHit<Record<string, unknown>>): ConsoleHit {
  const source = hit._source ?? {};
  const system = source['@is'];
  return { index: hit._index, id: hit._id ?? '', ...(typeof system === 'string' ? { system } : {}), source };
}

/** The console's reads of the record, on Elasticsearch: query DSL from the parsed query, point in time + search_after for every page past the first. */
export class ElasticsearchConsoleSearchStore implements ConsoleSearchStore {
  private readonly fieldCache = new Map<string, { at: number; fields: FieldDescription[] }>();
  private readonly fieldsReading = new Map<string, Promise<FieldDescription[]>>();

  constructor(private readonly client: Client) {}

  private where(scope: ConsoleScope, request: { query: ConsoleSearchRequest['query']; range: ConsoleSearchRequest['range'] }): { target: ScopeTarget; query: Query } {
    const scoped = target(scope);
    const range: Query = { range: { [scoped.timeField]: { gte: request.range.fromMillis, lt: request.range.toMillis, format: 'epoch_millis' } } };
    const query: Query = { bool: { filter: [range, ...scoped.filter, buildConsoleQuery(request.query, scoped.schema)] } };
    return { target: scoped, query };
  }

  private async openPointInTime(index: string): Promise<string> {
    const answer = await this.client.openPointInTime({ index, keep_alive: POINT_IN_TIME_KEEP_ALIVE, ignore_unavailable: true });
    return answer.id;
  }

  async search(request: ConsoleSearchRequest): Promise<ConsoleSearchPage> {
    const { target: scoped, query } = this.where(request.scope, request);
    const cursor = request.after === undefined ? undefined : decodeCursor(request.after);
    const aggregations: Record<string, estypes.AggregationsAggregationContainer> = {};
    let interval: [string, number] | undefined;
    if (request.histogram) {
      interval = histogramInterval(request.range.toMillis - request.range.fromMillis);
      aggregations.histogram = {
        date_histogram: {
          field: scoped.timeField,
          fixed_interval: interval[0],
          min_doc_count: 0,
          // No hard_bounds: with a range that does not start on a bucket boundary Elasticsearch drops
          // the events of the last, partial bucket; the query's range already bounds the documents.
          extended_bounds: { min: request.range.fromMillis, max: request.range.toMillis - 1 },
        },
      };
    }
    if (request.fields.length > 0) {
      aggregations.sample = {
        sampler: { shard_size: FIELD_TOP_SAMPLE_SIZE },
        aggregations: Object.fromEntries(request.fields.map((field, position) => [`f${position}`, { terms: { field, size: 5 } }])),
      };
    }
    try {
      const pit = cursor?.pit ?? (await this.openPointInTime(scoped.index));
      const response = await this.client.search<Record<string, unknown>>({
        pit: { id: pit, keep_alive: POINT_IN_TIME_KEEP_ALIVE },
        size: request.size,
        query,
        sort: [{ [scoped.timeField]: { order: 'desc', unmapped_type: 'date' } }],
        track_total_hits: true,
        ...(cursor === undefined ? {} : { search_after: cursor.sort }),
        ...(Object.keys(aggregations).length === 0 ? {} : { aggregations }),
      });
      const hits = response.hits.hits.map(toHit);
      const total = typeof response.hits.total === 'number' ? response.hits.total : (response.hits.total?.value ?? 0);
      const last = response.hits.hits.at(-1);
      const nextPit = response.pit_id ?? pit;
      const more = last?.sort !== undefined && hits.length === request.size;
      // A point in time no cursor carries is closed now; one a cursor carried expires by itself, so that
      // the last page can be asked again.
      if (!more && cursor === undefined) await this.closePointInTime(nextPit);
      const page: ConsoleSearchPage = { total, hits, ...(more ? { cursor: encodeCursor({ pit: nextPit, sort: last.sort! }) } : {}) };
      const aggs = response.aggregations as Record<string, any> | undefined;
      if (interval !== undefined) {
        const buckets = (aggs?.histogram?.buckets ?? []) as { key: number; doc_count: number }[];
        page.histogram = { interval: interval[0], buckets: buckets.map((bucket) => ({ key: bucket.key, count: bucket.doc_count })) };
      }
      if (request.fields.length > 0) {
        const sampled = (aggs?.sample?.doc_count as number | undefined) ?? 0;
        page.fields = request.fields.map((name, position): FieldTop => {
          const buckets = (aggs?.sample?.[`f${position}`]?.buckets ?? []) as { key: string | number; key_as_string?: string; doc_count: number }[];
          return {
            name,
            top: buckets.map((bucket) => ({
              value: bucket.key_as_string === 'true' || bucket.key_as_string === 'false' ? bucket.key_as_string === 'true' : bucket.key,
              count: bucket.doc_count,
              share: sampled === 0 ? 0 : bucket.doc_count / sampled,
            })),
          };
        });
      }
      return page;
    } catch (error) {
      if (cursor !== undefined && statusOf(error) === 404) {
        throw new ValidationError('The cursor has expired (a page is kept 5 minutes after the previous one); search again from the first page.');
      }
      // Elasticsearch refuses a point in time or sort values it did not give: the cursor was altered.
      if (cursor !== undefined && statusOf(error) === 400) {
        throw new ValidationError('after is not a cursor MLog gave: pass the "cursor" of the previous page unchanged.');
      }
      throw readFailure(error);
    }
  }

  private async closePointInTime(id: string): Promise<void> {
    await this.client.closePointInTime({ id }).catch(() => undefined);
  }

  /** The scope's fields, read at most once per FIELD_CACHE_MS: callers asking at the same time share one field_caps request. */
  async fields(scope: ConsoleScope): Promise<FieldDescription[]> {
    const scoped = target(scope);
    const cached = this.fieldCache.get(scoped.index);
    if (cached !== undefined && Date.now() - cached.at < FIELD_CACHE_MS) return cached.fields;
    const reading = this.fieldsReading.get(scoped.index) ?? this.readFields(scoped.index);
    this.fieldsReading.set(scoped.index, reading);
    try {
      return await reading;
    } finally {
      if (this.fieldsReading.get(scoped.index) === reading) this.fieldsReading.delete(scoped.index);
    }
  }

  private async readFields(index: string): Promise<FieldDescription[]> {
    try {
      const answer = await this.client.fieldCaps({ index, fields: '*', ignore_unavailable: true, allow_no_indices: true });
      const fields: FieldDescription[] = [];
      for (const [name, byType] of Object.entries(answer.fields)) {
        if (name.startsWith('_')) continue;
        const types = Object.keys(byType).filter((type) => type !== 'object' && type !== 'nested');
        if (types.length === 0) continue;
        fields.push({ name, type: types.length === 1 ? types[0]! : 'conflict', aggregatable: types.some((type) => byType[type]?.aggregatable === true), searchable: types.some((type) => byType[type]?.searchable === true) });
      }
      fields.sort((a, b) => a.name.localeCompare(b.name));
      this.fieldCache.set(index, { at: Date.now(), fields });
      return fields;
    } catch (error) {
      throw readFailure(error);
    }
  }

  async document(index: string, id: string): Promise<ConsoleHit | undefined> {
    if (!isReadableIndex(index)) return undefined;
    try {
      const answer = await this.client.get<Record<string, unknown>>({ index, id }, { ignore: [404] });
      if (!answer.found) return undefined;
      return toHit({ _index: answer._index, _id: answer._id, ...(answer._source === undefined ? {} : { _source: answer._source }) });
    } catch (error) {
      throw readFailure(error);
    }
  }

  async surrounding(hit: ConsoleHit, size: number): Promise<{ before: ConsoleHit[]; after: ConsoleHit[] }> {
    const system = hit.system;
    if (system === undefined || typeof hit.source['@id'] !== 'string') return { before: [], after: [] };
    const index = eventIndexPattern(system);
    const filter: Query[] = [{ term: { '@is': system } }];
    try {
      // The sort values of the event itself, as Elasticsearch sorts it (event_time in milliseconds).
      const self = await this.client.search({ index, ignore_unavailable: true, size: 1, query: { ids: { values: [hit.id] } }, sort: [{ event_time: 'asc' }, { '@id': 'asc' }] });
      const position = self.hits.hits[0]?.sort;
      if (position === undefined) return { before: [], after: [] };
      const side = async (order: 'asc' | 'desc'): Promise<ConsoleHit[]> => {
        const answer = await this.client.search<Record<string, unknown>>({
          index,
          ignore_unavailable: true,
          size,
          query: { bool: { filter } },
          sort: [{ event_time: order }, { '@id': order }],
          search_after: position,
        });
        return answer.hits.hits.map(toHit);
      };
      const [before, after] = await Promise.all([side('desc'), side('asc')]);
      return { before: before.reverse(), after };
    } catch (error) {
      throw readFailure(error);
    }
  }

  async correlate(field: CorrelationField, value: string, limit: number): Promise<ConsoleHit[]> {
    try {
      const answer = await this.client.search<Record<string, unknown>>({
        index: `${EVENT_INDEX_PREFIX}*`,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: limit,
        query: { bool: { filter: [{ term: { [field]: value } }] } },
        sort: [{ event_time: { order: 'asc', unmapped_type: 'date' } }, { '@id': { order: 'asc', unmapped_type: 'keyword' } }],
      });
      return answer.hits.hits.map(toHit);
    } catch (error) {
      throw readFailure(error);
    }
  }

  async *exportPages(request: Omit<ConsoleSearchRequest, 'size' | 'after' | 'histogram' | 'fields'>, pageSize: number, columns?: readonly string[]): AsyncIterable<ConsoleHit[]> {
    const { target: scoped, query } = this.where(request.scope, request);
    let pit: string;
    try {
      pit = await this.openPointInTime(scoped.index);
    } catch (error) {
      throw readFailure(error);
    }
    const page = async (after: estypes.SortResults | undefined): Promise<estypes.SearchResponse<Record<string, unknown>>> => {
      try {
        const response = await this.client.search<Record<string, unknown>>({
          pit: { id: pit, keep_alive: POINT_IN_TIME_KEEP_ALIVE },
          size: pageSize,
          query,
          sort: [{ [scoped.timeField]: { order: 'desc', unmapped_type: 'date' } }],
          track_total_hits: false,
          ...(columns === undefined ? {} : { _source: { includes: [...columns, '@is'] } }),
          ...(after === undefined ? {} : { search_after: after }),
        });
        pit = response.pit_id ?? pit;
        return response;
      } catch (error) {
        throw readFailure(error);
      }
    };
    let next: Promise<estypes.SearchResponse<Record<string, unknown>>> | undefined = page(undefined);
    try {
      for (;;) {
        const current: Promise<estypes.SearchResponse<Record<string, unknown>>> = next ?? page(undefined);
        next = undefined;
        const hits = (await current).hits.hits;
        const after = hits.length < pageSize ? undefined : hits.at(-1)?.sort;
        // The next page is read while this one is written out.
        if (after !== undefined) {
          next = page(after);
          // Handled when awaited; until then a failure must not count as an unhandled rejection.
          next.catch(() => undefined);
        }
        if (hits.length > 0) yield hits.map(toHit);
        if (after === undefined) return;
      }
    } finally {
      await next?.catch(() => undefined);
      await this.closePointInTime(pit);
    }
  }
}
