import { Router } from 'express';
import { ValidationError } from '../../errors/mlog-error.js';
import type { EvidenceService } from '../../evidence/evidence-service.js';
import type { KnownSystem } from '../../systems/system-registry.js';
import { envelope } from '../envelope.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * GET /proof/{uid}: the inclusion proof of each of the caller's own events of that UID against the
 * newest checkpoint of its log (another IS's UID answers 404, as /query/{uid} does); GET
 * /checkpoints/latest: the head of the evidence chain, the newest checkpoint of each log and MLog's
 * public key. docs/api.md, docs/evidence.md.
 */
export function evidenceRoutes(evidence: EvidenceService): Router {
  const router = Router();
  router.get('/proof/:uid', async (request, response) => {
    const caller = response.locals.caller as KnownSystem;
    const uid = String(request.params.uid);
    if (!UUID.test(uid)) throw new ValidationError(`"${uid.slice(0, 80)}" is not a UID: MLog answers /register with a UUID such as 3f2b…-….`);
    const answer = await evidence.proof(caller.system.code, uid.toLowerCase());
    response.status(200).json(envelope(200, 'OK', { ...answer }));
  });
  router.get('/checkpoints/latest', async (_request, response) => {
    const answer = await evidence.latest();
    response.status(200).json(envelope(200, 'OK', { ...answer }));
  });
  return router;
}
