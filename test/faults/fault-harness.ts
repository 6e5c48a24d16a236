/**
 * Fault injection for MLog: a scenario gets its OWN Elasticsearch (started here, on a free port from
 * 9710 up, in a temporary data dir), MLog as a child process (so it can be SIGKILLed or SIGTERMed),
 * and a load generator on loopback with a bounded number of calls and a bounded time. At the end it
 * compares every acknowledged UID with what Elasticsearch holds and prints the figures.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../scripts/dev-pki.js';
import { spawnMLog } from '../../scripts/mlog-child-process.js';
import { startLocalElasticsearch, type LocalElasticsearch } from '../../scripts/local-elasticsearch.js';

/** Where every scenario appends its figures (one JSON object a line), for docs/reliability.md. */
export const FIGURES_FILE = process.env.MLOG_FAULTS_FIGURES ?? join(tmpdir(), 'mlog-faults-figures.jsonl');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** An HTTP port and its transport port (+100), both free, from `from` up in steps of 10; never 9400/9401. */
async function freeElasticsearchPort(from: number): Promise<number> {
  for (let port = from; port < from + 400; port += 10) {
    if ((await portIsFree(port)) && (await portIsFree(port + 100))) return port;
  }
  throw new Error(`no free port pair from ${from}`);
}

// ------------------------------------------------------------------------------------------------
// Elasticsearch of one scenario
// ------------------------------------------------------------------------------------------------

export class ScenarioElasticsearch {
  private constructor(
    readonly port: number,
    readonly dataDir: string,
    public instance: LocalElasticsearch,
  ) {}

  static async start(firstPort: number): Promise<ScenarioElasticsearch> {
    const port = await freeElasticsearchPort(firstPort);
    const dataDir = mkdtempSync(join(tmpdir(), 'mlog-faults-es-'));
    const instance = await startLocalElasticsearch({ port, dataDir, heap: '512m' });
    return new ScenarioElasticsearch(port, dataDir, instance);
  }

  get url(): string {
    return this.instance.url;
  }

  /** Signals the whole process group (launcher and server JVM). */
  signal(signal: NodeJS.Signals): void {
    process.kill(-this.instance.pid, signal);
  }

  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.instance.exited;
  }

  async restart(): Promise<void> {
    this.instance = await startLocalElasticsearch({ port: this.port, dataDir: this.dataDir, heap: '512m' });
  }

  async es(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok && response.status !== 404) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
    return text === '' ? undefined : JSON.parse(text);
  }

  async stop(): Promise<void> {
    try {
      this.signal('SIGCONT');
    } catch {
      // already gone
    }
    await this.instance.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------
// MLog as a child process
// ------------------------------------------------------------------------------------------------

export interface Pki {
  dir: string;
  caPem: string;
  client: IssuedCertificate;
  env: Record<string, string>;
}

/** A test CA, MLog's server certificate and the load's client certificate, plus one client certificate per name of `others`. */
export async function makePki(others: string[] = []): Promise<Pki & { others: IssuedCertificate[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'mlog-faults-pki-'));
  const ca = await createCertificateAuthority(dir, 'Faults CA');
  const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
  const client = await issueClientCertificate(ca, dir, { name: 'load' });
  const issued: IssuedCertificate[] = [];
  for (const name of others) issued.push(await issueClientCertificate(ca, dir, { name }));
  // One signing key for every MLog of the scenario (a restarted one too), checkpoints every second: `mlog verify` checks them after the fault.
  // The log of a killed MLog is sealed by the next one 6 s after its last lease renewal.
  const signingKey = join(dir, 'mlog-signing-key.pem');
  writeFileSync(signingKey, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  return {
    dir,
    caPem: ca.certPem,
    client,
    others: issued,
    env: { MLOG_TLS_CERT: server.certPath, MLOG_TLS_KEY: server.keyPath, MLOG_TLS_CLIENT_CA: ca.certPath, MLOG_SIGNING_KEY: signingKey, MLOG_CHECKPOINT_SECONDS: '1', MLOG_EVIDENCE_SEAL_AFTER_SECONDS: '6' },
  };
}

export class MLogProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;

  private constructor(
    readonly child: ChildProcess,
    readonly publicPort: number,
    readonly adminPort: number,
    readonly token: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output: this.output })));
  }

  /** Starts MLog on the given ports (fresh ones when absent) and waits for "MLog started". */
  static async start(elasticsearchUrl: string, pki: Pki, options: { publicPort?: number; adminPort?: number; token?: string; env?: Record<string, string> } = {}): Promise<MLogProcess> {
    const { child, publicPort, adminPort, token } = await spawnMLog(elasticsearchUrl, {
      ...options,
      env: { MLOG_WRITE_DEADLINE_SECONDS: '5', MLOG_SHUTDOWN_GRACE_SECONDS: '8', ...pki.env, ...options.env },
    });
    const mlog = new MLogProcess(child, publicPort, adminPort, token);
    const started = Date.now();
    while (!(await mlog.listening())) {
      if (child.exitCode !== null) throw new Error(`MLog exited at start: ${mlog.output}`);
      if (Date.now() - started > 60_000) throw new Error(`MLog did not start: ${mlog.output}`);
      await sleep(100);
    }
    return mlog;
  }

  get log(): string {
    return this.output;
  }

  private async listening(): Promise<boolean> {
    return (await this.admin('GET', '/healthz').catch(() => undefined))?.status === 200;
  }

  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const call = httpRequest(
        { host: '127.0.0.1', port: this.adminPort, path, method, headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' }, agent: false, timeout: 10_000 },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      );
      call.on('timeout', () => call.destroy(new Error('timeout')));
      call.on('error', reject);
      call.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  async addSystem(code: string, certificate: IssuedCertificate): Promise<void> {
    const answer = await this.admin('POST', '/admin/systems', { code, name: `Faults ${code}`, idno: '1003600000000', certificates: [certificate.certPem], status: 'active' });
    if (answer.status !== 201) throw new Error(`adding ${code}: ${answer.status} ${answer.body}`);
  }

  async ready(): Promise<boolean> {
    return (await this.admin('GET', '/readyz').catch(() => undefined))?.status === 200;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

// ------------------------------------------------------------------------------------------------
// Load
// ------------------------------------------------------------------------------------------------

/** One logical call of the load: one body, one Idempotency-Key, possibly several attempts. */
export interface CallRecord {
  loadId: string;
  events: number;
  /** UIDs answered with 200, one per acknowledged attempt (more than one would be a duplicate registration). */
  acknowledged: string[];
  /** Statuses (or "connection error") of every attempt. */
  attempts: string[];
  firstAckAt?: number;
}

export interface LoadOptions {
  port: number;
  pki: Pki;
  concurrency: number;
  /** Logical calls at most. */
  maxCalls: number;
  /** Stop starting calls after this many ms. */
  durationMs: number;
  /** Attempts per logical call (same body, same Idempotency-Key) while it is refused with 503/429 or the connection fails. */
  attemptsPerCall: number;
  useIdempotencyKey: boolean;
  /** A port to try when `port` refuses connections (MLog restarted elsewhere); read at each attempt. */
  currentPort?: () => number;
  /** Answers after which the call is sent again (same body, same key); default 503, 429 and connection errors. */
  retryOn?: readonly string[];
}

export interface LoadResult {
  calls: CallRecord[];
  startedAt: number;
  endedAt: number;
}

/** POST /register over mutual TLS with the load's client certificate, or `client` when given. */
export function post(port: number, pki: Pki, agent: Agent, body: string, headers: Record<string, string>, client: IssuedCertificate = pki.client): Promise<{ status: number; body: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const call = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/register',
        method: 'POST',
        ca: pki.caPem,
        servername: 'localhost',
        cert: client.certPem,
        key: client.keyPem,
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...headers },
        timeout: 30_000,
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, retryAfter: response.headers['retry-after'] as string | undefined }));
        response.on('error', reject);
      },
    );
    call.on('timeout', () => call.destroy(new Error('client timeout')));
    call.on('error', reject);
    call.end(body);
  });
}

/** Drives calls until `maxCalls` or `durationMs`; every call's body is a batch of 2 events carrying its load id. */
export async function runLoad(options: LoadOptions, onAnswer?: (status: string, at: number, latencyMs: number) => void): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const calls: CallRecord[] = [];
  const startedAt = Date.now();
  let started = 0;
  const worker = async () => {
    while (started < options.maxCalls && Date.now() - startedAt < options.durationMs) {
      started++;
      const loadId = randomUUID();
      const record: CallRecord = { loadId, events: 2, acknowledged: [], attempts: [] };
      calls.push(record);
      const event = (n: number) => JSON.stringify({ event_time: new Date().toISOString(), event_type: 'Faults.Load', load_id: loadId, part: String(n), legal_basis: 'test' });
      const body = `${event(1)}\n${event(2)}`;
      const headers: Record<string, string> = options.useIdempotencyKey ? { 'Idempotency-Key': loadId } : {};
      for (let attempt = 0; attempt < options.attemptsPerCall; attempt++) {
        let status: string;
        const sentAt = Date.now();
        try {
          const answer = await post(options.currentPort?.() ?? options.port, options.pki, agent, body, headers);
          status = String(answer.status);
          if (answer.status === 200) {
            const uid = (JSON.parse(answer.body) as { UID?: string }).UID;
            if (uid === undefined) throw new Error(`200 without UID: ${answer.body}`);
            record.acknowledged.push(uid);
            record.firstAckAt ??= Date.now();
          }
        } catch (error) {
          status = 'connection error';
          void error;
        }
        record.attempts.push(status);
        onAnswer?.(status, Date.now(), Date.now() - sentAt);
        if (status === '200' || !(options.retryOn ?? ['503', '429', 'connection error']).includes(status)) break;
        if (Date.now() - startedAt > options.durationMs) break;
        await sleep(status === 'connection error' ? 300 : 500);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  agent.destroy();
  return { calls, startedAt, endedAt: Date.now() };
}

// ------------------------------------------------------------------------------------------------
// Comparison with what Elasticsearch holds
// ------------------------------------------------------------------------------------------------

export interface Figures {
  scenario: string;
  calls: number;
  acknowledged: number;
  /** Logical calls never acknowledged, after all their attempts. */
  refused: number;
  /** Attempts answered with something other than 200 (503, 429, connection refused …), retried with the same Idempotency-Key. */
  refusedAttempts: number;
  /** Acknowledged events that Elasticsearch does not hold under their acknowledged UID: must be 0. */
  missing: number;
  /** Events stored more than once (a call registered under two UIDs, or an id twice): must be 0 with Idempotency-Key. */
  duplicates: number;
  /** Calls never acknowledged whose events Elasticsearch nevertheless holds (whole). */
  refusedButStored: number;
  /** Calls whose events are only partly stored: must be 0. */
  partial: number;
  recoverySeconds: number | undefined;
  seconds: number;
  /** How many attempts got each answer, e.g. {"200": 3000, "503": 40, "connection error": 8}. */
  statuses: Record<string, number>;
  /** The last answer of each call never acknowledged, counted. */
  refusedWith: Record<string, number>;
}

function countOf(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Reads every load event of `code` from Elasticsearch and compares with the calls. */
export async function compare(scenario: string, es: Pick<ScenarioElasticsearch, 'es'>, code: string, load: LoadResult, recoverySeconds: number | undefined): Promise<Figures> {
  await es.es('POST', `/mlog-${code}-*/_refresh`);
  const stored = new Map<string, { uid: string; id: string }[]>();
  let after: unknown[] | undefined;
  for (;;) {
    const page = await es.es('POST', `/mlog-${code}-*/_search`, {
      size: 5_000,
      _source: ['load_id', '@uid', '@id'],
      query: { match_all: {} },
      sort: [{ '@uid': 'asc' }, { '@received': 'asc' }, { '@line': 'asc' }, { part: 'asc' }],
      ...(after === undefined ? {} : { search_after: after }),
      track_total_hits: true,
      seq_no_primary_term: false,
    });
    const hits = (page?.hits?.hits ?? []) as { _id: string; _source: Record<string, string>; sort: unknown[] }[];
    for (const hit of hits) {
      const loadId = hit._source.load_id ?? '';
      const list = stored.get(loadId) ?? [];
      list.push({ uid: hit._source['@uid'] ?? '', id: hit._id });
      stored.set(loadId, list);
    }
    if (hits.length < 5_000) break;
    after = hits.at(-1)?.sort;
  }
  let missing = 0;
  let duplicates = 0;
  let refusedButStored = 0;
  let partial = 0;
  for (const call of load.calls) {
    const docs = stored.get(call.loadId) ?? [];
    const uids = new Set(docs.map((doc) => doc.uid));
    for (const uid of new Set(call.acknowledged)) {
      const held = docs.filter((doc) => doc.uid === uid).length;
      if (held < call.events) missing += call.events - held;
    }
    if (docs.length > call.events) duplicates += docs.length - call.events;
    for (const uid of uids) if (docs.filter((doc) => doc.uid === uid).length % call.events !== 0) partial++;
    if (call.acknowledged.length === 0 && docs.length > 0) refusedButStored++;
  }
  const acknowledged = load.calls.filter((call) => call.acknowledged.length > 0).length;
  return {
    scenario,
    calls: load.calls.length,
    acknowledged,
    refused: load.calls.length - acknowledged,
    refusedAttempts: load.calls.reduce((sum, call) => sum + call.attempts.filter((status) => status !== '200').length, 0),
    missing,
    duplicates,
    refusedButStored,
    partial,
    recoverySeconds,
    seconds: Math.round((load.endedAt - load.startedAt) / 100) / 10,
    statuses: countOf(load.calls.flatMap((call) => call.attempts)),
    refusedWith: countOf(load.calls.filter((call) => call.acknowledged.length === 0).map((call) => call.attempts.at(-1) ?? 'not sent')),
  };
}

/** What `mlog verify --all` found on a scenario's Elasticsearch once its MLog stopped (docs/evidence.md). */
export interface VerificationFigures {
  /** Findings of every kind: must be 0. */
  verificationFailures: number;
  verificationCounts: Record<string, number>;
  eventsVerified: number;
  /** Events of a log whose process was killed before a checkpoint covered them. */
  eventsNotYetCheckpointed: number;
}

/** Runs the real `mlog verify --all --json` against the scenario's Elasticsearch, trusting the scenario's signing key. */
export async function verifyEvidence(elasticsearchUrl: string, pki: Pki): Promise<VerificationFigures> {
  const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const run = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', cli, 'verify', '--all', '--json'],
      { env: { ...process.env, MLOG_ELASTICSEARCH_URL: elasticsearchUrl, MLOG_SIGNING_KEY: pki.env.MLOG_SIGNING_KEY ?? '' }, maxBuffer: 64 * 1024 * 1024 },
      (_error, stdout, stderr) => resolve({ stdout, stderr }),
    );
  });
  let report: { counts: Record<string, number>; events: { verified: number; not_yet_checkpointed: number }; findings: { kind: string; message: string }[] };
  try {
    report = JSON.parse(run.stdout) as typeof report;
  } catch {
    throw new Error(`mlog verify printed no report: ${run.stdout.slice(0, 2000)}\n${run.stderr.slice(0, 2000)}`);
  }
  for (const finding of report.findings.slice(0, 10)) process.stdout.write(`# verification: ${finding.kind}: ${finding.message}\n`);
  return {
    verificationFailures: Object.values(report.counts).reduce((sum, value) => sum + value, 0),
    verificationCounts: report.counts,
    eventsVerified: report.events.verified,
    eventsNotYetCheckpointed: report.events.not_yet_checkpointed,
  };
}

export function printFigures(figures: Figures, extra: Record<string, unknown> = {}): void {
  const line = { ...figures, ...extra, at: new Date().toISOString() };
  appendFileSync(FIGURES_FILE, `${JSON.stringify(line)}\n`);
  const recovery = figures.recoverySeconds === undefined ? 'n/a' : `${figures.recoverySeconds.toFixed(1)} s`;
  process.stdout.write(
    `\n| ${figures.scenario} | calls ${figures.calls} | acknowledged ${figures.acknowledged} | refused ${figures.refused} (attempts refused ${figures.refusedAttempts}) | ` +
      `acknowledged events missing ${figures.missing} | duplicates ${figures.duplicates} | partial ${figures.partial} | ` +
      `refused but stored ${figures.refusedButStored} | ${'verificationFailures' in extra ? `verification failures: ${String(extra.verificationFailures)} | ` : ''}recovery ${recovery} | ${figures.seconds} s | ${JSON.stringify(figures.statuses)} refused with ${JSON.stringify(figures.refusedWith)} |\n`,
  );
}

/** Seconds from `since` until `condition` holds (polled every 100 ms), or throws after `limitMs`. */
export async function timeUntil(since: number, condition: () => Promise<boolean>, limitMs: number): Promise<number> {
  while (!(await condition())) {
    if (Date.now() - since > limitMs) throw new Error(`not recovered within ${limitMs / 1000} s`);
    await sleep(100);
  }
  return (Date.now() - since) / 1000;
}

/** A unique IS code for a scenario. */
export function scenarioCode(name: string): string {
  return `${name}-${randomBytes(3).toString('hex')}`;
}
