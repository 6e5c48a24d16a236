import type { RecordVersion } from '../systems/system-store-type.js';

/**
 * What MLog remembers of one Idempotency-Key of one IS. Nothing of the body is kept but its SHA-256,
 * and the key itself only as part of the record id (a SHA-256 of IS code and key).
 */
export interface IdempotencyRecord {
  /** The IS whose key this is. */
  system: string;
  /** The UID claimed for the call; a retry that takes over reuses it (and so the same document ids). */
  uid: string;
  /**
   * pending: a call holds the key and is registering; done: its events are acknowledged;
   * failed: it failed for a reason not its own (503, 500), so a retry may take the same UID over
   * (on the same instance, whose compensating deletes step aside for it).
   */
  state: 'pending' | 'done' | 'failed';
  /** The MLog instance (process) that last held the claim. */
  holder: string;
  /** SHA-256 (hex) of the body bytes of the call that claimed the key. */
  body_sha256: string;
  /** ISO instant of the claim; the key's 24-hour window starts here. */
  claimed_at: string;
  /** ISO instant the events are registered at (@received, and so the monthly index); kept for a take-over. */
  received_at: string;
  /** ISO instant of the last change of state. */
  updated_at: string;
  /** Events registered, once done. */
  events?: number;
  /** The MLog-Receipt the first call was answered with, once done: a replay answers it again. */
  receipt?: string;
}

export interface StoredIdempotencyRecord {
  record: IdempotencyRecord;
  version: RecordVersion;
}

/**
 * Where Idempotency-Key records live, shared by every MLog instance on the cluster. Every write is
 * conditional, so two calls racing for one key cannot both hold it: create() only when no record
 * exists, replace() and remove() only when the record is still at the version the caller read.
 * Reads are real-time (they see every acknowledged write, refreshed or not).
 */
export interface IdempotencyStore {
  read(id: string): Promise<StoredIdempotencyRecord | undefined>;
  /** Stores a record that does not exist yet; undefined when one already exists. */
  create(id: string, record: IdempotencyRecord): Promise<RecordVersion | undefined>;
  /** Replaces the record read at `version`; undefined when it changed or vanished meanwhile. */
  replace(id: string, record: IdempotencyRecord, version: RecordVersion): Promise<RecordVersion | undefined>;
  /** Deletes the record if it is still at `version`; false when it changed or is gone. */
  remove(id: string, version: RecordVersion): Promise<boolean>;
  /** Deletes every record claimed before `before` (stopping early once `signal` is aborted); returns how many. */
  removeClaimedBefore(before: Date, signal?: AbortSignal): Promise<number>;
}
