import type { Client } from '@elastic/elasticsearch';
import {
  REJECTION_EXCERPT_BYTES,
  REJECTION_FIELD_BYTES,
  REJECTION_REASON_BYTES,
  type Rejection,
  type RejectionStore,
  type RejectionWriteOutcome,
} from '../rejections/rejection-recorder.js';
import type { RejectionPage, RejectionQuery, RejectionReader, StoredRejection } from '../rejections/rejection-search.js';
import { storageFailure } from './elasticsearch-errors.js';
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

/** `text` cut to at most `limit` bytes of UTF-8, at a character boundary. */
export function cutUtf8(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= limit ? text : utf8Prefix(bytes, limit).toString('utf8');
}

function cutField(text: string | undefined): string | undefined {
  return text === undefined ? undefined : cutUtf8(text, REJECTION_FIELD_BYTES);
}

/**
 * The document of a rejection: every string cut to its documented length (reason 4,096 bytes, the
 * body excerpt 4,096 bytes, every other field 1,024 bytes), so that whatever the request held, no
 * value is longer than Elasticsearch can index.
 */
export function rejectionDocument(rejection: Rejection): Record<string, unknown> {
  return {
    '@received': rejection.at.toISOString(),
    status: rejection.status,
    reason: cutUtf8(rejection.reason, REJECTION_REASON_BYTES),
    is: cutField(rejection.system),
    certificate_fingerprint: cutField(rejection.certificateFingerprint),
    source_address: cutField(rejection.sourceAddress),
    method: cutField(rejection.method),
    path: cutField(rejection.path),
    request_id: cutField(rejection.requestId),
    body_excerpt: bodyExcerpt(rejection.body),
    body_bytes: rejection.bodyBytes ?? rejection.body?.length ?? 0,
  };
}

/**
 * The reduced form of a rejection that Elasticsearch refused: only what MLog made itself (instant,
 * status, request id, IS code, certificate fingerprint, body size), marked `reduced: true`.
 */
export function reducedRejectionDocument(rejection: Rejection): Record<string, unknown> {
  return {
    '@received': rejection.at.toISOString(),
    status: rejection.status,
    is: cutField(rejection.system),
    certificate_fingerprint: cutField(rejection.certificateFingerprint),
    request_id: cutField(rejection.requestId),
    body_bytes: rejection.bodyBytes ?? rejection.body?.length ?? 0,
    reduced: true,
  };
}

interface RejectionEntry {
  rejection: Rejection;
  document: Record<string, unknown>;
}

/** A status of a bulk item that may pass on a second attempt: a full queue, a shard not available. */
function mayPass(status: number): boolean {
  return status === 429 || status >= 500;
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

  /**
   * Writes the rejections in one bulk. Those Elasticsearch refuses for a reason that may pass (429,
   * 5xx) are written again as they are; those it refuses for their content, again in reduced form.
   * What it refuses even then is counted as lost in the outcome. Rejects only when a bulk request fails.
   */
  async writeRejections(rejections: Rejection[]): Promise<RejectionWriteOutcome> {
    const refused = await this.create(rejections.map((rejection) => ({ rejection, document: rejectionDocument(rejection) })));
    if (refused.length === 0) return { reduced: 0, lost: 0 };
    const again = refused.map(({ entry, status }) => ({
      rejection: entry.rejection,
      document: mayPass(status) ? entry.document : reducedRejectionDocument(entry.rejection),
    }));
    const lost = await this.create(again);
    const isReduced = (document: Record<string, unknown>) => document.reduced === true;
    return {
      reduced: again.filter(({ document }) => isReduced(document)).length - lost.filter(({ entry }) => isReduced(entry.document)).length,
      lost: lost.length,
      ...(lost[0] === undefined ? {} : { lostBecause: `${lost[0].status} ${lost[0].type}` }),
    };
  }

  /** One bulk of creates; the entries Elasticsearch refused, with its status and error type (never its reason, which can quote the document). */
  private async create(entries: RejectionEntry[]): Promise<{ entry: RejectionEntry; status: number; type: string }[]> {
    let response;
    try {
      response = await this.client.bulk({
        operations: entries.flatMap(({ rejection, document }) => [{ create: { _index: rejectionsIndexName(rejection.at) } }, document]),
      });
    } catch (error) {
      throw storageFailure(error, 'the rejections cannot be recorded now');
    }
    if (!response.errors) return [];
    return response.items.flatMap((item, at) => {
      const status = item.create?.status ?? 500;
      const entry = entries[at];
      return status < 300 || entry === undefined ? [] : [{ entry, status, type: item.create?.error?.type ?? 'unknown' }];
    });
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
      throw storageFailure(error, 'the rejections cannot be searched now');
    }
  }
}
