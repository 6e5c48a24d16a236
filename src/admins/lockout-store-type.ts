import type { FailureState } from './lockout.js';

/** The version of a stored failure state, for conditional writes. */
export interface LockoutVersion {
  seqNo: number;
  primaryTerm: number;
}

/**
 * Failed sign-ins per key ("account:<username>", "address:<ip>"), shared by every MLog instance.
 * Writes are conditional, so failures counted at once by two instances are both counted.
 */
export interface LockoutStore {
  read(key: string): Promise<{ state: FailureState; version: LockoutVersion } | undefined>;
  /** Stores the first state of `key`; false when one exists already. */
  create(key: string, state: FailureState): Promise<boolean>;
  /** Replaces the state read at `version`; false when it changed meanwhile. */
  replace(key: string, state: FailureState, version: LockoutVersion): Promise<boolean>;
  remove(key: string): Promise<void>;
}
