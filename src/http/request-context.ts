import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { requestScope, type Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';

/**
 * Gives each request an id (X-Request-Id), carried to every log line written while handling it, and
 * when answered one log line and its metrics. The log
 * line holds the method, the route, the status, the duration and the caller's code — never the
 * query string, the body or headers, which may carry personal data or signatures.
 */
export function requestContext(listener: 'public' | 'admin', logger: Logger, metrics: Metrics): RequestHandler {
  return (request, response, next) => {
    const requestId = randomUUID();
    const started = process.hrtime.bigint();
    response.locals.requestId = requestId;
    response.setHeader('X-Request-Id', requestId);
    response.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.requests.inc({ listener, route, status: String(response.statusCode) });
      metrics.requestSeconds.observe({ listener, route }, seconds);
      logger.info('request', {
        requestId,
        listener,
        method: request.method,
        route,
        status: response.statusCode,
        ms: Math.round(seconds * 1000),
        system: (response.locals.caller as { system?: { code?: string } } | undefined)?.system?.code,
      });
    });
    requestScope.run({ requestId }, next);
  };
}
