/**
 * /metrics of the whole instance when MLog runs as several worker processes (MLOG_WORKERS > 1).
 *
 * Every worker keeps its own prom-client registry and lets prom-client's AggregatorRegistry answer
 * the primary's requests for it (cluster IPC). The worker that receives GET /metrics asks the primary;
 * the primary calls `clusterMetrics()`, which gathers every worker's registry and sums them (counters,
 * histograms and gauges; prom-client's own aggregators for the default process metrics), and sends
 * the text back to that worker.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import { Metrics, MetricsUnavailableError, type MetricsSource } from '../metrics/metrics.js';

const REQUEST = 'mlog:metrics-request';
const ANSWER = 'mlog:metrics-answer';

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}

type MetricsAnswer = { type: typeof ANSWER; id: number } & ({ text: string } | { problem: string });

/** prom-client gives up on workers that do not send their metrics after 5 s; the worker waits a little longer for the primary's answer. */
const ANSWER_TIMEOUT_MS = 7_000;

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** The worker's requests waiting for the primary's answer, by id. */
const waiting = new Map<number, (answer: MetricsAnswer) => void>();
let nextId = 0;

/** In a worker: asks the primary for the whole instance's metrics. */
const askPrimary: MetricsSource = () =>
  new Promise<string>((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new MetricsUnavailableError(`The primary process did not send the metrics of the workers within ${ANSWER_TIMEOUT_MS / 1000} s.`));
    }, ANSWER_TIMEOUT_MS);
    waiting.set(id, (answer) => {
      clearTimeout(timer);
      waiting.delete(id);
      if ('text' in answer) resolve(answer.text);
      else reject(new MetricsUnavailableError(`The metrics of the whole instance are not available now: ${answer.problem}`));
    });
    const request: MetricsRequest = { type: REQUEST, id };
    process.send?.(request);
  });

/**
 * In a worker: its Metrics, whose registry the primary reads (prom-client's AggregatorRegistry
 * listens for its requests) and whose /metrics text is the whole instance's, asked of the primary.
 * Call before the worker listens, so that the primary never asks a worker that cannot answer yet.
 */
export function workerMetrics(): Metrics {
  const metrics = new Metrics(askPrimary);
  AggregatorRegistry.setRegistries(metrics.registry);
  // Constructing it installs prom-client's listener for the primary's requests (once per process).
  new AggregatorRegistry();
  process.on('message', (message: unknown) => {
    if (isMessage<MetricsAnswer>(message, ANSWER)) waiting.get(message.id)?.(message);
  });
  return metrics;
}

/**
 * In the primary: answers the workers' requests for the whole instance's metrics. `notServing`
 * names a worker that cannot send its metrics yet (still starting), if any: then the answer is a
 * refusal at once (the worker answers 503 with Retry-After) instead of a 5-second wait for prom-client's timeout.
 */
export function answerMetricsRequests(notServing: () => string | undefined, logger: Logger): void {
  const aggregator = new AggregatorRegistry();
  const answer = (worker: Worker, message: MetricsAnswer): void => {
    if (!worker.isConnected()) return;
    worker.send(message, (error: Error | null) => {
      if (error) logger.warn('could not send the metrics to a worker', { worker: worker.id, error: error.message });
    });
  };
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, REQUEST)) return;
    const starting = notServing();
    if (starting !== undefined) {
      answer(worker, { type: ANSWER, id: message.id, problem: `${starting} is still starting.` });
      return;
    }
    aggregator.clusterMetrics().then(
      (text) => answer(worker, { type: ANSWER, id: message.id, text }),
      (error: unknown) => {
        const problem = `the workers' metrics could not be gathered (${(error as Error).message})`;
        logger.warn('metrics of the whole instance not available', { problem });
        answer(worker, { type: ANSWER, id: message.id, problem });
      },
    );
  });
}
