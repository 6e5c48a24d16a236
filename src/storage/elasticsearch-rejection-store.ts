import type { Client } from '@elastic/elasticsearch';
import { StorageUnavailableError } from '../errors/mlog-error.js';
import { REJECTION_EXCERPT_BYTES, type Rejection, type RejectionStore } from '../rejections/rejection-recorder.js';
import type { RejectionPage, RejectionQuery, RejectionReader, StoredRejection } from '../rejections/rejection-search.js';
import { isStorageUnavailable } from './elasticsearch-errors.js';
import { REJECTIONS_INDEX_PATTERN, rejectionsIndexName } from './index-names.js';

/** The longest start of `bytes` of at most `limit` bytes that does not end inside a UTF-8 sequence. */
function utf8Prefix(bytes: Buffer, limit: number): Buffer {
  if (bytes.length <= limit) return bytes;
  let end = limit;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * The first 4 KB of a body as text, never more than 4,096 bytes in UTF-8: cut at a character
 * boundary, and cut again when bytes that are not UTF-8 (each stored as U+FFFD, 3 bytes) made it grow.
 */
export function bodyExcerpt(body: Uint8Array | string | undefined): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const text = utf8Prefix(bytes, REJECTION_EXCERPT_BYTES).toString('utf8');
  const stored = Buffer.from(text, 'utf8');
  return stored.length <= REJECTION_EXCERPT_BYTES ? text : utf8Prefix(stored, REJECTION_EXCERPT_BYTES).toString('utf8');
}

/** The Elasticsearch search body of a RejectionQuery: newest @received first, ties by request_id. */
export function buildRejectionSearchBody(query: RejectionQuery): Record<string, unknown> {
  const filter: Record<string, unknown>[] = [
    {
      range: {
        '@received': { gte: query.fromMillis, ...(query.toMillis === undefined ? {} : { lt: query.toMillis }), format: 'epoch_millis' },
      },
    },
  ];
  if (query.system !== undefined) filter.push({ term: { is: query.system } });
  if (query.status !== undefined) filter.push({ term: { status: query.status } });
  return {
    query: { bool: { filter } },
    sort: [{ '@received': { order: 'desc', unmapped_type: 'date' } }, { request_id: { order: 'asc', unmapped_type: 'keyword' } }],
    from: query.page * query.pageSize,
    size: query.pageSize,
    track_total_hits: true,
  };
}

export class ElasticsearchRejectionStore implements RejectionStore, RejectionReader {
  constructor(private readonly client: Client) {}

  async writeRejections(rejections: Rejection[]): Promise<void> {
    const response = await this.client.bulk({
      operations: rejections.flatMap((rejection) => [
        { create: { _index: rejectionsIndexName(rejection.at) } },
        {
          '@received': rejection.at.toISOString(),
          status: rejection.status,
          reason: rejection.reason,
          is: rejection.system,
          certificate_fingerprint: rejection.certificateFingerprint,
          source_address: rejection.sourceAddress,
          method: rejection.method,
          path: rejection.path,
          request_id: rejection.requestId,
          body_excerpt: bodyExcerpt(rejection.body),
          body_bytes: rejection.body?.length ?? 0,
        },
      ]),
    });
    if (response.errors) {
      const failed = response.items.filter((item) => (item.create?.status ?? 500) >= 300);
      throw new Error(`${failed.length} of ${rejections.length} rejections were refused by Elasticsearch (${failed[0]?.create?.error?.reason ?? 'unknown reason'})`);
    }
  }

  /** Refreshes the rejections indices first, so a rejection whose bulk write completed is found. */
  async searchRejections(query: RejectionQuery): Promise<RejectionPage> {
    try {
      await this.client.indices.refresh({ index: REJECTIONS_INDEX_PATTERN, ignore_unavailable: true, allow_no_indices: true });
      const response = await this.client.search<StoredRejection>({
        index: REJECTIONS_INDEX_PATTERN,
        ignore_unavailable: true,
        allow_no_indices: true,
        ...buildRejectionSearchBody(query),
      });
      const total = response.hits.total;
      return {
        total: typeof total === 'number' ? total : (total?.value ?? 0),
        rejections: response.hits.hits.map((hit) => hit._source as StoredRejection),
      };
    } catch (error) {
      if (isStorageUnavailable(error)) {
        throw new StorageUnavailableError('Elasticsearch is unavailable; try again later.', { cause: error });
      }
      throw error;
    }
  }
}
