import type { AdminRole } from './administrator.js';

/** An administrator account as stored (mlog_admins): one document per username. */
export interface AdminAccountRecord {
  username: string;
  role: AdminRole;
  /** argon2id, in the PHC string format; absent for accounts that sign in only through OpenID Connect. */
  password_hash?: string;
  disabled: boolean;
  source: 'local' | 'oidc';
  created_at: string;
  updated_at: string;
}

/** The version of a stored record, for conditional writes (the same as the other stores'). */
export interface AccountVersion {
  seqNo: number;
  primaryTerm: number;
}

/** Where administrator accounts live; shared by every MLog instance. */
export interface AccountStore {
  /** Stores a new account; a ConflictError naming the username when it exists. */
  create(account: AdminAccountRecord): Promise<void>;
  get(username: string): Promise<{ account: AdminAccountRecord; version: AccountVersion } | undefined>;
  /** Replaces the account read at `version`; a ConflictError when it changed meanwhile. */
  replace(account: AdminAccountRecord, version: AccountVersion): Promise<void>;
  /** Every account, by username. */
  list(): Promise<AdminAccountRecord[]>;
}
