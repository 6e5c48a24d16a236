/**
 * The console's JSON API (`/console/api/`, docs/console-api.md), on the admin listener: sessions,
 * administrators, and the routes of the console's other services mounted behind the same session,
 * CSRF and role checks.
 */
import express, { Router } from 'express';
import type { AdminAccounts } from '../../admins/admin-accounts.js';
import type { ConsoleSessions } from '../../admins/console-sessions.js';
import { NotFoundError } from '../../errors/mlog-error.js';
import { adminAccountRoutes } from './admin-account-routes.js';
import { loadConsoleSession, requireCsrfToken, requireSignedIn } from './console-session.js';
import { sessionRoutes } from './session-routes.js';
import { consoleSystemRoutes, type SystemList } from './system-list-routes.js';

export { clientAddress, currentActor, currentSession, requireAction, requireCsrfToken, requireSignedIn } from './console-session.js';
export { answerStartedSession, sessionAnswer } from './session-routes.js';
export { consoleSystemRoutes, type SystemList } from './system-list-routes.js';
export { clearSessionCookie, readSessionCookie, SESSION_COOKIE, setSessionCookie } from './session-cookie.js';

export interface ConsoleApiOptions {
  sessions: ConsoleSessions;
  accounts: AdminAccounts;
  /** True when the admin listener serves HTTPS: the cookie is then Secure. */
  secureCookie: boolean;
  /** True when sign-in through OpenID Connect is configured (GET /config tells the sign-in page). */
  oidc?: boolean;
  /** Routes that need no session (OpenID Connect's login and callback), relative to /console/api. */
  openRouters?: Router[];
  /** The registered systems (the SystemRegistry): GET /systems lists their codes and names for the console's pickers. */
  systems: SystemList;
  /** Routes for signed-in people (search, documents, export…), relative to /console/api, behind the session and CSRF checks; each adds requireAction itself. */
  routers?: Router[];
}

/** The router to mount at /console/api. */
export function consoleApi(options: ConsoleApiOptions): Router {
  const router = Router();
  router.use(express.json({ limit: '1mb', strict: true }));
  router.use(loadConsoleSession(options.sessions));
  router.get('/config', (_request, response) => {
    response.status(200).json({ oidc: options.oidc ?? false });
  });
  for (const open of options.openRouters ?? []) router.use(open);
  router.use(sessionRoutes(options.sessions, options.secureCookie));
  router.use(requireSignedIn(), requireCsrfToken());
  router.use(adminAccountRoutes(options.accounts));
  router.use(consoleSystemRoutes(options.systems));
  for (const routes of options.routers ?? []) router.use(routes);
  router.use((request) => {
    throw new NotFoundError(`There is no ${request.method} /console/api${request.path} in the console API.`);
  });
  return router;
}
