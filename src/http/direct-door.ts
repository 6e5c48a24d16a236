import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdmissionControl } from '../events/admission-control.js';
import { requestScope, type Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RejectionRecorder } from '../rejections/rejection-recorder.js';
import type { KnownSystem } from '../systems/system-registry.js';
import { admitCall, releaseWhenOver } from './admission.js';
import { recordRefusedCall } from './connection-refusals.js';
import { mapFailure, sendError } from './error-response.js';
import type { CallerIdentification } from './peer-credentials.js';
import { splitTarget } from './raw-query-string.js';
import type { RequestTracker } from './request-context.js';
import { headProblem } from './request-head.js';

/** What a direct door needs of the public listener, shared with the Express app. */
export interface DirectDoorServices {
  /** Who is calling: by the connection's certificate, or the one a trusted proxy forwards. */
  identification: CallerIdentification;
  admission: AdmissionControl;
  metrics: Metrics;
  logger: Logger;
  rejections: RejectionRecorder;
  /** The public listener's request tracker (ids, metrics, log lines), shared with the Express app. */
  track: RequestTracker;
}

/** One call past identification and admission, as a direct door goes on with it. */
export interface DirectCall {
  /** Answers a failure in the envelope (mapped once, error-response.ts) and records a refusal in the rejections index. */
  fail(error: unknown): void;
  /** The body read, for the record of a refusal. */
  keepBody(body: Buffer): void;
  /** Runs `work` in the request's scope (its id on every log line): stream events run outside it. */
  inScope(work: () => void): void;
}

/**
 * Takes one call of the public listener through the steps every route of the Express app runs first,
 * with the same functions and in the same order: a request id, and when answered the call's metrics
 * and log line (labelled `route` once the call is admitted, 'unmatched' before, as Express labels it);
 * the head checked; the caller identified (CallerIdentification: the connection's certificate, cached per
 * connection, or the one a trusted proxy forwards);
 * admitted by calls in flight. Then `proceed` goes on with the call; whatever it throws, and every
 * refusal before it, is answered by `fail`.
 */
export function directCall(services: DirectDoorServices, request: IncomingMessage, response: ServerResponse, route: string, proceed: (caller: KnownSystem, call: DirectCall) => void): void {
  const { identification, admission, metrics, logger, rejections, track } = services;
  let caller: KnownSystem | undefined;
  // As Express labels it: 'unmatched' until the call reaches the route (past identification and admission).
  let routed = false;
  let body: Buffer | undefined;
  const requestId = track(
    request,
    response,
    () => (routed ? route : 'unmatched'),
    () => caller?.system.code,
  );
  const fail = (error: unknown): void => {
    const mapped = mapFailure(logger, error, requestId);
    if (mapped.status >= 400 && mapped.status < 500) {
      const url = request.url ?? '';
      recordRefusedCall(
        rejections,
        {
          peer: identification.credentials(request),
          ...(caller === undefined ? {} : { system: caller.system.code }),
          method: request.method ?? '',
          path: splitTarget(url).path,
          url,
          requestId,
          ...(body === undefined ? {} : { body }),
        },
        mapped,
      );
    }
    if (response.headersSent) return;
    sendError(response, mapped);
  };
  const scope = { requestId };
  const call: DirectCall = {
    fail,
    keepBody: (read) => {
      body = read;
    },
    inScope: (work) => requestScope.run(scope, work),
  };
  const identified = (known: KnownSystem): void => {
    caller = known;
    try {
      releaseWhenOver(response, admitCall(admission, metrics, known.system.code));
      routed = true;
      proceed(known, call);
    } catch (error) {
      fail(error);
    }
  };
  requestScope.run(scope, () => {
    try {
      const problem = headProblem(request);
      if (problem !== undefined) throw problem;
      const known = identification.caller(request, new Date());
      if (known instanceof Promise) known.then(identified).catch(fail);
      else identified(known);
    } catch (error) {
      fail(error);
    }
  });
}
