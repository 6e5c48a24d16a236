import type { LogLeaf } from './evidence-log-entry.js';

/** Positions per leaf chunk: a power of two, so that every full chunk is a subtree of the log's tree. */
export const CHUNK_SIZE = 1024;

/**
 * The leaves of positions [first, first + count) of one evidence log, as stored in
 * mlog_evidence_leaves under id `<log>:<first>` (first a multiple of CHUNK_SIZE). A chunk is
 * rewritten at each checkpoint until it is full; a full chunk carries `root`, the RFC 9162 root of
 * its 1,024 leaves, so a proof needs one chunk's leaves and the roots of the others.
 */
export interface LeafChunk {
  log: string;
  first: number;
  count: number;
  /** The leaves in position order: leaves[i] is position first + i. */
  leaves: LogLeaf[];
  /** Lowercase hex MTH of the chunk's leaves, present once count = CHUNK_SIZE. */
  root?: string;
  /** ISO instant of the last write. */
  updated: string;
}

export function chunkId(log: string, first: number): string {
  return `${log}:${first}`;
}

/** The first position of the chunk holding `position`. */
export function chunkStart(position: number): number {
  return position - (position % CHUNK_SIZE);
}

/** The leaves of a leaf chunk document as stored (none when `leaves` is not an array). */
export function leavesOf(source: { leaves?: unknown }): LogLeaf[] {
  return Array.isArray(source.leaves) ? (source.leaves as LogLeaf[]) : [];
}
