import { ConflictError, NotFoundError, UnprocessableContentError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import {
  CHAIN_ENTRY_TYP,
  chainPayloadHash,
  payloadOf,
  type ChainEntryView,
  type ChainPayload,
  type CheckpointPayload,
  type StoredChainEntry,
  type TombstonePayload,
} from './chain-entry.js';
import { canonicalJson } from './event-hash.js';
import { hashLeaf, monthOf, type LogLeaf } from './evidence-log-entry.js';
import type { EvidenceLog, LogSnapshot } from './evidence-log.js';
import type { EvidenceStore } from './evidence-store-type.js';
import { CHUNK_SIZE, chunkStart, type LeafChunk } from './leaf-chunk.js';
import { inclusionProof, largestPowerOfTwoBelow, nodeHash, rangeHasherOf, treeRoot, type RangeHasher } from './merkle.js';
import type { EventProof, LatestCheckpoints, ProofAnswer } from './proof.js';
import { RECEIPT_LISTED_EVENTS_MAX, RECEIPT_TYP, receiptText, type ReceiptPayload } from './receipt.js';
import type { SigningKey } from './signing-key.js';

/** Where one stored event sits in the evidence log, as the ingest path hands it over. */
export interface PlacedEvent {
  id: string;
  log: string;
  position: number;
  hash: string;
}

/** What a receipt is made of: one registration's stored events. */
export interface ReceiptRequest {
  uid: string;
  is: string;
  received: Date;
  events: readonly PlacedEvent[];
}

/** What retention says about an index it is about to delete. */
export interface TombstoneRequest {
  index: string;
  is: string;
  month: string;
  reason: string;
}

export interface EvidenceServiceDependencies {
  /** This process's log; absent with MLOG_EVIDENCE=off or in a command of `mlog` (nothing is registered). */
  log?: EvidenceLog;
  key: SigningKey;
  store: EvidenceStore;
  logger: Logger;
  checkpointSeconds: number;
  /** Told about each entry this process appends (the checkpoint webhook); must not throw or wait. */
  onEntry?: (entry: StoredChainEntry) => void;
}

/** Events of one UID a proof is given for, at most (a /register body of 256 KB holds fewer). */
const MAX_PROOF_EVENTS = 10_000;
/** Full leaf chunks that wait before they are written in the background (about 250 KB each). */
const CHUNKS_AHEAD = 4;
/** Logs listed by GET /checkpoints/latest, newest first. */
const LATEST_LOGS_LISTED = 100;

function viewOf<P extends ChainPayload>(entry: StoredChainEntry): ChainEntryView<P> {
  return { seq: entry.seq, jws: entry.jws, payload: payloadOf(entry) as P };
}

/**
 * The evidence of MLog's record (docs/evidence.md): signs checkpoints of this process's log (never
 * on the ingest path), tombstones for retention, receipts for the registering system; answers the
 * inclusion proofs of a UID and the latest checkpoints.
 */
export class EvidenceService {
  /** Positions whose leaves are in mlog_evidence_leaves (chunks written up to the last checkpoint). */
  private persistedUpTo = 0;
  private lastCheckpointSize = 0;
  private checkpointed = false;
  private closed = false;
  private running: Promise<void> | undefined;
  private persistingChunks = false;
  private nextCheckpointAt: number;

  constructor(private readonly deps: EvidenceServiceDependencies) {
    this.nextCheckpointAt = Date.now() + deps.checkpointSeconds * 1000;
    // Full chunks are written as they fill (a few at a time, in the background), so that the memory
    // the log holds and the write of a checkpoint stay small whatever the rate.
    if (deps.log !== undefined) deps.log.onChunkComplete = (first) => this.chunkComplete(first);
  }

  get log(): EvidenceLog | undefined {
    return this.deps.log;
  }

  get key(): SigningKey {
    return this.deps.key;
  }

  /**
   * Persists the settled leaves not yet stored and appends a signed checkpoint of the settled prefix
   * to the chain; nothing when the log did not grow since the last one (unless `final`). Never runs
   * over itself: a call while one runs waits for it. A failure throws (the caller logs it and the
   * next checkpoint covers the same leaves and more).
   */
  checkpoint(final = false): Promise<StoredChainEntry | undefined> {
    return this.exclusive(() => this.checkpointNow(final));
  }

  /** Runs `work` after whatever checkpoint or chunk write is running (they move persistedUpTo and the log's retained leaves). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.running ?? Promise.resolve(undefined);
    const run = previous.catch(() => undefined).then(work);
    const tracked = run.then(
      () => undefined,
      () => undefined,
    );
    this.running = tracked;
    void tracked.finally(() => {
      if (this.running === tracked) this.running = undefined;
    });
    return run;
  }

  /** A chunk is complete: once CHUNKS_AHEAD of them wait, they are written in the background (a failure waits for the checkpoint, which writes them again). */
  private chunkComplete(first: number): void {
    if (this.persistingChunks || first + CHUNK_SIZE - this.persistedUpTo < CHUNKS_AHEAD * CHUNK_SIZE) return;
    this.persistingChunks = true;
    void this.exclusive(() => this.persistFullChunks())
      .catch((error: unknown) => this.deps.logger.warn('evidence leaves not written now; the next checkpoint writes them', { error: (error as Error).message }))
      .finally(() => (this.persistingChunks = false));
  }

  private async persistFullChunks(): Promise<void> {
    const log = this.deps.log;
    if (log === undefined || this.closed) return;
    const snapshot = log.snapshot(chunkStart(this.persistedUpTo));
    const boundary = chunkStart(snapshot.size);
    if (boundary <= this.persistedUpTo) return;
    await this.deps.store.putChunks(this.chunksOf(log.id, snapshot, boundary));
    this.persistedUpTo = boundary;
    log.forgetBefore(boundary);
  }

  /** The leaf chunks of the snapshot's leaves up to `end`, each full one with its root. */
  private chunksOf(log: string, snapshot: LogSnapshot, end: number): LeafChunk[] {
    const chunks: LeafChunk[] = [];
    const updated = new Date().toISOString();
    for (let first = snapshot.leavesFrom; first < end; first += CHUNK_SIZE) {
      const leaves = snapshot.leaves.slice(first - snapshot.leavesFrom, Math.min(first + CHUNK_SIZE, end) - snapshot.leavesFrom);
      const chunk: LeafChunk = { log, first, count: leaves.length, leaves, updated };
      const root = snapshot.chunkRoots.get(first);
      if (leaves.length === CHUNK_SIZE && root !== undefined) chunk.root = root.toString('hex');
      chunks.push(chunk);
    }
    return chunks;
  }

  /** At shutdown, after the writes in flight have settled: the last checkpoint of the log, marked final. */
  async close(): Promise<StoredChainEntry | undefined> {
    const log = this.deps.log;
    if (log === undefined || this.closed) return undefined;
    await log.whenSettled();
    const entry = await this.checkpoint(true);
    this.closed = true;
    return entry;
  }

  private async checkpointNow(final: boolean): Promise<StoredChainEntry | undefined> {
    const log = this.deps.log;
    this.nextCheckpointAt = Date.now() + this.deps.checkpointSeconds * 1000;
    if (log === undefined || this.closed) return undefined;
    const snapshot = log.snapshot(chunkStart(this.persistedUpTo));
    if (snapshot.size === this.lastCheckpointSize && !(final && (this.checkpointed || snapshot.size > 0))) return undefined;
    const chunks = this.chunksOf(log.id, snapshot, snapshot.size);
    await this.deps.store.putChunks(chunks);
    this.persistedUpTo = snapshot.size;
    log.forgetBefore(chunkStart(snapshot.size));
    const time = new Date().toISOString();
    const entry = await this.append((seq, previous): CheckpointPayload => ({
      kind: 'checkpoint',
      seq,
      log: log.id,
      size: snapshot.size,
      root: snapshot.root.toString('hex'),
      time,
      previous,
      final,
    }));
    this.lastCheckpointSize = snapshot.size;
    this.checkpointed = true;
    return entry;
  }

  /**
   * Stops this process's checkpoints for good: another instance sealed its log (its lease lapsed,
   * docs/evidence.md), so a checkpoint of it now would follow that log's final one.
   */
  retire(): void {
    this.closed = true;
  }

  /** Appends the final checkpoint of another process's log, sealed by this one (its leaves already stored up to `size`). */
  async sealedCheckpoint(log: string, size: number, root: Buffer, sealedBy: string): Promise<StoredChainEntry> {
    const time = new Date().toISOString();
    return this.append((seq, previous): CheckpointPayload => ({ kind: 'checkpoint', seq, log, size, root: root.toString('hex'), time, previous, final: true, sealed_by: sealedBy }));
  }

  /** Appends a signed tombstone for an index retention is about to delete; throws when it cannot be stored. */
  async tombstone(request: TombstoneRequest): Promise<StoredChainEntry> {
    const time = new Date().toISOString();
    return this.append((seq, previous): TombstonePayload => ({ kind: 'tombstone', seq, index: request.index, is: request.is, month: request.month, reason: request.reason, time, previous }));
  }

  private async append(payloadAt: (seq: number, previous: string) => ChainPayload): Promise<StoredChainEntry> {
    const key = this.deps.key;
    const entry = await this.deps.store.append(async (seq, previous) => {
      const payload = payloadAt(seq, previous);
      const jws = await key.sign(canonicalJson(payload), CHAIN_ENTRY_TYP);
      const stored: StoredChainEntry = { ...payload, hash: chainPayloadHash(payload), kid: key.kid, jws, public_key: key.publicJwk };
      return { payload, entry: stored };
    });
    try {
      this.deps.onEntry?.(entry);
    } catch (error) {
      this.deps.logger.warn('evidence chain entry not handed to its publisher', { seq: entry.seq, error: (error as Error).message });
    }
    return entry;
  }

  /**
   * The `MLog-Receipt` of one registration: a compact JWS (typ mlog-receipt+jws) over the RFC 8785
   * text of ReceiptPayload. The events of one call hold consecutive positions of one log.
   */
  async receipt(request: ReceiptRequest): Promise<string | undefined> {
    const [first] = request.events;
    if (first === undefined) return undefined;
    const received = request.received.toISOString();
    const month = monthOf(received);
    const leafHashes = this.receiptLeafHashes(request, first, month);
    const payload: ReceiptPayload = {
      iss: 'MLog',
      uid: request.uid,
      is: request.is,
      received,
      log: first.log,
      first_position: first.position,
      count: request.events.length,
      events_root: treeRoot(leafHashes).toString('hex'),
    };
    if (request.events.length <= RECEIPT_LISTED_EVENTS_MAX) payload.events = request.events.map((event) => ({ id: event.id, position: event.position, hash: event.hash }));
    return this.deps.key.signNow(receiptText(payload), RECEIPT_TYP);
  }

  /**
   * The leaf hash of each event of a receipt: the one the log computed when the write settled, when
   * the log still holds it and its leaf is this event's (same id, `@hash`, IS and month); computed
   * from the event otherwise.
   */
  private receiptLeafHashes(request: ReceiptRequest, first: PlacedEvent, month: string): Buffer[] {
    const events = request.events;
    const log = this.deps.log;
    const held = log !== undefined && first.log === log.id ? log.held(first.position, events.length) : undefined;
    const hashes = new Array<Buffer>(events.length);
    for (let offset = 0; offset < events.length; offset++) {
      const event = events[offset] as PlacedEvent;
      const leaf = held?.leaves[held.at + offset];
      const reusable =
        held !== undefined &&
        leaf?.kind === 'event' &&
        event.log === first.log &&
        event.position === first.position + offset &&
        leaf.id === event.id &&
        leaf.hash === event.hash &&
        leaf.is === request.is &&
        leaf.month === month;
      hashes[offset] = reusable ? held.hashOf(offset) : hashLeaf({ kind: 'event', id: event.id, hash: event.hash, is: request.is, month });
    }
    return hashes;
  }

  /** Seconds until this process's next checkpoint is due (at least 1). */
  secondsToNextCheckpoint(): number {
    return Math.max(1, Math.ceil((this.nextCheckpointAt - Date.now()) / 1000));
  }

  /**
   * The inclusion proof of each event of `uid` in the caller's own indices against the newest
   * checkpoint of its log. 404 when the caller has no event of that UID (another IS's UID looks the
   * same); 409 with Retry-After when an event is not covered by a checkpoint yet; 422 when the events
   * were registered without the evidence log.
   */
  async proof(isCode: string, uid: string): Promise<ProofAnswer> {
    const events = await this.deps.store.placesOfUid(isCode, uid, MAX_PROOF_EVENTS);
    if (events.length === 0) throw new NotFoundError('No data was found for the given parameters.');
    const unlogged = events.find((event) => event.log === undefined || event.position === undefined || event.hash === undefined);
    if (unlogged !== undefined) {
      throw new UnprocessableContentError(`Event ${unlogged.id} of UID ${uid} was registered without the evidence log (before it was turned on, or with MLOG_EVIDENCE=off), so it has no inclusion proof.`);
    }
    const placed = events as PlacedEvent[];
    const checkpoints = new Map<string, StoredChainEntry>();
    for (const log of new Set(placed.map((event) => event.log))) {
      const checkpoint = await this.deps.store.latestCheckpoint(log);
      if (checkpoint !== undefined) checkpoints.set(log, checkpoint);
    }
    const proofs: EventProof[] = [];
    const byLog = new Map<string, PlacedEvent[]>();
    for (const event of placed) {
      const { log, position } = event;
      const checkpoint = checkpoints.get(log);
      if (checkpoint === undefined || checkpoint.kind !== 'checkpoint' || checkpoint.size <= position) {
        const seconds = this.secondsToNextCheckpoint();
        throw new ConflictError(
          `Event ${event.id} of UID ${uid} is not yet covered by a signed checkpoint; the next checkpoint is due in about ${seconds} s (MLOG_CHECKPOINT_SECONDS). Retry after it.`,
          { retryAfterSeconds: seconds },
        );
      }
      byLog.set(log, [...(byLog.get(log) ?? []), event]);
    }
    for (const [log, logged] of byLog) {
      const checkpoint = checkpoints.get(log) as Extract<StoredChainEntry, { kind: 'checkpoint' }>;
      const hasher = await this.rangeHasher(log, checkpoint.size, logged.map((event) => event.position));
      for (const { id, position, hash } of logged) {
        const leaf = hasher.leafAt(position);
        proofs.push({
          id,
          log,
          position,
          hash,
          leaf,
          leaf_hash: hashLeaf(leaf).toString('hex'),
          audit_path: inclusionProof(position, checkpoint.size, hasher.hashRange).map((hash) => hash.toString('hex')),
          tree_size: checkpoint.size,
          checkpoint: checkpoint.seq,
        });
      }
    }
    proofs.sort((a, b) => a.id.localeCompare(b.id));
    return { UID: uid, events: proofs, checkpoints: [...checkpoints.values()].map((entry) => viewOf<CheckpointPayload>(entry)) };
  }

  /**
   * Range hashes of the first `size` leaves of `log` from the stored chunks: the root of each full
   * chunk, and the leaves of the chunks holding `positions` and of the last, partial chunk.
   */
  private async rangeHasher(log: string, size: number, positions: readonly number[]): Promise<{ hashRange: RangeHasher; leafAt: (position: number) => LogLeaf }> {
    const summaries = await this.deps.store.readChunks(log, 0, size, false);
    const roots = new Map<number, Buffer>();
    for (const chunk of summaries) if (chunk.root !== undefined && chunk.count === CHUNK_SIZE) roots.set(chunk.first, Buffer.from(chunk.root, 'hex'));
    const wanted = new Set([...positions.map(chunkStart), chunkStart(size - 1)]);
    const leaves = new Map<number, { leaves: LogLeaf[]; hashRange: RangeHasher }>();
    for (const first of wanted) {
      const [chunk] = await this.deps.store.readChunks(log, first, first + 1, true);
      if (chunk === undefined || chunk.first + chunk.count < Math.min(first + CHUNK_SIZE, size)) {
        throw new ConflictError(`The leaves of log ${log} from position ${first} are not stored yet; retry after the next checkpoint.`, {
          retryAfterSeconds: this.secondsToNextCheckpoint(),
        });
      }
      leaves.set(first, { leaves: chunk.leaves, hashRange: rangeHasherOf(chunk.leaves.map((leaf) => hashLeaf(leaf))) });
    }
    const hashRange: RangeHasher = (start, end) => {
      const first = chunkStart(start);
      if (start === first && end === first + CHUNK_SIZE && roots.has(first)) return roots.get(first) as Buffer;
      if (end <= first + CHUNK_SIZE && leaves.has(first)) return (leaves.get(first) as { hashRange: RangeHasher }).hashRange(start - first, end - first);
      if (end - start <= 1) throw new ConflictError(`The leaves of log ${log} around position ${start} are not stored; the proof cannot be made.`);
      const k = largestPowerOfTwoBelow(end - start);
      return nodeHash(hashRange(start, start + k), hashRange(start + k, end));
    };
    const leafAt = (position: number): LogLeaf => {
      const chunk = leaves.get(chunkStart(position)) as { leaves: LogLeaf[] };
      return chunk.leaves[position - chunkStart(position)] as LogLeaf;
    };
    return { hashRange, leafAt };
  }

  /**
   * Every chain entry with seq ≥ `from`, in seq order, as stored (payload fields, JWS, hash, kid and
   * public key), handed to `each` a page at a time; resolves with how many.
   */
  async exportChain(from: number, each: (entry: StoredChainEntry) => void | Promise<void>): Promise<number> {
    let next = from;
    let count = 0;
    for (;;) {
      const page = await this.deps.store.entriesFrom(next, 500);
      for (const entry of page) {
        await each(entry);
        count++;
        next = entry.seq + 1;
      }
      if (page.length < 500) return count;
    }
  }

  /** The newest entry of the chain, the newest checkpoint of each log, and this process's public key. */
  async latest(): Promise<LatestCheckpoints> {
    const head = await this.deps.store.head();
    const checkpoints = await this.deps.store.latestCheckpoints(LATEST_LOGS_LISTED);
    return {
      ...(head === undefined ? {} : { head: viewOf(head) }),
      checkpoints: checkpoints.map((entry) => viewOf<CheckpointPayload>(entry)),
      key: this.deps.key.publicJwk,
    };
  }
}
