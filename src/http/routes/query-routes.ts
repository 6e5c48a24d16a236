import { Router } from 'express';
import { parseRangeQuery, parseUidQuery } from '../../events/query-parameters.js';
import type { QueryService } from '../../events/query-service.js';
import { parseQueryString, singleParameter } from '../../events/query-string.js';
import type { KnownSystem } from '../../systems/system-registry.js';
import { envelope } from '../envelope.js';
import { sendEnvelope } from '../error-response.js';
import { rawQueryString } from '../raw-query-string.js';

/** A query call: the UID of the path (`/query/{uid}`, already decoded), and the query string as it came. */
export interface QueryTarget {
  uid?: string;
  rawQuery: string;
}

/**
 * Answers one query of `caller` over its own events (the envelope of a 200), shared by the Express
 * routes and the direct door (query-door.ts); throws what refuses it.
 */
export async function answerQuery(queries: QueryService, caller: KnownSystem, target: QueryTarget): Promise<Record<string, unknown>> {
  const parameters = parseQueryString(target.rawQuery);
  const uid = target.uid ?? singleParameter(parameters, 'uid')?.value.trim();
  const answer =
    uid !== undefined
      ? await queries.byUid(caller, parseUidQuery(uid, parameters), new Date())
      : await queries.byRange(caller, parseRangeQuery(parameters), new Date());
  return envelope(200, 'OK', { ...answer });
}

/** GET /query/{uid}, GET /query?uid=…, GET /query by time range: always over the caller's own events. */
export function queryRoutes(queries: QueryService): Router {
  const router = Router();
  router.get('/query/:uid', async (request, response) => {
    sendEnvelope(response, 200, await answerQuery(queries, response.locals.caller as KnownSystem, { uid: String(request.params.uid), rawQuery: rawQueryString(request) }));
  });
  router.get('/query', async (request, response) => {
    sendEnvelope(response, 200, await answerQuery(queries, response.locals.caller as KnownSystem, { rawQuery: rawQueryString(request) }));
  });
  return router;
}
