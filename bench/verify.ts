/**
 * `npm run bench:verify -- [--elasticsearch <url>] [--events 200000] [--batch 100] [--signed-share 0.1] [--signing-key <file>] [--verify-only] [--runs 1] [--tsx]`:
 * loads N events through /register of an MLog started for the run (batches over mutual TLS; a share
 * of them signed, RS256, so `mlog verify` re-verifies client signatures too), stops it (its final
 * checkpoint covers every acknowledged event), then runs `mlog verify --all --json` as a process (the
 * `mlog` command as installed, bin/mlog.js on the build `npm run build` makes first; `--tsx` runs the
 * sources through tsx instead, its workers compiling the TypeScript again) and prints events/s, CPU
 * per event and the ratio to the 50,000 events/s target. Without --elasticsearch
 * it starts its own Elasticsearch (its data deleted after). Use a cluster that holds nothing else:
 * `--all` checks everything on it. With `--signing-key FILE` (an Ed25519 PEM, written when absent)
 * the key outlives the run, so `--verify-only` can verify a cluster loaded before, again and again,
 * and compare changes on the same events; `--runs N` verifies N times in a row. Asserts nothing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate } from '../scripts/dev-pki.js';
import { startLocalElasticsearch } from '../scripts/local-elasticsearch.js';
import { buildEventPools, Random, type BenchSystem } from './event-generator.js';
import { MtlsClient } from './load-runner.js';
import { MLogUnderTest } from './mlog-under-test.js';

const TARGET_EVENTS_PER_SECOND = 50_000;
const CONNECTIONS = 8;
const MLOG_SOURCES = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const MLOG_COMMAND = fileURLToPath(new URL('../bin/mlog.js', import.meta.url));

const whole = (value: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('a whole number above 0');
  return number;
};
const share = (value: string): number => {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || number > 1) throw new InvalidArgumentError('a number from 0 to 1');
  return number;
};

const program = new Command()
  .option('--elasticsearch <url>', 'an Elasticsearch that holds nothing else (default: one started for the run)')
  .option('--events <n>', 'events to register and verify', whole, 200_000)
  .option('--batch <n>', 'events per /register call (a call holds at most 256 KB)', whole, 100)
  .option('--signed-share <fraction>', 'share of the events signed by the IS (RS256)', share, 0.1)
  .option('--signing-key <file>', "MLog's Ed25519 key (PEM), written when absent; kept after the run (default: a key for this run only)")
  .option('--verify-only', 'register nothing: verify what the cluster holds (needs --elasticsearch and the --signing-key of the run that loaded it)')
  .option('--runs <n>', 'times to run mlog verify, one after the other', whole, 1)
  .option('--tsx', 'run mlog verify from the sources through tsx instead of the build');
program.parse();
const options = program.opts<{ elasticsearch?: string; events: number; batch: number; signedShare: number; signingKey?: string; verifyOnly?: boolean; runs: number; tsx?: boolean }>();
if (options.verifyOnly === true && (options.elasticsearch === undefined || options.signingKey === undefined)) {
  program.error('--verify-only needs --elasticsearch and --signing-key (the cluster and the key of the run that loaded it).');
}
const log = (line: string): void => console.log(line);

const dir = mkdtempSync(join(tmpdir(), 'mlog-verify-bench-'));
const cleanups: (() => Promise<void>)[] = [];
try {
  let elasticsearchUrl = options.elasticsearch;
  if (elasticsearchUrl === undefined) {
    // Its own temp dir (not under the run's 0700 work dir: Elasticsearch may run as another user).
    const dataDir = mkdtempSync(join(tmpdir(), 'mlog-verify-bench-es-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const elasticsearch = await startLocalElasticsearch({ port: 9850, dataDir, heap: '1g' });
    cleanups.push(() => elasticsearch.stop());
    elasticsearchUrl = elasticsearch.url;
  }
  log(`Elasticsearch: ${elasticsearchUrl}`);

  const keyPath = options.signingKey ?? join(dir, 'mlog-signing-key.pem');
  if (!existsSync(keyPath)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  }
  const publicKeyPath = join(dir, 'mlog-public-key.pem');
  writeFileSync(publicKeyPath, createPublicKey(createPrivateKey(readFileSync(keyPath))).export({ type: 'spki', format: 'pem' }) as string);

  // MLog under load runs its build too (bench/mlog-under-test.ts).
  log('building MLog (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (options.verifyOnly !== true) await load(elasticsearchUrl, keyPath);
  const command = options.tsx === true ? ['--import', 'tsx', MLOG_SOURCES] : [MLOG_COMMAND];

  for (let round = 1; round <= options.runs; round++) {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [...command, 'verify', '--all', '--json', '--public-key', publicKeyPath],
        { env: { ...process.env, MLOG_ELASTICSEARCH_URL: elasticsearchUrl }, maxBuffer: 512 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
      );
    });
    if (!run.stdout.trim().startsWith('{')) throw new Error(`mlog verify exited ${run.code} without a report: ${run.stderr.slice(0, 2000)}`);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      counts: Record<string, number>;
      events: { scanned: number; verified: number; signatures_verified: number; not_yet_checkpointed: number };
      duration_ms: number;
      events_per_second: number;
      cpu_ms: number;
      cpu_us_per_event?: number;
    };
    log(`mlog verify --all${options.tsx === true ? ' (sources, tsx)' : ''}: exit ${run.code}, ${report.ok ? 'everything verifies' : `findings ${JSON.stringify(report.counts)}`}`);
    log(`  ${report.events.scanned.toLocaleString('en')} events scanned, ${report.events.verified.toLocaleString('en')} proven, ${report.events.signatures_verified.toLocaleString('en')} client signatures re-verified, ${report.events.not_yet_checkpointed} not yet checkpointed`);
    log(`  ${(report.duration_ms / 1000).toFixed(1)} s: ${report.events_per_second.toLocaleString('en')} events/s; CPU of mlog verify ${report.cpu_ms.toLocaleString('en')} ms (${report.cpu_us_per_event ?? 0} µs per event)`);
    log(`  ratio to the target of ${TARGET_EVENTS_PER_SECOND.toLocaleString('en')} events/s: ${(report.events_per_second / TARGET_EVENTS_PER_SECOND).toFixed(2)} (${report.events_per_second >= TARGET_EVENTS_PER_SECOND ? 'met' : 'NOT met'})`);
  }
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

/** Registers the events through an MLog started for the run, then stops it (its final checkpoint covers them all). */
async function load(elasticsearchUrl: string, keyPath: string): Promise<void> {
  const ca = await createCertificateAuthority(dir, 'MLog Verify Bench CA');
  const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
  const code = `verify-bench-${Date.now().toString(36)}`;
  const certificate = await issueClientCertificate(ca, dir, { name: code });
  const system: BenchSystem = { code, prefix: 'MPass', certificate };
  const mlog = await MLogUnderTest.start(elasticsearchUrl, { serverCertPath: server.certPath, serverKeyPath: server.keyPath, caPath: ca.certPath }, {
    MLOG_SIGNING_KEY: keyPath,
    MLOG_CHECKPOINT_SECONDS: '5',
    MLOG_RETENTION_SCHEDULE: 'off',
    MLOG_ALERTS_SCHEDULE: 'off',
  });
  const stopMlog = (): Promise<void> => mlog.stop();
  cleanups.push(stopMlog);
  await mlog.addSystem(code, certificate);

  const [pool] = await buildEventPools([system], 500);
  if (pool === undefined) throw new Error('no event pool');
  const random = new Random(7);
  const line = (): string => (random.next() < options.signedShare ? random.pick(pool.signed) : random.pick(pool.unsigned));
  const client = new MtlsClient(mlog.publicPort, { caPem: ca.certPem, certPem: certificate.certPem, keyPem: certificate.keyPem }, CONNECTIONS);
  let sent = 0;
  let failed = 0;
  let refusal: string | undefined;
  const loadStarted = performance.now();
  const worker = async (): Promise<void> => {
    while (sent < options.events) {
      const size = Math.min(options.batch, options.events - sent);
      sent += size;
      const body = Array.from({ length: size }, line).join('\n');
      const answer = await client.request('POST', '/register', body);
      if (answer.status !== 200) {
        failed += size;
        refusal ??= `${answer.status} ${answer.body.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  client.close();
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  log(`registered ${(sent - failed).toLocaleString('en')} events (${failed} refused) in ${loadSeconds.toFixed(0)} s, batches of ${options.batch}, ${Math.round(options.signedShare * 100)} % signed${refusal === undefined ? '' : `; first refusal: ${refusal}`}`);
  // SIGTERM: the final checkpoint covers every acknowledged event.
  await mlog.stop();
  cleanups.splice(cleanups.indexOf(stopMlog), 1);

}
