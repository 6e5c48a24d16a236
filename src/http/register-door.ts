import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AdmissionControl } from '../events/admission-control.js';
import { requestScope, type Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RejectionRecorder } from '../rejections/rejection-recorder.js';
import type { KnownSystem, SystemRegistry } from '../systems/system-registry.js';
import { admitCall, admitRegisterBytes, releaseWhenOver } from './admission.js';
import { recordRefusedCall } from './connection-refusals.js';
import { MAX_MESSAGE_BYTES, mapFailure, sendError } from './error-response.js';
import { connectionCaller } from './peer-credentials.js';
import { readRawBody } from './raw-body.js';
import type { RequestTracker } from './request-context.js';
import { headProblem } from './request-head.js';
import { IDEMPOTENCY_KEY, type Registrar } from './routes/register-routes.js';

export interface RegisterDoorServices {
  registry: SystemRegistry;
  admission: AdmissionControl;
  registerBytes: AdmissionControl;
  metrics: Metrics;
  logger: Logger;
  rejections: RejectionRecorder;
  /** The registration shared with the Express route. */
  register: Registrar;
  /** The public listener's request tracker (ids, metrics, log lines), shared with the Express app. */
  track: RequestTracker;
}

/**
 * True for the request targets that the Express app answers with its `POST /register` route: the path
 * /register in any case, with or without one trailing slash, with any query string.
 */
export function isRegisterTarget(url: string): boolean {
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  if (path.length !== 9 && path.length !== 10) return false;
  const lower = path.toLowerCase();
  return lower === '/register' || lower === '/register/';
}

/**
 * The public listener's request handler: `POST /register` is answered here, on node:http directly,
 * and every other request is handed to `app` (the Express public app). The direct door keeps the
 * route's promises in the app's order, with the same functions: a request id and the request's
 * metrics and log line; the head checked; the caller identified from the connection's certificate
 * (cached per connection) before anything else; admitted by calls in flight and by bytes of bodies,
 * before the body is read; the raw body read within 256 KB; the registration (idempotency, receipt);
 * every failure mapped once (error-response.ts) and every refused call recorded in the rejections index.
 */
export function registerDoor(services: RegisterDoorServices, app: RequestListener): RequestListener {
  const { registry, admission, registerBytes, metrics, logger, rejections, register, track } = services;
  return (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST' || !isRegisterTarget(request.url ?? '')) {
      app(request, response);
      return;
    }
    let caller: KnownSystem | undefined;
    // As Express labels it: 'unmatched' until the call reaches the route (past identification and admission).
    let routed = false;
    let body: Buffer | undefined;
    const requestId = track(
      request,
      response,
      () => (routed ? '/register' : 'unmatched'),
      () => caller?.system.code,
    );
    const fail = (error: unknown): void => {
      const mapped = mapFailure(logger, error, requestId);
      if (mapped.status >= 400 && mapped.status < 500) {
        const url = request.url ?? '';
        const queryAt = url.indexOf('?');
        recordRefusedCall(
          rejections,
          {
            socket: request.socket as TLSSocket,
            ...(caller === undefined ? {} : { system: caller.system.code }),
            method: 'POST',
            path: queryAt < 0 ? url : url.slice(0, queryAt),
            url,
            requestId,
            ...(body === undefined ? {} : { body }),
          },
          mapped,
        );
      }
      if (response.headersSent) return;
      sendError(response, mapped);
    };
    const scope = { requestId };
    const identified = (known: KnownSystem): void => {
      caller = known;
      const code = known.system.code;
      try {
        releaseWhenOver(response, admitCall(admission, metrics, code));
        routed = true;
        releaseWhenOver(response, admitRegisterBytes(registerBytes, metrics, MAX_MESSAGE_BYTES, code, request.headers['content-length']));
      } catch (error) {
        fail(error);
        return;
      }
      readRawBody(request, response, MAX_MESSAGE_BYTES, (error, read) =>
        // Stream events run outside the request's scope: the rest runs inside it again.
        requestScope.run(scope, () => {
          if (error !== undefined) {
            fail(error);
            return;
          }
          body = read;
          const key = request.headers[IDEMPOTENCY_KEY];
          register(known, read ?? new Uint8Array(0), Array.isArray(key) ? key.join(', ') : key, response).catch(fail);
        }),
      );
    };
    requestScope.run(scope, () => {
      try {
        const problem = headProblem(request);
        if (problem !== undefined) throw problem;
        const known = connectionCaller(registry, request.socket as TLSSocket, new Date());
        if (known instanceof Promise) known.then(identified).catch(fail);
        else identified(known);
      } catch (error) {
        fail(error);
      }
    });
  };
}
