import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { QueryService } from '../events/query-service.js';
import { directCall, type DirectDoorServices } from './direct-door.js';
import { sendEnvelope } from './error-response.js';
import { splitTarget } from './raw-query-string.js';
import { answerQuery, type QueryTarget } from './routes/query-routes.js';

export interface QueryDoorServices extends DirectDoorServices {
  queries: QueryService;
}

/** Characters of a UID the door takes from the path as they are (nothing to decode); any other goes to Express. */
const PLAIN_UID = /^[\w.~-]+$/;

/**
 * The query this door answers for a request target, or undefined for any other target. It takes the
 * targets of Express's `GET /query` and `GET /query/:uid` routes (any case, one trailing slash, any
 * query string) whose path needs no decoding: a UID of letters, digits and `_ . ~ -`. A path with
 * percent-escapes or other characters, or anything else, goes to the Express app, which answers it as
 * it always has (a 404, or a UID decoded by the router).
 */
export function queryTarget(url: string): QueryTarget | undefined {
  const { path, rawQuery } = splitTarget(url);
  if (path.length < 6 || path.slice(0, 6).toLowerCase() !== '/query') return undefined;
  if (path.length === 6 || (path.length === 7 && path[6] === '/')) return { rawQuery };
  if (path[6] !== '/') return undefined;
  const uid = path.endsWith('/') ? path.slice(7, -1) : path.slice(7);
  return PLAIN_UID.test(uid) ? { uid, rawQuery } : undefined;
}

/**
 * The public listener's request handler for queries: `GET /query` and `GET /query/{uid}` (the targets of
 * queryTarget) are answered here, on node:https directly, and every other request is handed to `next`.
 * The door runs the steps of every call (direct-door.ts: request id, metrics and log line, head,
 * identification, calls in flight) and the query shared with the Express routes (answerQuery: the
 * search, the MLog.ClientQuery record before the answer), with the same envelope and error mapping.
 */
export function queryDoor(services: QueryDoorServices, next: RequestListener): RequestListener {
  const { queries } = services;
  return (request: IncomingMessage, response: ServerResponse) => {
    const target = request.method === 'GET' ? queryTarget(request.url ?? '') : undefined;
    if (target === undefined) {
      next(request, response);
      return;
    }
    directCall(services, request, response, target.uid === undefined ? '/query' : '/query/:uid', (caller, call) => {
      answerQuery(queries, caller, target)
        .then((body) => sendEnvelope(response, 200, body))
        .catch(call.fail);
    });
  };
}
