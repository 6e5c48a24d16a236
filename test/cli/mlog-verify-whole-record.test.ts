/**
 * `mlog verify --all` through the real `mlog` command: a run over the whole record is recorded in
 * mlog_audit as such, at its start and at its end (scope_all, no IS, no month, "every event" in its
 * message), whatever it finds in the shared test cluster; and a log of more leaf chunks than one
 * page of the reader holds is read whole.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commandLineActor } from '../../src/audit/command-line-actor.js';
import { VERIFY_FINISHED_EVENT, VERIFY_STARTED_EVENT } from '../../src/evidence/evidence-verification.js';
import { CHUNK_SIZE } from '../../src/evidence/leaf-chunk.js';
import { auditRecords, closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { runMlogCli } from '../helpers/run-mlog-cli.js';
import { event, TestMLog } from '../helpers/test-mlog.js';

describe('mlog verify --all (command line)', () => {
  let dir: string;
  let keyPath: string;
  let mlog: TestMLog;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-cli-verify-all-'));
    keyPath = join(dir, 'mlog-signing-key.pem');
    writeFileSync(keyPath, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    mlog = await TestMLog.start({ MLOG_SIGNING_KEY: keyPath });
    const system = await mlog.addSystem();
    const answer = await system.register(event({ marker: 'whole-record' }));
    assert.equal(answer.status, 200, answer.text);
  });

  after(async () => {
    await mlog?.stop();
    await closeInspectionClient();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a run over the whole record is recorded as "every event", scope_all, naming no IS and no month', async () => {
    const actor = commandLineActor();
    const startedRuns = () => auditRecords(VERIFY_STARTED_EVENT, { user: actor, scope_all: 'true' });
    const before = await startedRuns();
    const run = await runMlogCli(['verify', '--all', '--json'], { MLOG_SIGNING_KEY: keyPath });
    // Other tests' evidence, signed with their own keys, may give findings here: the exit code is not the point.
    assert.ok(run.code === 0 || run.code === 1, `${run.code} ${run.stderr}`);
    assert.doesNotThrow(() => JSON.parse(run.stdout), `a JSON report: ${run.stdout.slice(0, 200)} ${run.stderr}`);
    const after = await startedRuns();
    assert.equal(after.length, before.length + 1, 'the run is recorded once at its start');
    const started = after[0] as Record<string, unknown>;
    assert.equal(started.event_message, `${actor} started mlog verify of every event`);
    assert.equal(started.scope_all, true);
    assert.equal(started.scope_system, undefined);
    assert.equal(started.scope_from_month, undefined);
    assert.equal(started.scope_to_month, undefined);
    const [finished] = await auditRecords(VERIFY_FINISHED_EVENT, { run_id: String(started.run_id) });
    assert.ok(finished !== undefined, 'the run is recorded at its end');
    assert.equal(finished.scope_all, true);
    assert.match(String(finished.event_message), new RegExp(`^mlog verify of every event by ${actor.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  });

  test('a log of more leaf chunks than one page holds is read whole: every chunk, in order, with no gap reported', async () => {
    // 60 full chunks and one of 5 leaves: more than the reader's page of 50 chunks.
    const log = `paging-${Date.now().toString(36)}`;
    const chunks = Array.from({ length: 61 }, (_, k) => ({
      log,
      first: k * CHUNK_SIZE,
      count: k === 60 ? 5 : CHUNK_SIZE,
      leaves: Array.from({ length: k === 60 ? 5 : CHUNK_SIZE }, () => ({ kind: 'void', reason: 'refused' })),
      updated: new Date().toISOString(),
    }));
    const client = inspectionClient();
    await client.bulk({ refresh: true, operations: chunks.flatMap((chunk) => [{ index: { _index: 'mlog_evidence_leaves', _id: `${log}:${chunk.first}` } }, chunk]) });
    try {
      const run = await runMlogCli(['verify', '--all', '--json'], { MLOG_SIGNING_KEY: keyPath });
      assert.ok(run.code === 0 || run.code === 1, `${run.code} ${run.stderr}`);
      const report = JSON.parse(run.stdout) as { logs: { log: string; leaves: number; checkpointed: number }[]; findings: { log?: string; message: string }[] };
      assert.deepEqual(
        report.logs.filter((each) => each.log === log).map((each) => [each.leaves, each.checkpointed]),
        [[60 * CHUNK_SIZE + 5, 0]],
      );
      assert.deepEqual(
        report.findings.filter((finding) => finding.log === log),
        [],
      );
    } finally {
      await client.bulk({ refresh: true, operations: chunks.map((chunk) => ({ delete: { _index: 'mlog_evidence_leaves', _id: `${log}:${chunk.first}` } })) });
    }
  });
});
