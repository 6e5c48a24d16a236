/**
 * `mlog verify` over what two MLog instances on the same Elasticsearch wrote at once (a log per
 * instance, one chain), and after retention deleted their index (a signed tombstone, so the events'
 * positions are "deleted by retention", never "missing"). Retention runs through the real
 * `mlog retention run` with its clock moved 400 days ahead (test/helpers/shifted-clock.ts), as the
 * month being written is never deleted today.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { closeInspectionClient, inspectionClient, refresh } from '../helpers/elasticsearch-inspection.js';
import { runMlogCli, type CliRun } from '../helpers/run-mlog-cli.js';
import { elasticsearchUrl, event, MLogCaller, TestMLog, TestSystem, type SystemOptions } from '../helpers/test-mlog.js';

const MLOG = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SHIFTED_CLOCK = fileURLToPath(new URL('../helpers/shifted-clock.ts', import.meta.url));
const DAY_MS = 86_400_000;

interface Report {
  ok: boolean;
  counts: Record<string, number>;
  findings: unknown[];
  events: { scanned: number; verified: number; not_yet_checkpointed: number; pruned_by_retention: number };
  logs: { log: string; leaves: number; checkpointed: number; final: boolean }[];
}

/** `mlog` with its clock moved `shiftMs` ahead. */
function runShiftedMlogCli(args: string[], shiftMs: number, env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', SHIFTED_CLOCK, MLOG, ...args],
      { env: { ...process.env, MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), MLOG_TEST_CLOCK_SHIFT_MS: String(shiftMs), ...env } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

describe('mlog verify: two instances writing at once, then retention', () => {
  let dir: string;
  let keyPath: string;
  let first: TestMLog;
  let second: TestMLog | undefined;
  let onFirst: TestSystem;
  let onSecond: TestSystem;
  let registered = 0;

  const verify = async (): Promise<{ code: number; report: Report; stderr: string }> => {
    const run = await runMlogCli(['verify', '--system', onFirst.code, '--json'], { MLOG_SIGNING_KEY: keyPath });
    try {
      return { code: run.code, report: JSON.parse(run.stdout) as Report, stderr: run.stderr };
    } catch {
      throw new Error(`mlog verify printed no JSON report (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-cli-verify-instances-'));
    keyPath = join(dir, 'mlog-signing-key.pem');
    writeFileSync(keyPath, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    first = await TestMLog.start({ MLOG_CHECKPOINT_SECONDS: '1', MLOG_SIGNING_KEY: keyPath });
    // The second instance trusts the same client CA and presents the same server certificate, so one IS calls both.
    second = await TestMLog.start({
      MLOG_CHECKPOINT_SECONDS: '1',
      MLOG_SIGNING_KEY: keyPath,
      MLOG_TLS_CERT: first.server.certPath,
      MLOG_TLS_KEY: first.server.keyPath,
      MLOG_TLS_CLIENT_CA: first.ca.certPath,
    });
    const options = { retention_months: 1 } as SystemOptions;
    onFirst = await first.addSystem(options);
    onSecond = new TestSystem(onFirst.code, onFirst.certificate, new MLogCaller(first.dir, first.ca, first.server, second.mlog, first.adminToken));
  });

  after(async () => {
    await second?.stop();
    await first?.stop();
    await runMlogCli(['systems', 'remove', onFirst.code]);
    await inspectionClient().indices.delete({ index: `mlog-${onFirst.code}-*` }, { ignore: [404] });
    await closeInspectionClient();
    rmSync(dir, { recursive: true, force: true });
  });

  test('both instances register at once: a log each, and the whole verifies', async () => {
    const calls = Array.from({ length: 24 }, (_, n) => {
      const system = n % 2 === 0 ? onFirst : onSecond;
      const size = 1 + (n % 3);
      registered += size;
      return system.register(Array.from({ length: size }, (_, i) => JSON.stringify(event({ marker: `call-${n}-${i}` }))).join('\n'));
    });
    const answers = await Promise.all(calls);
    for (const answer of answers) assert.equal(answer.status, 200, answer.text);

    // Wait until every event is under a checkpoint.
    const deadline = Date.now() + 30_000;
    let last: Awaited<ReturnType<typeof verify>>;
    for (;;) {
      last = await verify();
      if (last.report.events.not_yet_checkpointed === 0 || Date.now() > deadline) break;
      await sleep(500);
    }
    assert.equal(last.code, 0, `${JSON.stringify(last.report.findings)} ${last.stderr}`);
    assert.equal(last.report.events.scanned, registered);
    assert.equal(last.report.events.verified, registered);

    await refresh(`mlog-${onFirst.code}-*`);
    const logs = await inspectionClient().search({ index: `mlog-${onFirst.code}-*`, size: 0, aggregations: { logs: { terms: { field: '@log', size: 10 } } } });
    const buckets = (logs.aggregations?.logs as { buckets: { key: string; doc_count: number }[] }).buckets;
    assert.equal(buckets.length, 2, 'one log per instance');
    for (const bucket of buckets) assert.ok(last.report.logs.some((log) => log.log === bucket.key && log.checkpointed > 0));
  });

  test('after both stop, retention deletes their index with a tombstone: nothing is missing; without it the events are', async () => {
    await second?.stop();
    second = undefined;
    const index = `mlog-${onFirst.code}-${new Date().toISOString().slice(0, 7).replace('-', '.')}`;

    // Deleted behind MLog's back first: every event is missing.
    const client = inspectionClient();
    await refresh(index);
    const kept = (await client.search<Record<string, unknown>>({ index, size: 1000 })).hits.hits;
    assert.equal(kept.length, registered);
    await client.indices.delete({ index });
    const deleted = await verify();
    assert.equal(deleted.code, 1);
    assert.equal(deleted.report.counts.missing, registered, JSON.stringify(deleted.report.findings).slice(0, 2000));
    await client.bulk({ refresh: true, operations: kept.flatMap((hit) => [{ index: { _index: index, _id: hit._id } }, hit._source as Record<string, unknown>]) });
    assert.equal((await verify()).code, 0);

    const run = await runShiftedMlogCli(['retention', 'run', '--yes', '--index', index], 400 * DAY_MS, { MLOG_SIGNING_KEY: keyPath });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.equal(await client.indices.exists({ index }), false, 'retention deleted the index');
    const { code, report, stderr } = await verify();
    assert.equal(code, 0, `${JSON.stringify(report.findings)} ${stderr}`);
    assert.equal(report.events.scanned, 0);
    assert.equal(report.events.pruned_by_retention, registered);
    assert.equal(report.counts.missing, 0);
  });
});
