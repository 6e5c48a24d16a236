import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Response, type Router } from 'express';
import { NotFoundError } from '../errors/mlog-error.js';

/** Where `npm run console:build` puts the console (web/dist in the repository). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * The page may load only what the admin listener itself serves: scripts, fonts, icons and calls to
 * /console/api/. EUI writes its styles at run time, hence 'unsafe-inline' for styles only.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

function pageHeaders(response: Response): void {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Referrer-Policy', 'no-referrer');
}

/**
 * Serves the console's static files at /console/ and answers every other path under /console/ (a
 * view such as /console/discover?…) with its index.html, so a bookmarked view opens the application.
 * /console/api/ is left to the console's API; a missing hashed file under /console/assets/ is a 404.
 */
export function consoleStatic(dist: string = CONSOLE_DIST): Router {
  const router = express.Router({ strict: true, caseSensitive: true });
  const index = join(dist, 'index.html');
  const files = express.static(dist, {
    index: false,
    redirect: false,
    fallthrough: true,
    dotfiles: 'ignore',
    setHeaders: (response, path) => {
      pageHeaders(response);
      // Vite names every file under assets/ by its content: it never changes under that name.
      response.setHeader('Cache-Control', path.startsWith(join(dist, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  router.get('/console', (request, response) => {
    const at = request.originalUrl.indexOf('?');
    response.redirect(301, `/console/${at === -1 ? '' : request.originalUrl.slice(at)}`);
  });
  router.use('/console', (request, response, next) => {
    if (request.path === '/api' || request.path.startsWith('/api/')) return next();
    if (request.method !== 'GET') return next();
    if (!existsSync(index)) {
      throw new NotFoundError('The console is not built in this installation of MLog; build it with `npm run console:build`.');
    }
    files(request, response, () => {
      if (request.path.startsWith('/assets/')) return next();
      pageHeaders(response);
      response.setHeader('Cache-Control', 'no-cache');
      response.sendFile(index, (error) => (error === undefined ? undefined : next(error)));
    });
  });
  return router;
}
