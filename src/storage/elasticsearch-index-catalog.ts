import type { Client } from '@elastic/elasticsearch';
import { InternalError } from '../errors/mlog-error.js';
import type { IndexCatalog } from '../jobs/index-catalog-type.js';
import type { IndexSize } from '../jobs/index-catalog-type.js';
import { storageFailure } from './elasticsearch-errors.js';
import { EVENT_INDEX_PREFIX, parseManagedIndexName, PERSONAL_DATA_INDEX_PATTERN, REJECTIONS_INDEX_PATTERN } from './index-names.js';

/** Every index retention may manage: per-IS events, personal data projections, rejections. */
export const MANAGED_INDEX_PATTERNS: readonly string[] = [`${EVENT_INDEX_PREFIX}*`, PERSONAL_DATA_INDEX_PATTERN, REJECTIONS_INDEX_PATTERN];

/** A concrete index name: no wildcard, list, exclusion, date math, nor a system or hidden prefix. */
const CONCRETE_NAME = /^[a-z0-9][a-z0-9._-]*$/;

export class ElasticsearchIndexCatalog implements IndexCatalog {
  /**
   * @param expressions index names or patterns to list; MANAGED_INDEX_PATTERNS unless narrowed (an
   *   operator's `--index`, or a test that must see only the indices it created).
   */
  constructor(
    private readonly client: Client,
    private readonly expressions: readonly string[] = MANAGED_INDEX_PATTERNS,
  ) {}

  async list(): Promise<IndexSize[]> {
    let response;
    try {
      response = await this.client.indices.stats(
        { index: [...this.expressions], metric: ['docs', 'store'], expand_wildcards: 'open' },
        // Accepted by the REST endpoint though absent from the client's types: a named index that is gone is no error.
        { querystring: { ignore_unavailable: true, allow_no_indices: true } },
      );
    } catch (error) {
      throw storageFailure(error, 'the indices cannot be listed now');
    }
    return Object.entries(response.indices ?? {}).map(([name, stats]) => ({
      name,
      docs: stats.primaries?.docs?.count ?? 0,
      bytes: stats.total?.store?.size_in_bytes ?? 0,
      holds: parseManagedIndexName(name),
    }));
  }

  /** Refuses anything but one concrete name, so a pattern can never reach the delete index API. */
  async delete(name: string): Promise<boolean> {
    if (!CONCRETE_NAME.test(name)) throw new InternalError(`Refusing to delete "${name}": not a concrete index name.`);
    try {
      const response = await this.client.indices.delete({ index: name, expand_wildcards: 'none' }, { ignore: [404] });
      return response.acknowledged === true;
    } catch (error) {
      throw storageFailure(error, `the index ${name} cannot be deleted now`);
    }
  }
}
