import type { Client, estypes } from '@elastic/elasticsearch';
import { CLIENT_QUERY_EVENT_TYPE } from '../events/event-store-type.js';
import { isPredefinedField } from '../events/predefined-fields.js';
import {
  PERSONAL_DATA_RECOMMENDED_FIELDS,
  REFUSAL_REASONS_LISTED,
  REFUSAL_STATUSES,
  TYPE_CHECKED_PREDEFINED_FIELDS,
  TYPE_SAMPLES_PER_FIELD,
  UNDECLARED_TYPES_LISTED,
  type ConformanceFacts,
  type ConformanceFactsQuery,
  type ConformanceFactsSource,
  type CountedName,
  type CustomFieldFacts,
  type PersonalDataRecommendedField,
  type PersonalDataTypeFacts,
  type PredefinedTypeFacts,
  type RefusalFacts,
} from '../onboarding/conformance-facts-type.js';
import { eventIndexPattern, REJECTIONS_INDEX_PATTERN } from './index-names.js';
import { itemFailure, storageFailure } from './elasticsearch-errors.js';

type Query = estypes.QueryDslQueryContainer;
type Aggregate = Record<string, any>;

/** A keyword term that a JSON number or boolean could have produced (a superset: "12" the string matches too). */
const NUMBER_OR_BOOLEAN_TERM = '-.*|[0-9].*|true|false';
const TOO_LONG_REASON = '(reason too long to group)';
const PERSONAL_DATA_TYPES_LISTED = 100;

function totalOf(total: estypes.SearchTotalHits | number | undefined): number {
  return typeof total === 'number' ? total : (total?.value ?? 0);
}

function docCount(aggregate: Aggregate | undefined): number {
  return typeof aggregate?.doc_count === 'number' ? aggregate.doc_count : 0;
}

function termBuckets(aggregate: Aggregate | undefined): { key: string | number; key_as_string?: string; doc_count: number }[] {
  return Array.isArray(aggregate?.buckets) ? aggregate.buckets : [];
}

/** A field absent, null (not indexed) or the empty string. */
function lacking(field: string): Query {
  return { bool: { should: [{ bool: { must_not: { exists: { field } } } }, { term: { [field]: '' } }], minimum_should_match: 1 } };
}

/** The value of a top-level field in a `_source`, also when it was sent with dotted keys ({"a.b": 1}). */
function topLevelValue(source: Record<string, unknown> | undefined, name: string): unknown {
  if (source === undefined) return undefined;
  if (name in source) return source[name];
  const nested = Object.keys(source).filter((key) => key.startsWith(`${name}.`));
  return nested.length === 0 ? undefined : Object.fromEntries(nested.map((key) => [key.slice(name.length + 1), source[key]]));
}

/**
 * Gathers the facts of a conformance report from Elasticsearch: the IS's event indices (only its
 * own: eventIndexPattern excludes codes that extend this one, and every query filters on @is) and
 * the rejections index. Refreshes those indices first, so events registered before the call count.
 * Five requests: a refresh, field capabilities, one aggregation search over the events, one over the
 * rejections, and one multi-search for the per-field counts and samples.
 */
export class ElasticsearchConformanceFacts implements ConformanceFactsSource {
  constructor(private readonly client: Client) {}

  async gather(query: ConformanceFactsQuery): Promise<ConformanceFacts> {
    try {
      return await this.gatherFacts(query);
    } catch (error) {
      throw storageFailure(error, 'the conformance report cannot be made now');
    }
  }

  private async gatherFacts(query: ConformanceFactsQuery): Promise<ConformanceFacts> {
    const index = eventIndexPattern(query.code);
    await this.client.indices.refresh({ index: `${index},${REJECTIONS_INDEX_PATTERN}`, ignore_unavailable: true, allow_no_indices: true });
    const received = { range: { '@received': { gte: query.period.fromMillis, lt: query.period.toMillis, format: 'epoch_millis' } } };
    const ofPeriod: Query[] = [{ term: { '@is': query.code } }, received];
    const ownEvents: Query = { bool: { filter: ofPeriod, must_not: [{ term: { event_type: CLIENT_QUERY_EVENT_TYPE } }] } };

    const [customFieldNames, events, refusals] = await Promise.all([
      this.customFields(index),
      this.eventAggregations(index, query, ofPeriod),
      this.refusals(query, received),
    ]);
    const { customFields, predefinedTypes } = await this.fieldSamples(index, ownEvents, customFieldNames);
    return { ...events, customFields, predefinedTypes, refusals };
  }

  /** Top-level fields of the IS's mappings outside the predefined list and MLog's own @ fields, with their leaves. */
  private async customFields(index: string): Promise<Map<string, string[]>> {
    const response = await this.client.fieldCaps({ index, fields: '*', ignore_unavailable: true, allow_no_indices: true });
    const fields = new Map<string, string[]>();
    for (const [name, byType] of Object.entries(response.fields)) {
      const top = name.split('.')[0] ?? name;
      if (top === '' || top.startsWith('@') || top.startsWith('_') || isPredefinedField(top)) continue;
      const leaves = fields.get(top) ?? [];
      if (name !== top && !Object.keys(byType).every((type) => type === 'object' || type === 'nested')) leaves.push(name);
      fields.set(top, leaves);
    }
    return fields;
  }

  private async eventAggregations(
    index: string,
    query: ConformanceFactsQuery,
    ofPeriod: Query[],
  ): Promise<Pick<ConformanceFacts, 'totalEvents' | 'clientQueries' | 'declaredTypeCounts' | 'undeclaredTypes' | 'otherUndeclaredEvents' | 'personalData' | 'signatures'>> {
    const missingFilters = Object.fromEntries(PERSONAL_DATA_RECOMMENDED_FIELDS.map((field) => [field, lacking(field)]));
    const aggregations: Record<string, estypes.AggregationsAggregationContainer> = {
      client_queries: { filter: { term: { event_type: CLIENT_QUERY_EVENT_TYPE } } },
      own: {
        filter: { bool: { must_not: [{ term: { event_type: CLIENT_QUERY_EVENT_TYPE } }] } },
        aggs: {
          undeclared: { terms: { field: 'event_type', size: UNDECLARED_TYPES_LISTED, exclude: [...query.declaredTypes, CLIENT_QUERY_EVENT_TYPE] } },
          signatures: { filters: { filters: { signed: { term: { '@signed': true } }, unsigned: { term: { '@signed': false } } } } },
          personal_data: {
            // An aggregation's include pattern, not a wildcard query: it works where expensive queries are disabled.
            terms: { field: 'event_type', include: '.*PersonalData.*', size: PERSONAL_DATA_TYPES_LISTED },
            aggs: {
              missing: { filters: { filters: missingFilters } },
              missing_any: { filter: { bool: { should: Object.values(missingFilters), minimum_should_match: 1 } } },
            },
          },
        },
      },
    };
    if (query.declaredTypes.length > 0) {
      aggregations.declared = { filters: { filters: Object.fromEntries(query.declaredTypes.map((type) => [type, { term: { event_type: type } }])) } };
    }
    const response = await this.client.search({
      index,
      ignore_unavailable: true,
      allow_no_indices: true,
      size: 0,
      track_total_hits: true,
      query: { bool: { filter: ofPeriod } },
      aggs: aggregations,
    });
    const aggs = (response.aggregations ?? {}) as Record<string, Aggregate>;
    const own = aggs.own;
    const declaredBuckets = (aggs.declared?.buckets ?? {}) as Record<string, Aggregate>;
    const signatureBuckets = (own?.signatures?.buckets ?? {}) as Record<string, Aggregate>;
    const personalData: PersonalDataTypeFacts[] = termBuckets(own?.personal_data).map((bucket) => {
      const missingBuckets = ((bucket as Aggregate).missing?.buckets ?? {}) as Record<string, Aggregate>;
      return {
        eventType: String(bucket.key),
        count: bucket.doc_count,
        missingAny: docCount((bucket as Aggregate).missing_any),
        missing: Object.fromEntries(PERSONAL_DATA_RECOMMENDED_FIELDS.map((field) => [field, docCount(missingBuckets[field])])) as Record<PersonalDataRecommendedField, number>,
      };
    });
    return {
      totalEvents: docCount(own),
      clientQueries: docCount(aggs.client_queries),
      declaredTypeCounts: query.declaredTypes.map((type) => ({ name: type, count: docCount(declaredBuckets[type]) })),
      undeclaredTypes: termBuckets(own?.undeclared).map((bucket) => ({ name: String(bucket.key), count: bucket.doc_count })),
      otherUndeclaredEvents: typeof own?.undeclared?.sum_other_doc_count === 'number' ? own.undeclared.sum_other_doc_count : 0,
      personalData,
      signatures: { signed: docCount(signatureBuckets.signed), unsigned: docCount(signatureBuckets.unsigned) },
    };
  }

  private async refusals(query: ConformanceFactsQuery, received: Query): Promise<RefusalFacts> {
    const response = await this.client.search({
      index: REJECTIONS_INDEX_PATTERN,
      ignore_unavailable: true,
      allow_no_indices: true,
      size: 0,
      track_total_hits: true,
      query: { bool: { filter: [{ term: { is: query.code } }, received, { terms: { status: [...REFUSAL_STATUSES] } }] } },
      aggs: {
        by_status: { terms: { field: 'status', size: REFUSAL_STATUSES.length } },
        by_reason: { terms: { field: 'reason.keyword', size: REFUSAL_REASONS_LISTED, missing: TOO_LONG_REASON } },
        by_path: { terms: { field: 'path', size: 20 } },
      },
    });
    const aggs = (response.aggregations ?? {}) as Record<string, Aggregate>;
    const counted = (aggregate: Aggregate | undefined): CountedName[] =>
      termBuckets(aggregate).map((bucket) => ({ name: String(bucket.key_as_string ?? bucket.key), count: bucket.doc_count }));
    return {
      total: totalOf(response.hits.total),
      byStatus: termBuckets(aggs.by_status).map((bucket) => ({ status: Number(bucket.key), count: bucket.doc_count })),
      byReason: counted(aggs.by_reason),
      otherReasons: typeof aggs.by_reason?.sum_other_doc_count === 'number' ? aggs.by_reason.sum_other_doc_count : 0,
      byPath: counted(aggs.by_path),
    };
  }

  /**
   * One multi-search: per custom field, its count in the period and its value in the newest event;
   * per type-checked predefined field, the count of events whose value looks like a number or a
   * boolean and the values of the newest TYPE_SAMPLES_PER_FIELD of them.
   */
  private async fieldSamples(
    index: string,
    ownEvents: Query,
    customFieldNames: Map<string, string[]>,
  ): Promise<{ customFields: CustomFieldFacts[]; predefinedTypes: PredefinedTypeFacts[] }> {
    // _msearch takes allow_partial_search_results per search, not as a parameter of the request.
    const header = { index, ignore_unavailable: true, allow_no_indices: true, allow_partial_search_results: false };
    const sample = (field: string, condition: Query, size: number): estypes.MsearchMultisearchBody => ({
      size,
      track_total_hits: true,
      _source: { includes: [field, `${field}.*`] },
      sort: [{ '@received': { order: 'desc', unmapped_type: 'date' } }, { '@id': { order: 'asc', unmapped_type: 'keyword' } }],
      query: { bool: { filter: [ownEvents, condition] } },
    });
    const customNames = [...customFieldNames.keys()].sort();
    const searches: estypes.MsearchRequestItem[] = [];
    for (const name of customNames) searches.push(header, sample(name, { exists: { field: name } }, 1));
    for (const field of TYPE_CHECKED_PREDEFINED_FIELDS) {
      searches.push(header, sample(field, { regexp: { [field]: { value: NUMBER_OR_BOOLEAN_TERM, flags: 'NONE' } } }, TYPE_SAMPLES_PER_FIELD));
    }
    const response = await this.client.msearch<Record<string, unknown>>({ searches });
    const answers = response.responses.map((answer) => {
      if ('error' in answer) throw itemFailure(answer.status, answer.error);
      return answer;
    });
    const customFields = customNames.map((name, position): CustomFieldFacts => {
      const answer = answers[position];
      return {
        name,
        count: totalOf(answer?.hits.total),
        sampleValue: topLevelValue(answer?.hits.hits[0]?._source, name),
        nestedFields: customFieldNames.get(name) ?? [],
      };
    });
    const predefinedTypes = TYPE_CHECKED_PREDEFINED_FIELDS.map((field, position): PredefinedTypeFacts => {
      const answer = answers[customNames.length + position];
      return {
        field,
        candidates: totalOf(answer?.hits.total),
        inspectedValues: (answer?.hits.hits ?? []).map((hit) => topLevelValue(hit._source, field)),
      };
    });
    return { customFields, predefinedTypes };
  }
}
