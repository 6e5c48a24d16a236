import type { RecordVersion } from '../systems/system-store-type.js';
import type { AlertChannel, AlertNotification } from './alert-notifier-type.js';

/** pending: waiting for its next attempt; sending: claimed by an instance until `claimed_until`; delivered, failed (given up): finished. */
export type OutboxStatus = 'pending' | 'sending' | 'delivered' | 'failed';

/** One notification for one channel, as the outbox keeps it until it is delivered or given up. */
export interface OutboxEntry {
  /** Derived from the notification id and the channel (outboxEntryId), so the same notification is stored once per channel. */
  id: string;
  notification: AlertNotification;
  channel: AlertChannel;
  status: OutboxStatus;
  /** Attempts started so far. */
  attempts: number;
  enqueued_at: string;
  /** Pending: not before then. */
  next_attempt_at: string;
  /** No attempt starts after then (enqueue + MLOG_ALERT_RETRY_MINUTES). */
  give_up_at: string;
  /** The instance that claimed it, and until when (an instance that dies mid-send leaves a claim that expires). */
  claimed_by?: string;
  claimed_until?: string;
  /** The last failure, as recorded in mlog_audit (never a secret nor a URL's credentials). */
  last_error?: string;
  finished_at?: string;
}

export interface StoredOutboxEntry {
  entry: OutboxEntry;
  version: RecordVersion;
}

/**
 * Where notifications wait for delivery; shared by every MLog instance on the cluster. Every write
 * is conditional: create() only when absent (so enqueueing twice stores once), replace() only at
 * the version read (so of two instances claiming an entry, one wins).
 */
export interface AlertOutboxStore {
  /** Stores the entry unless one with its id exists; true when stored now. Resolves once durably stored. */
  create(entry: OutboxEntry): Promise<boolean>;
  read(id: string): Promise<StoredOutboxEntry | undefined>;
  /** Entries to attempt at `now`, earliest first: pending ones whose next attempt is due, and sending ones whose claim expired. */
  due(now: Date, size: number): Promise<StoredOutboxEntry[]>;
  /** The earliest next attempt of a pending entry, if any. */
  nextAttemptAt(): Promise<Date | undefined>;
  /** Replaces the entry read at `version`; undefined when it changed or vanished meanwhile. */
  replace(entry: OutboxEntry, version: RecordVersion): Promise<RecordVersion | undefined>;
  /** Deletes finished (delivered or failed) entries finished before `before`; how many. */
  purgeFinished(before: Date): Promise<number>;
}
