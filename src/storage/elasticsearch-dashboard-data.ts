import type { Client, estypes } from '@elastic/elasticsearch';
import type { CountsOverTime, DashboardDataStore, HealthSystem, PanelQuery, SystemHealth, TopValues } from '../dashboards/dashboard-store-type.js';
import { ValidationError } from '../errors/mlog-error.js';
import type { ConsoleHit, ConsoleScope, ConsoleSearchStore, TimeRange } from '../search/console-search-store-type.js';
import type { QueryNode } from '../search/query-language.js';
import { buildConsoleQuery } from './console-query-builder.js';
import { histogramInterval, target as scopeTarget } from './elasticsearch-console-search-store.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { EVENT_INDEX_PREFIX, REJECTIONS_INDEX_PATTERN, REJECTIONS_INDEX_PREFIX } from './index-names.js';

type Query = estypes.QueryDslQueryContainer;
type Bucket = { key: string | number; key_as_string?: string; doc_count: number };

const PANEL_UNAVAILABLE = 'the panel cannot be rendered now';
/** Distinct counts are exact up to this many values (HyperLogLog beyond). */
const DISTINCT_PRECISION = 3_000;
/** The most systems the health panel lists, and the most event types it reads per system. */
const MAX_SYSTEMS = 10_000;
const MAX_TYPES_PER_SYSTEM = 1_000;
const HOUR_MILLIS = 3_600_000;

/** A bucket's value as people read it: true/false for booleans, the date text for dates, else the key. */
function bucketValue(bucket: Bucket, fieldType: string | undefined): string | number | boolean {
  if (fieldType === 'boolean') return bucket.key_as_string === 'true' || bucket.key === 1 || bucket.key === 'true';
  if (fieldType === 'date' && bucket.key_as_string !== undefined) return bucket.key_as_string;
  return bucket.key;
}

function totalOf(response: estypes.SearchResponse): number {
  const total = response.hits.total;
  return typeof total === 'number' ? total : (total?.value ?? 0);
}

/** Two decimals: rates and hourly figures as people read them. */
function rounded(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The aggregations of the console's dashboards, on Elasticsearch: the same scopes, indices and query
 * DSL as the console's search (storage/elasticsearch-console-search-store.ts), searches of size 0
 * but for the latest events, which read only the columns asked for.
 */
export class ElasticsearchDashboardData implements DashboardDataStore {
  constructor(
    private readonly client: Client,
    private readonly fieldSource: Pick<ConsoleSearchStore, 'fields'>,
  ) {}

  check(scope: ConsoleScope, query: QueryNode): void {
    buildConsoleQuery(query, scopeTarget(scope).schema);
  }

  async fieldNames(scope: ConsoleScope): Promise<string[]> {
    return (await this.fieldSource.fields(scope)).map((field) => field.name);
  }

  /** The field to aggregate for `field` and its type: a text field's keyword sub-field; refused when there is none to count. */
  private async aggregatable(scope: ConsoleScope, field: string): Promise<{ field: string; type: string | undefined }> {
    const types = new Map((await this.fieldSource.fields(scope)).map((each) => [each.name, each.type]));
    const type = types.get(field);
    if (type === 'text') {
      const keyword = `${field}.keyword`;
      if (types.get(keyword) === 'keyword') return { field: keyword, type: 'keyword' };
      throw new ValidationError(`${field} is searched by words and has no values to count in the ${scope.kind} scope; choose a keyword field.`);
    }
    if (type === 'conflict') throw new ValidationError(`${field} is stored with different types in the indices of the ${scope.kind} scope, so its values cannot be counted together.`);
    return { field, type };
  }

  private where(request: PanelQuery): { index: string; timeField: string; query: Query } {
    const scoped = scopeTarget(request.scope);
    const range: Query = { range: { [scoped.timeField]: { gte: request.range.fromMillis, lt: request.range.toMillis, format: 'epoch_millis' } } };
    return { index: scoped.index, timeField: scoped.timeField, query: { bool: { filter: [range, ...scoped.filter, buildConsoleQuery(request.query, scoped.schema)] } } };
  }

  private async aggregate(index: string, query: Query, aggregations?: Record<string, estypes.AggregationsAggregationContainer>): Promise<estypes.SearchResponse> {
    try {
      return await this.client.search({ index, ignore_unavailable: true, allow_no_indices: true, size: 0, track_total_hits: true, query, ...(aggregations === undefined ? {} : { aggregations }) });
    } catch (error) {
      if (statusOf(error) === 400) throw new ValidationError('The panel asks Elasticsearch for an aggregation of a field it cannot count as the field is stored; choose another field.');
      throw storageFailure(error, PANEL_UNAVAILABLE);
    }
  }

  async countsOverTime(request: PanelQuery, split?: { field: string; topN: number }): Promise<CountsOverTime> {
    const { index, timeField, query } = this.where(request);
    const [interval] = histogramInterval(request.range.toMillis - request.range.fromMillis);
    const histogram: estypes.AggregationsAggregationContainer = {
      date_histogram: {
        field: timeField,
        fixed_interval: interval,
        min_doc_count: 0,
        // The range filter bounds the documents; hard_bounds would also drop the last, partial interval's.
        extended_bounds: { min: request.range.fromMillis, max: request.range.toMillis - 1 },
      },
    };
    if (split === undefined) {
      const response = await this.aggregate(index, query, { histogram });
      const buckets = ((response.aggregations as any)?.histogram?.buckets ?? []) as Bucket[];
      return { interval, series: ['Events'], points: buckets.map((bucket) => ({ time: Number(bucket.key), series: 'Events', count: bucket.doc_count })), total: totalOf(response) };
    }
    const { field, type } = await this.aggregatable(request.scope, split.field);
    const response = await this.aggregate(index, query, { split: { terms: { field, size: split.topN }, aggregations: { histogram } } });
    const buckets = ((response.aggregations as any)?.split?.buckets ?? []) as (Bucket & { histogram: { buckets: Bucket[] } })[];
    const series: string[] = [];
    const points: CountsOverTime['points'] = [];
    for (const bucket of buckets) {
      const name = String(bucketValue(bucket, type));
      series.push(name);
      for (const point of bucket.histogram.buckets) points.push({ time: Number(point.key), series: name, count: point.doc_count });
    }
    points.sort((a, b) => a.time - b.time);
    return { interval, series, points, total: totalOf(response) };
  }

  async topValues(request: PanelQuery, field: string, topN: number): Promise<TopValues> {
    const { index, query } = this.where(request);
    const aggregated = await this.aggregatable(request.scope, field);
    const response = await this.aggregate(index, query, { values: { terms: { field: aggregated.field, size: topN } } });
    const values = (response.aggregations as any)?.values as { buckets: Bucket[]; sum_other_doc_count: number } | undefined;
    const total = totalOf(response);
    return {
      total,
      values: (values?.buckets ?? []).map((bucket) => ({ value: bucketValue(bucket, aggregated.type), count: bucket.doc_count, share: total === 0 ? 0 : bucket.doc_count / total })),
      other: values?.sum_other_doc_count ?? 0,
    };
  }

  async count(request: PanelQuery): Promise<number> {
    const { index, query } = this.where(request);
    return totalOf(await this.aggregate(index, query));
  }

  async distinctCount(request: PanelQuery, field: string): Promise<number> {
    const { index, query } = this.where(request);
    const aggregated = await this.aggregatable(request.scope, field);
    const response = await this.aggregate(index, query, { distinct: { cardinality: { field: aggregated.field, precision_threshold: DISTINCT_PRECISION } } });
    return ((response.aggregations as any)?.distinct?.value as number | undefined) ?? 0;
  }

  async latest(request: PanelQuery, columns: readonly string[], size: number): Promise<{ total: number; hits: ConsoleHit[] }> {
    const { index, timeField, query } = this.where(request);
    let response: estypes.SearchResponse<Record<string, unknown>>;
    try {
      response = await this.client.search<Record<string, unknown>>({
        index,
        ignore_unavailable: true,
        allow_no_indices: true,
        size,
        track_total_hits: true,
        query,
        sort: [{ [timeField]: { order: 'desc', unmapped_type: 'date' } }],
        _source: { includes: [...columns, '@is'] },
      });
    } catch (error) {
      throw storageFailure(error, PANEL_UNAVAILABLE);
    }
    const keepSystem = columns.includes('@is');
    const hits = response.hits.hits.map((hit): ConsoleHit => {
      const { '@is': system, ...rest } = hit._source ?? {};
      return { index: hit._index, id: hit._id ?? '', ...(typeof system === 'string' ? { system } : {}), source: keepSystem && system !== undefined ? { ...rest, '@is': system } : rest };
    });
    return { total: totalOf(response), hits };
  }

  async systemHealth(range: TimeRange, systems: readonly HealthSystem[]): Promise<SystemHealth[]> {
    if (systems.length === 0) return [];
    const size = Math.min(systems.length, MAX_SYSTEMS);
    const inRange: Query = { range: { '@received': { gte: range.fromMillis, lt: range.toMillis, format: 'epoch_millis' } } };
    const events: Query = { prefix: { _index: EVENT_INDEX_PREFIX } };
    const codes = systems.map((system) => system.code);
    const [last, received, refused] = await Promise.all([
      // The last event ever received, whatever the range: a system that stopped reporting shows when.
      this.aggregate(`${EVENT_INDEX_PREFIX}*`, { bool: { filter: [events, { terms: { '@is': codes } }] } }, { systems: { terms: { field: '@is', size }, aggregations: { last: { max: { field: '@received' } } } } }),
      this.aggregate(`${EVENT_INDEX_PREFIX}*`, { bool: { filter: [events, inRange, { terms: { '@is': codes } }] } }, {
        systems: { terms: { field: '@is', size }, aggregations: { types: { terms: { field: 'event_type', size: MAX_TYPES_PER_SYSTEM } } } },
      }),
      this.aggregate(REJECTIONS_INDEX_PATTERN, { bool: { filter: [{ prefix: { _index: REJECTIONS_INDEX_PREFIX } }, inRange, { terms: { is: codes } }] } }, { systems: { terms: { field: 'is', size } } }),
    ]);
    const bucketsOf = (response: estypes.SearchResponse): Map<string, any> =>
      new Map((((response.aggregations as any)?.systems?.buckets ?? []) as Bucket[]).map((bucket) => [String(bucket.key), bucket]));
    const lastBy = bucketsOf(last);
    const receivedBy = bucketsOf(received);
    const refusedBy = bucketsOf(refused);
    const hours = (range.toMillis - range.fromMillis) / HOUR_MILLIS;
    return systems.map((system) => {
      const lastMillis = lastBy.get(system.code)?.last?.value as number | null | undefined;
      const count = (receivedBy.get(system.code)?.doc_count as number | undefined) ?? 0;
      const refusals = (refusedBy.get(system.code)?.doc_count as number | undefined) ?? 0;
      const seen = new Set(((receivedBy.get(system.code)?.types?.buckets ?? []) as Bucket[]).map((bucket) => String(bucket.key)));
      return {
        code: system.code,
        name: system.name,
        status: system.status,
        last_event_received: lastMillis === null || lastMillis === undefined ? null : new Date(lastMillis).toISOString(),
        events_per_hour: rounded(count / hours),
        refusal_rate: count + refusals === 0 ? 0 : refusals / (count + refusals),
        declared_types_never_seen: system.event_types.filter((type) => !seen.has(type)),
      };
    });
  }
}
