import { argon2id, hash, verify } from 'argon2';
import type { AuditLog } from '../audit/audit-log.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors/mlog-error.js';
import { ADMIN_ROLES, isAdminRole, type AdminRole } from './administrator.js';
import type { AccountStore, AdminAccountRecord } from './account-store-type.js';

/** Usernames: lower-case letters, digits and . _ @ -, starting with a letter or digit, 2 to 64 characters. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{1,63}$/;
export const MIN_PASSWORD_LENGTH = 12;
/** argon2 hashes any length; a bound keeps one sign-in from hashing megabytes. */
export const MAX_PASSWORD_LENGTH = 1024;

/** An account as shown to people: never its hash. */
export interface AdminAccount {
  username: string;
  role: AdminRole;
  disabled: boolean;
  source: 'local' | 'oidc';
  createdAt: string;
  updatedAt: string;
}

export interface AccountChanges {
  role?: AdminRole;
  disabled?: boolean;
  password?: string;
}

export function describeAccount(record: AdminAccountRecord): AdminAccount {
  return { username: record.username, role: record.role, disabled: record.disabled, source: record.source, createdAt: record.created_at, updatedAt: record.updated_at };
}

export function checkUsername(value: unknown, name = 'username'): string {
  if (typeof value !== 'string' || !USERNAME_PATTERN.test(value)) {
    throw new ValidationError(`"${name}" must be 2 to 64 characters: lower-case letters, digits and . _ @ -, starting with a letter or digit.`);
  }
  return value;
}

export function checkRole(value: unknown, name = 'role'): AdminRole {
  if (!isAdminRole(value)) throw new ValidationError(`"${name}" must be one of ${ADMIN_ROLES.join(', ')}.`);
  return value;
}

export function checkPassword(value: unknown, name = 'password'): string {
  if (typeof value !== 'string') throw new ValidationError(`"${name}" must be a string of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.`);
  if (value.length < MIN_PASSWORD_LENGTH) throw new ValidationError(`"${name}" must be at least ${MIN_PASSWORD_LENGTH} characters long.`);
  if (value.length > MAX_PASSWORD_LENGTH) throw new ValidationError(`"${name}" must be at most ${MAX_PASSWORD_LENGTH} characters long.`);
  return value;
}

/**
 * argon2id with OWASP's recommended minimum (Password Storage Cheat Sheet: 19 MiB, 2 passes, 1 lane)
 * instead of node-argon2's defaults (64 MiB, 3 passes, 4 lanes): each hash or check in flight holds
 * its memory cost outside V8, and 64 MiB per sign-in attempt was a third of MLog's memory budget
 * (docs/performance.md, "Memory under load"). A stored hash names its own parameters, so hashes made
 * with the former ones keep verifying.
 */
export const PASSWORD_HASH_OPTIONS = { type: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** Password hashes and checks run at most this many at once; the others wait their turn, so a burst of sign-in attempts cannot hold memory without bound. */
export const PASSWORD_WORK_AT_ONCE = 2;

let passwordWorkRunning = 0;
const passwordWorkWaiting: (() => void)[] = [];

/** Runs `work` (an argon2 hash or check) when fewer than PASSWORD_WORK_AT_ONCE are running, in arrival order. */
async function passwordWork<T>(work: () => Promise<T>): Promise<T> {
  if (passwordWorkRunning >= PASSWORD_WORK_AT_ONCE) await new Promise<void>((resolve) => passwordWorkWaiting.push(resolve));
  else passwordWorkRunning += 1;
  try {
    return await work();
  } finally {
    const next = passwordWorkWaiting.shift();
    // The turn passes to the next waiter as it is; only when nobody waits does the count drop.
    if (next === undefined) passwordWorkRunning -= 1;
    else next();
  }
}

/** The argon2id hash of a password, as stored. */
export function hashPassword(password: string): Promise<string> {
  return passwordWork(() => hash(password, PASSWORD_HASH_OPTIONS));
}

function checkPasswordHash(storedHash: string, password: string): Promise<boolean> {
  return passwordWork(() => verify(storedHash, password));
}

/** A hash of a password nobody has: verified against when the username is unknown, so that unknown and known names take the same time. */
let decoyHash: Promise<string> | undefined;

/**
 * The console's local administrator accounts: passwords hashed with argon2id, never stored or shown
 * in clear. Every change is recorded in the audit trail with who made it.
 */
export class AdminAccounts {
  constructor(
    private readonly store: AccountStore,
    private readonly audit: AuditLog,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async add(input: { username: unknown; role: unknown; password: unknown }, actor: string): Promise<AdminAccount> {
    const username = checkUsername(input.username);
    const role = checkRole(input.role);
    const password = checkPassword(input.password);
    const now = this.clock().toISOString();
    const record: AdminAccountRecord = { username, role, password_hash: await hashPassword(password), disabled: false, source: 'local', created_at: now, updated_at: now };
    await this.store.create(record);
    await this.audit.record({ event_type: 'MLog.Admin.AccountCreated', event_message: `Administrator "${username}" (${role}) was created.`, user: actor, admin_username: username, role });
    return describeAccount(record);
  }

  async list(): Promise<AdminAccount[]> {
    return (await this.store.list()).map(describeAccount);
  }

  /** The account of `username`, when there is one. */
  async find(username: string): Promise<AdminAccount | undefined> {
    if (!USERNAME_PATTERN.test(username)) return undefined;
    const found = await this.store.get(username);
    return found === undefined ? undefined : describeAccount(found.account);
  }

  async update(username: string, changes: AccountChanges, actor: string): Promise<AdminAccount> {
    const found = await this.store.get(checkUsername(username));
    if (found === undefined) throw new NotFoundError(`There is no administrator "${username}".`);
    const { account, version } = found;
    const updated: AdminAccountRecord = { ...account, updated_at: this.clock().toISOString() };
    if (changes.role !== undefined) updated.role = checkRole(changes.role);
    if (changes.disabled !== undefined) updated.disabled = changes.disabled;
    if (changes.password !== undefined) {
      if (account.source !== 'local') throw new ConflictError(`Administrator "${username}" signs in through OpenID Connect and has no local password.`);
      updated.password_hash = await hashPassword(checkPassword(changes.password));
    }
    await this.store.replace(updated, version);
    const what = [
      ...(changes.role !== undefined && changes.role !== account.role ? [`role ${account.role} → ${updated.role}`] : []),
      ...(changes.disabled !== undefined && changes.disabled !== account.disabled ? [updated.disabled ? 'disabled' : 'enabled'] : []),
      ...(changes.password !== undefined ? ['password reset'] : []),
    ];
    await this.audit.record({
      event_type: 'MLog.Admin.AccountChanged',
      event_message: `Administrator "${username}" was changed: ${what.join(', ') || 'nothing'}.`,
      user: actor,
      admin_username: username,
      role: updated.role,
      disabled: updated.disabled,
      password_reset: changes.password !== undefined,
    });
    return describeAccount(updated);
  }

  /**
   * The account of a person the identity provider authenticated, with the role its claim gives:
   * created (source oidc) at the first sign-in, its role kept to the claim's at the next ones.
   * Refused when the username is a local account's (a provider never signs in as one) or when the
   * account is disabled.
   */
  async admitOidcPerson(username: string, role: AdminRole): Promise<{ account: AdminAccount } | { refused: 'local-account' | 'disabled' }> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const found = await this.store.get(checkUsername(username));
      const now = this.clock().toISOString();
      if (found === undefined) {
        const record: AdminAccountRecord = { username, role, disabled: false, source: 'oidc', created_at: now, updated_at: now };
        try {
          await this.store.create(record);
        } catch (error) {
          if (error instanceof ConflictError) continue;
          throw error;
        }
        await this.audit.record({ event_type: 'MLog.Admin.AccountCreated', event_message: `Administrator "${username}" (${role}) was created at the first sign-in through OpenID Connect.`, user: 'oidc', admin_username: username, role });
        return { account: describeAccount(record) };
      }
      const { account, version } = found;
      if (account.source !== 'oidc') return { refused: 'local-account' };
      if (account.disabled) return { refused: 'disabled' };
      if (account.role === role) return { account: describeAccount(account) };
      const updated: AdminAccountRecord = { ...account, role, updated_at: now };
      try {
        await this.store.replace(updated, version);
      } catch (error) {
        if (error instanceof ConflictError) continue;
        throw error;
      }
      await this.audit.record({
        event_type: 'MLog.Admin.AccountChanged',
        event_message: `Administrator "${username}" was changed: role ${account.role} → ${role}, as the identity provider's claim says.`,
        user: 'oidc',
        admin_username: username,
        role,
        disabled: false,
        password_reset: false,
      });
      return { account: describeAccount(updated) };
    }
    throw new ConflictError(`The account "${username}" changed too often at once during sign-in; sign in again.`);
  }

  /**
   * The account whose username and password these are, when it may sign in (local, not disabled);
   * `disabled` when the password is right but the account is disabled. Takes as long for an unknown
   * name as for a known one.
   */
  async verifyPassword(username: string, password: string): Promise<{ account: AdminAccount } | { refused: 'wrong-credentials' | 'disabled' }> {
    const found = USERNAME_PATTERN.test(username) && password.length <= MAX_PASSWORD_LENGTH ? await this.store.get(username) : undefined;
    const storedHash = found?.account.password_hash;
    if (found === undefined || storedHash === undefined) {
      decoyHash ??= hashPassword('decoy password that nobody has');
      await checkPasswordHash(await decoyHash, password.slice(0, MAX_PASSWORD_LENGTH));
      return { refused: 'wrong-credentials' };
    }
    if (!(await checkPasswordHash(storedHash, password))) return { refused: 'wrong-credentials' };
    if (found.account.disabled) return { refused: 'disabled' };
    return { account: describeAccount(found.account) };
  }
}
