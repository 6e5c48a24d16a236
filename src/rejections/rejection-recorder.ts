import type { Logger } from '../logging/logger.js';

/** A refused call (4xx), as administrators find it in the rejections index. */
export interface Rejection {
  at: Date;
  status: number;
  reason: string;
  /** The calling IS, when it was identified. */
  system?: string;
  /** SHA-256 fingerprint of the presented client certificate, when one was presented. */
  certificateFingerprint?: string;
  sourceAddress: string;
  /** Method and path of the call; absent when the request line could not be read. */
  method?: string;
  path?: string;
  requestId: string;
  /** The body (or query string) of the call; only its first 4 KB are kept. */
  body?: Uint8Array | string;
  /** The size of what was sent, when `body` holds only its beginning (otherwise the size of `body`). */
  bodyBytes?: number;
}

/** What became of a batch that the store wrote: how many it could only store in reduced form, and how many it could not store at all. */
export interface RejectionWriteOutcome {
  reduced: number;
  lost: number;
  /** Why the first lost one was refused (status and error type; never the content). */
  lostBecause?: string;
}

/** Where rejections are written; a batch is written (some perhaps reduced or lost, as the outcome says), or the write rejects. */
export interface RejectionStore {
  writeRejections(rejections: Rejection[]): Promise<RejectionWriteOutcome>;
}

/** The body excerpt is cut to this many bytes of UTF-8. */
export const REJECTION_EXCERPT_BYTES = 4096;
/** The reason (the message answered) is cut to this many bytes of UTF-8. */
export const REJECTION_REASON_BYTES = 4096;
/** Every other text of a rejection (path, method, source address, …) is cut to this many bytes of UTF-8. */
export const REJECTION_FIELD_BYTES = 1024;

/** Why a rejection was not recorded: refused by the store even in reduced form, its batch not written, or the queue full. */
export type RejectionLossCause = 'refused' | 'unwritten' | 'queue-full';

/** Where the recorder counts what it could not record as given (Prometheus counters in MLog). */
export interface RejectionCounters {
  reduced(count: number): void;
  lost(count: number, cause: RejectionLossCause): void;
}

const NO_COUNTERS: RejectionCounters = { reduced: () => {}, lost: () => {} };

/** How much the recorder holds and how often it writes. */
export interface RecorderLimits {
  /** Rejections waiting to be written; beyond this the newest are dropped (and counted). */
  maxQueued: number;
  /** A queue this long is written at once (when no write is in flight). */
  flushAt: number;
  /** Otherwise the queue is written this long after its first rejection. */
  flushEveryMs: number;
}

const DEFAULT_LIMITS: RecorderLimits = { maxQueued: 10_000, flushAt: 500, flushEveryMs: 1_000 };

/**
 * Records refused calls without delaying the refusal: record() only queues, never throws and never
 * waits; writes happen in bulk, one at a time, from a timer or when the queue is long. A full queue
 * drops the newest rejections, counts them in `dropped` and says so in the log, so a flood of bad
 * calls or a failing store can never exhaust memory or turn a 4xx into a 5xx.
 */
export class RejectionRecorder {
  private queue: Rejection[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly limits: RecorderLimits;
  /** Rejections dropped because the queue was full, since start. */
  dropped = 0;
  private droppedReported = 0;

  constructor(
    private readonly store: RejectionStore,
    private readonly logger: Logger,
    limits: Partial<RecorderLimits> = {},
    private readonly counters: RejectionCounters = NO_COUNTERS,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  record(rejection: Rejection): void {
    if (this.queue.length >= this.limits.maxQueued) {
      this.dropped++;
      this.counters.lost(1, 'queue-full');
      return;
    }
    this.queue.push(rejection);
    if (this.queue.length >= this.limits.flushAt && this.flushing === undefined) void this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), this.limits.flushEveryMs);
      this.timer.unref();
    }
  }

  /** Writes what is queued, after any write in flight; resolves when written or given up on (with a log line). Never rejects. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing !== undefined) await this.flushing;
    this.reportDrops();
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const writing = this.write(batch);
    this.flushing = writing;
    await writing;
    if (this.flushing === writing) this.flushing = undefined;
  }

  /** One bulk write; a store that fails, even synchronously, costs a log line and a count, and nothing else. */
  private async write(batch: Rejection[]): Promise<void> {
    let outcome: RejectionWriteOutcome;
    try {
      outcome = await this.store.writeRejections(batch);
    } catch (error) {
      this.counters.lost(batch.length, 'unwritten');
      this.logger.warn('rejections could not be recorded', { count: batch.length, error: (error as Error).message });
      return;
    }
    if (outcome.reduced > 0) {
      this.counters.reduced(outcome.reduced);
      this.logger.warn('rejections recorded in reduced form: Elasticsearch refused them whole', { count: outcome.reduced });
    }
    if (outcome.lost > 0) {
      this.counters.lost(outcome.lost, 'refused');
      this.logger.warn('rejections could not be recorded: Elasticsearch refused them even in reduced form', { count: outcome.lost, error: outcome.lostBecause });
    }
  }

  private reportDrops(): void {
    if (this.dropped === this.droppedReported) return;
    this.logger.warn('rejections dropped: the queue of rejections to record was full', {
      dropped: this.dropped - this.droppedReported,
      droppedSinceStart: this.dropped,
    });
    this.droppedReported = this.dropped;
  }
}
