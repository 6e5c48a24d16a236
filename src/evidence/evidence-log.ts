import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { hashLeaf, type LogLeaf } from './evidence-log-entry.js';
import { CHUNK_SIZE } from './leaf-chunk.js';
import { MerkleFrontier } from './merkle.js';

/** A leaf whose write has settled, with its hash (computed once). */
export interface SettledLeaf {
  leaf: LogLeaf;
  hash: Buffer;
}

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
  /** The tree of the chunk being filled: its root is kept when it holds CHUNK_SIZE leaves. */
  private chunk = new MerkleFrontier();
  private readonly chunkRoots = new Map<number, Buffer>();
  private handedOut = 0;
  /** Leaves of positions [retainedFrom, settledSize), kept until persisted (without their hashes: about 250 bytes each). */
  private leaves: LogLeaf[] = [];
  private retainedFrom = 0;
  /** Positions settled beyond the first one still in flight, waiting to join the tree. */
  private readonly waiting = new Map<number, SettledLeaf>();
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
    this.place(
      first,
      leaves.map((leaf) => ({ leaf, hash: hashLeaf(leaf) })),
    );
  }

  /** As settle, with leaf hashes already computed. */
  place(first: number, settled: readonly SettledLeaf[]): void {
    if (first < this.frontier.size || first + settled.length > this.handedOut) {
      throw new RangeError(`positions ${first}…${first + settled.length - 1} of log ${this.id} were not reserved or have settled`);
    }
    for (let offset = 0; offset < settled.length; offset++) {
      if (this.waiting.has(first + offset)) throw new RangeError(`position ${first + offset} of log ${this.id} has settled already`);
    }
    for (const [offset, leaf] of settled.entries()) this.waiting.set(first + offset, leaf);
    this.advance();
  }

  /** Settles positions [first, first + count) as void leaves: their write was refused, nothing of it remains. */
  voidPositions(first: number, count: number, reason: string): void {
    const leaf: LogLeaf = { kind: 'void', reason };
    const hash = hashLeaf(leaf);
    this.place(first, Array.from({ length: count }, () => ({ leaf, hash })));
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

  private advance(): void {
    for (;;) {
      const position = this.frontier.size;
      const settled = this.waiting.get(position);
      if (settled === undefined) break;
      this.waiting.delete(position);
      this.frontier.append(settled.hash);
      this.chunk.append(settled.hash);
      this.leaves.push(settled.leaf);
      if (this.chunk.size === CHUNK_SIZE) {
        this.chunkRoots.set(position + 1 - CHUNK_SIZE, this.chunk.root());
        this.chunk = new MerkleFrontier();
        this.onChunkComplete?.(position + 1 - CHUNK_SIZE);
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
