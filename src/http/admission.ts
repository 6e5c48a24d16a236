import type { ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { OverloadedError, TooManyRequestsError } from '../errors/mlog-error.js';
import type { AdmissionControl } from '../events/admission-control.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KnownSystem } from '../systems/system-registry.js';

/** Retry-After told to an IS over its own limit, and to everyone when the instance is full. */
export const SYSTEM_LIMIT_RETRY_AFTER_SECONDS = 1;
export const GLOBAL_LIMIT_RETRY_AFTER_SECONDS = 2;

/**
 * Admits an identified caller's call before its body is read (so at most maxInFlight bodies are held
 * at once), or refuses it at once: 429 when its IS has too many calls in flight, 503 when the instance
 * has. The slot is freed when the answer is sent or the connection closes (an aborted client too).
 */
export function admission(control: AdmissionControl, metrics: Metrics): RequestHandler {
  return (_request, response, next) => {
    releaseWhenOver(response, admitCall(control, metrics, (response.locals.caller as KnownSystem).system.code));
    next();
  };
}

/** Frees an admission when the answer is sent or the connection closes, whichever comes first. */
export function releaseWhenOver(response: ServerResponse, release: () => void): void {
  response.once('finish', release);
  response.once('close', release);
}

/** The in-flight admission of one call of IS `code`: its release, or the 429/503 thrown at once. */
export function admitCall(control: AdmissionControl, metrics: Metrics, code: string): () => void {
  const admission = control.tryAcquire(code);
  if (!admission.admitted) {
    metrics.admissionRefused.inc({ limit: admission.limit });
    if (admission.limit === 'system') {
      throw new TooManyRequestsError(
        `Information system "${code}" has ${control.limits.maxInFlightPerSystem} calls in flight, the most MLog handles at once for one system; retry after ${SYSTEM_LIMIT_RETRY_AFTER_SECONDS} s.`,
        SYSTEM_LIMIT_RETRY_AFTER_SECONDS,
      );
    }
    throw new OverloadedError(
      `MLog is handling as many calls as it can; nothing of this call was registered. Retry after ${GLOBAL_LIMIT_RETRY_AFTER_SECONDS} s.`,
      GLOBAL_LIMIT_RETRY_AFTER_SECONDS,
    );
  }
  return admission.release;
}

/**
 * Admits a /register call's body into registration, by its size (the declared Content-Length, or
 * `maxBodyBytes` when undeclared), before any byte of it is read; or refuses it at once: 429 when its
 * IS already has `maxInFlightPerSystem` bytes of bodies being registered, 503 when the instance has
 * `maxInFlight`. This bounds what registrations hold at once — the bodies, their parsed events, the
 * documents and their NDJSON all grow with the body — and keeps one system's parsing from taking the
 * whole event loop. The bytes are freed when the answer is sent or the connection closes.
 */
export function registerBytesAdmission(control: AdmissionControl, metrics: Metrics, maxBodyBytes: number): RequestHandler {
  return (request, response, next) => {
    const code = (response.locals.caller as KnownSystem).system.code;
    releaseWhenOver(response, admitRegisterBytes(control, metrics, maxBodyBytes, code, request.headers['content-length']));
    next();
  };
}

/** The register-bytes admission of one /register body of IS `code` (see registerBytesAdmission): its release, or the 429/503 thrown at once. */
export function admitRegisterBytes(control: AdmissionControl, metrics: Metrics, maxBodyBytes: number, code: string, contentLength: string | undefined): () => void {
  const declared = Number(contentLength);
  const bytes = Number.isSafeInteger(declared) && declared >= 0 && declared <= maxBodyBytes ? declared : maxBodyBytes;
  const admission = control.tryAcquire(code, Math.max(bytes, 1));
  if (!admission.admitted) {
    metrics.admissionRefused.inc({ limit: admission.limit === 'system' ? 'system_bytes' : 'global_bytes' });
    if (admission.limit === 'system') {
      throw new TooManyRequestsError(
        `Information system "${code}" already has ${control.limits.maxInFlightPerSystem} bytes of events being registered, the most MLog registers at once for one system; nothing of this call was registered. Retry after ${SYSTEM_LIMIT_RETRY_AFTER_SECONDS} s.`,
        SYSTEM_LIMIT_RETRY_AFTER_SECONDS,
      );
    }
    throw new OverloadedError(
      `MLog is registering ${control.limits.maxInFlight} bytes of events at once, the most it holds; nothing of this call was registered. Retry after ${GLOBAL_LIMIT_RETRY_AFTER_SECONDS} s.`,
      GLOBAL_LIMIT_RETRY_AFTER_SECONDS,
    );
  }
  return admission.release;
}
