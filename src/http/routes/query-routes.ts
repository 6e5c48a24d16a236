import { Router } from 'express';
import { parseRangeQuery, parseUidQuery } from '../../events/query-parameters.js';
import type { QueryService } from '../../events/query-service.js';
import { parseQueryString, singleParameter } from '../../events/query-string.js';
import type { KnownSystem } from '../../systems/system-registry.js';
import { envelope } from '../envelope.js';
import { rawQueryString } from '../raw-query-string.js';

/** GET /query/{uid}, GET /query?uid=…, GET /query by time range: always over the caller's own events. */
export function queryRoutes(queries: QueryService): Router {
  const router = Router();
  router.get('/query/:uid', async (request, response) => {
    const caller = response.locals.caller as KnownSystem;
    const parameters = parseQueryString(rawQueryString(request));
    const answer = await queries.byUid(caller, parseUidQuery(String(request.params.uid), parameters), new Date());
    response.status(200).json(envelope(200, 'OK', { ...answer }));
  });
  router.get('/query', async (request, response) => {
    const caller = response.locals.caller as KnownSystem;
    const parameters = parseQueryString(rawQueryString(request));
    const uid = singleParameter(parameters, 'uid');
    const answer =
      uid !== undefined
        ? await queries.byUid(caller, parseUidQuery(uid.value.trim(), parameters), new Date())
        : await queries.byRange(caller, parseRangeQuery(parameters), new Date());
    response.status(200).json(envelope(200, 'OK', { ...answer }));
  });
  return router;
}
