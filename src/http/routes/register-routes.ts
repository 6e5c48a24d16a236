import express, { Router } from 'express';
import type { IngestService } from '../../events/ingest-service.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { KnownSystem } from '../../systems/system-registry.js';
import { envelope } from '../envelope.js';
import { MAX_MESSAGE_BYTES } from '../error-response.js';

/**
 * POST /register: the body is raw text whatever the Content-Type says (never parsed as a form),
 * limited to 256 KB while it streams in; compressed bodies are refused.
 */
export function registerRoutes(ingest: IngestService, metrics: Metrics): Router {
  const router = Router();
  router.post(
    '/register',
    express.raw({ type: () => true, limit: MAX_MESSAGE_BYTES, inflate: false }),
    async (request, response) => {
      const caller = response.locals.caller as KnownSystem;
      const body: Uint8Array = Buffer.isBuffer(request.body) ? request.body : new Uint8Array(0);
      const registration = await ingest.register({ caller, body, receivedAt: new Date() });
      metrics.eventsRegistered.inc({ system: caller.system.code }, registration.events);
      response.status(200).json(envelope(200, 'OK', { UID: registration.uid }));
    },
  );
  return router;
}
