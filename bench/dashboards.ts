/**
 * `npm run bench:dashboards -- --elasticsearch <url> [--events 1000000] [--runs 40]`: a six-panel
 * dashboard over one IS's events (seeded through _bulk as bench/console-search.ts seeds them, unless
 * the IS already holds them), rendered through the console API of an MLog started in this process,
 * against the same aggregations read straight from storage. Prints p50/p95/p99 and the ratio; the
 * target is p95 under 1 s over 1,000,000 events. Asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { Command, InvalidArgumentError } from 'commander';
import { createCertificateAuthority, issueServerCertificate } from '../scripts/dev-pki.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logging/logger.js';
import { startMLog } from '../src/main.js';
import { eventIndexPattern } from '../src/storage/index-names.js';
import { installIndexTemplates } from '../src/storage/template-installer.js';
import { measureDashboardRender } from './dashboard-bench.js';
import { seedSystem } from './query-bench.js';

const positive = (value: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('a whole number above 0');
  return number;
};

const program = new Command()
  .requiredOption('--elasticsearch <url>', 'the Elasticsearch to seed and read')
  .option('--events <n>', 'events of the seeded IS', positive, 1_000_000)
  .option('--runs <n>', 'measured renders', positive, 40);
program.parse();
const options = program.opts<{ elasticsearch: string; events: number; runs: number }>();
const log = (line: string): void => console.log(line);
const code = 'dashboard-bench';
const prefix = 'MPass';

const client = new Client({ node: options.elasticsearch, requestTimeout: 120_000 });
await installIndexTemplates(client, createLogger('error', true));
const existing = await client.count({ index: eventIndexPattern(code), ignore_unavailable: true, allow_no_indices: true });
if (existing.count < options.events) {
  if (existing.count > 0) await client.indices.delete({ index: eventIndexPattern(code) });
  log(`seeding ${options.events.toLocaleString('en')} events of ${code}`);
  const seeded = await seedSystem(options.elasticsearch, code, prefix, options.events, log);
  log(`  ${seeded.events.toLocaleString('en')} events in ${seeded.seconds.toFixed(0)} s`);
}
await client.indices.refresh({ index: eventIndexPattern(code), ignore_unavailable: true });
const held = (await client.count({ index: eventIndexPattern(code), ignore_unavailable: true, allow_no_indices: true })).count;
await client.close();

const dir = mkdtempSync(join(tmpdir(), 'mlog-dashboard-bench-'));
const ca = await createCertificateAuthority(dir, 'MLog Bench CA');
const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
const mlog = await startMLog(
  loadConfig({
    MLOG_ELASTICSEARCH_URL: options.elasticsearch,
    MLOG_HOST: '127.0.0.1',
    MLOG_PORT: '0',
    MLOG_ADMIN_PORT: '0',
    MLOG_TLS_CERT: server.certPath,
    MLOG_TLS_KEY: server.keyPath,
    MLOG_TLS_CLIENT_CA: ca.certPath,
    MLOG_ADMIN_TOKEN: 'dashboard-bench-token-0123456789',
    MLOG_RETENTION_SCHEDULE: 'off',
  }),
  { logger: createLogger('error', true) },
);
try {
  const to = Date.now() + 60_000;
  const from = to - 31 * 86_400_000;
  log(`rendering a six-panel dashboard over ${held.toLocaleString('en')} events (31 days), ${options.runs} times through the console API and straight from storage`);
  const result = await measureDashboardRender({ elasticsearchUrl: options.elasticsearch, adminUrl: `http://127.0.0.1:${mlog.adminPort}`, code, prefix, from, to, runs: options.runs, warmup: 3 });
  const line = (name: string, figures: { p50: number; p95: number; p99: number }): string => `${name.padEnd(36)} p50 ${figures.p50.toFixed(0)} ms  p95 ${figures.p95.toFixed(0)} ms  p99 ${figures.p99.toFixed(0)} ms`;
  log(line('console API render (6 panels)', result.mlog));
  log(line('same aggregations from storage', result.direct));
  log(`ratio p95: ${(result.mlog.p95 / result.direct.p95).toFixed(2)} × storage; target p95 < 1000 ms: ${result.mlog.p95 < 1000 ? 'met' : 'NOT met'}`);
} finally {
  await mlog.stop();
  rmSync(dir, { recursive: true, force: true });
}
