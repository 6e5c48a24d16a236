import { timingSafeEqual } from 'node:crypto';
import express, { type Express, type RequestHandler, type Router } from 'express';
import { AuthenticationError, NotFoundError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SystemRegistry } from '../systems/system-registry.js';
import { consoleStatic } from './console-static.js';
import { errorResponder, onlyMethods } from './error-response.js';
import { requestContext, requestTracker } from './request-context.js';
import { requestHead } from './request-head.js';
import { healthRoutes, type Readiness } from './routes/health-routes.js';
import { systemRoutes } from './routes/system-routes.js';

export interface AdminAppServices {
  registry: SystemRegistry;
  readiness: Readiness;
  logger: Logger;
  metrics: Metrics;
  /** MLOG_ADMIN_TOKEN; undefined refuses every administration call. */
  token: string | undefined;
  /** Further /admin/* routes (built in the composition root), behind the same token. */
  routes?: Router[];
  /** The built console served at /console/ (default: web/dist of this installation). */
  consoleDist?: string;
  /** The console's JSON API (src/http/console/console-api.ts), mounted at /console/api with its own sessions. */
  consoleApi?: Router;
}

function bearerToken(token: string | undefined): RequestHandler {
  const expected = token === undefined ? undefined : Buffer.from(token);
  return (request, _response, next) => {
    if (expected === undefined) throw new AuthenticationError('The administration API is disabled: MLOG_ADMIN_TOKEN is not set.');
    const header = request.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AuthenticationError('The administration API needs "Authorization: Bearer <MLOG_ADMIN_TOKEN>".');
    }
    next();
  };
}

/** The administration listener: health, readiness and metrics open; the console at /console/ and its API at /console/api behind console sessions; /admin/* behind the bearer token. */
export function createAdminApp(services: AdminAppServices): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext(requestTracker('admin', services.logger, services.metrics)));
  app.use(requestHead());
  app.use(onlyMethods(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']));
  app.use(healthRoutes(services.readiness, services.metrics));
  app.use(consoleStatic(services.consoleDist));
  app.use('/admin', bearerToken(services.token));
  app.use(express.json({ limit: '1mb', strict: true }));
  if (services.consoleApi !== undefined) app.use('/console/api', services.consoleApi);
  app.use(systemRoutes(services.registry));
  for (const routes of services.routes ?? []) app.use(routes);
  app.use((request) => {
    throw new NotFoundError(`There is no ${request.method} ${request.path} in the MLog administration API.`);
  });
  app.use(errorResponder(services.logger));
  return app;
}
