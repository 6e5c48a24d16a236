import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/logger.js';
import type { StoredChainEntry } from './chain-entry.js';

export interface ChainWebhookSettings {
  /** One attempt that has not been answered 2xx by then has failed. */
  timeoutMs: number;
  /** The wait after the first failure; it doubles after each (at most maxBackoffMs), with jitter. */
  firstBackoffMs: number;
  maxBackoffMs: number;
  /** Attempts per entry before it is given up (and logged). */
  maxAttempts: number;
  /** Entries waiting at most; past it the oldest is given up (and logged). */
  maxQueued: number;
}

export const DEFAULT_CHAIN_WEBHOOK_SETTINGS: ChainWebhookSettings = { timeoutMs: 10_000, firstBackoffMs: 1_000, maxBackoffMs: 60_000, maxAttempts: 10, maxQueued: 1_000 };

/** The body POSTed for an entry: what `mlog checkpoints export` writes for it, one JSON object. */
export function chainEntryExport(entry: StoredChainEntry): Record<string, unknown> {
  return { ...entry };
}

/**
 * MLOG_CHECKPOINT_WEBHOOK_URL: each chain entry this process appends is POSTed as JSON (header
 * X-MLog-Evidence-Seq: its seq, so a receiver can drop a repeat), in order, retried with
 * exponential backoff; `publish` only queues, so neither a checkpoint nor the ingest path ever
 * waits for the receiver. Credentials in the URL are sent as HTTP Basic authentication and never logged.
 */
export class ChainWebhook {
  private readonly queue: StoredChainEntry[] = [];
  private sending: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly settings: ChainWebhookSettings = DEFAULT_CHAIN_WEBHOOK_SETTINGS,
  ) {}

  /** Queues an entry for delivery; returns at once. */
  publish(entry: StoredChainEntry): void {
    if (this.stopping.signal.aborted) return;
    this.queue.push(entry);
    if (this.queue.length > this.settings.maxQueued) {
      const dropped = this.queue.shift() as StoredChainEntry;
      this.logger.warn('checkpoint webhook: queue full, entry given up', { seq: dropped.seq, host: this.host() });
    }
    this.sending ??= this.drain().finally(() => (this.sending = undefined));
  }

  /** Waits up to `graceMs` for the entries queued to be delivered, then gives up the rest. */
  async stop(graceMs: number): Promise<void> {
    const sending = this.sending;
    if (sending !== undefined) await Promise.race([sending, sleep(graceMs, undefined, { ref: false })]);
    this.stopping.abort();
    if (this.queue.length > 0) this.logger.warn('checkpoint webhook: entries not delivered at shutdown', { entries: this.queue.length, host: this.host() });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const entry = this.queue[0];
      if (entry === undefined || this.stopping.signal.aborted) return;
      let backoff = this.settings.firstBackoffMs;
      let delivered = false;
      for (let attempt = 1; attempt <= this.settings.maxAttempts && !this.stopping.signal.aborted; attempt++) {
        const problem = await this.post(entry);
        if (problem === undefined) {
          delivered = true;
          break;
        }
        this.logger.warn('checkpoint webhook: delivery failed; retrying', { seq: entry.seq, attempt, host: this.host(), problem });
        try {
          await sleep(backoff * (0.5 + Math.random() / 2), undefined, { signal: this.stopping.signal, ref: false });
        } catch {
          return;
        }
        backoff = Math.min(backoff * 2, this.settings.maxBackoffMs);
      }
      if (!delivered && !this.stopping.signal.aborted) this.logger.error('checkpoint webhook: entry given up', { seq: entry.seq, host: this.host(), attempts: this.settings.maxAttempts });
      if (this.queue[0] === entry) this.queue.shift();
    }
  }

  /** One attempt; undefined when answered 2xx, else what went wrong (no body, no URL credentials). */
  private post(entry: StoredChainEntry): Promise<string | undefined> {
    const body = Buffer.from(JSON.stringify(chainEntryExport(entry)));
    const url = new URL(this.url);
    const auth = url.username === '' ? undefined : `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const request = send(
        url,
        {
          method: 'POST',
          timeout: this.settings.timeoutMs,
          headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length), 'X-MLog-Evidence-Seq': String(entry.seq) },
          ...(auth === undefined ? {} : { auth }),
        },
        (response) => {
          response.resume();
          const status = response.statusCode ?? 0;
          resolve(status >= 200 && status < 300 ? undefined : `answered ${status}`);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.settings.timeoutMs} ms`)));
      request.on('error', (error) => resolve(error.message));
      request.end(body);
    });
  }

  private host(): string {
    try {
      return new URL(this.url).host;
    } catch {
      return 'an unreadable URL';
    }
  }
}
