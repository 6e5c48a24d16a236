import type { AdminRole, Purpose } from './administrator.js';

/** A console session as stored (mlog_sessions), under the SHA-256 of its cookie secret — never the secret. */
export interface SessionRecord {
  /** The session's public id (in audit records); not the cookie secret. */
  id: string;
  username: string;
  role: AdminRole;
  source: 'local' | 'oidc';
  csrf_token: string;
  purpose: Purpose | null;
  address: string;
  created_at: string;
  last_seen_at: string;
}

/** Where console sessions live; shared by every worker and instance. */
export interface SessionStore {
  create(secretHash: string, session: SessionRecord): Promise<void>;
  get(secretHash: string): Promise<SessionRecord | undefined>;
  /** Replaces the session (last_seen_at, purpose). */
  replace(secretHash: string, session: SessionRecord): Promise<void>;
  remove(secretHash: string): Promise<void>;
}
