import express, { type Express, type RequestHandler } from 'express';
import { identifyCaller } from '../auth/caller-identifier.js';
import { NotFoundError } from '../errors/mlog-error.js';
import type { IngestService } from '../events/ingest-service.js';
import type { QueryService } from '../events/query-service.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SystemRegistry } from '../systems/system-registry.js';
import { errorResponder } from './error-response.js';
import { peerCredentials } from './peer-credentials.js';
import { requestContext } from './request-context.js';
import { queryRoutes } from './routes/query-routes.js';
import { registerRoutes } from './routes/register-routes.js';

export interface PublicAppServices {
  registry: SystemRegistry;
  ingest: IngestService;
  queries: QueryService;
  logger: Logger;
  metrics: Metrics;
}

/** Identifies the caller from its client certificate before anything else is read. */
function authenticate(registry: SystemRegistry): RequestHandler {
  return async (request, response, next) => {
    response.locals.caller = await identifyCaller(registry, peerCredentials(request), new Date());
    next();
  };
}

/** The public API of MLog: /register and /query, for information systems identified by mutual TLS. */
export function createPublicApp(services: PublicAppServices): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);
  app.use(requestContext('public', services.logger, services.metrics));
  app.use(authenticate(services.registry));
  app.use(registerRoutes(services.ingest, services.metrics));
  app.use(queryRoutes(services.queries));
  app.use((request) => {
    throw new NotFoundError(`There is no ${request.method} ${request.path} in the MLog API; see POST /register, GET /query and GET /query/{uid}.`);
  });
  app.use(errorResponder(services.logger));
  return app;
}
