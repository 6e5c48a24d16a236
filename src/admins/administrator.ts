/**
 * MLog's administrators: the people who use the console. Each has one role; what a role may do is
 * decided here, once, and the console API asks `mayDo` before it acts.
 */

/** `viewer`: dashboards (aggregates) only; `auditor`: also search, view, correlate and export every event, and read the console's audit trail; `administrator`: also systems, administrators, dashboards and alert rules. */
export const ADMIN_ROLES = ['viewer', 'auditor', 'administrator'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** What the console lets a person do, each allowed from one role up. */
export const CONSOLE_ACTIONS = {
  'view-dashboards': 'viewer',
  'read-events': 'auditor',
  'read-audit-trail': 'auditor',
  'manage-administrators': 'administrator',
  'manage-systems': 'administrator',
  'manage-dashboards': 'administrator',
} as const satisfies Record<string, AdminRole>;
export type ConsoleAction = keyof typeof CONSOLE_ACTIONS;

export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value);
}

/** True when `role` may do `action`. */
export function mayDo(role: AdminRole, action: ConsoleAction): boolean {
  return ADMIN_ROLES.indexOf(role) >= ADMIN_ROLES.indexOf(CONSOLE_ACTIONS[action]);
}

/** Why a person reads the record: stated before the first search of a session, recorded with every reading. */
export interface Purpose {
  legal_basis: string;
  reason: string;
}

/** Who is acting in the console, as every service that records a reading needs it. */
export interface ConsoleActor {
  username: string;
  role: AdminRole;
  /** null until stated; reading the record needs one. */
  purpose: Purpose | null;
  /** The session's id (not its cookie secret), to tie records of one session together. */
  sessionId: string;
  /** The source address of the request. */
  address: string;
}
