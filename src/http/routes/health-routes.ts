import { Router } from 'express';
import type { Metrics } from '../../metrics/metrics.js';
import { envelope } from '../envelope.js';

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
    response.setHeader('Content-Type', metrics.registry.contentType);
    response.status(200).send(await metrics.registry.metrics());
  });
  return router;
}
