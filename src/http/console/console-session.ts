import type { Request, RequestHandler, Response } from 'express';
import { actorOf, csrfTokenMatches, type ConsoleSession, type ConsoleSessions } from '../../admins/console-sessions.js';
import { mayDo, type ConsoleAction, type ConsoleActor } from '../../admins/administrator.js';
import { AuthenticationError, ForbiddenError } from '../../errors/mlog-error.js';
import { normalizeAddress } from '../../systems/address-matcher.js';
import { readSessionCookie } from './session-cookie.js';

/** What the session middleware leaves in `response.locals` for the routes after it. */
interface ConsoleLocals {
  consoleSession?: ConsoleSession;
  consoleSecret?: string;
  consoleActor?: ConsoleActor;
}

function locals(response: Response): ConsoleLocals {
  return response.locals as ConsoleLocals;
}

/** The source address of a request ("::ffff:10.0.0.1" is 10.0.0.1). */
export function clientAddress(request: Request): string {
  return normalizeAddress(request.socket.remoteAddress ?? '');
}

/** Loads the session of the request's cookie, when it is live, and puts it and its ConsoleActor in `response.locals`. */
export function loadConsoleSession(sessions: ConsoleSessions): RequestHandler {
  return async (request, response, next) => {
    const secret = readSessionCookie(request);
    if (secret !== undefined) {
      const session = await sessions.resume(secret);
      if (session !== undefined) {
        locals(response).consoleSession = session;
        locals(response).consoleSecret = secret;
        locals(response).consoleActor = actorOf(session, clientAddress(request));
      }
    }
    next();
  };
}

const SIGNED_OUT = 'You are not signed in to the console, or your session has ended; sign in again.';

/** 401 unless the request carries a live console session. */
export function requireSignedIn(): RequestHandler {
  return (_request, response, next) => {
    if (locals(response).consoleSession === undefined) throw new AuthenticationError(SIGNED_OUT);
    next();
  };
}

/** 403 unless every call that changes state (any method but GET and HEAD) carries the session's CSRF token in X-CSRF-Token. */
export function requireCsrfToken(): RequestHandler {
  return (request, response, next) => {
    if (request.method === 'GET' || request.method === 'HEAD') return next();
    const session = locals(response).consoleSession;
    if (session === undefined) throw new AuthenticationError(SIGNED_OUT);
    if (!csrfTokenMatches(session, request.get('x-csrf-token'))) {
      throw new ForbiddenError('This call changes state and must carry the session\'s CSRF token in the X-CSRF-Token header (the "csrfToken" of GET /console/api/session).');
    }
    next();
  };
}

/**
 * 403 unless the signed-in person's role may do `action` (see mayDo). `onRefused`, when given, is
 * awaited before the 403 is answered (to record the refused attempt); if it throws, its error is answered instead.
 */
export function requireAction(action: ConsoleAction, onRefused?: (actor: ConsoleActor, action: ConsoleAction, request: Request) => Promise<void>): RequestHandler {
  return async (request, response, next) => {
    const actor = currentActor(response);
    if (!mayDo(actor.role, action)) {
      await onRefused?.(actor, action, request);
      throw new ForbiddenError(`Your role "${actor.role}" may not ${action.replaceAll('-', ' ')}; ask an administrator for another role.`);
    }
    next();
  };
}

/** The person acting in this request (after requireSignedIn); 401 when there is none. */
export function currentActor(response: Response): ConsoleActor {
  const actor = locals(response).consoleActor;
  if (actor === undefined) throw new AuthenticationError(SIGNED_OUT);
  return actor;
}

/** The live session of this request and its cookie secret (after requireSignedIn); 401 when there is none. */
export function currentSession(response: Response): { session: ConsoleSession; secret: string } {
  const { consoleSession: session, consoleSecret: secret } = locals(response);
  if (session === undefined || secret === undefined) throw new AuthenticationError(SIGNED_OUT);
  return { session, secret };
}
