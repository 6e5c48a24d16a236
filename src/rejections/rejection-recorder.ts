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
  method: string;
  path: string;
  requestId: string;
  /** The body (or query string) of the call; only its first 4 KB are kept. */
  body?: Uint8Array | string;
}

/** Where rejections are written; a batch either lands or is reported as failed. */
export interface RejectionStore {
  writeRejections(rejections: Rejection[]): Promise<void>;
}

export const REJECTION_EXCERPT_BYTES = 4096;
const MAX_QUEUED = 10_000;
const FLUSH_EVERY_MS = 1_000;
const FLUSH_AT = 500;

/**
 * Records refused calls without delaying the refusal: record() only queues; a timer writes the queue in
 * bulk. A full queue drops the newest rejections and counts them, so a flood of bad calls can never
 * exhaust memory or turn a 4xx into a 5xx.
 */
export class RejectionRecorder {
  private queue: Rejection[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  dropped = 0;

  constructor(
    private readonly store: RejectionStore,
    private readonly logger: Logger,
  ) {}

  record(rejection: Rejection): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.queue.push(rejection);
    if (this.queue.length >= FLUSH_AT) void this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_EVERY_MS);
      this.timer.unref();
    }
  }

  /** Writes what is queued; resolves when written (or given up on, with a log line). */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.flushing;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.store.writeRejections(batch).catch((error: unknown) => {
      this.logger.warn('rejections could not be recorded', { count: batch.length, error: (error as Error).message });
    });
    await this.flushing;
    this.flushing = undefined;
  }
}
