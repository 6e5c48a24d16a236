import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { requestScope, type Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';

interface RouteMetrics {
  count: (status: number) => void;
  observe: (seconds: number) => void;
}

/**
 * The metric series of a listener's routes, looked up once per route and status: prom-client hashes
 * the label object on every `inc`/`observe` otherwise, a cost paid on every call.
 */
function routeMetrics(listener: 'public' | 'admin', metrics: Metrics): (route: string) => RouteMetrics {
  const byRoute = new Map<string, RouteMetrics>();
  return (route) => {
    let known = byRoute.get(route);
    if (known === undefined) {
      const counters = new Map<number, { inc: () => void }>();
      const histogram = metrics.requestSeconds.labels({ listener, route });
      known = {
        count: (status) => {
          let counter = counters.get(status);
          if (counter === undefined) {
            counter = metrics.requests.labels({ listener, route, status: String(status) });
            counters.set(status, counter);
          }
          counter.inc();
        },
        observe: (seconds) => histogram.observe(seconds),
      };
      byRoute.set(route, known);
    }
    return known;
  };
}

/** Starts tracking one call: its id (X-Request-Id header), and when answered its metrics and log line; returns the id. */
export type RequestTracker = (request: IncomingMessage, response: ServerResponse, routeOf: () => string, systemOf: () => string | undefined) => string;

/**
 * Gives each request an id (X-Request-Id), and when answered one log line and its metrics. The log
 * line holds the method, the route, the status, the duration and the caller's code — never the
 * query string, the body or headers, which may carry personal data or signatures.
 */
export function requestTracker(listener: 'public' | 'admin', logger: Logger, metrics: Metrics): RequestTracker {
  const seriesOf = routeMetrics(listener, metrics);
  return (request, response, routeOf, systemOf) => {
    const requestId = randomUUID();
    const started = process.hrtime.bigint();
    response.setHeader('X-Request-Id', requestId);
    response.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf();
      const series = seriesOf(route);
      series.count(response.statusCode);
      series.observe(seconds);
      // The line is built only when it is written (info is off in production runs at warn).
      if (!logger.isLevelEnabled('info')) return;
      logger.info('request', { requestId, listener, method: request.method, route, status: response.statusCode, ms: Math.round(seconds * 1000), system: systemOf() });
    });
    return requestId;
  };
}

/** Express middleware of requestTracker; the id is carried to every log line written while handling the request. */
export function requestContext(track: RequestTracker): RequestHandler {
  return (request, response, next) => {
    const requestId = track(
      request,
      response,
      () => (request.route as { path?: string } | undefined)?.path ?? 'unmatched',
      () => (response.locals.caller as { system?: { code?: string } } | undefined)?.system?.code,
    );
    response.locals.requestId = requestId;
    requestScope.run({ requestId }, next);
  };
}
