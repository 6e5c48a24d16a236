import { Router, type Response } from 'express';
import { checkPurpose, type ConsoleSession, type ConsoleSessions } from '../../admins/console-sessions.js';
import { UnsupportedMediaTypeError, ValidationError } from '../../errors/mlog-error.js';
import { clientAddress, currentSession, requireCsrfToken, requireSignedIn } from './console-session.js';
import { clearSessionCookie, setSessionCookie } from './session-cookie.js';

/** The `Session` of docs/console-api.md. */
export function sessionAnswer(session: ConsoleSession): Record<string, unknown> {
  return { username: session.username, role: session.role, csrfToken: session.csrfToken, purpose: session.purpose, expiresAt: session.expiresAt.toISOString() };
}

function jsonObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('The body must be a JSON object.');
  return body as Record<string, unknown>;
}

/** Answers a session just started: the cookie, and the Session. */
export function answerStartedSession(response: Response, started: { secret: string; session: ConsoleSession }, secureCookie: boolean): void {
  setSessionCookie(response, started.secret, secureCookie);
  response.status(200).json(sessionAnswer(started.session));
}

/** POST /session (sign-in; no session or CSRF token needed), GET/DELETE /session, PUT /session/purpose. */
export function sessionRoutes(sessions: ConsoleSessions, secureCookie: boolean): Router {
  const router = Router();
  router.post('/session', async (request, response) => {
    // A cross-site form cannot send JSON: signing in from another site is impossible.
    if (!request.is('application/json')) throw new UnsupportedMediaTypeError('Sign in with a JSON body {"username","password"} sent as Content-Type: application/json.');
    const body = jsonObject(request.body);
    const { username, password } = body;
    if (typeof username !== 'string' || username === '') throw new ValidationError('"username" is required.');
    if (typeof password !== 'string' || password === '') throw new ValidationError('"password" is required.');
    answerStartedSession(response, await sessions.signIn(username, password, clientAddress(request)), secureCookie);
  });
  router.get('/session', requireSignedIn(), (_request, response) => {
    response.status(200).json(sessionAnswer(currentSession(response).session));
  });
  router.delete('/session', requireSignedIn(), requireCsrfToken(), async (request, response) => {
    const { session, secret } = currentSession(response);
    await sessions.end(secret, session, clientAddress(request));
    clearSessionCookie(response, secureCookie);
    response.status(204).end();
  });
  router.put('/session/purpose', requireSignedIn(), requireCsrfToken(), async (request, response) => {
    const purpose = checkPurpose(jsonObject(request.body));
    const updated = await sessions.setPurpose(currentSession(response).secret, purpose);
    response.status(200).json(sessionAnswer(updated));
  });
  return router;
}
