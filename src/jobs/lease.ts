/**
 * A lease with expiry, so that one MLog instance at a time runs a job on a shared cluster. The
 * decisions are pure functions; the writes go through a LeaseStore whose every write is conditional
 * (create only when absent, replace and remove only at the version read), so of two instances racing
 * for one lease exactly one wins. Expiry is judged on the acquiring instance's clock: keep the TTL
 * far above the clock skew between instances.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { RecordVersion } from '../systems/system-store-type.js';
import type { LeaseRecord, LeaseStore } from './lease-store-type.js';

export type LeaseDecision =
  | { action: 'create' }
  | { action: 'take-over'; previous: LeaseRecord }
  | { action: 'wait'; current: LeaseRecord };

/** True when the lease has expired at `now`. An unreadable expiry counts as expired, so a damaged record cannot block a job forever. */
export function isLeaseExpired(lease: LeaseRecord, now: Date): boolean {
  const expiresAt = Date.parse(lease.expires_at);
  return Number.isNaN(expiresAt) || expiresAt <= now.getTime();
}

/** What to do about a lease found in `current` (undefined: none stored): create it, take over an expired one, or leave it to its holder. */
export function decideLeaseAcquisition(current: LeaseRecord | undefined, now: Date): LeaseDecision {
  if (current === undefined) return { action: 'create' };
  if (isLeaseExpired(current, now)) return { action: 'take-over', previous: current };
  return { action: 'wait', current };
}

/** The record of a lease taken (or renewed) at `now` for `ttlMs`. */
export function leaseRecord(fields: { name: string; holder: string; run_by: string; acquired_at?: string }, now: Date, ttlMs: number): LeaseRecord {
  return {
    name: fields.name,
    holder: fields.holder,
    run_by: fields.run_by,
    acquired_at: fields.acquired_at ?? now.toISOString(),
    expires_at: new Date(now.getTime() + ttlMs).toISOString(),
  };
}

/** True once a third of the lease's time has passed since it was last written, so a renewal keeps a margin of two thirds. */
export function isLeaseRenewalDue(lease: LeaseRecord, now: Date, ttlMs: number): boolean {
  const expiresAt = Date.parse(lease.expires_at);
  if (Number.isNaN(expiresAt)) return true;
  return expiresAt - now.getTime() <= (ttlMs * 2) / 3;
}

/** A unique holder id for one run: host, process and a random part. */
export function newLeaseHolder(): string {
  return `${hostname()}/${process.pid}/${randomUUID()}`;
}

/** A lease this run holds. */
export class HeldLease {
  constructor(
    private readonly store: LeaseStore,
    private record: LeaseRecord,
    private version: RecordVersion,
    private readonly ttlMs: number,
    private readonly clock: () => Date,
  ) {}

  get lease(): LeaseRecord {
    return this.record;
  }

  /**
   * Extends the lease when a third of its time has passed. Resolves false when the lease was lost
   * (it expired and another run took it over): the caller must stop its work.
   */
  async renewIfDue(): Promise<boolean> {
    const now = this.clock();
    if (!isLeaseRenewalDue(this.record, now, this.ttlMs)) return true;
    const renewed = leaseRecord(this.record, now, this.ttlMs);
    const version = await this.store.replace(renewed, this.version);
    if (version === undefined) return false;
    this.record = renewed;
    this.version = version;
    return true;
  }

  /** Gives the lease up, if it is still this run's; false when another run had taken it over. */
  release(): Promise<boolean> {
    return this.store.remove(this.record.name, this.version);
  }
}

export type LeaseAcquisition = { acquired: true; lease: HeldLease } | { acquired: false; current: LeaseRecord };

/**
 * Takes the lease `name` for `ttlMs` unless another run holds it unexpired. Of several runs trying
 * at once, exactly one acquires; the others learn who holds it.
 */
export async function acquireLease(
  store: LeaseStore,
  request: { name: string; holder: string; run_by: string; ttlMs: number },
  clock: () => Date = () => new Date(),
): Promise<LeaseAcquisition> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const stored = await store.read(request.name);
    const now = clock();
    const decision = decideLeaseAcquisition(stored?.lease, now);
    if (decision.action === 'wait') return { acquired: false, current: decision.current };
    const record = leaseRecord(request, now, request.ttlMs);
    const version =
      decision.action === 'create' || stored === undefined ? await store.create(record) : await store.replace(record, stored.version);
    if (version !== undefined) return { acquired: true, lease: new HeldLease(store, record, version, request.ttlMs, clock) };
    // Another run wrote the lease between our read and our write: read again to learn who holds it.
  }
  const winner = await store.read(request.name);
  if (winner !== undefined) return { acquired: false, current: winner.lease };
  throw new Error(`The lease "${request.name}" keeps changing; giving up.`);
}
