import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { hashLeaf, type LogLeaf } from './evidence-log-entry.js';
import { CHUNK_SIZE } from './leaf-chunk.js';
import { MerkleFrontier } from './merkle.js';

/** The leaves of one write, settled before an earlier position: they join the tree together, in order. */
interface WaitingRange {
  leaves: readonly LogLeaf[];
  hashes: readonly Buffer[];
}

/** Leaves of consecutive positions still held by the log, with their hashes: position first + k is leaves[at + k], its hash hashOf(k). */
export interface HeldLeaves {
  leaves: readonly LogLeaf[];
  at: number;
  hashOf(offset: number): Buffer;
}

/** Leaf hashes of the latest settled positions kept for the receipts of their writes, in one buffer (no object per leaf that outlives its write). */
const HELD_HASHES = 8 * CHUNK_SIZE;

/** What a checkpoint covers: the settled prefix of the log, and the leaves of it still held in memory. */
export interface LogSnapshot {
  log: string;
  size: number;
  root: Buffer;
  /** Position of leaves[0]; the leaves run to `size`. */
  leavesFrom: number;
  leaves: readonly LogLeaf[];
  /** The root of each full chunk (CHUNK_SIZE leaves) among them, by its first position. */
  chunkRoots: ReadonlyMap<number, Buffer>;
}

/**
 * A log id no other process can take: the host, the start time and 48 random bits
 * (characters [A-Za-z0-9._-] only, so it fits a document id and a keyword as it is).
 */
export function newLogId(now: Date = new Date(), host: string = hostname()): string {
  const safeHost = host.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40) || 'mlog';
  const time = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${safeHost}-${time}-${randomBytes(6).toString('hex')}`;
}

/**
 * One process's evidence log (docs/evidence.md): positions handed out synchronously, in the order
 * writes reach the store; each position settles once its write is answered (its event's leaf, or a
 * void leaf when the write was refused). The tree grows over the settled prefix only, so a
 * checkpoint never covers a position whose fate is unknown. Holds the leaves not yet persisted.
 */
export class EvidenceLog {
  private readonly frontier = new MerkleFrontier();
  private readonly chunkRoots = new Map<number, Buffer>();
  private handedOut = 0;
  /** Leaves of positions [retainedFrom, settledSize), kept until persisted (without their hashes: about 250 bytes each). */
  private leaves: LogLeaf[] = [];
  /** The hashes of the last HELD_HASHES settled positions, position p at (p mod HELD_HASHES) × 32: what the receipt of a write reuses. */
  private readonly heldHashes = Buffer.alloc(HELD_HASHES * 32);
  private retainedFrom = 0;
  /** Writes settled beyond the first position still in flight, by their first position, waiting to join the tree (one entry per write, not per leaf). */
  private readonly waiting = new Map<number, WaitingRange>();
  private waiters: { until: number; resolve: () => void }[] = [];
  /** Told each time a chunk of CHUNK_SIZE settled leaves is complete (its first position); must not throw or wait. */
  onChunkComplete: ((first: number) => void) | undefined;

  constructor(readonly id: string = newLogId()) {}

  /** Positions handed out so far. */
  get size(): number {
    return this.handedOut;
  }

  /** The length of the prefix of the log whose every position has settled. */
  get settledSize(): number {
    return this.frontier.size;
  }

  /** Hands out `count` consecutive positions and returns the first; synchronous, never waits. */
  reserve(count: number): number {
    const first = this.handedOut;
    this.handedOut += count;
    return first;
  }

  /** Records the leaves written at positions first, first + 1, …: each must have been reserved and not settled. */
  settle(first: number, leaves: readonly LogLeaf[]): void {
    const hashes = new Array<Buffer>(leaves.length);
    for (let offset = 0; offset < leaves.length; offset++) hashes[offset] = hashLeaf(leaves[offset] as LogLeaf);
    this.place(first, leaves, hashes);
  }

  /** Settles positions [first, first + count) as void leaves: their write was refused, nothing of it remains. */
  voidPositions(first: number, count: number, reason: string): void {
    const leaf: LogLeaf = { kind: 'void', reason };
    this.place(first, new Array<LogLeaf>(count).fill(leaf), new Array<Buffer>(count).fill(hashLeaf(leaf)));
  }

  private place(first: number, leaves: readonly LogLeaf[], hashes: readonly Buffer[]): void {
    const count = leaves.length;
    if (first < this.frontier.size || first + count > this.handedOut) {
      throw new RangeError(`positions ${first}…${first + count - 1} of log ${this.id} were not reserved or have settled`);
    }
    if (count === 0) return;
    for (const [start, range] of this.waiting) {
      if (first < start + range.leaves.length && start < first + count) throw new RangeError(`positions ${first}…${first + count - 1} of log ${this.id} have settled already`);
    }
    this.waiting.set(first, { leaves, hashes });
    if (first === this.frontier.size) this.advance();
  }

  /**
   * The leaves of positions [first, first + count) and their hashes, while the log holds them (settled
   * among the last HELD_HASHES positions and not yet forgotten, or settled after a position still in
   * flight); undefined otherwise. A hash read from it is a view the log overwrites later: use it at once.
   */
  held(first: number, count: number): HeldLeaves | undefined {
    const settled = this.frontier.size;
    if (first >= this.retainedFrom && first >= settled - HELD_HASHES && first + count <= settled) {
      const ring = this.heldHashes;
      const hashOf = (offset: number): Buffer => {
        const at = ((first + offset) % HELD_HASHES) * 32;
        return ring.subarray(at, at + 32);
      };
      return { leaves: this.leaves, at: first - this.retainedFrom, hashOf };
    }
    for (const [start, range] of this.waiting) {
      if (first >= start && first + count <= start + range.leaves.length) return { leaves: range.leaves, at: first - start, hashOf: (offset) => range.hashes[first - start + offset] as Buffer };
    }
    return undefined;
  }

  /** The settled prefix: size, root, the leaves from `from` (at least the first retained position) to its end and the roots of their full chunks. */
  snapshot(from: number = this.retainedFrom): LogSnapshot {
    const start = Math.max(from, this.retainedFrom);
    const size = this.frontier.size;
    return { log: this.id, size, root: this.frontier.root(), leavesFrom: start, leaves: this.leaves.slice(start - this.retainedFrom), chunkRoots: new Map(this.chunkRoots) };
  }

  /** Forgets the leaves (and chunk roots) before `position` (persisted); never past the settled prefix. */
  forgetBefore(position: number): void {
    const until = Math.min(position, this.frontier.size);
    if (until <= this.retainedFrom) return;
    this.leaves.splice(0, until - this.retainedFrom);
    this.retainedFrom = until;
    for (const first of this.chunkRoots.keys()) if (first + CHUNK_SIZE <= until) this.chunkRoots.delete(first);
  }

  /** The first position whose leaf is still held. */
  get firstRetained(): number {
    return this.retainedFrom;
  }

  /** Resolves once every position handed out before this call has settled. */
  whenSettled(): Promise<void> {
    if (this.frontier.size === this.handedOut) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ until: this.handedOut, resolve }));
  }

  /** Appends the waiting writes that now follow the settled prefix, in order; full chunks keep their root, taken from the log's tree. */
  private advance(): void {
    for (;;) {
      const start = this.frontier.size;
      const range = this.waiting.get(start);
      if (range === undefined) break;
      this.waiting.delete(start);
      const { leaves, hashes } = range;
      for (let offset = 0; offset < leaves.length; offset++) {
        const hash = hashes[offset] as Buffer;
        const chunkRoot = this.frontier.appendCompleting(hash, CHUNK_SIZE);
        this.leaves.push(leaves[offset] as LogLeaf);
        hash.copy(this.heldHashes, ((start + offset) % HELD_HASHES) * 32);
        if (chunkRoot !== undefined) {
          const position = start + offset;
          this.chunkRoots.set(position + 1 - CHUNK_SIZE, chunkRoot);
          this.onChunkComplete?.(position + 1 - CHUNK_SIZE);
        }
      }
    }
    if (this.waiters.length > 0) {
      const size = this.frontier.size;
      const ready = this.waiters.filter((waiter) => waiter.until <= size);
      this.waiters = this.waiters.filter((waiter) => waiter.until > size);
      for (const waiter of ready) waiter.resolve();
    }
  }
}
