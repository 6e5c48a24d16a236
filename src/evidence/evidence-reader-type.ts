import type { ChainRecord, StoredEventHit, StoredLeafChunk, VerifyScope } from './verifier.js';

/** What `mlog verify` reads: the chain, the leaf chunks and the stored events, in pages (src/storage/elasticsearch-evidence-reader.ts). */
export interface EvidenceReader {
  /** Every chain entry, in seq order. */
  chain(): AsyncIterable<ChainRecord>;
  /** Every leaf chunk of every log. */
  leafChunks(): AsyncIterable<StoredLeafChunk>;
  /** How many stored events are in scope (for the progress bar). */
  countEvents(scope: VerifyScope): Promise<number>;
  /** Every stored event in scope, `_source` whole, in pages; each event exactly once. */
  events(scope: VerifyScope): AsyncIterable<StoredEventHit[]>;
}
