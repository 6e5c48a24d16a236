import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { AuthenticationError, StorageUnavailableError, TooManyRequestsError, ValidationError } from '../errors/mlog-error.js';
import type { AdminAccounts } from './admin-accounts.js';
import { USERNAME_PATTERN } from './admin-accounts.js';
import type { AdminRole, ConsoleActor, Purpose } from './administrator.js';
import { afterFailure, DEFAULT_LOCKOUT_POLICY, lockedUntil, secondsUntil, type LockoutPolicy } from './lockout.js';
import type { LockoutStore } from './lockout-store-type.js';
import type { SessionRecord, SessionStore } from './session-store-type.js';

export interface SessionSettings {
  /** A session not used for this long ends (30 minutes). */
  idleMs: number;
  /** A session ends this long after sign-in, used or not (12 hours). */
  absoluteMs: number;
  lockout: LockoutPolicy;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000, lockout: DEFAULT_LOCKOUT_POLICY };

/** A live console session. */
export interface ConsoleSession {
  id: string;
  username: string;
  role: AdminRole;
  source: 'local' | 'oidc';
  csrfToken: string;
  purpose: Purpose | null;
  /** When it ends unless used before (idle timeout), bounded by the absolute timeout. */
  expiresAt: Date;
}

/** A session just started: `secret` goes into the cookie and nowhere else. */
export interface StartedSession {
  secret: string;
  session: ConsoleSession;
}

/** A person already authenticated (by password here, or by an identity provider), with the role MLog gives them. */
export interface AuthenticatedPerson {
  username: string;
  role: AdminRole;
  source: 'local' | 'oidc';
}

const MAX_PURPOSE_CHARACTERS = { legal_basis: 500, reason: 2000 } as const;

/** Reads a stated purpose: `legal_basis` and `reason`, both required, non-blank and bounded. */
export function checkPurpose(body: unknown): Purpose {
  const input = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const read = (field: keyof typeof MAX_PURPOSE_CHARACTERS): string => {
    const value = input[field];
    if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(`"${field}" is required: state the ${field === 'legal_basis' ? 'legal basis' : 'reason'} of your search.`);
    if (value.length > MAX_PURPOSE_CHARACTERS[field]) throw new ValidationError(`"${field}" must be at most ${MAX_PURPOSE_CHARACTERS[field]} characters long.`);
    return value.trim();
  };
  return { legal_basis: read('legal_basis'), reason: read('reason') };
}

function hashOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The actor of a request made in `session` from `address`, as the services that record readings take it. */
export function actorOf(session: ConsoleSession, address: string): ConsoleActor {
  return { username: session.username, role: session.role, purpose: session.purpose, sessionId: session.id, address };
}

/** True when `given` is the session's CSRF token (compared in constant time). */
export function csrfTokenMatches(session: ConsoleSession, given: string | undefined): boolean {
  if (given === undefined) return false;
  const expected = Buffer.from(session.csrfToken);
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * The console's server-side sessions, shared by every worker and instance through the session store:
 * the cookie carries a random secret, the store only its SHA-256. Sign-in by password applies the
 * lockout rule to the account and to the address; every sign-in, failure, lockout and sign-out is
 * recorded in the audit trail before the answer.
 */
export class ConsoleSessions {
  constructor(
    private readonly store: SessionStore,
    private readonly lockouts: LockoutStore,
    private readonly accounts: AdminAccounts,
    private readonly audit: AuditLog,
    readonly settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Starts a session for a person already authenticated (password, OpenID Connect): the one call every sign-in method ends with. */
  async start(person: AuthenticatedPerson, address: string): Promise<StartedSession> {
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock().toISOString();
    const record: SessionRecord = {
      id: randomUUID(),
      username: person.username,
      role: person.role,
      source: person.source,
      csrf_token: randomBytes(32).toString('base64url'),
      purpose: null,
      address,
      created_at: now,
      last_seen_at: now,
    };
    await this.store.create(hashOf(secret), record);
    await this.audit.record({
      event_type: 'MLog.Admin.SignIn',
      event_message: `Administrator "${person.username}" signed in.`,
      user: person.username,
      role: person.role,
      address,
      outcome: 'success',
      method: person.source === 'local' ? 'password' : 'oidc',
      session_id: record.id,
    });
    return { secret, session: this.view(record) };
  }

  /**
   * Signs in with a local account. 401 for a wrong name or password (or a disabled account: the
   * answer does not tell), 429 with Retry-After while the account or the address is locked, and on
   * the failure that locks them.
   */
  async signIn(username: string, password: string, address: string): Promise<StartedSession> {
    const now = this.clock();
    const accountKey = USERNAME_PATTERN.test(username) ? `account:${username}` : undefined;
    const shownName = accountKey === undefined ? '(not a valid username)' : username;
    const keys = [...(accountKey === undefined ? [] : [accountKey]), `address:${address}`];
    const locks = await Promise.all(keys.map(async (key) => lockedUntil((await this.lockouts.read(key))?.state, now)));
    const lockEnds = locks.filter((until): until is Date => until !== undefined).sort((a, b) => b.getTime() - a.getTime())[0];
    if (lockEnds !== undefined) {
      await this.audit.record({ event_type: 'MLog.Admin.SignIn', event_message: `Sign-in as "${shownName}" refused: locked after repeated failures.`, user: shownName, address, outcome: 'locked' });
      throw this.lockedError(lockEnds, now);
    }
    const verified = await this.accounts.verifyPassword(username, password);
    if ('refused' in verified) {
      await this.audit.record({
        event_type: 'MLog.Admin.SignIn',
        event_message: `Sign-in as "${shownName}" failed.`,
        user: shownName,
        address,
        outcome: 'failure',
        reason: verified.refused,
      });
      let lockedUntilNow: Date | undefined;
      for (const key of keys) {
        const until = await this.countFailure(key, now);
        if (until === undefined) continue;
        lockedUntilNow = until;
        const locked = key.startsWith('account:') ? 'account' : 'address';
        await this.audit.record({
          event_type: 'MLog.Admin.Lockout',
          event_message: `${locked === 'account' ? `The account "${shownName}"` : `The address ${address}`} is locked until ${until.toISOString()} after ${this.settings.lockout.maxFailures} failed sign-ins.`,
          user: shownName,
          address,
          locked,
          locked_until: until.toISOString(),
        });
      }
      if (lockedUntilNow !== undefined) throw this.lockedError(lockedUntilNow, now);
      throw new AuthenticationError('The username or the password is wrong.');
    }
    if (accountKey !== undefined) await this.lockouts.remove(accountKey);
    return this.start({ username: verified.account.username, role: verified.account.role, source: 'local' }, address);
  }

  /** The live session of a cookie secret; undefined when there is none or it has ended (idle, absolute, account disabled or removed). */
  async resume(secret: string): Promise<ConsoleSession | undefined> {
    if (secret.length === 0 || secret.length > 128) return undefined;
    const key = hashOf(secret);
    const record = await this.store.get(key);
    if (record === undefined) return undefined;
    const now = this.clock();
    if (this.expiresAt(record).getTime() <= now.getTime()) {
      await this.store.remove(key);
      return undefined;
    }
    // Local and OpenID Connect accounts alike: disabling or removing one ends its sessions, a new role applies at once.
    const account = await this.accounts.find(record.username);
    if (account === undefined || account.disabled || account.source !== record.source) {
      await this.store.remove(key);
      return undefined;
    }
    const role = account.role;
    // The last use is written at most once per tenth of the idle timeout (and per minute), not on every call.
    const touchAfterMs = Math.min(60_000, this.settings.idleMs / 10);
    if (role !== record.role || now.getTime() - new Date(record.last_seen_at).getTime() >= touchAfterMs) {
      const touched: SessionRecord = { ...record, role, last_seen_at: now.toISOString() };
      await this.store.replace(key, touched);
      return this.view(touched);
    }
    return this.view(record);
  }

  /** States (or changes) the purpose of the session's readings. */
  async setPurpose(secret: string, purpose: Purpose): Promise<ConsoleSession> {
    const key = hashOf(secret);
    const record = await this.store.get(key);
    if (record === undefined) throw new AuthenticationError('Your console session has ended; sign in again.');
    const updated: SessionRecord = { ...record, purpose, last_seen_at: this.clock().toISOString() };
    await this.store.replace(key, updated);
    return this.view(updated);
  }

  /** Ends the session of `secret` (sign-out), recorded with who and from where. */
  async end(secret: string, session: ConsoleSession, address: string): Promise<void> {
    await this.store.remove(hashOf(secret));
    await this.audit.record({
      event_type: 'MLog.Admin.SignOut',
      event_message: `Administrator "${session.username}" signed out.`,
      user: session.username,
      role: session.role,
      address,
      outcome: 'signed-out',
      session_id: session.id,
    });
  }

  private lockedError(until: Date, now: Date): TooManyRequestsError {
    const seconds = secondsUntil(until, now);
    return new TooManyRequestsError(`Too many failed sign-ins for this account or from this address: signing in is locked for ${seconds} more seconds.`, seconds);
  }

  /** Counts one failure of `key`; the instant its lock ends when this failure locks it. */
  private async countFailure(key: string, now: Date): Promise<Date | undefined> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const current = await this.lockouts.read(key);
      const next = afterFailure(current?.state, now, this.settings.lockout);
      const written = current === undefined ? await this.lockouts.create(key, next.state) : await this.lockouts.replace(key, next.state, current.version);
      if (written) return next.locked ? lockedUntil(next.state, now) : undefined;
    }
    throw new StorageUnavailableError('The failed sign-in could not be counted: too many sign-ins at once; retry later.');
  }

  private expiresAt(record: SessionRecord): Date {
    const idle = new Date(record.last_seen_at).getTime() + this.settings.idleMs;
    const absolute = new Date(record.created_at).getTime() + this.settings.absoluteMs;
    return new Date(Math.min(idle, absolute));
  }

  private view(record: SessionRecord): ConsoleSession {
    return {
      id: record.id,
      username: record.username,
      role: record.role,
      source: record.source,
      csrfToken: record.csrf_token,
      purpose: record.purpose,
      expiresAt: this.expiresAt(record),
    };
  }
}
