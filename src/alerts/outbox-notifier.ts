import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../logging/logger.js';
import { newLeaseHolder } from '../jobs/lease.js';
import type { AlertChannel, AlertNotification, AlertNotifier } from './alert-notifier-type.js';
import type { AlertOutboxStore, OutboxEntry, StoredOutboxEntry } from './alert-outbox-store-type.js';
import { eventRefs, type ChannelSender, type DeliveryOutcome } from './alert-delivery.js';
import { nextAttemptAt } from './retry-backoff.js';

export interface OutboxNotifierSettings {
  /** How long after enqueue attempts go on (MLOG_ALERT_RETRY_MINUTES). */
  retryMs: number;
  /** The wait after the first failed attempt; it doubles after each (MLOG_ALERT_RETRY_FIRST_DELAY_SECONDS). */
  firstRetryDelayMs: number;
  /** The bound of one attempt (MLOG_ALERT_DELIVERY_TIMEOUT_SECONDS). */
  attemptTimeoutMs: number;
  /** How often the outbox is read for entries due (another instance's expired claims, retries); an enqueue wakes it at once. */
  pollMs?: number;
  /** Finished entries are deleted this long after they finish. */
  keepFinishedMs?: number;
}

export interface OutboxNotifierParts {
  store: AlertOutboxStore;
  audit: AuditLog;
  logger: Logger;
  senders: { webhook: ChannelSender; email: ChannelSender };
  settings: OutboxNotifierSettings;
  random?: () => number;
}

/** Entries attempted at once by one instance. */
const BATCH = 20;
const DEFAULT_POLL_MS = 5_000;
const DEFAULT_KEEP_FINISHED_MS = 7 * 24 * 60 * 60_000;
const PURGE_EVERY_MS = 60 * 60_000;
/** A claim outlives the attempt's timeout by this much, so a slow attempt is never taken over while it runs. */
const CLAIM_MARGIN_MS = 30_000;

/** What identifies a channel in the outbox: the kind and where it goes (a webhook's URL, the sorted recipients of an e-mail); never the secret. */
export function channelKey(channel: AlertChannel): string {
  return channel.kind === 'webhook' ? `webhook ${channel.url}` : `email ${[...channel.to].map((to) => to.toLowerCase()).sort().join(',')}`;
}

/** The outbox entry id of a notification for a channel: the same notification enqueued twice (a restart, a second instance) lands on the same document. */
export function outboxEntryId(notificationId: string, channel: AlertChannel): string {
  return createHash('sha256').update(`${notificationId}\n${channelKey(channel)}`).digest('hex');
}

/**
 * The AlertNotifier on a durable outbox. enqueue() stores one entry per channel, created only when
 * absent; while started, a loop attempts the entries that are due: each is first claimed with a
 * conditional write (so of several instances exactly one sends it), then sent, then marked delivered,
 * or scheduled again with exponential backoff and jitter until MLOG_ALERT_RETRY_MINUTES after it was
 * enqueued, then given up. Every delivery is recorded in mlog_audit as MLog.Alert.Notified (with the
 * triggering events), every failed attempt as MLog.Alert.NotificationFailed. An instance that dies
 * mid-send leaves a claim that expires, and the entry is attempted again: a receiver may see a
 * notification twice, with the same X-MLog-Delivery, but never miss one.
 */
export class OutboxNotifier implements AlertNotifier {
  private readonly holder = newLeaseHolder();
  private readonly recordedBy = `alert notifier on ${hostname()}`;
  private loop: Promise<void> | undefined;
  private controller: AbortController | undefined;
  private wake: (() => void) | undefined;
  private woken = false;
  private lastPurge = 0;

  constructor(private readonly parts: OutboxNotifierParts) {}

  async enqueue(notification: AlertNotification, channels: AlertChannel[]): Promise<void> {
    const now = new Date();
    const giveUpAt = new Date(now.getTime() + this.parts.settings.retryMs);
    for (const channel of channels) {
      await this.parts.store.create({
        id: outboxEntryId(notification.id, channel),
        notification,
        channel,
        status: 'pending',
        attempts: 0,
        enqueued_at: now.toISOString(),
        next_attempt_at: now.toISOString(),
        give_up_at: giveUpAt.toISOString(),
      });
    }
    this.nudge();
  }

  start(): void {
    if (this.loop !== undefined) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.run(controller.signal);
  }

  async stop(): Promise<void> {
    const loop = this.loop;
    if (loop === undefined) return;
    this.controller?.abort();
    this.nudge();
    await loop;
    this.loop = undefined;
    this.controller = undefined;
  }

  /** True while started. */
  get running(): boolean {
    return this.loop !== undefined;
  }

  /** Attempts every entry due now, once (what the loop does on each turn); how many were attempted by this instance. */
  async deliverDue(signal: AbortSignal = new AbortController().signal): Promise<number> {
    let attempted = 0;
    for (;;) {
      if (signal.aborted) return attempted;
      const due = await this.parts.store.due(new Date(), BATCH);
      const results = await Promise.all(due.map((stored) => this.attempt(stored, signal)));
      const claimed = results.filter(Boolean).length;
      attempted += claimed;
      if (due.length < BATCH || claimed === 0) return attempted;
    }
  }

  private nudge(): void {
    this.woken = true;
    this.wake?.();
  }

  private async run(signal: AbortSignal): Promise<void> {
    const pollMs = this.parts.settings.pollMs ?? DEFAULT_POLL_MS;
    while (!signal.aborted) {
      this.woken = false;
      let waitMs = pollMs;
      try {
        await this.deliverDue(signal);
        await this.purge();
        const next = await this.parts.store.nextAttemptAt();
        if (next !== undefined) waitMs = Math.max(10, Math.min(pollMs, next.getTime() - Date.now()));
      } catch (error) {
        this.parts.logger.warn('alert notifications could not be delivered now', { error: (error as Error).message });
      }
      if (signal.aborted || this.woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async purge(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    const removed = await this.parts.store.purgeFinished(new Date(Date.now() - (this.parts.settings.keepFinishedMs ?? DEFAULT_KEEP_FINISHED_MS)));
    if (removed > 0) this.parts.logger.info('finished alert notifications removed from the outbox', { removed });
  }

  /** Claims, sends and settles one entry; false when another instance claimed it first. */
  private async attempt(stored: StoredOutboxEntry, signal: AbortSignal): Promise<boolean> {
    const { store, senders, settings } = this.parts;
    const now = new Date();
    const claim: OutboxEntry = {
      ...stored.entry,
      status: 'sending',
      attempts: stored.entry.attempts + 1,
      claimed_by: this.holder,
      claimed_until: new Date(now.getTime() + settings.attemptTimeoutMs + CLAIM_MARGIN_MS).toISOString(),
    };
    const claimedVersion = await store.replace(claim, stored.version);
    if (claimedVersion === undefined) return false;

    const sender = claim.channel.kind === 'webhook' ? senders.webhook : senders.email;
    const outcome: DeliveryOutcome = await sender.send(claim.notification, claim.channel, signal);
    const finishedAt = new Date();
    const { status: _status, claimed_by: _by, claimed_until: _until, ...settled } = claim;
    if (outcome.delivered) {
      await this.record(claim, sender, 'MLog.Alert.Notified', outcome);
      await store.replace({ ...settled, status: 'delivered', finished_at: finishedAt.toISOString() }, claimedVersion);
      return true;
    }
    const next = outcome.permanent === true ? undefined : nextAttemptAt(finishedAt, new Date(claim.give_up_at), claim.attempts, settings.firstRetryDelayMs, this.parts.random);
    await this.record(claim, sender, 'MLog.Alert.NotificationFailed', outcome, next !== undefined);
    await store.replace(
      next === undefined
        ? { ...settled, status: 'failed', last_error: outcome.error, finished_at: finishedAt.toISOString() }
        : { ...settled, status: 'pending', last_error: outcome.error, next_attempt_at: next.toISOString() },
      claimedVersion,
    );
    if (next === undefined) {
      this.parts.logger.warn('alert notification given up', { rule: claim.notification.rule.id, channel: claim.channel.kind, attempts: claim.attempts, error: outcome.error });
    }
    return true;
  }

  private async record(entry: OutboxEntry, sender: ChannelSender, eventType: 'MLog.Alert.Notified' | 'MLog.Alert.NotificationFailed', outcome: DeliveryOutcome, willRetry?: boolean): Promise<void> {
    const { notification, channel } = entry;
    const target = sender.target(channel);
    const kind = channel.kind === 'webhook' ? 'webhook' : 'e-mail';
    const message =
      eventType === 'MLog.Alert.Notified'
        ? `Alert "${notification.rule.name}" (${notification.kind}) was notified by ${kind} to ${target} (attempt ${entry.attempts}).`
        : `Alert "${notification.rule.name}" (${notification.kind}) could not be notified by ${kind} to ${target} (attempt ${entry.attempts}): ${outcome.delivered ? '' : outcome.error}; ${willRetry === true ? 'it will be retried' : 'given up'}.`;
    await this.parts.audit.record({
      event_type: eventType,
      event_message: message,
      user: this.recordedBy,
      rule_id: notification.rule.id,
      rule_name: notification.rule.name,
      rule_type: notification.rule.type,
      notification_id: notification.id,
      notification_kind: notification.kind,
      group: notification.group,
      value: String(notification.value),
      window_from: notification.window.from,
      window_to: notification.window.to,
      since: notification.since,
      channel: channel.kind,
      host: target,
      attempt: entry.attempts,
      event_refs: eventRefs(notification),
      ...(outcome.httpStatus === undefined ? {} : { http_status: outcome.httpStatus }),
      ...(outcome.delivered ? {} : { error: outcome.error, will_retry: willRetry === true }),
    });
  }
}
