import type { RequestListener } from 'node:http';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { NotFoundError } from '../errors/mlog-error.js';
import type { AdmissionControl } from '../events/admission-control.js';
import type { IdempotencyService } from '../events/idempotency-service.js';
import type { IngestService } from '../events/ingest-service.js';
import type { QueryService } from '../events/query-service.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RejectionRecorder } from '../rejections/rejection-recorder.js';
import type { KnownSystem, SystemRegistry } from '../systems/system-registry.js';
import { admission } from './admission.js';
import { errorResponder, onlyMethods } from './error-response.js';
import type { MLogError } from '../errors/mlog-error.js';
import { recordRefusedCall } from './connection-refusals.js';
import { CallerIdentification, type ProxyTrust } from './peer-credentials.js';
import { queryDoor } from './query-door.js';
import { registerDoor } from './register-door.js';
import { requestContext, requestTracker } from './request-context.js';
import { requestHead } from './request-head.js';
import { queryRoutes } from './routes/query-routes.js';
import { registerRoutes, registrar } from './routes/register-routes.js';

/** A set of Express routes, as the composition root hands them to the apps (it imports no Express itself). */
export type Routes = Router;

export interface PublicAppServices {
  registry: SystemRegistry;
  /** Reverse proxies trusted to end TLS and forward the client certificate (MLOG_TRUSTED_PROXIES); none when unset. */
  proxies?: ProxyTrust;
  /** MLOG_DEV_IDENTITY: the IS every call on the development listener is (local development only). */
  developmentIdentity?: string;
  ingest: IngestService;
  /** Registrations that carry an Idempotency-Key. */
  idempotency: IdempotencyService;
  /** Limits on calls in flight, per IS and for the instance. */
  admission: AdmissionControl;
  /** Limits on bytes of /register bodies being registered, per IS and for the instance. */
  registerBytes: AdmissionControl;
  queries: QueryService;
  logger: Logger;
  metrics: Metrics;
  rejections: RejectionRecorder;
  /** Answer POST /register on node:https directly, before Express (register-door.ts; MLOG_REGISTER_DIRECT). */
  registerDirect?: boolean;
  /** Answer GET /query and GET /query/{uid} on node:https directly, before Express (query-door.ts; MLOG_QUERY_DIRECT). */
  queryDirect?: boolean;
  /** Further routes for identified callers (built in the composition root). */
  routes?: Router[];
}

/** Identifies the caller from its client certificate before anything else is read. */
function authenticate(identification: CallerIdentification): RequestHandler {
  return (request, response, next) => {
    const known = identification.caller(request, new Date());
    if (!(known instanceof Promise)) {
      response.locals.caller = known;
      next();
      return undefined;
    }
    return known.then((caller) => {
      response.locals.caller = caller;
      next();
    });
  };
}

/** Queues a refused call for the rejections index (recordRefusedCall). */
function recordRefusal(rejections: RejectionRecorder, identification: CallerIdentification): (request: Request, response: Response, error: MLogError) => void {
  return (request, response, error) => {
    const caller = response.locals.caller as KnownSystem | undefined;
    recordRefusedCall(
      rejections,
      {
        peer: identification.credentials(request),
        ...(caller === undefined ? {} : { system: caller.system.code }),
        method: request.method,
        path: request.path,
        url: request.originalUrl,
        requestId: String(response.locals.requestId ?? ''),
        ...(Buffer.isBuffer(request.body) ? { body: request.body } : {}),
      },
      error,
    );
  };
}

/**
 * The public API of MLog: /register and /query, for information systems identified by mutual TLS; the
 * public listener's request handler (with `registerDirect`, POST /register answered by register-door.ts,
 * and with `queryDirect`, GET /query and /query/{uid} by query-door.ts, before the Express app).
 */
export function createPublicApp(services: PublicAppServices): RequestListener {
  const app = express();
  const track = requestTracker('public', services.logger, services.metrics);
  const identification = new CallerIdentification(services.registry, services.proxies, services.developmentIdentity);
  const register = registrar(services.ingest, services.metrics, services.idempotency);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);
  app.use(requestContext(track));
  app.use(requestHead());
  // Identified first: an unidentified caller is told so (401) whatever its method; an identified one learns which methods MLog answers.
  app.use(authenticate(identification));
  app.use(onlyMethods(['GET', 'POST']));
  // Admitted (or refused at once) before any body is read; the slot is freed when the call is over.
  app.use(['/register', '/query', '/personal-data'], admission(services.admission, services.metrics));
  app.use(registerRoutes(register, services.metrics, services.registerBytes));
  app.use(queryRoutes(services.queries));
  for (const routes of services.routes ?? []) app.use(routes);
  app.use((request) => {
    throw new NotFoundError(`There is no ${request.method} ${request.path} in the MLog API; see POST /register, GET /query and GET /query/{uid}.`);
  });
  app.use(errorResponder(services.logger, recordRefusal(services.rejections, identification)));
  const queried: RequestListener = services.queryDirect === true ? queryDoor({ ...services, identification, track }, app) : app;
  return services.registerDirect === true ? registerDoor({ ...services, identification, register, track }, queried) : queried;
}
