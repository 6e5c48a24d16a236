import type { ChainPayload, StoredChainEntry } from './chain-entry.js';
import type { LeafChunk } from './leaf-chunk.js';

/** Builds the stored entry for `seq` chained to `previous` (the hash of entry seq − 1): signs it. */
export type ChainEntryBuilder = (seq: number, previous: string) => Promise<{ payload: ChainPayload; entry: StoredChainEntry }>;

/**
 * Where the evidence lives (mlog_evidence_leaves and mlog_evidence), shared by every MLog instance.
 * Promises: putChunks is durable when it resolves; append creates entry n under id n only when none
 * exists (so two instances never both take n: the loser builds again on the new head, n + 1) and
 * resolves with the entry stored; reads of entries by seq are real-time.
 */
export interface EvidenceStore {
  /** Writes (or rewrites, as they grow) leaf chunks. */
  putChunks(chunks: readonly LeafChunk[]): Promise<void>;
  /** The chunks of `log` whose first position is in [from, to), in order; with their leaves only when `withLeaves`. */
  readChunks(log: string, from: number, to: number, withLeaves: boolean): Promise<LeafChunk[]>;
  /** Appends an entry at the head of the chain; see the promise above. */
  append(build: ChainEntryBuilder): Promise<StoredChainEntry>;
  /** The entry of `seq`, real-time. */
  entry(seq: number): Promise<StoredChainEntry | undefined>;
  /** The newest entry of the chain. */
  head(): Promise<StoredChainEntry | undefined>;
  /** The newest checkpoint of `log`. */
  latestCheckpoint(log: string): Promise<StoredChainEntry | undefined>;
  /** The newest checkpoint of each log, newest first, at most `limit`. */
  latestCheckpoints(limit: number): Promise<StoredChainEntry[]>;
  /** Where each stored event of `uid` in the IS's own indices sits in the evidence log (log and position absent when it was stored without), by id; read-your-writes. */
  placesOfUid(isCode: string, uid: string, limit: number): Promise<{ id: string; log?: string; position?: number; hash?: string }[]>;
  /** Entries with seq ≥ from, in seq order, `size` at a time (the next page starts after the last seq). */
  entriesFrom(from: number, size: number): Promise<StoredChainEntry[]>;
}
