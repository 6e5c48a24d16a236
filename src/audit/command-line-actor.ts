import { hostname, userInfo } from 'node:os';

/**
 * Who acts from the command line, as audit events and leases record it: "cli by <user> on <host>".
 * The user is the operating-system account running `mlog` (USER, LOGNAME or USERNAME when the account
 * has no name, else its uid).
 */
export function commandLineActor(env: Record<string, string | undefined> = process.env, host = hostname()): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = env.USER ?? env.LOGNAME ?? env.USERNAME;
  }
  return `cli by ${user ?? `uid ${process.getuid?.() ?? 'unknown'}`} on ${host}`;
}
