import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { hashLeaf, type LogLeaf } from './evidence-log-entry.js';
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
  leaves: readonly SettledLeaf[];
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
  private handedOut = 0;
  /** Leaves of positions [retainedFrom, handedOut): undefined while their write is in flight. */
  private retained: (SettledLeaf | undefined)[] = [];
  private retainedFrom = 0;
  private waiters: { until: number; resolve: () => void }[] = [];

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
    for (let i = 0; i < count; i++) this.retained.push(undefined);
    return first;
  }

  /** Records the leaves written at positions first, first + 1, …: each must have been reserved and not settled. */
  settle(first: number, leaves: readonly LogLeaf[]): SettledLeaf[] {
    const settled = leaves.map((leaf) => ({ leaf, hash: hashLeaf(leaf) }));
    this.place(first, settled);
    return settled;
  }

  /** As settle, with leaf hashes already computed. */
  place(first: number, settled: readonly SettledLeaf[]): void {
    if (first < this.frontier.size || first + settled.length > this.handedOut) {
      throw new RangeError(`positions ${first}…${first + settled.length - 1} of log ${this.id} were not reserved or have settled`);
    }
    for (const [offset, leaf] of settled.entries()) {
      const slot = first + offset - this.retainedFrom;
      if (this.retained[slot] !== undefined) throw new RangeError(`position ${first + offset} of log ${this.id} has settled already`);
      this.retained[slot] = leaf;
    }
    this.advance();
  }

  /** Settles positions [first, first + count) as void leaves: their write was refused, nothing of it remains. */
  voidPositions(first: number, count: number, reason: string): void {
    const leaf: LogLeaf = { kind: 'void', reason };
    const hash = hashLeaf(leaf);
    this.place(first, Array.from({ length: count }, () => ({ leaf, hash })));
  }

  /** The settled prefix: size, root and the leaves from `from` (at least the first retained position) to its end. */
  snapshot(from: number = this.retainedFrom): LogSnapshot {
    const start = Math.max(from, this.retainedFrom);
    const size = this.frontier.size;
    const leaves = this.retained.slice(start - this.retainedFrom, size - this.retainedFrom) as SettledLeaf[];
    return { log: this.id, size, root: this.frontier.root(), leavesFrom: start, leaves };
  }

  /** Forgets the leaves before `position` (persisted); never past the settled prefix. */
  forgetBefore(position: number): void {
    const until = Math.min(position, this.frontier.size);
    if (until <= this.retainedFrom) return;
    this.retained.splice(0, until - this.retainedFrom);
    this.retainedFrom = until;
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
    let slot = this.frontier.size - this.retainedFrom;
    while (slot < this.retained.length) {
      const settled = this.retained[slot];
      if (settled === undefined) break;
      this.frontier.append(settled.hash);
      slot++;
    }
    if (this.waiters.length > 0) {
      const size = this.frontier.size;
      const ready = this.waiters.filter((waiter) => waiter.until <= size);
      this.waiters = this.waiters.filter((waiter) => waiter.until > size);
      for (const waiter of ready) waiter.resolve();
    }
  }
}
