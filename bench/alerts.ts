/**
 * `npm run bench:alerts -- --elasticsearch <url> [--quick]`: the CPU MLog (its own process) spends
 * evaluating 200 mixed alert rules, per round and as a share of one core at a per-minute schedule,
 * against the same MLog idle with no rule, in the same run; and the duration of a round (p50/p95).
 * See bench/alert-bench.ts for the method; the target is under 10 % of one core. Asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createCertificateAuthority, issueServerCertificate } from '../scripts/dev-pki.js';
import { describeAlertCost, measureAlertCost } from './alert-bench.js';

const whole = (value: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('a whole number above 0');
  return number;
};

const program = new Command()
  .name('npm run bench:alerts --')
  .requiredOption('--elasticsearch <url>', 'the Elasticsearch to seed and evaluate over')
  .option('--quick', 'a short run: 40,000 events, 30 s idle, 5 measured rounds', false)
  .option('--events <n>', 'events seeded over 4 IS (default 400,000; 40,000 with --quick)', whole)
  .option('--rules <n>', 'rules created', whole, 200)
  .option('--tick <seconds>', 'seconds between two rounds (the alerts tick)', whole, 10)
  .option('--rounds <n>', 'measured rounds (default 20; 5 with --quick)', whole);
program.parse();
const raw = program.opts<{ elasticsearch: string; quick: boolean; events?: number; rules: number; tick: number; rounds?: number }>();

const dir = mkdtempSync(join(tmpdir(), 'mlog-alert-bench-'));
try {
  const ca = await createCertificateAuthority(dir, 'MLog Bench CA');
  const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
  const result = await measureAlertCost({
    elasticsearchUrl: raw.elasticsearch,
    tls: { serverCertPath: server.certPath, serverKeyPath: server.keyPath, caPath: ca.certPath },
    events: raw.events ?? (raw.quick ? 40_000 : 400_000),
    rules: raw.rules,
    tickSeconds: raw.tick,
    rounds: raw.rounds ?? (raw.quick ? 5 : 20),
    warmupRounds: 2,
    idleSeconds: raw.quick ? 30 : 60,
    runId: Date.now().toString(36),
    log: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
  });
  for (const line of describeAlertCost(result)) console.log(line);
  if (result.warnings.length > 0) console.log(`MLog logged ${result.warnings.length} warnings while measured; the last: ${result.warnings.at(-1)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
