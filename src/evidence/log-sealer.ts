import { hostname } from 'node:os';
import type { Logger } from '../logging/logger.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import type { StoredChainEntry } from './chain-entry.js';
import { storedEventHash } from './event-hash.js';
import { hashLeaf, type LogLeaf } from './evidence-log-entry.js';
import type { EvidenceService } from './evidence-service.js';
import type { EvidenceStore } from './evidence-store-type.js';
import { CHUNK_SIZE, chunkStart, type LeafChunk } from './leaf-chunk.js';
import type { LoggedEvent, LogLease, LogLeaseStore } from './log-lease-store-type.js';
import { MerkleFrontier } from './merkle.js';

/** The reason a sealed log's void leaf keeps: no event was stored at its position. */
export const UNACKNOWLEDGED_REASON = 'no event is stored at this position: its write was never acknowledged before the process stopped (sealed)';
/** Lapsed leases looked at per sweep. */
const LEASES_PER_SWEEP = 20;
/** Leaf chunks written per call when a sealed log's leaves are stored. */
const CHUNKS_PER_WRITE = 8;
/**
 * Positions rebuilt from stored events at most. A live process stores its full chunks as soon as
 * four wait, so a crash leaves a few thousand; an event placed far beyond (written behind MLog's
 * back) must not make a sealer build millions of void leaves.
 */
export const MAX_REBUILT_POSITIONS = 200_000;

export interface LogSealerDependencies {
  evidence: EvidenceService;
  store: EvidenceStore;
  leases: LogLeaseStore;
  logger: Logger;
  /** A lease not renewed for this long has lapsed (MLOG_EVIDENCE_SEAL_AFTER_SECONDS). */
  sealAfterSeconds: number;
  /** Who this process is, for people (default "MLog on <host>, pid <n>"). */
  runBy?: string;
}

/** What one sealing did. */
export interface SealedLog {
  log: string;
  /** The final checkpoint signed; absent when the log had one already (its sealer stopped before removing the lease). */
  checkpoint?: StoredChainEntry;
  size: number;
  /** Positions rebuilt from the stored events (after the last stored leaf), and of them the void ones. */
  rebuilt: number;
  voided: number;
}

/**
 * Sealing of orphaned evidence logs (docs/evidence.md, "A process that crashed"): this process's
 * own log holds a lease it renews every third of `sealAfterSeconds`; any instance seals a log whose lease
 * was not renewed for `sealAfterSeconds`, once it has taken the lease over with a write conditional on the
 * version it read (so exactly one instance seals it, and never a log whose process renewed
 * meanwhile). Sealing rebuilds the leaves the process never stored from the stored events, stores
 * them, and signs a final checkpoint naming the sealer.
 */
export class LogSealer {
  private ownVersion: RecordVersion | undefined;
  /** Until when this process's lease is known to hold (the expiry of its last renewal). */
  private validUntil = 0;
  private lost = false;
  private readonly runBy: string;

  constructor(private readonly deps: LogSealerDependencies) {
    this.runBy = deps.runBy ?? `MLog on ${hostname()}, pid ${process.pid}`;
  }

  private get ownLog(): string | undefined {
    return this.deps.evidence.log?.id;
  }

  private leaseFor(log: string, state: LogLease['state'], now: Date): LogLease {
    const holder = this.ownLog ?? 'none';
    return {
      log,
      state,
      holder,
      run_by: this.runBy,
      kid: this.deps.evidence.key.kid,
      acquired_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.deps.sealAfterSeconds * 1000).toISOString(),
    };
  }

  /**
   * Renews this process's lease (creating it the first time); true while this process holds it. False once another instance has sealed its log: then the evidence
   * service is retired (no further checkpoint of the log) and an error is logged once. When
   * Elasticsearch cannot be reached, true until the last renewal's expiry.
   */
  async renew(now: Date = new Date()): Promise<boolean> {
    const log = this.ownLog;
    if (log === undefined || this.lost) return false;
    const lease = this.leaseFor(log, 'live', now);
    try {
      let version = this.ownVersion === undefined ? await this.deps.leases.create(lease) : await this.deps.leases.replace(lease, this.ownVersion);
      if (version === undefined && this.ownVersion === undefined) {
        // Created before (a renewal whose answer was lost): take it back if it is still this log's own.
        const stored = await this.deps.leases.read(log);
        if (stored !== undefined && stored.lease.state === 'live' && stored.lease.holder === log) version = await this.deps.leases.replace(lease, stored.version);
      }
      if (version === undefined) {
        const stored = await this.deps.leases.read(log);
        this.lost = true;
        this.deps.evidence.retire();
        this.deps.logger.error('the lease of this process\'s evidence log was taken over: another instance sealed (or is sealing) it, so this process signs no further checkpoint of it; restart it to open a new log', {
          log,
          by: stored?.lease.run_by ?? 'an instance that has finished sealing it',
        });
        return false;
      }
      this.ownVersion = version;
      this.validUntil = Date.parse(lease.expires_at);
      return true;
    } catch (error) {
      this.deps.logger.warn('the lease of this process\'s evidence log was not renewed now', { log, error: (error as Error).message });
      return now.getTime() < this.validUntil;
    }
  }

  /**
   * Whether this process holds its log's lease now: no instance took it over, and its last renewal
   * is a third of `sealAfterSeconds` (one renewal period, a margin for clocks that differ) from
   * expiring. Its checkpoints go on only then.
   */
  holdsLease(now: Date = new Date()): boolean {
    return !this.lost && now.getTime() < this.validUntil - (this.deps.sealAfterSeconds * 1000) / 3;
  }

  /** At shutdown, after the final checkpoint: removes this process's lease (its log is closed, there is nothing to seal). */
  async release(): Promise<void> {
    const log = this.ownLog;
    if (log === undefined || this.ownVersion === undefined || this.lost) return;
    await this.deps.leases.remove(log, this.ownVersion);
    this.ownVersion = undefined;
  }

  /**
   * Seals every other log of this deployment (its lease names this process's signing key) whose lease
   * has lapsed and that this instance takes over; a failure is logged and left to the next sweep.
   */
  async sealOrphans(now: Date = new Date()): Promise<SealedLog[]> {
    const sealed: SealedLog[] = [];
    const kid = this.deps.evidence.key.kid;
    const ours = (await this.deps.leases.lapsed(now, LEASES_PER_SWEEP + 1, kid)).filter(({ lease }) => lease.log !== this.ownLog);
    for (const { lease, version } of ours.slice(0, LEASES_PER_SWEEP)) {
      let taken = await this.deps.leases.replace(this.leaseFor(lease.log, 'sealing', now), version);
      // Renewed by its process, or taken by another instance, since it was read: not ours to seal.
      if (taken === undefined) continue;
      // Just before signing: the lease is renewed, so a sealing that outlived it (another instance took over) signs nothing.
      const stillOurs = async (): Promise<boolean> => {
        taken = taken === undefined ? undefined : await this.deps.leases.replace(this.leaseFor(lease.log, 'sealing', new Date()), taken);
        return taken !== undefined;
      };
      try {
        const started = process.hrtime.bigint();
        const result = await this.seal(lease.log, stillOurs);
        const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
        if (taken !== undefined) await this.deps.leases.remove(lease.log, taken);
        if (result.checkpoint !== undefined) {
          this.deps.logger.warn('evidence log of a process that is gone sealed', { log: lease.log, size: result.size, rebuilt: result.rebuilt, voided: result.voided, seq: result.checkpoint.seq, lapsed_lease_of: lease.run_by, duration_ms: ms });
        }
        sealed.push(result);
      } catch (error) {
        // The lease stays taken until its expiry; then this or another instance tries again.
        this.deps.logger.warn('evidence log of a process that is gone not sealed now; it is tried again once its lease lapses', { log: lease.log, error: (error as Error).message });
      }
    }
    return sealed;
  }

  /**
   * Seals `log`: its stored leaves (contiguous from position 0; full chunks by their roots), then one
   * leaf per position after them rebuilt from the stored events (the event at that position, or a
   * void leaf when none is stored), written as leaf chunks; then the final checkpoint, signed by this
   * process, once `stillOurs` confirms the lease is still this instance's. Nothing when the log has a
   * final checkpoint already.
   */
  async seal(log: string, stillOurs: () => Promise<boolean> = async () => true): Promise<SealedLog> {
    const { store } = this.deps;
    const latest = await store.latestCheckpoint(log);
    const latestCheckpoint = latest?.kind === 'checkpoint' ? latest : undefined;
    if (latestCheckpoint?.final === true) return { log, size: latestCheckpoint.size, rebuilt: 0, voided: 0 };

    const frontier = new MerkleFrontier();
    let partial: LogLeaf[] = [];
    for (const chunk of await store.readChunks(log, 0, Number.MAX_SAFE_INTEGER, false)) {
      if (chunk.first !== frontier.size) break;
      if (chunk.count === CHUNK_SIZE && chunk.root !== undefined) {
        frontier.appendSubtree(Buffer.from(chunk.root, 'hex'), CHUNK_SIZE);
        continue;
      }
      const [whole] = await store.readChunks(log, chunk.first, chunk.first + 1, true);
      const leaves = whole?.leaves ?? [];
      for (const leaf of leaves) frontier.append(hashLeaf(leaf));
      if (leaves.length < CHUNK_SIZE) {
        partial = leaves;
        break;
      }
    }
    const stored = frontier.size;
    if (latestCheckpoint !== undefined && stored < latestCheckpoint.size) {
      throw new Error(`the stored leaves of log ${log} stop at position ${stored}, below the ${latestCheckpoint.size} of its checkpoint ${latestCheckpoint.seq} (mlog verify reports it); it is not sealed`);
    }

    // The positions after the stored leaves, from the events that name them.
    const byPosition = new Map<number, RebuiltEvent>();
    let end = stored;
    let tooFar: LoggedEvent | undefined;
    await this.deps.leases.eventsOfLog(log, stored, (events) => {
      for (const event of events) {
        if (event.position >= stored + MAX_REBUILT_POSITIONS) {
          tooFar ??= event;
          continue;
        }
        const other = byPosition.get(event.position);
        const rebuilt: RebuiltEvent = { id: event.id, is: event.is, month: event.month, hash: event.hash, holds: holds(event) };
        // Two documents claiming one position: the one whose stored text hashes to its @hash is the event MLog wrote.
        if (other === undefined || (!other.holds && rebuilt.holds)) byPosition.set(event.position, rebuilt);
        end = Math.max(end, event.position + 1);
      }
    });
    if (tooFar !== undefined) {
      throw new Error(`an event of log ${log} (id ${tooFar.id}) is at position ${tooFar.position}, ${MAX_REBUILT_POSITIONS} or more after its stored leaves end at ${stored}; the log is not sealed (mlog verify reports the events past its checkpoints)`);
    }
    const tail: LogLeaf[] = [];
    let voided = 0;
    for (let position = stored; position < end; position++) {
      const event = byPosition.get(position);
      if (event === undefined) voided++;
      tail.push(event === undefined ? { kind: 'void', reason: UNACKNOWLEDGED_REASON } : { kind: 'event', id: event.id, hash: event.hash, is: event.is, month: event.month });
    }
    for (const leaf of tail) frontier.append(hashLeaf(leaf));

    // The leaves from the first chunk not stored whole, rewritten with the rebuilt ones.
    const leaves = [...partial, ...tail];
    const from = stored - partial.length;
    const chunks: LeafChunk[] = [];
    const updated = new Date().toISOString();
    for (let offset = 0; offset < leaves.length; offset += CHUNK_SIZE) {
      const part = leaves.slice(offset, offset + CHUNK_SIZE);
      const chunk: LeafChunk = { log, first: from + offset, count: part.length, leaves: part, updated };
      if (part.length === CHUNK_SIZE) {
        const tree = new MerkleFrontier();
        for (const leaf of part) tree.append(hashLeaf(leaf));
        chunk.root = tree.root().toString('hex');
      }
      chunks.push(chunk);
    }
    if (chunkStart(from) !== from) throw new Error(`the stored leaves of log ${log} end inside a chunk at ${from}`);
    if (!(await stillOurs())) throw new Error(`the lease of log ${log} was taken over by another instance while this one sealed it; it signs nothing`);
    for (let start = 0; start < chunks.length; start += CHUNKS_PER_WRITE) await store.putChunks(chunks.slice(start, start + CHUNKS_PER_WRITE));
    // A log that never stored an event (its process stopped first) has nothing to seal.
    if (frontier.size === 0 && latestCheckpoint === undefined) return { log, size: 0, rebuilt: 0, voided: 0 };
    const checkpoint = await this.deps.evidence.sealedCheckpoint(log, frontier.size, frontier.root(), `${this.runBy}, log ${this.ownLog ?? 'none'}`);
    return { log, checkpoint, size: frontier.size, rebuilt: tail.length, voided };
  }
}

/** What a rebuilt leaf needs of a stored event (its document is not kept). */
interface RebuiltEvent {
  id: string;
  is: string;
  month: string;
  hash: string;
  /** Whether the document as stored hashes to its `@hash`. */
  holds: boolean;
}

function holds(event: LoggedEvent): boolean {
  try {
    return event.hash !== '' && storedEventHash(event.source) === event.hash;
  } catch {
    return false;
  }
}
