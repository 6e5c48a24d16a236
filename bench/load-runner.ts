/**
 * Fixed-duration closed-loop load: N workers, each one keep-alive connection, each sending its next call
 * as soon as the previous one is answered. Every call's latency is recorded after the warm-up;
 * percentiles come from those samples. With `ratePerSecond`, calls are paced instead (each call has
 * an intended start time; latency is measured from it, so a late start counts against the server).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Answer {
  status: number;
  body: string;
}

/** One caller: mutual TLS with its client certificate, keep-alive connections. */
export class MtlsClient {
  readonly agent: HttpsAgent;
  constructor(
    private readonly port: number,
    tls: { caPem: string; certPem: string; keyPem: string },
    maxSockets: number,
  ) {
    this.agent = new HttpsAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, servername: 'localhost' });
  }

  request(method: string, path: string, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const call = httpsRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
          timeout: 30_000,
        },
        (response) => collect(response, resolve, reject),
      );
      call.on('timeout', () => call.destroy(new Error('client timeout')));
      call.on('error', reject);
      call.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Plain HTTP to Elasticsearch, keep-alive. */
export class HttpClient {
  readonly agent: HttpAgent;
  private readonly url: URL;
  constructor(baseUrl: string, maxSockets: number) {
    this.url = new URL(baseUrl);
    this.agent = new HttpAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: string, path: string, body?: string, contentType = 'application/json'): Promise<Answer> {
    return this.requestWithHeaders(method, path, body, body === undefined ? {} : { 'Content-Type': contentType });
  }

  requestWithHeaders(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const call = httpRequest(
        {
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          agent: this.agent,
          headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers, 'Content-Length': Buffer.byteLength(body) },
          timeout: 120_000,
        },
        (response) => collect(response, resolve, reject),
      );
      call.on('timeout', () => call.destroy(new Error('client timeout')));
      call.on('error', reject);
      call.end(body);
    });
  }

  /** A JSON call that must succeed. */
  async json(method: string, path: string, body?: unknown): Promise<any> {
    const answer = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (answer.status >= 300) throw new Error(`Elasticsearch ${method} ${path}: ${answer.status} ${answer.body.slice(0, 500)}`);
    return answer.body === '' ? undefined : JSON.parse(answer.body);
  }

  close(): void {
    this.agent.destroy();
  }
}

function collect(response: import('node:http').IncomingMessage, resolve: (answer: Answer) => void, reject: (error: Error) => void): void {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
  response.on('error', reject);
}

/** What one call did: `units` counted when ok (events, or 1 for a query); otherwise `outcome` names it. */
export interface CallOutcome {
  ok: boolean;
  units: number;
  outcome: string;
}

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Paced load: calls started per second over all workers (closed loop when absent). */
  ratePerSecond?: number;
  /** Sends call number `seq` of worker `worker`. */
  call(worker: number, seq: number): Promise<CallOutcome>;
  /** Told when the measured window starts and ends (for CPU figures of exactly that window). */
  onWindow?(edge: 'start' | 'end'): void;
}

export interface LoadResult {
  /** Units (events or queries) answered ok within the measured window, per second. */
  unitsPerSecond: number;
  callsPerSecond: number;
  calls: number;
  units: number;
  seconds: number;
  /** Latency percentiles of measured calls, ms. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Calls that failed, by outcome ("429", "503", "connection error" …), measured window only. */
  failures: Record<string, number>;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Runs the load: warm-up, then the measured window; every worker stops by itself when the window ends
 * (a call in flight then is waited for but not counted).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.durationMs;
  const latencies: number[] = [];
  let units = 0;
  let calls = 0;
  const failures: Record<string, number> = {};
  let ticket = 0;
  const interval = options.ratePerSecond === undefined ? 0 : 1000 / options.ratePerSecond;
  const told = new Set<'start' | 'end'>();
  const tell = (edge: 'start' | 'end'): void => {
    if (options.onWindow === undefined || told.has(edge)) return;
    told.add(edge);
    options.onWindow(edge);
  };
  const edges = [setTimeout(() => tell('start'), options.warmupMs), setTimeout(() => tell('end'), options.warmupMs + options.durationMs)];

  const worker = async (index: number): Promise<void> => {
    for (let seq = 0; ; seq++) {
      let intended = performance.now();
      if (interval > 0) {
        intended = start + ticket++ * interval;
        const wait = intended - performance.now();
        if (wait > 0) await sleep(wait);
      }
      if (intended >= end || performance.now() >= end) return;
      let outcome: CallOutcome;
      try {
        outcome = await options.call(index, seq);
      } catch (error) {
        outcome = { ok: false, units: 0, outcome: `error: ${(error as Error).message.slice(0, 60)}` };
      }
      const done = performance.now();
      if (intended < measureFrom || done > end) continue;
      calls++;
      latencies.push(done - intended);
      if (outcome.ok) units += outcome.units;
      else failures[outcome.outcome] = (failures[outcome.outcome] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  for (const edge of edges) clearTimeout(edge);
  // Paced workers may all be done a moment before the window's timer: the window closes with them.
  tell('start');
  tell('end');
  const seconds = options.durationMs / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    unitsPerSecond: units / seconds,
    callsPerSecond: calls / seconds,
    calls,
    units,
    seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    failures,
  };
}
