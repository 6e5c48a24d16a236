import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AdmissionControl } from '../events/admission-control.js';
import { admitRegisterBytes, releaseWhenOver } from './admission.js';
import { directCall, type DirectDoorServices } from './direct-door.js';
import { MAX_MESSAGE_BYTES } from './error-response.js';
import { readRawBody } from './raw-body.js';
import { splitTarget } from './raw-query-string.js';
import { IDEMPOTENCY_KEY, type Registrar } from './routes/register-routes.js';

export interface RegisterDoorServices extends DirectDoorServices {
  registerBytes: AdmissionControl;
  /** The registration shared with the Express route. */
  register: Registrar;
}

/**
 * True for the request targets that the Express app answers with its `POST /register` route: the path
 * /register in any case, with or without one trailing slash, with any query string.
 */
export function isRegisterTarget(url: string): boolean {
  const { path } = splitTarget(url);
  if (path.length !== 9 && path.length !== 10) return false;
  const lower = path.toLowerCase();
  return lower === '/register' || lower === '/register/';
}

/**
 * The public listener's request handler: `POST /register` is answered here, on node:http directly,
 * and every other request is handed to `next` (the query door, or the Express public app). The direct
 * door keeps the route's promises in the app's order, with the same functions: the steps of every call
 * (direct-door.ts: request id, metrics and log line, head, identification, calls in flight); admitted by
 * bytes of bodies before the body is read; the raw body read within 256 KB; the registration
 * (idempotency, receipt); every failure mapped once and every refused call recorded in the rejections index.
 */
export function registerDoor(services: RegisterDoorServices, next: RequestListener): RequestListener {
  const { registerBytes, metrics, register } = services;
  return (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST' || !isRegisterTarget(request.url ?? '')) {
      next(request, response);
      return;
    }
    directCall(services, request, response, '/register', (caller, call) => {
      releaseWhenOver(response, admitRegisterBytes(registerBytes, metrics, MAX_MESSAGE_BYTES, caller.system.code, request.headers['content-length']));
      readRawBody(request, response, MAX_MESSAGE_BYTES, (error, read) =>
        call.inScope(() => {
          if (error !== undefined) {
            call.fail(error);
            return;
          }
          if (read !== undefined) call.keepBody(read);
          const key = request.headers[IDEMPOTENCY_KEY];
          register(caller, read ?? new Uint8Array(0), Array.isArray(key) ? key.join(', ') : key, response).catch(call.fail);
        }),
      );
    });
  };
}
