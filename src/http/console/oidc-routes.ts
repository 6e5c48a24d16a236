import { Router, type Request, type Response } from 'express';
import { OIDC_TRANSACTION_SECONDS, type OidcSignIn } from '../../admins/oidc-sign-in.js';
import { clientAddress } from './console-session.js';
import { setSessionCookie } from './session-cookie.js';

/** The cookie that carries a sign-in through OpenID Connect (sealed) from /oidc/login to /oidc/callback. */
export const OIDC_TRANSACTION_COOKIE = 'mlog_oidc';

/** SameSite=Lax, not Strict: the provider sends the browser back from another site, and the cookie must come with it. */
function transactionCookie(value: string, maxAge: number, secure: boolean): string {
  return `${OIDC_TRANSACTION_COOKIE}=${value}; Path=/console/api/oidc; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

function readTransactionCookie(request: Request): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator >= 0 && part.slice(0, separator).trim() === OIDC_TRANSACTION_COOKIE) return part.slice(separator + 1).trim();
  }
  return undefined;
}

function queryOf(request: Request): URLSearchParams {
  const at = request.originalUrl.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : request.originalUrl.slice(at + 1));
}

function noStore(response: Response): void {
  response.setHeader('Cache-Control', 'no-store');
}

/**
 * GET /oidc/login (`?next=` a console view to return to) sends the browser to the provider;
 * GET /oidc/callback finishes the sign-in, sets the session cookie and returns to the console.
 * Neither needs a session.
 */
export function oidcRoutes(oidc: OidcSignIn, secureCookie: boolean): Router {
  const router = Router();
  router.get('/oidc/login', async (request, response) => {
    const { redirectTo, sealedTransaction } = await oidc.begin(queryOf(request).get('next') ?? undefined);
    noStore(response);
    response.append('Set-Cookie', transactionCookie(sealedTransaction, OIDC_TRANSACTION_SECONDS, secureCookie));
    response.redirect(302, redirectTo);
  });
  router.get('/oidc/callback', async (request, response) => {
    noStore(response);
    // The transaction is used once, whatever the outcome.
    response.append('Set-Cookie', transactionCookie('', 0, secureCookie));
    const { started, next } = await oidc.finish(queryOf(request), readTransactionCookie(request), clientAddress(request));
    setSessionCookie(response, started.secret, secureCookie);
    response.redirect(303, next);
  });
  return router;
}
