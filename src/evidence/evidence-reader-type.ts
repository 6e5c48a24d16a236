import type { ChainRecord, VerifyScope } from './verifier.js';

/** A scan of the stored events in scope under one point in time, split in `slices` that can be read at once. */
export interface EventScan {
  /**
   * The raw JSON of the search answer holding the next page of `slice` (0 ≤ slice < slices), after
   * the hit whose sort values are `after` (the first page without), as UTF-8 bytes in a buffer of
   * their own (so it can be moved to a worker thread). Read by checkSearchPage (event-check.ts).
   */
  page(slice: number, after: unknown[] | undefined): Promise<Uint8Array>;
  /** Hits per page: a page with fewer is its slice's last. */
  readonly pageSize: number;
  close(): Promise<void>;
}

/** What `mlog verify` reads: the chain, the leaf chunks and the stored events (src/storage/elasticsearch-evidence-reader.ts). */
export interface EvidenceReader {
  /** Every chain entry, in seq order. */
  chain(): AsyncIterable<ChainRecord>;
  /**
   * Every leaf chunk of every log, a search page at a time, as the raw JSON of its answer, not
   * parsed here: a worker thread parses it once, hashes the leaves and sends them back as columns
   * (leafColumnsPage in leaf-columns.ts).
   */
  leafChunkPages(): AsyncIterable<string>;
  /** How many stored events are in scope (for the progress bar). */
  countEvents(scope: VerifyScope): Promise<number>;
  /** Opens a scan of every stored event in scope, `_source` whole, each exactly once across its slices. */
  openEventScan(scope: VerifyScope, slices: number): Promise<EventScan>;
}
