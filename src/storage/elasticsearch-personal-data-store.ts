import type { Client } from '@elastic/elasticsearch';
import type { JsonObject } from '../json/json-object-parser.js';
import type { PersonalDataPage, PersonalDataSearch, PersonalDataStore } from '../events/personal-data-store-type.js';
import { PERSONAL_DATA_FIELDS } from '../events/predefined-fields.js';
import { storageFailure } from './elasticsearch-errors.js';
import { PERSONAL_DATA_INDEX_PATTERN } from './index-names.js';

/** What a search of the projections returns from storage: the contract's fields, @is and @uid; never @id or @received. */
export const PERSONAL_DATA_ANSWER_SOURCE = [...PERSONAL_DATA_FIELDS, '@is', '@uid'];

/** The Elasticsearch search body of a PersonalDataSearch: exact subject, optional event_time range, newest first, ties by @id. */
export function buildPersonalDataSearchBody(search: PersonalDataSearch): Record<string, unknown> {
  const filter: Record<string, unknown>[] = [{ term: { subject: search.subject } }];
  if (search.fromMillis !== undefined || search.toMillis !== undefined) {
    filter.push({
      range: {
        event_time: {
          ...(search.fromMillis === undefined ? {} : { gte: search.fromMillis }),
          ...(search.toMillis === undefined ? {} : { lt: search.toMillis }),
          format: 'epoch_millis',
        },
      },
    });
  }
  return {
    query: { bool: { filter } },
    sort: [{ event_time: { order: 'desc', unmapped_type: 'date' } }, { '@id': { order: 'asc', unmapped_type: 'keyword' } }],
    from: search.from,
    size: search.size,
    track_total_hits: true,
    _source: { includes: PERSONAL_DATA_ANSWER_SOURCE },
  };
}

/** The shared personaldata-* indices, read across every IS (writes go through the event store's acknowledged bulk). */
export class ElasticsearchPersonalDataStore implements PersonalDataStore {
  constructor(private readonly client: Client) {}

  async searchBySubject(search: PersonalDataSearch): Promise<PersonalDataPage> {
    try {
      await this.client.indices.refresh({ index: PERSONAL_DATA_INDEX_PATTERN, ignore_unavailable: true, allow_no_indices: true });
      const response = await this.client.search<JsonObject>({
        index: PERSONAL_DATA_INDEX_PATTERN,
        ignore_unavailable: true,
        allow_no_indices: true,
        ...buildPersonalDataSearchBody(search),
      });
      const total = response.hits.total;
      return {
        total: typeof total === 'number' ? total : (total?.value ?? 0),
        projections: response.hits.hits.map((hit) => hit._source as JsonObject),
      };
    } catch (error) {
      // Never with Elasticsearch's reason, which can quote the query and so the subject.
      throw storageFailure(error, 'the personal-data query cannot be answered now');
    }
  }
}
