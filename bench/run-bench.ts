/**
 * `npm run bench`: MLog's throughput and latency against Elasticsearch's own, in one run on this
 * machine. See docs/performance.md. Prints figures; asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate } from '../scripts/dev-pki.js';
import { startLocalElasticsearch, type LocalElasticsearch } from '../scripts/local-elasticsearch.js';
import { CpuWindow, type CpuFigures } from './cpu-window.js';
import { measureBulkCeiling, measureSingleDocument } from './elasticsearch-ceiling.js';
import { batchBodies, buildEventPools, openStoredDocuments, Random, type BenchSystem, type EventPool } from './event-generator.js';
import { MtlsClient, runLoad, type LoadResult } from './load-runner.js';
import { MLogUnderTest } from './mlog-under-test.js';
import { measureDashboardRender } from './dashboard-bench.js';
import { describeAlertCost, measureAlertCost } from './alert-bench.js';
import { QueryBench, seedSystem, type QueryTarget } from './query-bench.js';
import { cpuPerCallMicros, formatReport, type ReportRow } from './report.js';
import { RssSampler } from './rss-sampler.js';
import { octetCountedFrames, quantile, relpAcknowledgements, timeMLogOverTls, timeRsyslogToElasticsearch } from './syslog-scenario.js';
import { freePort } from '../scripts/mlog-child-process.js';
import { measureEventHashing } from './evidence-hash.js';
import { compareWithCluster } from './cluster-comparison.js';

const SCENARIOS = ['ceiling', 'batch', 'signed', 'unsigned', 'query', 'dashboards', 'alerts', 'syslog', 'evidence'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** MLog's peak RSS the target allows for one process at every load, MB. */
const RSS_TARGET_MB = 200;
/** MLog's CPU per single-event call the target allows, µs. */
const CPU_PER_CALL_TARGET_MICROS = 200;
/**
 * The paced single-event row runs at half of 0.4 × the ceiling (the rate the target names), but never
 * above this share of the rate MLog reached closed-loop in the same run: paced past MLog's own
 * capacity, calls queue without bound and the row measures the queue (it printed 0/s).
 */
const PACED_SHARE_OF_CLOSED_LOOP = 0.7;
/** Connections of the batch scenarios (MLog batches of 100, and the _bulk ceiling). */
const BATCH_CONNECTIONS = 8;
const SINGLE_CONNECTIONS = 64;
const QUERY_CONNECTIONS = 8;
const SYSTEM_PREFIXES = ['MPass', 'MPay', 'MSign', 'MConnect'] as const;
/** The syslog scenario: connections of syslog over TLS (to MLog, and plain TCP to rsyslog), and the RELP window. */
const SYSLOG_CONNECTIONS = 4;
const RELP_WINDOW = 32;
/** Elasticsearch HTTP ports tried in turn (transport: +100). Never 9200, 9400/9401, 97xx. */
const ELASTICSEARCH_PORTS = [9800, 9810, 9820, 9830, 9840];

interface Options {
  quick: boolean;
  seconds: number;
  warmup: number;
  only: Scenario[];
  json?: string;
  profile?: string;
  /** Run MLog's production build (`node dist/main.js`, made by `npm run build` first) instead of the sources through tsx. */
  compiled: boolean;
  queryRate?: number;
  signedRate?: number;
  workers: number;
  mlogEnv: Record<string, string>;
  /** Node flags of MLog's process instead of bin/mlog-server's (its MLOG_NODE_FLAGS); [] runs node with its defaults. */
  nodeOptions?: string[];
  /** More environment of MLog's process beside its MLOG_* settings (MALLOC_ARENA_MAX…; "" removes bin/mlog-server's value). */
  nodeEnv: Record<string, string>;
  esWarmup: number;
  seedEvents: number;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function scenarios(value: string): Scenario[] {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of names) if (!(SCENARIOS as readonly string[]).includes(name)) throw new InvalidArgumentError(`unknown scenario "${name}"; one of ${SCENARIOS.join(', ')}`);
  return names as Scenario[];
}

function mlogSettings(value: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of value.split(',').filter((part) => part.trim() !== '')) {
    const [name = '', setting] = pair.split('=', 2).map((part) => part.trim());
    if (!/^MLOG_[A-Z0-9_]+$/.test(name) || setting === undefined) throw new InvalidArgumentError(`"${pair}" is not NAME=value with a name starting MLOG_`);
    settings[name] = setting;
  }
  return settings;
}

function nodeFlags(value: string): string[] {
  const flags = value.split(/\s+/).filter((flag) => flag !== '');
  for (const flag of flags) if (!/^--[a-z0-9-]+(=\S+)?$/.test(flag)) throw new InvalidArgumentError(`"${flag}" is not a node flag (--name or --name=value)`);
  return flags;
}

function processEnvironment(value: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of value.split(',').filter((part) => part.trim() !== '')) {
    const [name = '', setting] = pair.split('=', 2).map((part) => part.trim());
    if (!/^[A-Z][A-Z0-9_]*$/.test(name) || name.startsWith('MLOG_') || setting === undefined) throw new InvalidArgumentError(`"${pair}" is not NAME=value (MLOG_* settings go in --mlog-env, node flags in --node-options)`);
    settings[name] = setting;
  }
  return settings;
}

function parseOptions(argv: string[]): Options {
  const program = new Command()
    .name('npm run bench --')
    .description('Measures MLog /register and /query against Elasticsearch _bulk and _search, on this machine.')
    .option('--quick', 'short run for CI smoke use (3 s per scenario after 2 s of warm-up, 20,000 seeded events, 10 s Elasticsearch warm-up, 5,000 syslog messages)', false)
    .option('--seconds <n>', 'measured seconds per scenario (default 30; 3 with --quick)', positive)
    .option('--warmup <n>', 'warm-up seconds before each scenario (default 10; 2 with --quick)', positive)
    .option('--only <scenarios>', `comma-separated subset of ${SCENARIOS.join(', ')}`, scenarios)
    .option('--seed-events <n>', 'events seeded for the query scenario (default 1,000,000; 20,000 with --quick)', positive)
    .option('--json <file>', 'also write the figures as JSON to this file')
    .option('--es-warmup <n>', 'seconds of unmeasured _bulk load that warm up Elasticsearch before the first scenario (default 60; 10 with --quick)', positive)
    .option('--mlog-env <settings>', 'more MLOG_* settings for MLog, comma-separated (e.g. MLOG_GROUP_COMMIT_WAIT_MS=3,MLOG_GROUP_COMMIT_MAX_IN_FLIGHT=2)', mlogSettings)
    .option('--node-options <flags>', 'node flags of MLog\'s process, space-separated, instead of those bin/mlog-server gives it (e.g. "--max-semi-space-size=4"; "" runs node with its defaults)', nodeFlags)
    .option('--node-env <settings>', 'more environment of MLog\'s process, comma-separated (e.g. MALLOC_ARENA_MAX=4; MALLOC_ARENA_MAX= keeps glibc\'s default instead of bin/mlog-server\'s 2)', processEnvironment)
    .option('--workers <n>', 'MLog worker processes (MLOG_WORKERS; default 1)', positive)
    .option('--signed-rate <n>', 'calls/s of the paced single-event row (default: half of 0.4 × the ceiling, at most 0.7 × the rate MLog reached in the closed loop)', positive)
    .option('--query-rate <n>', 'queries/s of the paced query measurements (default: half the rate MLog reached in the closed loop)', positive)
    .option('--profile <dir>', 'run MLog with --cpu-prof and write its CPU profile (.cpuprofile, for Chrome DevTools) to this directory')
    .option('--tsx', "run MLog's sources through tsx instead of its production build (node dist/main.js, built first with npm run build)", false)
    .option('--cluster', 'run the ingest scenarios on one node and then on a local three-node cluster with one replica, and print the ratio of each figure (bench/cluster-comparison.ts)', false)
    .parse(argv);
  const raw = program.opts<{ cluster: boolean; quick: boolean; seconds?: number; warmup?: number; only?: Scenario[]; json?: string; profile?: string; tsx: boolean; queryRate?: number; signedRate?: number; workers?: number; mlogEnv?: Record<string, string>; nodeOptions?: string[]; nodeEnv?: Record<string, string>; esWarmup?: number; seedEvents?: number }>();
  const options: Options = {
    quick: raw.quick,
    seconds: raw.seconds ?? (raw.quick ? 3 : 30),
    warmup: raw.warmup ?? (raw.quick ? 2 : 10),
    only: raw.only ?? [...SCENARIOS],
    seedEvents: Math.round(raw.seedEvents ?? (raw.quick ? 20_000 : 1_000_000)),
    workers: Math.round(raw.workers ?? 1),
    mlogEnv: raw.mlogEnv ?? {},
    nodeEnv: raw.nodeEnv ?? {},
    esWarmup: raw.esWarmup ?? (raw.quick ? 10 : 60),
    compiled: !raw.tsx,
  };
  if (raw.json !== undefined) options.json = raw.json;
  if (raw.profile !== undefined) options.profile = path.resolve(raw.profile);
  if (raw.queryRate !== undefined) options.queryRate = raw.queryRate;
  if (raw.signedRate !== undefined) options.signedRate = raw.signedRate;
  if (raw.nodeOptions !== undefined) options.nodeOptions = raw.nodeOptions;
  return options;
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

function summary(result: LoadResult): string {
  const failures = Object.entries(result.failures).map(([outcome, n]) => `${n}× ${outcome}`).join(', ');
  return `${result.unitsPerSecond.toFixed(0)}/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms${failures === '' ? '' : `, failed: ${failures}`}`;
}

/** Starts Elasticsearch on the first free port of ELASTICSEARCH_PORTS, with a fresh data dir (removed by `stop`). */
async function startElasticsearch(): Promise<{ url: string; stop(): Promise<void> }> {
  let lastError: unknown;
  for (const port of ELASTICSEARCH_PORTS) {
    // Its own temp dir (not under the run's 0700 work dir: Elasticsearch may run as another user).
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mlog-bench-es-'));
    try {
      const elasticsearch: LocalElasticsearch = await startLocalElasticsearch({ port, dataDir, heap: '2g' });
      return {
        url: elasticsearch.url,
        async stop() {
          await elasticsearch.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      lastError = error;
      if (!/already (in use|served)/.test((error as Error).message)) throw error;
      log(`port ${port} is taken; trying the next`);
    }
  }
  throw lastError;
}

async function main(): Promise<void> {
  if (process.argv.includes('--cluster')) {
    parseOptions(process.argv); // the other options checked once, here
    await compareWithCluster(process.argv.slice(2).filter((argument) => argument !== '--cluster'), log);
    return;
  }
  const options = parseOptions(process.argv);
  const selected = new Set(options.only);
  const timings = { warmupMs: options.warmup * 1000, durationMs: options.seconds * 1000 };
  const workDir = mkdtempSync(path.join(tmpdir(), 'mlog-bench-'));
  const cleanups: (() => Promise<void>)[] = [async () => rmSync(workDir, { recursive: true, force: true })];
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
    })());
  process.once('SIGINT', () => {
    log('interrupted: stopping MLog and Elasticsearch');
    void cleanUp().then(() => process.exit(130));
  });

  try {
    // --- Elasticsearch ---
    let elasticsearchUrl = process.env.MLOG_BENCH_ELASTICSEARCH_URL;
    if (elasticsearchUrl === undefined || elasticsearchUrl === '') {
      log('starting a local Elasticsearch (heap 2g, fresh data dir)');
      const elasticsearch = await startElasticsearch();
      cleanups.push(() => elasticsearch.stop());
      elasticsearchUrl = elasticsearch.url;
    }
    log(`Elasticsearch: ${elasticsearchUrl}`);

    // --- PKI: a CA, MLog's server certificate, one RSA 2048 client certificate per IS ---
    const pkiDir = path.join(workDir, 'pki');
    const ca = await createCertificateAuthority(pkiDir, 'MLog Bench CA');
    const server = await issueServerCertificate(ca, pkiDir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
    const runId = Date.now().toString(36);
    const systems: BenchSystem[] = await Promise.all(
      SYSTEM_PREFIXES.map(async (prefix) => ({ code: `bench-${prefix.toLowerCase()}-${runId}`, prefix, certificate: await issueClientCertificate(ca, pkiDir, { name: `bench-${prefix.toLowerCase()}` }) })),
    );
    const querySystem: BenchSystem = { code: `bench-query-${runId}`, prefix: 'MRegistry', certificate: await issueClientCertificate(ca, pkiDir, { name: 'bench-query' }) };
    const syslogSystem: BenchSystem = { code: `bench-syslog-${runId}`, prefix: 'Billing', certificate: await issueClientCertificate(ca, pkiDir, { name: 'bench-syslog' }) };
    const syslogPorts: Record<string, string> = selected.has('syslog') ? { MLOG_SYSLOG_TLS_PORT: String(await freePort()), MLOG_RELP_PORT: String(await freePort()) } : {};

    // --- MLog as a child process (alert rules are evaluated by the alerts scenario's own MLog, never by this one) ---
    if (options.compiled) {
      log('building MLog (npm run build) to run the compiled build');
      execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    log(`starting MLog${options.compiled ? ', compiled,' : ''} (${options.workers} worker${options.workers === 1 ? '' : 's'}${Object.keys(options.mlogEnv).length === 0 ? '' : `; ${Object.entries(options.mlogEnv).map(([name, value]) => `${name}=${value}`).join(', ')}`})`);
    // bin/mlog-server's node flags and environment, or those --node-options and --node-env give instead.
    const launch: Record<string, string> = { ...(options.nodeOptions === undefined ? {} : { MLOG_NODE_FLAGS: options.nodeOptions.join(' ') }), ...options.nodeEnv };
    if (Object.keys(launch).length > 0) log(`MLog's launch: ${Object.entries(launch).map(([name, value]) => `${name}="${value}"`).join(' ')} (the rest as bin/mlog-server sets it)`);
    // --cluster gives MLog every node of the cluster (the Elasticsearch reference rows use the first).
    const mlogElasticsearchUrl = process.env.MLOG_BENCH_MLOG_ELASTICSEARCH_URL || elasticsearchUrl;
    const mlog = await MLogUnderTest.start(mlogElasticsearchUrl, { serverCertPath: server.certPath, serverKeyPath: server.keyPath, caPath: ca.certPath }, { MLOG_ALERTS_SCHEDULE: 'off', ...syslogPorts, ...options.mlogEnv, ...launch, MLOG_WORKERS: String(options.workers) }, options.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.profile], options.compiled);
    cleanups.push(() => mlog.stop());
    for (const system of [...systems, querySystem, syslogSystem]) await mlog.addSystem(system.code, system.certificate);
    const rss = new RssSampler(mlog.pid);
    const mainRss = rss;
    cleanups.push(async () => rss.stop());
    const tlsOf = (system: BenchSystem) => ({ caPem: ca.certPem, certPem: system.certificate.certPem, keyPem: system.certificate.keyPem });

    // --- events, signed before anything is measured ---
    const perSystem = options.quick ? 400 : 1_000;
    log(`signing ${perSystem * systems.length} events (RS256, 2048-bit keys of ${systems.length} IS)`);
    const pools: EventPool[] = await buildEventPools(systems, perSystem);

    const rows: ReportRow[] = [];
    let ceiling: LoadResult | undefined;
    /** Elasticsearch's single-document API, the reference of the single-event scenarios. */
    let singleDocument: LoadResult | undefined;
    const ratioToCeiling = (result: LoadResult): number | undefined => (ceiling === undefined ? undefined : result.unitsPerSecond / ceiling.unitsPerSecond);
    const ratioToSingleDocument = (result: LoadResult): number | undefined => (singleDocument === undefined ? undefined : result.unitsPerSecond / singleDocument.unitsPerSecond);
    const describeRatio = (ratio: number | undefined, toSingleDocument?: number): string | undefined =>
      [ratio === undefined ? undefined : `${ratio.toFixed(2)} × bulk100`, toSingleDocument === undefined ? undefined : `${toSingleDocument.toFixed(2)} × ES doc`].filter((part) => part !== undefined).join(', ') || undefined;

    // A freshly started Elasticsearch indexes several times slower until its JIT has compiled the hot
    // paths: without this, the ceiling (measured first) came out at a fifth of what the same node
    // reaches a minute later, and MLog's ratios to it were flattered accordingly.
    const documents = pools.flatMap(openStoredDocuments);
    log(`warming up Elasticsearch: ${options.esWarmup} s of _bulk, not measured`);
    await measureBulkCeiling({ elasticsearchUrl, batchSize: 100, concurrency: BATCH_CONNECTIONS, warmupMs: options.esWarmup * 1000, durationMs: 500, documents, name: `warmup-${runId}` });

    // 1. The ceiling.
    if (selected.has('ceiling')) {
      for (const batchSize of [100, 1_000]) {
        log(`ceiling: _bulk of ${batchSize}, ${BATCH_CONNECTIONS} connections`);
        const window = new CpuWindow();
        const result = await measureBulkCeiling({ elasticsearchUrl, batchSize, concurrency: BATCH_CONNECTIONS, ...timings, documents, name: `${batchSize}-${runId}`, onWindow: window.edge });
        log(`  ${summary(result)}`);
        if (batchSize === 100) ceiling = result;
        rows.push({ scenario: `Elasticsearch _bulk ×${batchSize} (${BATCH_CONNECTIONS} conn)`, result, unit: 'events/s', window: window.figures(), ratio: describeRatio(ratioToCeiling(result)), target: batchSize === 100 ? 'ceiling' : undefined });
      }
      // The reference of single-event calls: one event per POST /<index>/_doc, as many connections as MLog's single-event scenarios.
      log(`single-document reference: POST /<index>/_doc, one event per request, ${SINGLE_CONNECTIONS} connections`);
      const window = new CpuWindow();
      singleDocument = await measureSingleDocument({ elasticsearchUrl, concurrency: SINGLE_CONNECTIONS, ...timings, documents, name: runId, onWindow: window.edge });
      log(`  ${summary(singleDocument)}`);
      rows.push({
        scenario: `Elasticsearch _doc ×1 (${SINGLE_CONNECTIONS} conn)`,
        result: singleDocument,
        unit: 'events/s',
        window: window.figures(),
        ratio: describeRatio(ratioToCeiling(singleDocument)),
        target: 'single-event reference',
      });
    }

    // MLog /register scenarios: connection `worker` belongs to IS worker % 4.
    const register = async (name: string, connections: number, bodies: string[][], eventsPerCall: number, ratePerSecond?: number, target: MLogUnderTest = mlog): Promise<{ result: LoadResult; rssBytes: number; cpu: number; window: CpuFigures }> => {
      log(`MLog: ${name}${ratePerSecond === undefined ? '' : ` at ${ratePerSecond.toFixed(0)} calls/s`}`);
      const clients = systems.map((system) => new MtlsClient(target.publicPort, tlsOf(system), Math.ceil(connections / systems.length)));
      const rss = target === mlog ? mainRss : new RssSampler(target.pid);
      rss.reset();
      const cpuWindow = new CpuWindow(target.pid);
      try {
        const result = await runLoad({
          concurrency: connections,
          ...timings,
          onWindow: cpuWindow.edge,
          ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
          async call(worker, seq) {
            const system = worker % systems.length;
            const own = bodies[system] as string[];
            const body = own[(Math.floor(worker / systems.length) * 7919 + seq) % own.length] as string;
            const answer = await (clients[system] as MtlsClient).request('POST', '/register', body);
            return answer.status === 200 ? { ok: true, units: eventsPerCall, outcome: '200' } : { ok: false, units: 0, outcome: `${answer.status} ${answer.body.slice(0, 80)}` };
          },
        });
        const rssBytes = rss.peak();
        const window = cpuWindow.figures();
        const cpu = (window.serverSeconds ?? 0) / window.wallSeconds;
        const perCall = cpuPerCallMicros({ result, window });
        log(
          `  ${summary(result)}, MLog RSS ${(rssBytes / 1024 / 1024).toFixed(0)} MB, MLog CPU ${(cpu * 100).toFixed(0)}% of a core, ${perCall === undefined ? '—' : perCall.toFixed(0)} µs per call; load generator ${(window.generatorShare * 100).toFixed(0)}% of the machine${window.clientBound ? ' (client-bound)' : ''}`,
        );
        return { result, rssBytes, cpu, window };
      } finally {
        for (const client of clients) client.close();
        if (rss !== mainRss) rss.stop();
      }
    };

    // 2. Batches of 100 signed events.
    if (selected.has('batch')) {
      const random = new Random(3);
      const bodies = pools.map((pool) => batchBodies(pool, 100, options.quick ? 20 : 50, random));
      const { result, rssBytes, cpu, window } = await register(`batches of 100 signed events, ${BATCH_CONNECTIONS} connections`, BATCH_CONNECTIONS, bodies, 100);
      const ratio = ratioToCeiling(result);
      rows.push({ scenario: `MLog batch ×100 signed (${BATCH_CONNECTIONS} conn)`, result, unit: 'events/s', rssBytes, cpu, window, ratio: describeRatio(ratio), target: '≥ 0.90 × bulk100', met: ratio === undefined ? undefined : ratio >= 0.9 });
    }

    // 3. One signed event per call, 64 connections; then paced at half the rate reached.
    if (selected.has('signed')) {
      const bodies = pools.map((pool) => pool.signed);
      const { result, rssBytes, cpu, window } = await register(`one signed event per call, ${SINGLE_CONNECTIONS} connections`, SINGLE_CONNECTIONS, bodies, 1);
      const ratio = ratioToCeiling(result);
      const toSingleDocument = ratioToSingleDocument(result);
      const perCall = cpuPerCallMicros({ result, window });
      rows.push({
        scenario: `MLog ×1 signed (${SINGLE_CONNECTIONS} conn)`,
        result,
        unit: 'events/s',
        rssBytes,
        cpu,
        window,
        ratio: describeRatio(ratio, toSingleDocument),
        target: `≥ 1.0 × ES doc, ≥ 0.40 × bulk100, ≤ ${CPU_PER_CALL_TARGET_MICROS} µs/call`,
        met: ratio === undefined || toSingleDocument === undefined || perCall === undefined ? undefined : toSingleDocument >= 1 && ratio >= 0.4 && perCall <= CPU_PER_CALL_TARGET_MICROS,
      });
      // "p99 under 50 ms at half that rate": half of 0.4 × ceiling when the ceiling is known (what the target speaks of), else half of what MLog reached;
      // never above PACED_SHARE_OF_CLOSED_LOOP × what MLog reached closed-loop in this run, so that calls do not queue past MLog's own capacity.
      const targetRate = (ceiling === undefined ? result.unitsPerSecond : 0.4 * ceiling.unitsPerSecond) / 2;
      const capped = options.signedRate === undefined && targetRate > PACED_SHARE_OF_CLOSED_LOOP * result.unitsPerSecond;
      const half = options.signedRate ?? Math.max(1, capped ? PACED_SHARE_OF_CLOSED_LOOP * result.unitsPerSecond : targetRate);
      const cappedNote = capped ? `, capped at ${PACED_SHARE_OF_CLOSED_LOOP} × the closed loop's ${result.unitsPerSecond.toFixed(0)}/s (the target's ${targetRate.toFixed(0)}/s is past MLog's capacity here)` : '';
      if (capped) log(`paced rate${cappedNote.slice(1)}`);
      const paced = await register(`one signed event per call, ${SINGLE_CONNECTIONS} connections, paced`, SINGLE_CONNECTIONS, bodies, 1, half);
      rows.push({
        scenario: `MLog ×1 signed paced ${half.toFixed(0)}/s${capped ? ` (${PACED_SHARE_OF_CLOSED_LOOP} × closed)` : ''}`,
        result: paced.result,
        unit: 'events/s',
        rssBytes: paced.rssBytes,
        cpu: paced.cpu,
        window: paced.window,
        ratio: describeRatio(ratioToCeiling(paced.result), ratioToSingleDocument(paced.result)),
        target: 'p99 < 50 ms',
        met: paced.result.p99 < 50 && paced.result.unitsPerSecond >= 0.95 * half,
      });
    }

    // 4. One unsigned event per call, 64 connections.
    if (selected.has('unsigned')) {
      const bodies = pools.map((pool) => pool.unsigned);
      const { result, rssBytes, cpu, window } = await register(`one unsigned event per call, ${SINGLE_CONNECTIONS} connections`, SINGLE_CONNECTIONS, bodies, 1);
      rows.push({ scenario: `MLog ×1 unsigned (${SINGLE_CONNECTIONS} conn)`, result, unit: 'events/s', rssBytes, cpu, window, ratio: describeRatio(ratioToCeiling(result), ratioToSingleDocument(result)), target: '(no target)' });
    }

    // 4b. The evidence log's cost (docs/evidence.md): the batch and signed single-event runs against a
    // second MLog with MLOG_EVIDENCE=off and this one (on), one after the other in the same run, on the
    // same Elasticsearch; the rate ratio and, steadier on a shared machine, the CPU per event.
    let evidenceLines: string[] = [];
    if (selected.has('evidence')) {
      const hashing = await measureEventHashing();
      evidenceLines = [
        `Evidence hashing alone: @hash (RFC 8785 + SHA-256) ${hashing.hashMicros.toFixed(1)} µs CPU/event (${hashing.referenceHashMicros.toFixed(1)} µs with the reference canonicalize), with the leaf hash ${hashing.hashAndLeafMicros.toFixed(1)} µs (JSON.stringify of the same document: ${hashing.stringifyMicros.toFixed(1)} µs); a receipt signed with Ed25519 ${hashing.receiptMicros.toFixed(1)} µs (jose: ${hashing.receiptJoseMicros.toFixed(1)} µs); the log's part of calls after @hash (settling, receipt) ${hashing.logMicros.toFixed(1)} µs/event in calls of 100, ${hashing.logSingleMicros.toFixed(1)} µs in calls of one.`,
      ];
      log(evidenceLines[0] as string);
      log('starting a second MLog with MLOG_EVIDENCE=off');
      const off = await MLogUnderTest.start(elasticsearchUrl, { serverCertPath: server.certPath, serverKeyPath: server.keyPath, caPath: ca.certPath }, { MLOG_ALERTS_SCHEDULE: 'off', ...options.mlogEnv, ...launch, MLOG_WORKERS: String(options.workers), MLOG_EVIDENCE: 'off' }, [], options.compiled);
      cleanups.push(() => off.stop());
      const random = new Random(5);
      const runs: [string, string[][], number, number][] = [
        [`batch ×100 signed (${BATCH_CONNECTIONS} conn)`, pools.map((pool) => batchBodies(pool, 100, options.quick ? 20 : 50, random)), 100, BATCH_CONNECTIONS],
        [`×1 signed (${SINGLE_CONNECTIONS} conn)`, pools.map((pool) => pool.signed), 1, SINGLE_CONNECTIONS],
      ];
      for (const [label, bodies, eventsPerCall, connections] of runs) {
        // Off, on, on, off: a drift of the shared machine or of Elasticsearch over the four runs weighs on both sides alike.
        const offFirst = await register(`${label}, evidence log off (1 of 2)`, connections, bodies, eventsPerCall, undefined, off);
        const onFirst = await register(`${label}, evidence log on (1 of 2)`, connections, bodies, eventsPerCall);
        const onSecond = await register(`${label}, evidence log on (2 of 2)`, connections, bodies, eventsPerCall);
        const offSecond = await register(`${label}, evidence log off (2 of 2)`, connections, bodies, eventsPerCall, undefined, off);
        const events = (...measured: (typeof onFirst)[]) => measured.reduce((sum, run) => sum + run.result.units, 0);
        const seconds = (...measured: (typeof onFirst)[]) => measured.reduce((sum, run) => sum + run.result.seconds, 0);
        const cpuSeconds = (...measured: (typeof onFirst)[]) => measured.reduce((sum, run) => sum + (run.window.serverSeconds ?? Number.NaN), 0);
        const rateOn = events(onFirst, onSecond) / seconds(onFirst, onSecond);
        const rateOff = events(offFirst, offSecond) / seconds(offFirst, offSecond);
        const ratio = rateOn / rateOff;
        const cpuOn = (cpuSeconds(onFirst, onSecond) / events(onFirst, onSecond)) * 1e6;
        const cpuOff = (cpuSeconds(offFirst, offSecond) / events(offFirst, offSecond)) * 1e6;
        const cpuRatio = cpuOn / cpuOff;
        rows.push({ scenario: `MLog ${label}, evidence off`, ...offFirst, unit: 'events/s', target: 'reference of the row below' });
        rows.push({
          scenario: `MLog ${label}, evidence on`,
          ...onFirst,
          unit: 'events/s',
          ratio: `${ratio.toFixed(2)} × off${Number.isFinite(cpuRatio) ? `, CPU/event ${cpuRatio.toFixed(2)} × off` : ''}`,
          target: '≥ 0.95 × off',
          met: ratio >= 0.95,
        });
        evidenceLines.push(
          `Evidence log, ${label}, two runs each (off, on, on, off): ${rateOn.toFixed(0)} events/s on, ${rateOff.toFixed(0)} off (${ratio.toFixed(2)} ×, target ≥ 0.95)` +
            (Number.isFinite(cpuRatio) ? `; MLog CPU ${cpuOn.toFixed(0)} µs/event on, ${cpuOff.toFixed(0)} off (${cpuRatio.toFixed(2)} ×)` : ''),
        );
      }
    }

    // 5. Queries over an IS holding many events (seeded once for the queries and the dashboard).
    let seededQuerySystem: Awaited<ReturnType<typeof seedSystem>> | undefined;
    const seedQuerySystem = async (): Promise<Awaited<ReturnType<typeof seedSystem>>> => {
      if (seededQuerySystem !== undefined) return seededQuerySystem;
      log(`seeding ${options.seedEvents.toLocaleString('en')} events of ${querySystem.code} through _bulk`);
      seededQuerySystem = await seedSystem(elasticsearchUrl, querySystem.code, querySystem.prefix, options.seedEvents, log);
      log(`  ${seededQuerySystem.events.toLocaleString('en')} events in ${seededQuerySystem.seconds.toFixed(0)} s`);
      return seededQuerySystem;
    };
    if (selected.has('query')) {
      const seeded = await seedQuerySystem();
      const client = new MtlsClient(mlog.publicPort, tlsOf(querySystem), QUERY_CONNECTIONS);
      const bench = new QueryBench(elasticsearchUrl, client, seeded, { concurrency: QUERY_CONNECTIONS, ...timings });
      const over = `${(seeded.events / 1e6).toFixed(seeded.events >= 1e6 ? 1 : 2)}M events`;
      try {
        for (const kind of ['uid', 'range'] as const) {
          const label = kind === 'uid' ? { es: `Elasticsearch uid search (${over})`, mlog: 'MLog GET /query/{uid}' } : { es: 'Elasticsearch range+2 filters, 50', mlog: 'MLog GET /query range' };
          const measure = async (target: QueryTarget, ratePerSecond?: number): Promise<{ result: LoadResult; rssBytes: number; cpu: number; window: CpuFigures }> => {
            log(`queries: ${kind} through ${target}, ${QUERY_CONNECTIONS} connections${ratePerSecond === undefined ? '' : `, paced at ${ratePerSecond.toFixed(0)}/s`}`);
            rss.reset();
            // MLog's CPU in the window of its own rows (µs per query); the generator's in every row.
            const cpuWindow = new CpuWindow(target === 'mlog' ? mlog.pid : undefined);
            const result = await bench.measure(kind, target, ratePerSecond, cpuWindow.edge);
            const measured = { result, rssBytes: rss.peak(), cpu: rss.cpuShare(), window: cpuWindow.figures() };
            const perCall = cpuPerCallMicros(measured);
            log(`  ${summary(result)}${perCall === undefined ? '' : `, MLog CPU ${perCall.toFixed(0)} µs per query`}`);
            return measured;
          };
          // Closed loop: how many queries each answers with 8 connections kept busy (the machine saturated).
          const esClosed = await measure('elasticsearch');
          const mlogClosed = await measure('mlog');
          // Paced, both at half the rate MLog reached: the latency a caller sees when the machine is not saturated. The targets are judged here.
          const rate = options.queryRate ?? Math.max(1, mlogClosed.result.unitsPerSecond / 2);
          const esPaced = await measure('elasticsearch', rate);
          // The floor under MLog's latency: Elasticsearch answering the search and taking the query's record at once (no target).
          const esRecordPaced = await measure('elasticsearch-with-record', rate);
          const mlogPaced = await measure('mlog', rate);
          const closedRatio = mlogClosed.result.p99 / esClosed.result.p99;
          const pacedRatio = mlogPaced.result.p99 / esPaced.result.p99;
          const floorRatio = esRecordPaced.result.p99 / esPaced.result.p99;
          const overFloor = mlogPaced.result.p99 / esRecordPaced.result.p99;
          const keptPace = mlogPaced.result.unitsPerSecond >= 0.95 * rate;
          rows.push(
            { scenario: `${label.es} (${QUERY_CONNECTIONS} conn)`, result: esClosed.result, unit: 'queries/s', window: esClosed.window },
            { scenario: `${label.mlog} (${QUERY_CONNECTIONS} conn)`, result: mlogClosed.result, unit: 'queries/s', rssBytes: mlogClosed.rssBytes, cpu: mlogClosed.cpu, window: mlogClosed.window, ratio: `p99 ${closedRatio.toFixed(1)} × ES`, target: '(saturated: no target)' },
            { scenario: `${label.es} paced ${rate.toFixed(0)}/s`, result: esPaced.result, unit: 'queries/s', window: esPaced.window },
            { scenario: `${label.es} + its record, paced ${rate.toFixed(0)}/s`, result: esRecordPaced.result, unit: 'queries/s', window: esRecordPaced.window, ratio: `p99 ${floorRatio.toFixed(1)} × ES`, target: '(floor under MLog: no target)' },
            {
              scenario: `${label.mlog} paced ${rate.toFixed(0)}/s`,
              result: mlogPaced.result,
              unit: 'queries/s',
              rssBytes: mlogPaced.rssBytes,
              cpu: mlogPaced.cpu,
              window: mlogPaced.window,
              ratio: `p99 ${pacedRatio.toFixed(1)} × ES, ${overFloor.toFixed(1)} × ES + record`,
              target: kind === 'uid' ? 'p99 < 20 ms, ≤ 1.5 × ES' : 'p99 ≤ 1.5 × ES',
              met: keptPace && pacedRatio <= 1.5 && (kind === 'range' || mlogPaced.result.p99 < 20),
            },
          );
        }
      } finally {
        bench.close();
        client.close();
      }
    }

    // 6. A six-panel dashboard over the seeded events, rendered through the console API, against the same aggregations from storage.
    if (selected.has('dashboards')) {
      const seeded = await seedQuerySystem();
      const runs = options.quick ? 10 : 40;
      log(`dashboards: a six-panel dashboard over ${seeded.events.toLocaleString('en')} events, ${runs} renders through the console API and from storage`);
      rss.reset();
      const measured = await measureDashboardRender({ elasticsearchUrl, adminUrl: `http://127.0.0.1:${mlog.adminPort}`, code: querySystem.code, prefix: querySystem.prefix, spanMillis: 31 * 86_400_000, runs, warmup: 3 });
      log(`  console API p95 ${measured.mlog.p95.toFixed(0)} ms, storage p95 ${measured.direct.p95.toFixed(0)} ms`);
      rows.push(
        { scenario: 'Dashboard aggregations from storage (6 panels)', result: measured.direct, unit: 'renders/s' },
        {
          scenario: 'MLog dashboard render (6 panels, console API)',
          result: measured.mlog,
          unit: 'renders/s',
          rssBytes: rss.peak(),
          cpu: rss.cpuShare(),
          ratio: `p95 ${(measured.mlog.p95 / measured.direct.p95).toFixed(1)} × storage`,
          target: seeded.events >= 1_000_000 ? 'p95 < 1 s' : 'p95 < 1 s (at 1M events)',
          met: measured.mlog.p95 < 1000,
        },
      );
    }

    // 7. The cost of 200 alert rules evaluated every minute, in a separate MLog process (its CPU apart), against the same MLog idle.
    if (selected.has('alerts')) {
      const measured = await measureAlertCost({
        elasticsearchUrl,
        tls: { serverCertPath: server.certPath, serverKeyPath: server.keyPath, caPath: ca.certPath },
        events: options.quick ? 40_000 : 400_000,
        rules: 200,
        tickSeconds: 10,
        rounds: options.quick ? 5 : 20,
        warmupRounds: 2,
        idleSeconds: options.quick ? 30 : 60,
        runId,
        log,
      });
      for (const line of describeAlertCost(measured)) log(`  ${line}`);
      const perSecond = measured.roundP50 > 0 ? measured.rules / (measured.roundP50 / 1000) : 0;
      rows.push({
        scenario: `MLog alert rules ×${measured.rules}, a round (every minute)`,
        result: { unitsPerSecond: perSecond, callsPerSecond: perSecond, calls: measured.rounds, units: measured.rounds * measured.rules, seconds: 0, p50: measured.roundP50, p95: measured.roundP95, p99: measured.roundP95, max: measured.roundMax, failures: {} },
        unit: 'rules/s',
        cpu: measured.shareAtPerMinute,
        ratio: `idle ${(measured.idleShare * 100).toFixed(1)}%`,
        target: '< 10% of a core',
        met: measured.shareAtPerMinute < 0.1,
      });
    }

    // 8. Syslog: the same messages through MLog's syslog over TLS and through rsyslog's omelasticsearch, then RELP acknowledgements.
    if (selected.has('syslog')) {
      const messages = options.quick ? 5_000 : 20_000;
      const relpMessages = options.quick ? 500 : 2_000;
      const tls = { caPem: ca.certPem, certPem: syslogSystem.certificate.certPem, keyPem: syslogSystem.certificate.keyPem };
      const frames = octetCountedFrames(runId, messages);
      log(`syslog: ${messages.toLocaleString('en')} RFC 5424 messages over ${SYSLOG_CONNECTIONS} connections, MLog over TLS, then rsyslog imtcp → omelasticsearch`);
      rss.reset();
      const mlogSeconds = await timeMLogOverTls({ url: elasticsearchUrl, port: Number(syslogPorts.MLOG_SYSLOG_TLS_PORT), tls, frames, connections: SYSLOG_CONNECTIONS, indexPattern: `mlog-${syslogSystem.code}-*`, expected: messages });
      const mlogCpu = rss.cpuShare();
      const mlogRss = rss.peak();
      const rsyslogSeconds = await timeRsyslogToElasticsearch({ url: elasticsearchUrl, workDir, frames, connections: SYSLOG_CONNECTIONS });
      log(`  MLog ${(messages / mlogSeconds).toFixed(0)} messages/s, rsyslog ${(messages / rsyslogSeconds).toFixed(0)} messages/s; RELP: ${relpMessages} messages, ${RELP_WINDOW} in flight`);
      rss.reset();
      const relpStarted = performance.now();
      const latencies = await relpAcknowledgements({ port: Number(syslogPorts.MLOG_RELP_PORT), tls, messages: relpMessages, window: RELP_WINDOW });
      const relpSeconds = (performance.now() - relpStarted) / 1000;
      const relpCpu = rss.cpuShare();
      const relpRss = rss.peak();
      const whole = (rate: number, seconds: number, count: number, latency?: number[]): LoadResult => ({
        unitsPerSecond: rate,
        callsPerSecond: rate,
        calls: count,
        units: count,
        seconds,
        p50: latency === undefined ? Number.NaN : quantile(latency, 0.5),
        p95: latency === undefined ? Number.NaN : quantile(latency, 0.95),
        p99: latency === undefined ? Number.NaN : quantile(latency, 0.99),
        max: latency?.at(-1) ?? Number.NaN,
        failures: {},
      });
      const ratio = rsyslogSeconds / mlogSeconds;
      const cpuPerMessage = (share: number, seconds: number, count: number) => `${((share * seconds * 1e6) / count).toFixed(0)} µs CPU/message`;
      rows.push(
        { scenario: `rsyslog imtcp → omelasticsearch (${SYSLOG_CONNECTIONS} conn)`, result: whole(messages / rsyslogSeconds, rsyslogSeconds, messages), unit: 'messages/s' },
        {
          scenario: `MLog syslog over TLS (${SYSLOG_CONNECTIONS} conn, ${cpuPerMessage(mlogCpu, mlogSeconds, messages)})`,
          result: whole(messages / mlogSeconds, mlogSeconds, messages),
          unit: 'messages/s',
          rssBytes: mlogRss,
          cpu: mlogCpu,
          ratio: `${ratio.toFixed(2)} × rsyslog`,
          target: '≥ 1.00 × rsyslog',
          met: ratio >= 1,
        },
        {
          scenario: `MLog RELP acknowledged (${RELP_WINDOW} in flight, ${cpuPerMessage(relpCpu, relpSeconds, relpMessages)})`,
          result: whole(relpMessages / relpSeconds, relpSeconds, relpMessages, latencies),
          unit: 'messages/s',
          rssBytes: relpRss,
          cpu: relpCpu,
          target: '(p99 reported)',
        },
      );
    }

    const peaks = rows.map((row) => row.rssBytes).filter((bytes): bytes is number => bytes !== undefined);
    const peakRss = peaks.length === 0 ? undefined : Math.max(...peaks);
    const table = formatReport(rows);
    const rssVerdict =
      options.workers === 1 ? `target < ${RSS_TARGET_MB} MB for one process: ${peakRss !== undefined && peakRss < RSS_TARGET_MB * 1024 * 1024 ? 'met' : 'NOT met'}` : `summed over ${options.workers + 1} processes; the target, < ${RSS_TARGET_MB} MB, is for one`;
    const rssLine = peakRss === undefined ? '' : `\nMLog peak RSS over all scenarios: ${(peakRss / 1024 / 1024).toFixed(0)} MB (${rssVerdict})`;
    const setting = `${options.quick ? '--quick: ' : ''}${options.seconds} s measured after ${options.warmup} s warm-up per scenario; MLog with ${options.workers} worker process${options.workers === 1 ? '' : 'es'}`;
    const legend =
      "MLog CPU and MLog CPU/call (write and query rows): CPU seconds of MLog's processes in the measured window, as a share of one core and ÷ the calls answered in it; load gen CPU: this process's CPU ÷ wall time ÷ the machine's cores, CLIENT-BOUND when its event loop was busy ≥ 90% of the window" +
      `; a paced row marked "(${PACED_SHARE_OF_CLOSED_LOOP} × closed)" runs at ${PACED_SHARE_OF_CLOSED_LOOP} × the rate MLog reached closed-loop in this run, because half of 0.4 × the ceiling was more than that`;
    process.stdout.write(`\n${table}\n${rssLine}\n${setting}\n${legend}\n${evidenceLines.length === 0 ? '' : `\n${evidenceLines.join('\n')}\n`}`);
    const unexpected = mlog.log.split('\n').filter((line) => line.trim() !== '');
    if (unexpected.length > 0) process.stdout.write(`\nMLog logged ${unexpected.length} warning/error lines; the last: ${unexpected.at(-1)?.slice(0, 300)}\n`);
    if (options.json !== undefined) {
      writeFileSync(options.json, `${JSON.stringify({ at: new Date().toISOString(), options, rows, peakRssBytes: peakRss }, null, 2)}\n`);
      log(`figures written to ${options.json}`);
    }
  } finally {
    await cleanUp();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
