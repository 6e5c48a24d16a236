import type { ServerResponse } from 'node:http';
import { Router } from 'express';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, type IdempotencyService } from '../../events/idempotency-service.js';
import type { IngestService } from '../../events/ingest-service.js';
import { RECEIPT_HEADER } from '../../evidence/receipt.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { KnownSystem } from '../../systems/system-registry.js';
import type { AdmissionControl } from '../../events/admission-control.js';
import { registerBytesAdmission } from '../admission.js';
import { envelope } from '../envelope.js';
import { MAX_MESSAGE_BYTES, sendEnvelope } from '../error-response.js';
import { rawBody } from '../raw-body.js';

/** Registers the raw body of one POST /register of `caller` and answers it (200 with the UID, its headers); throws what refuses it. */
export type Registrar = (caller: KnownSystem, body: Uint8Array, idempotencyKey: string | undefined, response: ServerResponse) => Promise<void>;

/**
 * The registration of a POST /register body, shared by the Express route and the direct door
 * (register-door.ts): with an Idempotency-Key header, a repeated call of the same IS answers the first
 * call's UID and stores nothing again (Idempotent-Replayed: true). With the evidence log on, the answer
 * carries the MLog-Receipt header (a replay: the first call's).
 */
export function registrar(ingest: IngestService, metrics: Metrics, idempotency: IdempotencyService): Registrar {
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
  return async (caller, body, idempotencyKey, response) => {
    const key = parseIdempotencyKey(idempotencyKey);
    const call = { caller, body, receivedAt: new Date() };
    const registration = key === undefined ? { ...(await ingest.register(call)), replayed: false } : await idempotency.register(call, key);
    // A replay stored nothing: only a first call counts its events.
    if (registration.replayed) response.setHeader('Idempotent-Replayed', 'true');
    else countRegistered(caller.system.code, registration.events);
    if (registration.receipt !== undefined) response.setHeader(RECEIPT_HEADER, registration.receipt);
    sendEnvelope(response, 200, envelope(200, 'OK', { UID: registration.uid }));
  };
}

/** The header that carries the Idempotency-Key of a call, as Node names it (lower case). */
export const IDEMPOTENCY_KEY = IDEMPOTENCY_KEY_HEADER.toLowerCase();

/**
 * POST /register: the body is raw text whatever the Content-Type says (never parsed as a form),
 * limited to 256 KB while it streams in (413 at once, without waiting for the rest); compressed bodies
 * are refused; then `register` (see registrar).
 */
export function registerRoutes(register: Registrar, metrics: Metrics, registerBytes: AdmissionControl): Router {
  const router = Router();
  router.post(
    '/register',
    // Bytes of bodies being registered, per IS and for the instance: refused at once, before the body is read.
    registerBytesAdmission(registerBytes, metrics, MAX_MESSAGE_BYTES),
    rawBody(MAX_MESSAGE_BYTES),
    async (request, response) => {
      const body: Uint8Array = Buffer.isBuffer(request.body) ? request.body : new Uint8Array(0);
      const key = request.headers[IDEMPOTENCY_KEY];
      await register(response.locals.caller as KnownSystem, body, Array.isArray(key) ? key.join(', ') : key, response);
    },
  );
  return router;
}
