import { Router } from 'express';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, type IdempotencyService } from '../../events/idempotency-service.js';
import type { IngestService } from '../../events/ingest-service.js';
import { RECEIPT_HEADER } from '../../evidence/receipt.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { KnownSystem } from '../../systems/system-registry.js';
import type { AdmissionControl } from '../../events/admission-control.js';
import { registerBytesAdmission } from '../admission.js';
import { envelope } from '../envelope.js';
import { MAX_MESSAGE_BYTES } from '../error-response.js';
import { rawBody } from '../raw-body.js';

/**
 * POST /register: the body is raw text whatever the Content-Type says (never parsed as a form),
 * limited to 256 KB while it streams in (413 at once, without waiting for the rest); compressed bodies are refused. With an Idempotency-Key
 * header, a repeated call of the same IS answers the first call's UID and stores nothing again. With
 * the evidence log on, the answer carries the MLog-Receipt header (a replay: the first call's).
 */
export function registerRoutes(ingest: IngestService, metrics: Metrics, idempotency: IdempotencyService, registerBytes: AdmissionControl): Router {
  const router = Router();
  // The events-registered series of each system, looked up once (prom-client hashes labels per call otherwise).
  const registered = new Map<string, { inc: (value: number) => void }>();
  const countRegistered = (system: string, events: number): void => {
    let series = registered.get(system);
    if (series === undefined) {
      series = metrics.eventsRegistered.labels({ system });
      registered.set(system, series);
    }
    series.inc(events);
  };
  router.post(
    '/register',
    // Bytes of bodies being registered, per IS and for the instance: refused at once, before the body is read.
    registerBytesAdmission(registerBytes, metrics, MAX_MESSAGE_BYTES),
    rawBody(MAX_MESSAGE_BYTES),
    async (request, response) => {
      const caller = response.locals.caller as KnownSystem;
      const body: Uint8Array = Buffer.isBuffer(request.body) ? request.body : new Uint8Array(0);
      const key = parseIdempotencyKey(request.get(IDEMPOTENCY_KEY_HEADER));
      const call = { caller, body, receivedAt: new Date() };
      const registration = key === undefined ? { ...(await ingest.register(call)), replayed: false } : await idempotency.register(call, key);
      if (registration.replayed) response.setHeader('Idempotent-Replayed', 'true');
      if (registration.receipt !== undefined) response.setHeader(RECEIPT_HEADER, registration.receipt);
      else countRegistered(caller.system.code, registration.events);
      response.status(200).json(envelope(200, 'OK', { UID: registration.uid }));
    },
  );
  return router;
}
