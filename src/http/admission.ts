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
    const caller = response.locals.caller as KnownSystem;
    const code = caller.system.code;
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
    response.once('finish', admission.release);
    response.once('close', admission.release);
    next();
  };
}
