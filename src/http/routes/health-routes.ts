import { Router } from 'express';
import { MetricsUnavailableError, type Metrics } from '../../metrics/metrics.js';
import { envelope } from '../envelope.js';
import { sendError } from '../error-response.js';

export interface Readiness {
  /** Why the instance cannot serve now, or undefined when it can. */
  problem(): Promise<string | undefined>;
}

/** /healthz (the process lives), /readyz (Elasticsearch answers and templates are installed), /metrics. */
export function healthRoutes(readiness: Readiness, metrics: Metrics): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.status(200).json(envelope(200, 'MLog is running.'));
  });
  router.get('/readyz', async (_request, response) => {
    const problem = await readiness.problem();
    if (problem === undefined) response.status(200).json(envelope(200, 'MLog is ready.'));
    else response.status(503).setHeader('Retry-After', '5').json(envelope(503, problem));
  });
  router.get('/metrics', async (_request, response) => {
    let text: string;
    try {
      text = await metrics.exposition();
    } catch (error) {
      // MLOG_WORKERS > 1 and a worker is starting or does not answer: 503 with Retry-After, the message says why.
      if (error instanceof MetricsUnavailableError) return sendError(response, error);
      throw error;
    }
    response.setHeader('Content-Type', metrics.contentType);
    response.status(200).send(text);
  });
  return router;
}
