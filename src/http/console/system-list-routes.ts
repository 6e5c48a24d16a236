import { Router } from 'express';
import type { InformationSystem } from '../../systems/information-system.js';
import { requireAction } from './console-session.js';

/** The registered information systems, as the console's pickers need them (SystemRegistry fits). */
export interface SystemList {
  list(): Promise<InformationSystem[]>;
}

/**
 * GET /systems: every registered system's code, name and status, for
 * the console's system pickers; relative to /console/api behind the session and CSRF checks, for
 * those who may read events (auditors and administrators). A list of the systems is configuration,
 * not a reading of the record: like the lists of administrators, dashboards and alert rules it is
 * not recorded in the audit trail, and it needs no stated purpose.
 */
export function consoleSystemRoutes(systems: SystemList): Router {
  const router = Router();
  router.get('/systems', requireAction('read-events'), async (_request, response) => {
    const list = (await systems.list()).map((system) => ({ code: system.code, name: system.name, status: system.status })).sort((a, b) => a.code.localeCompare(b.code));
    response.status(200).json({ systems: list });
  });
  return router;
}
