import type { Client, estypes } from '@elastic/elasticsearch';
import type { EventScan, EvidenceReader } from '../evidence/evidence-reader-type.js';
import { jsonValueEnd } from '../evidence/event-check.js';
import type { ChainRecord, VerifyScope } from '../evidence/verifier.js';
import { StorageUnavailableError } from '../errors/mlog-error.js';
import { storageFailure } from './elasticsearch-errors.js';
import { EVENT_INDEX_PREFIX, EVIDENCE_INDEX, EVIDENCE_LEAVES_INDEX, eventIndexPattern } from './index-names.js';

/** Events per page of the scan: Elasticsearch's default result window. */
const EVENT_PAGE = 10_000;
const CHAIN_PAGE = 1_000;
/** Leaf chunks per page: each holds up to 1,024 leaves. */
const CHUNK_PAGE = 50;
const KEEP_ALIVE = '5m';
/** The key of a hit's sort values in a search answer. */
const SORT_KEY = '"sort":[';

/** Every event index, or one IS's (never another IS whose code starts with the same letters). */
function eventIndices(scope: VerifyScope): string {
  return scope.system === undefined ? `${EVENT_INDEX_PREFIX}*` : eventIndexPattern(scope.system);
}

/** Whole months of @received: a leaf names the month of its event, so a run checks months whole. */
function eventQuery(scope: VerifyScope): estypes.QueryDslQueryContainer {
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (scope.fromMonth !== undefined || scope.toMonth !== undefined) {
    const range: Record<string, string> = {};
    if (scope.fromMonth !== undefined) range.gte = `${scope.fromMonth.replace('.', '-')}-01T00:00:00.000Z`;
    if (scope.toMonth !== undefined) range.lt = nextMonthStart(scope.toMonth);
    filter.push({ range: { '@received': range } });
  }
  return filter.length === 0 ? { match_all: {} } : { bool: { filter } };
}

function nextMonthStart(month: string): string {
  const year = Number(month.slice(0, 4));
  const next = Number(month.slice(5, 7)) + 1;
  return next === 13 ? `${year + 1}-01-01T00:00:00.000Z` : `${year}-${String(next).padStart(2, '0')}-01T00:00:00.000Z`;
}

/** The text of an answer read as a stream. */
async function readText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** `mlog verify`'s reads, on Elasticsearch: search_after over the chain and the leaves, a point in time over the event indices. */
export class ElasticsearchEvidenceReader implements EvidenceReader {
  constructor(private readonly client: Client) {}

  async *chain(): AsyncIterable<ChainRecord> {
    let after: estypes.SortResults | undefined;
    for (;;) {
      let response: estypes.SearchResponse<{ jws?: unknown }>;
      try {
        response = await this.client.search<{ jws?: unknown }>({
          index: EVIDENCE_INDEX,
          ignore_unavailable: true,
          size: CHAIN_PAGE,
          _source: ['jws'],
          sort: [{ seq: { order: 'asc', unmapped_type: 'long' } }],
          ...(after === undefined ? {} : { search_after: after }),
        });
      } catch (error) {
        throw storageFailure(error, 'The evidence chain could not be read');
      }
      for (const hit of response.hits.hits) yield { id: hit._id ?? '', jws: typeof hit._source?.jws === 'string' ? hit._source.jws : '' };
      if (response.hits.hits.length < CHAIN_PAGE) return;
      after = response.hits.hits.at(-1)?.sort;
    }
  }

  /**
   * Leaf chunks in pages of CHUNK_PAGE; each answer (up to 50 × 1,024 leaves) is handed over as its
   * text, unparsed (a worker thread parses it). Only the last hit's sort values are read here, for
   * the next page: Elasticsearch writes each hit's `sort` after its `_source`, and nothing after the
   * hits, so the last `"sort":[` of the answer is the last hit's. A page without hits is the end.
   */
  async *leafChunkPages(): AsyncIterable<string> {
    let after: estypes.SortResults | undefined;
    for (;;) {
      let text: string;
      try {
        const body = (await this.client.search(
          {
            index: EVIDENCE_LEAVES_INDEX,
            ignore_unavailable: true,
            size: CHUNK_PAGE,
            sort: [{ log: { order: 'asc', unmapped_type: 'keyword' } }, { first: { order: 'asc', unmapped_type: 'long' } }],
            ...(after === undefined ? {} : { search_after: after }),
          },
          { asStream: true },
        )) as unknown as AsyncIterable<Buffer>;
        text = await readText(body);
      } catch (error) {
        throw storageFailure(error, 'The evidence leaves could not be read');
      }
      const sort = text.lastIndexOf(SORT_KEY);
      if (sort < 0) return;
      yield text;
      const start = sort + SORT_KEY.length - 1;
      const end = jsonValueEnd(text, start);
      if (end < 0) throw storageFailure(new Error('its sort values do not end'), 'The evidence leaves could not be read');
      after = JSON.parse(text.slice(start, end)) as estypes.SortResults;
    }
  }

  async countEvents(scope: VerifyScope): Promise<number> {
    try {
      const answer = await this.client.count({ index: eventIndices(scope), ignore_unavailable: true, allow_no_indices: true, query: eventQuery(scope) });
      // _count answers from the shards that could answer; a count missing some of them is refused.
      const failed = answer._shards.failed;
      if (failed > 0) {
        throw new StorageUnavailableError(`Elasticsearch is unavailable: ${failed} of the ${answer._shards.total} shards of the events in scope could not be read, so the events could not be counted. Retry later.`);
      }
      return answer.count;
    } catch (error) {
      throw storageFailure(error, 'The events could not be counted');
    }
  }

  /**
   * A point in time over the event indices in scope, read in `slices` slices of EVENT_PAGE hits in
   * _shard_doc order; each page is handed over as the raw bytes of the answer, to be parsed where it
   * is checked. The indices are refreshed first, so every event written before a checkpoint read
   * earlier is seen (a checkpoint covers only acknowledged writes).
   */
  async openEventScan(scope: VerifyScope, slices: number): Promise<EventScan> {
    const index = eventIndices(scope);
    let pit: string;
    try {
      await this.client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
      pit = (await this.client.openPointInTime({ index, keep_alive: KEEP_ALIVE, ignore_unavailable: true })).id;
    } catch (error) {
      throw storageFailure(error, 'The event indices could not be opened for reading');
    }
    const query = eventQuery(scope);
    const client = this.client;
    return {
      pageSize: EVENT_PAGE,
      async page(slice, after) {
        try {
          const body = (await client.search(
            {
              pit: { id: pit, keep_alive: KEEP_ALIVE },
              size: EVENT_PAGE,
              query,
              sort: [{ _shard_doc: 'asc' }],
              track_total_hits: false,
              ...(slices > 1 ? { slice: { id: String(slice), max: slices } } : {}),
              ...(after === undefined ? {} : { search_after: after as estypes.SortResults }),
            },
            { asStream: true },
          )) as unknown as AsyncIterable<Buffer>;
          const chunks: Buffer[] = [];
          let length = 0;
          for await (const chunk of body) {
            chunks.push(chunk);
            length += chunk.length;
          }
          // A buffer of its own (not a slice of Node's pool), so it can be moved to a worker thread;
          // not filled with zeros first, as new ArrayBuffer(length) is: every byte is written over.
          const bytes = Buffer.allocUnsafeSlow(length);
          let offset = 0;
          for (const chunk of chunks) {
            bytes.set(chunk, offset);
            offset += chunk.length;
          }
          return bytes;
        } catch (error) {
          throw storageFailure(error, 'The events could not be read');
        }
      },
      async close() {
        await client.closePointInTime({ id: pit }).catch(() => undefined);
      },
    };
  }
}
