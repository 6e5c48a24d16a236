import { Router } from 'express';
import type { PersonalDataService } from '../../events/personal-data-service.js';
import type { KnownSystem } from '../../systems/system-registry.js';
import { envelope } from '../envelope.js';
import { rawQueryString } from '../raw-query-string.js';

/** GET /personal-data: the PersonalData projections about one subject from every IS, for an IS holding personaldata:read. */
export function personalDataRoutes(personalData: PersonalDataService): Router {
  const router = Router();
  router.get('/personal-data', async (request, response) => {
    const caller = response.locals.caller as KnownSystem;
    const answer = await personalData.query(caller, rawQueryString(request), new Date());
    response.status(200).json(envelope(200, 'OK', { ...answer }));
  });
  return router;
}
