import type { Client } from '@elastic/elasticsearch';
import type { StoredChainEntry } from '../evidence/chain-entry.js';
import { GENESIS_PREVIOUS } from '../evidence/chain-entry.js';
import type { ChainEntryBuilder, EvidenceStore } from '../evidence/evidence-store-type.js';
import { chunkId, type LeafChunk } from '../evidence/leaf-chunk.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { EVIDENCE_INDEX, EVIDENCE_LEAVES_INDEX, eventIndexPattern } from './index-names.js';

const EVIDENCE_UNAVAILABLE = 'the evidence chain cannot be read or written now';
/** Leaf chunks written per _bulk request. */
const CHUNKS_PER_BULK = 8;
/** Tries at the head before giving up: each lost race means another instance appended meanwhile. */
const APPEND_ATTEMPTS = 20;

/**
 * The evidence chain in EVIDENCE_INDEX (document id = seq, created never replaced) and the leaf
 * chunks in EVIDENCE_LEAVES_INDEX (id "<log>:<first>"). The head is found by a search after a
 * refresh, then confirmed by real-time reads of the ids after it, so an entry another instance has
 * just created is never missed.
 */
export class ElasticsearchEvidenceStore implements EvidenceStore {
  /** The newest entry this store has written or read: appends start from it. */
  private knownHead: StoredChainEntry | undefined;

  constructor(private readonly client: Client) {}

  async putChunks(chunks: readonly LeafChunk[]): Promise<void> {
    // A few chunks per request (about 250 KB each): a checkpoint after a busy minute holds hundreds,
    // and one request of them all would hold Elasticsearch (and MLog's memory) for seconds.
    for (let start = 0; start < chunks.length; start += CHUNKS_PER_BULK) {
      const part = chunks.slice(start, start + CHUNKS_PER_BULK);
      try {
        const operations = part.flatMap((chunk) => [{ index: { _index: EVIDENCE_LEAVES_INDEX, _id: chunkId(chunk.log, chunk.first) } }, chunk]);
        const response = await this.client.bulk({ operations, refresh: false });
        if (response.errors) {
          const failed = response.items.find((item) => item.index?.error !== undefined)?.index;
          throw new Error(`leaf chunk ${failed?._id ?? ''} refused: ${failed?.error?.type ?? 'unknown'}`);
        }
      } catch (error) {
        throw storageFailure(error, 'the evidence log leaves cannot be written now');
      }
    }
  }

  async readChunks(log: string, from: number, to: number, withLeaves: boolean): Promise<LeafChunk[]> {
    if (to <= from) return [];
    try {
      await this.client.indices.refresh({ index: EVIDENCE_LEAVES_INDEX, ignore_unavailable: true });
      const chunks: LeafChunk[] = [];
      let after: number | undefined;
      for (;;) {
        const response = await this.client.search<LeafChunk>({
          index: EVIDENCE_LEAVES_INDEX,
          ignore_unavailable: true,
          size: withLeaves ? 50 : 1000,
          query: { bool: { filter: [{ term: { log } }, { range: { first: { gte: from, lt: to } } }] } },
          sort: [{ first: 'asc' }],
          ...(withLeaves ? {} : { _source: { excludes: ['leaves'] } }),
          ...(after === undefined ? {} : { search_after: [after] }),
        });
        const hits = response.hits.hits;
        for (const hit of hits) if (hit._source !== undefined) chunks.push(hit._source);
        if (hits.length === 0 || hits.length < (withLeaves ? 50 : 1000)) return chunks;
        after = (hits.at(-1)?._source as LeafChunk).first;
      }
    } catch (error) {
      throw storageFailure(error, 'the evidence log leaves cannot be read now');
    }
  }

  async append(build: ChainEntryBuilder): Promise<StoredChainEntry> {
    let head = this.knownHead ?? (await this.head());
    for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
      // Entries created after the head we know of (by another instance) come first.
      for (;;) {
        const next = await this.entry(head === undefined ? 0 : head.seq + 1);
        if (next === undefined) break;
        head = next;
      }
      const seq = head === undefined ? 0 : head.seq + 1;
      const { entry } = await build(seq, head === undefined ? GENESIS_PREVIOUS : head.hash);
      try {
        await this.client.create({ index: EVIDENCE_INDEX, id: String(seq), document: entry, refresh: 'wait_for' });
        this.knownHead = entry;
        return entry;
      } catch (error) {
        if (statusOf(error) !== 409) throw storageFailure(error, EVIDENCE_UNAVAILABLE);
      }
    }
    throw storageFailure(new Error(`the head of the evidence chain moved ${APPEND_ATTEMPTS} times`), EVIDENCE_UNAVAILABLE);
  }

  async entry(seq: number): Promise<StoredChainEntry | undefined> {
    try {
      const response = await this.client.get<StoredChainEntry>({ index: EVIDENCE_INDEX, id: String(seq) }, { ignore: [404] });
      return response.found ? response._source : undefined;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageFailure(error, EVIDENCE_UNAVAILABLE);
    }
  }

  async head(): Promise<StoredChainEntry | undefined> {
    const [newest] = await this.searchEntries({ match_all: {} }, 1);
    let head = newest;
    for (;;) {
      const next = await this.entry(head === undefined ? 0 : head.seq + 1);
      if (next === undefined) return head;
      head = next;
    }
  }

  async latestCheckpoint(log: string): Promise<StoredChainEntry | undefined> {
    const [newest] = await this.searchEntries({ bool: { filter: [{ term: { kind: 'checkpoint' } }, { term: { log } }] } }, 1);
    return newest;
  }

  async latestCheckpoints(limit: number): Promise<StoredChainEntry[]> {
    try {
      await this.client.indices.refresh({ index: EVIDENCE_INDEX, ignore_unavailable: true });
      const response = await this.client.search<StoredChainEntry>({
        index: EVIDENCE_INDEX,
        ignore_unavailable: true,
        size: limit,
        query: { term: { kind: 'checkpoint' } },
        collapse: { field: 'log' },
        sort: [{ seq: 'desc' }],
      });
      return response.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [hit._source]));
    } catch (error) {
      throw storageFailure(error, EVIDENCE_UNAVAILABLE);
    }
  }

  async placesOfUid(isCode: string, uid: string, limit: number): Promise<{ id: string; log?: string; position?: number; hash?: string }[]> {
    const index = eventIndexPattern(isCode);
    try {
      await this.client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
      const response = await this.client.search<Record<string, unknown>>({
        index,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: limit,
        query: { bool: { filter: [{ term: { '@uid': uid } }, { term: { '@is': isCode } }] } },
        _source: { includes: ['@id', '@log', '@position', '@hash'] },
        sort: [{ '@id': 'asc' }],
      });
      return response.hits.hits.map((hit) => {
        const source = hit._source ?? {};
        const { '@log': log, '@position': position, '@hash': hash } = source;
        return {
          id: String(source['@id'] ?? hit._id),
          ...(typeof log === 'string' ? { log } : {}),
          ...(typeof position === 'number' ? { position } : {}),
          ...(typeof hash === 'string' ? { hash } : {}),
        };
      });
    } catch (error) {
      throw storageFailure(error, 'the events cannot be read now');
    }
  }

  async entriesFrom(from: number, size: number): Promise<StoredChainEntry[]> {
    const entries = await this.searchEntries({ range: { seq: { gte: from } } }, size, 'asc');
    return entries;
  }

  private async searchEntries(query: object, size: number, order: 'asc' | 'desc' = 'desc'): Promise<StoredChainEntry[]> {
    try {
      await this.client.indices.refresh({ index: EVIDENCE_INDEX, ignore_unavailable: true });
      const response = await this.client.search<StoredChainEntry>({ index: EVIDENCE_INDEX, ignore_unavailable: true, size, query, sort: [{ seq: order }] });
      return response.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [hit._source]));
    } catch (error) {
      if (statusOf(error) === 404) return [];
      throw storageFailure(error, EVIDENCE_UNAVAILABLE);
    }
  }
}
