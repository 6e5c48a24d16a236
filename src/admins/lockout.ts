/**
 * The lockout rule of the console's sign-in: after `maxFailures` failed sign-ins within `windowMs`,
 * the account and the source address are each locked for `lockMs`. Pure arithmetic over a small
 * state that the lockout store shares between MLog instances.
 */

export interface LockoutPolicy {
  maxFailures: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
  lockMs: number;
}

/** 5 failures → locked for 15 minutes; failures are counted over the last 15 minutes. */
export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

/** The failures of one account or one address, as stored. */
export interface FailureState {
  failures: number;
  /** ISO instant of the first failure counted. */
  window_started_at: string;
  /** ISO instant the lock ends, or null when not locked. */
  locked_until: string | null;
}

/** The instant the lock of `state` ends, when it is locked at `now`. */
export function lockedUntil(state: FailureState | undefined, now: Date): Date | undefined {
  if (state?.locked_until == null) return undefined;
  const until = new Date(state.locked_until);
  return until.getTime() > now.getTime() ? until : undefined;
}

/** The state after one more failure at `now`; `locked` is true when this failure starts a lock. */
export function afterFailure(state: FailureState | undefined, now: Date, policy: LockoutPolicy): { state: FailureState; locked: boolean } {
  const stillLocked = lockedUntil(state, now);
  if (stillLocked !== undefined && state !== undefined) return { state, locked: false };
  const windowOpen = state !== undefined && state.locked_until === null && now.getTime() - new Date(state.window_started_at).getTime() < policy.windowMs;
  const failures = windowOpen ? state.failures + 1 : 1;
  const started = windowOpen ? state.window_started_at : now.toISOString();
  if (failures >= policy.maxFailures) {
    return { state: { failures: 0, window_started_at: now.toISOString(), locked_until: new Date(now.getTime() + policy.lockMs).toISOString() }, locked: true };
  }
  return { state: { failures, window_started_at: started, locked_until: null }, locked: false };
}

/** Whole seconds from `now` until `until`, at least 1 (for Retry-After). */
export function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}
