import type { EventSearch } from '../events/event-store-type.js';

/**
 * What Elasticsearch answers to an event search (its `filter_path`): the total and each hit's `_source`,
 * nothing else (no `_index`, `_id`, `_score` or `sort` per hit), so less is serialised, sent and parsed.
 * With no hit, `hits.hits` is left out altogether.
 */
export const EVENT_SEARCH_FILTER_PATH = 'hits.total.value,hits.hits._source';

/** MLog's own fields, kept out of query answers (the client gets back what it sent, plus @uid; GET /proof/{uid} gives the evidence fields). */
export const INTERNAL_FIELDS_HIDDEN_FROM_ANSWERS = ['@id', '@is', '@received', '@signed', '@kid', '@alg', '@jws', '@jws_ref', '@line', '@hash', '@log', '@position'];

type QueryClause = Record<string, unknown>;

/** The Elasticsearch search body of an EventSearch: always confined to the IS's own documents. */
export function buildEventSearchBody(search: EventSearch): Record<string, unknown> {
  const filter: QueryClause[] = [{ term: { '@is': search.isCode } }];
  const must: QueryClause[] = [];
  if (search.uid !== undefined) filter.push({ term: { '@uid': search.uid } });
  if (search.range !== undefined) {
    filter.push({
      range: { event_time: { gte: search.range.fromMillis, lt: search.range.toMillis, format: 'epoch_millis' } },
    });
  }
  for (const condition of search.conditions) {
    if (condition.match === 'exact') {
      filter.push({ terms: { [condition.field]: condition.values } });
    } else {
      must.push({
        bool: {
          should: condition.values.map((value) => ({ match: { [condition.field]: { query: value, operator: 'and' } } })),
          minimum_should_match: 1,
        },
      });
    }
  }
  const sort =
    search.order === 'newest-first'
      ? [{ event_time: { order: 'desc' } }, { '@id': { order: 'asc' } }]
      : [{ '@id': { order: 'asc' } }];
  const bool: QueryClause = must.length > 0 ? { filter, must } : { filter };
  if (search.excludeUid !== undefined) bool.must_not = [{ term: { '@uid': search.excludeUid } }];
  return {
    query: { bool },
    sort,
    from: search.from,
    size: search.size,
    track_total_hits: true,
    _source: { excludes: INTERNAL_FIELDS_HIDDEN_FROM_ANSWERS },
  };
}
