/**
 * Idempotency-Key: MLog's addition to the wire format. The same key from the same IS within 24 hours
 * answers the first call's UID without storing the events again, so a client that lost the answer
 * can retry safely. Independent of any transport (the HTTPS door reads the header; another door may
 * carry the key its own way).
 *
 * How it holds under concurrency and crashes: a call first claims the key by creating a record whose
 * id is SHA-256(IS code, key), holding the UID chosen for the call, the instant it is registered at
 * and the SHA-256 of the body (create only when absent, so of concurrent calls exactly one holds the
 * key; the others are told it is in progress). The holder registers its events under that UID, then
 * marks the record done. A call that failed for a reason of its own (4xx) deletes the claim, so a
 * corrected retry proceeds. One that failed on MLog's side (5xx) marks it failed: a retry of the same
 * body, on any instance, gets a new UID, while the failing instance's compensating deletes remove what
 * the failed call may have left. Never the same UID: a delete of those document ids that Elasticsearch
 * holds up (a paused node) and applies later would remove the retry's acknowledged events. A claim left
 * pending by a crashed instance goes stale: a retry with the same body then takes it over with the
 * SAME UID and instant, so it writes the same document ids into the same index, and create-semantics
 * writes make whatever the first attempt left behind count as written, never twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ConflictError, MLogError, UnprocessableContentError, ValidationError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import type { IdempotencyRecord, IdempotencyStore, StoredIdempotencyRecord } from './idempotency-store-type.js';
import type { IngestService, RegistrationCall } from './ingest-service.js';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export interface IdempotencyPolicy {
  /** How long a key answers with the first call's UID, from its claim. */
  windowMs: number;
  /**
   * How long a pending claim may go without news before a retry may take it over (its instance
   * crashed). Longer than the write deadline plus the event store's late-write window, so that a
   * stalled instance that comes back cannot delete what the take-over wrote.
   */
  staleAfterMs: number;
  /** Retry-After, in seconds, told to a call whose key is held by a call in flight. */
  inProgressRetryAfterSeconds: number;
}

export const DEFAULT_IDEMPOTENCY_POLICY: IdempotencyPolicy = {
  windowMs: 24 * 60 * 60 * 1000,
  staleAfterMs: 180_000,
  inProgressRetryAfterSeconds: 1,
};

const VISIBLE_ASCII_KEY = /^[\x21-\x7e]{1,255}$/;

/** The key of a call, or undefined without one; throws a 400 naming the header when it is not 1–255 visible ASCII characters. */
export function parseIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!VISIBLE_ASCII_KEY.test(raw)) {
    throw new ValidationError(
      `The ${IDEMPOTENCY_KEY_HEADER} header must be 1 to 255 visible ASCII characters (letters, digits, punctuation; no spaces); a UUID is a good key.`,
    );
  }
  return raw;
}

/** The record id of a key: keys are scoped to their IS, and stored only hashed. */
export function idempotencyRecordId(systemCode: string, key: string): string {
  return createHash('sha256').update(`${systemCode.length}:${systemCode}\n${key}`).digest('hex');
}

export function bodySha256(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export type IdempotencyDecision =
  /** No record: claim the key with a new UID. */
  | { action: 'claim' }
  /** A record past its window (or a failed call retried with another body): replace it with a new claim and a new UID. */
  | { action: 'renew' }
  /** A failed or stale pending call, retried with the same body: hold the key again with the same UID and instant. */
  | { action: 'take-over' }
  /** The first call is done: answer its UID, store nothing. */
  | { action: 'replay'; uid: string }
  /** The first call is still in flight. */
  | { action: 'in-progress' }
  /** The key was used for another body. */
  | { action: 'different-body' };

function isBefore(iso: string, limit: number): boolean {
  const at = Date.parse(iso);
  return Number.isNaN(at) || at <= limit;
}

/**
 * What a call holding `bodyHash` does about the record stored for its key (undefined: none), at
 * `now`. A failed claim is always renewed with a new UID, never taken over with its own: the failed
 * call's documents are being deleted, and a delete Elasticsearch applies late (held up on a paused or
 * slow node after MLog stopped waiting for it) must find nothing of the retry under those ids.
 */
export function decideIdempotentCall(stored: IdempotencyRecord | undefined, bodyHash: string, now: Date, policy: IdempotencyPolicy): IdempotencyDecision {
  if (stored === undefined) return { action: 'claim' };
  if (isBefore(stored.claimed_at, now.getTime() - policy.windowMs)) return { action: 'renew' };
  if (stored.body_sha256 !== bodyHash) return stored.state === 'failed' ? { action: 'renew' } : { action: 'different-body' };
  switch (stored.state) {
    case 'done':
      return { action: 'replay', uid: stored.uid };
    case 'failed':
      return { action: 'renew' };
    case 'pending':
      return isBefore(stored.updated_at, now.getTime() - policy.staleAfterMs) ? { action: 'take-over' } : { action: 'in-progress' };
  }
}

/** The first wait before a release that Elasticsearch could not take is tried again, and the longest. */
const RELEASE_RETRY_FIRST_MS = 500;
const RELEASE_RETRY_MAX_MS = 10_000;

/** This process, as the holder of the claims it makes. */
const THIS_INSTANCE = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;

export interface IdempotentRegistration {
  uid: string;
  events: number;
  /** True when the UID is that of an earlier call with the same key, and nothing was stored now. */
  replayed: boolean;
  /** The call's MLog-Receipt; a replay answers the first call's (absent when it had none). */
  receipt?: string;
}

interface HeldKey {
  record: IdempotencyRecord;
  version: RecordVersion;
}

/** Registrations that carry an Idempotency-Key; see the module comment for the promise it keeps. */
export class IdempotencyService {
  constructor(
    private readonly ingest: Pick<IngestService, 'register'>,
    private readonly store: IdempotencyStore,
    private readonly logger: Logger,
    private readonly policy: IdempotencyPolicy = DEFAULT_IDEMPOTENCY_POLICY,
    private readonly clock: () => Date = () => new Date(),
    private readonly instance: string = THIS_INSTANCE,
  ) {}

  async register(call: RegistrationCall, key: string): Promise<IdempotentRegistration> {
    const system = call.caller.system.code;
    const id = idempotencyRecordId(system, key);
    const hash = bodySha256(call.body);
    let held: HeldKey | undefined;
    // A lost race means another call changed the record between our read and our write: read again.
    for (let attempt = 0; attempt < 3 && held === undefined; attempt++) {
      const stored = await this.store.read(id);
      const now = this.clock();
      const decision = decideIdempotentCall(stored?.record, hash, now, this.policy);
      switch (decision.action) {
        case 'replay':
          this.logger.info('idempotent call answered with the first UID', { system, uid: decision.uid });
          return { uid: decision.uid, events: stored?.record.events ?? 0, replayed: true, ...(stored?.record.receipt === undefined ? {} : { receipt: stored.record.receipt }) };
        case 'in-progress':
          throw this.inProgress();
        case 'different-body':
          throw new UnprocessableContentError(
            `This ${IDEMPOTENCY_KEY_HEADER} was already used, within the last 24 hours, for a call with a different body; use a new key for new events.`,
          );
        case 'claim': {
          const record = this.freshClaim(system, hash, call.receivedAt, now);
          held = await this.writeClaim(id, record, () => this.store.create(id, record));
          break;
        }
        case 'renew':
        case 'take-over': {
          const previous = stored as StoredIdempotencyRecord;
          const record =
            decision.action === 'renew'
              ? this.freshClaim(system, hash, call.receivedAt, now)
              : { ...previous.record, state: 'pending' as const, holder: this.instance, updated_at: now.toISOString() };
          held = await this.writeClaim(id, record, () => this.store.replace(id, record, previous.version));
          if (decision.action === 'take-over' && held !== undefined) this.logger.warn('idempotent call takes over an unfinished claim', { system, uid: record.uid });
          break;
        }
      }
    }
    if (held === undefined) throw this.inProgress();

    let registration;
    try {
      registration = await this.ingest.register({ ...call, uid: held.record.uid, receivedAt: new Date(held.record.received_at) });
    } catch (error) {
      await this.release(id, held, error);
      throw error;
    }
    const done: IdempotencyRecord = {
      ...held.record,
      state: 'done',
      events: registration.events,
      updated_at: this.clock().toISOString(),
      ...(registration.receipt === undefined ? {} : { receipt: registration.receipt }),
    };
    try {
      if ((await this.store.replace(id, done, held.version)) === undefined && (await this.ownWrite(id, done)) === undefined) {
        this.logger.warn('idempotency claim changed while its call was registering', { system, uid: done.uid });
      }
    } catch (error) {
      // The events are acknowledged: answer them. The claim stays pending; a retry takes it over after
      // staleAfterMs and rewrites the same document ids, which stores nothing twice.
      this.logger.warn('idempotency claim not marked done', { system, uid: done.uid, error: (error as Error).message });
    }
    return { uid: registration.uid, events: registration.events, replayed: false, ...(registration.receipt === undefined ? {} : { receipt: registration.receipt }) };
  }

  /**
   * Writes this call's claim; the call holds the key when the write is acknowledged, or when it
   * answered "changed meanwhile" but the record stored is this very claim (see ownWrite). When the
   * write fails without an answer (a timeout, a node lost or paused) it may still be applied, late:
   * the claim would then stay pending, and every retry would hear "in progress" until it goes stale
   * (3 minutes). So the call's failure is also recorded on it in the background (see failLateClaim).
   */
  private async writeClaim(id: string, record: IdempotencyRecord, write: () => Promise<RecordVersion | undefined>): Promise<HeldKey | undefined> {
    try {
      const version = await write();
      return version !== undefined ? { record, version } : await this.ownWrite(id, record);
    } catch (error) {
      this.retryRelease(() => this.failLateClaim(id, record), record, RELEASE_RETRY_FIRST_MS);
      throw error;
    }
  }

  /**
   * A claim whose write went unanswered, once Elasticsearch has applied it: marked failed, so that a
   * retry registers at once (under a new UID). Throws while the claim cannot be read, or has not been
   * applied yet (tried again until it would be stale anyway); leaves alone a record that is not this claim.
   */
  private async failLateClaim(id: string, written: IdempotencyRecord): Promise<void> {
    const stored = await this.store.read(id);
    if (stored === undefined) throw new Error('the claim has not been applied (yet)');
    const record = stored.record;
    const same = record.uid === written.uid && record.holder === written.holder && record.state === 'pending' && record.updated_at === written.updated_at;
    if (!same) return;
    const failed: IdempotencyRecord = { ...record, state: 'failed', updated_at: this.clock().toISOString() };
    if ((await this.store.replace(id, failed, stored.version)) === undefined) throw new Error('the claim changed while its failure was recorded');
  }

  /** Deletes the records whose 24-hour window has passed; returns how many. */
  purgeExpired(now: Date = this.clock(), signal?: AbortSignal): Promise<number> {
    return this.store.removeClaimedBefore(new Date(now.getTime() - this.policy.windowMs), signal);
  }

  private freshClaim(system: string, hash: string, receivedAt: Date, now: Date): IdempotencyRecord {
    return {
      system,
      uid: randomUUID(),
      state: 'pending',
      holder: this.instance,
      body_sha256: hash,
      claimed_at: now.toISOString(),
      received_at: receivedAt.toISOString(),
      updated_at: now.toISOString(),
    };
  }

  /**
   * After a failed call: a refusal of the call itself (4xx) frees the key; a failure of MLog's (5xx)
   * leaves it to a retry of the same body. When Elasticsearch cannot take the release either (the
   * shard of the claim is on a node that is lost or cut off), it is tried again in the background
   * (see retryRelease), so a retry of the call is not told "in progress" until the claim goes stale.
   */
  private async release(id: string, held: HeldKey, error: unknown): Promise<void> {
    const refused = error instanceof MLogError && error.status < 500;
    const failed: IdempotencyRecord = { ...held.record, state: 'failed', updated_at: this.clock().toISOString() };
    const attempt = async (record: IdempotencyRecord): Promise<void> => {
      if (refused) await this.store.remove(id, held.version);
      else if ((await this.store.replace(id, record, held.version)) === undefined && (await this.ownWrite(id, record)) === undefined) {
        this.logger.warn('idempotency claim changed before its failure was recorded', { system: held.record.system, uid: held.record.uid });
      }
    };
    try {
      await attempt(failed);
    } catch (releaseError) {
      this.logger.warn('idempotency claim not released after a failed call; retrying in the background', {
        system: held.record.system,
        uid: held.record.uid,
        error: (releaseError as Error).message,
      });
      this.retryRelease(() => attempt(failed), held.record, RELEASE_RETRY_FIRST_MS);
    }
  }

  /**
   * After a write of the key's record answered "changed meanwhile": whether the record stored is the
   * very one this call wrote (same UID, holder, state and instant). It is when the write was applied
   * and then applied again — the client sent it again after a connection to a failing node broke, or
   * Elasticsearch replayed it on a promoted replica — and the second answered the conflict. Then this
   * call holds it; otherwise another call does.
   */
  private async ownWrite(id: string, written: IdempotencyRecord): Promise<HeldKey | undefined> {
    const stored = await this.store.read(id);
    const record = stored?.record;
    if (stored === undefined || record === undefined) return undefined;
    const same = record.uid === written.uid && record.holder === written.holder && record.state === written.state && record.updated_at === written.updated_at;
    return same ? { record, version: stored.version } : undefined;
  }

  /**
   * Tries a release again after `delayMs`, doubling the wait (at most RELEASE_RETRY_MAX_MS), until it
   * is acknowledged or the claim would be stale anyway. Guarded by the claim's version: a claim
   * changed meanwhile (taken over once stale) is left alone.
   */
  private retryRelease(attempt: () => Promise<void>, claim: IdempotencyRecord, delayMs: number): void {
    const staleAt = Date.parse(claim.updated_at) + this.policy.staleAfterMs;
    if (this.clock().getTime() + delayMs >= staleAt) return;
    const timer = setTimeout(() => {
      attempt().then(
        () => this.logger.info('idempotency claim released after a retry', { system: claim.system, uid: claim.uid }),
        () => this.retryRelease(attempt, claim, Math.min(delayMs * 2, RELEASE_RETRY_MAX_MS)),
      );
    }, delayMs);
    timer.unref();
  }

  private inProgress(): ConflictError {
    return new ConflictError(`A call with this ${IDEMPOTENCY_KEY_HEADER} is in progress; retry in a moment to get its UID.`, {
      retryAfterSeconds: this.policy.inProgressRetryAfterSeconds,
    });
  }
}
