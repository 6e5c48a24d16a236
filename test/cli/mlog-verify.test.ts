/**
 * `mlog verify` and `mlog verify-receipt` through the real `mlog` command, against a real MLog that
 * checkpoints every second: events are registered over mutual TLS, then tampered with directly in
 * Elasticsearch (an edited field, a deleted event, an inserted event with a forged @hash, a replaced
 * checkpoint), and verify must find each one, every time, naming it. Each tampering is undone after
 * its test, so the next starts from evidence that holds. Runs are narrowed with --system to this
 * file's IS (the chain and the logs are always checked whole), as the test cluster is shared.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { commandLineActor } from '../../src/audit/command-line-actor.js';
import { VERIFY_FINISHED_EVENT, VERIFY_STARTED_EVENT } from '../../src/evidence/evidence-verification.js';
import { EVIDENCE_INDEX } from '../../src/storage/index-names.js';
import { auditRecords, closeInspectionClient, inspectionClient, refresh, storedEvents, whileAuditRefusesWrites, type StoredDocument } from '../helpers/elasticsearch-inspection.js';
import { runMlogCli } from '../helpers/run-mlog-cli.js';
import { event, TestMLog, type TestSystem } from '../helpers/test-mlog.js';

interface Report {
  ok: boolean;
  counts: { modified: number; missing: number; added: number; checkpoint: number; signature: number };
  findings: { kind: string; message: string; index?: string; id?: string; uid?: string; log?: string; position?: number; seq?: number }[];
  events: { scanned: number; verified: number; not_yet_checkpointed: number; signatures_verified: number; pruned_by_retention: number };
  logs: { log: string; leaves: number; checkpointed: number }[];
}

/** RFC 8785 for the plain JSON of stored events (strings, finite numbers, booleans, null, arrays, objects): keys sorted by UTF-16 code units. Written here, apart from MLog's own code. */
function jcs(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${jcs(object[key])}`)
    .join(',')}}`;
}

function hashOf(source: Record<string, unknown>): string {
  const { '@hash': _hash, ...rest } = source;
  return createHash('sha256').update(jcs(rest)).digest('hex');
}

describe('mlog verify and mlog verify-receipt (command line)', () => {
  let dir: string;
  let keyPath: string;
  let mlog: TestMLog;
  let system: TestSystem;
  /** The call whose receipt and proof are kept, and its stored events. */
  let kept: { uid: string; receipt: string; proof: unknown; documents: StoredDocument[] };
  let allUids: string[] = [];

  const verify = async (...args: string[]): Promise<{ code: number; report: Report; stderr: string }> => {
    const run = await runMlogCli(['verify', '--system', system.code, '--json', ...args], { MLOG_SIGNING_KEY: keyPath });
    let report: Report;
    try {
      report = JSON.parse(run.stdout) as Report;
    } catch {
      throw new Error(`mlog verify printed no JSON report (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
    }
    return { code: run.code, report, stderr: run.stderr };
  };

  /** Polls GET /proof/{uid} until a checkpoint covers the UID's events. */
  const proofOf = async (uid: string): Promise<unknown> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const answer = await system.call(`/proof/${uid}`);
      if (answer.status === 200) return answer.json;
      if (answer.status !== 409 || Date.now() > deadline) throw new Error(`GET /proof/${uid}: ${answer.status} ${answer.text}`);
      await sleep(250);
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-cli-verify-'));
    keyPath = join(dir, 'mlog-signing-key.pem');
    writeFileSync(keyPath, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    mlog = await TestMLog.start({ MLOG_CHECKPOINT_SECONDS: '1', MLOG_SIGNING_KEY: keyPath });
    system = await mlog.addSystem();
    const batch = [event({ marker: 'batch-0' }), event({ marker: 'batch-1' }), event({ marker: 'batch-2' })].map((each) => JSON.stringify(each)).join('\n');
    const registered = await system.register(batch);
    assert.equal(registered.status, 200, registered.text);
    const receipt = registered.headers['mlog-receipt'];
    assert.equal(typeof receipt, 'string', 'a /register answer carries MLog-Receipt');
    const uid = (registered.json as { UID: string }).UID;
    const signed = await system.register(await system.sign(event({ marker: 'signed' })));
    assert.equal(signed.status, 200, signed.text);
    const singles: string[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await system.register(event({ marker: `single-${i}` }));
      assert.equal(answer.status, 200, answer.text);
      singles.push((answer.json as { UID: string }).UID);
    }
    allUids = [uid, (signed.json as { UID: string }).UID, ...singles];
    for (const each of allUids) await proofOf(each);
    kept = { uid, receipt: receipt as string, proof: await proofOf(uid), documents: await storedEvents(system.code, uid) };
    assert.equal(kept.documents.length, 3);
  });

  after(async () => {
    await mlog?.stop();
    await closeInspectionClient();
    rmSync(dir, { recursive: true, force: true });
  });

  test('untouched evidence: exit 0, every event proven by a checkpoint, the signed one re-verified', async () => {
    const { code, report, stderr } = await verify();
    assert.equal(code, 0, `${JSON.stringify(report.findings)} ${stderr}`);
    assert.equal(report.ok, true);
    assert.equal(report.events.scanned, 8);
    assert.equal(report.events.verified, 8);
    assert.equal(report.events.signatures_verified, 1);
    // Narrowed to months: this month holds them all, a month of 2019 none.
    const today = new Date().toISOString().slice(0, 10);
    const thisMonth = await verify('--from', today, '--to', today);
    assert.equal(thisMonth.code, 0, JSON.stringify(thisMonth.report.findings));
    assert.equal(thisMonth.report.events.scanned, 8);
    const past = await verify('--from', '2019-01-01', '--to', '2019-01-31');
    assert.equal(past.code, 0, JSON.stringify(past.report.findings));
    assert.equal(past.report.events.scanned, 0);
    // The text form says so too.
    const text = await runMlogCli(['verify', '--system', system.code], { MLOG_SIGNING_KEY: keyPath });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Everything verifies/);
  });

  test('a field edited in Elasticsearch is reported modified, naming the event; the kept receipt still proves the original', async () => {
    const target = kept.documents[1] as StoredDocument;
    const client = inspectionClient();
    await client.update({ index: target.index, id: target.id, doc: { marker: 'edited behind MLog\'s back' }, refresh: true });
    try {
      for (let run = 0; run < 2; run++) {
        const { code, report } = await verify();
        assert.equal(code, 1);
        assert.equal(report.counts.modified, 1, JSON.stringify(report.findings));
        const finding = report.findings.find((each) => each.kind === 'modified');
        assert.equal(finding?.index, target.index);
        assert.equal(finding?.id, target.id);
        assert.equal(finding?.uid, kept.uid);
        assert.equal(finding?.position, target.source['@position']);
      }
      const file = join(dir, 'receipt.json');
      writeFileSync(file, JSON.stringify({ receipt: kept.receipt, proof: kept.proof }));
      const offline = await runMlogCli(['verify-receipt', file], { MLOG_SIGNING_KEY: keyPath, MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
      assert.equal(offline.code, 0, `${offline.stdout}\n${offline.stderr}`);
      assert.match(offline.stdout, /The receipt holds: 3 of 3 events proven/);
    } finally {
      await client.index({ index: target.index, id: target.id, document: target.source, refresh: true });
    }
    const restored = await verify();
    assert.equal(restored.code, 0, JSON.stringify(restored.report.findings));
  });

  test('an edit that also recomputes @hash is still found: the log recorded the original hash', async () => {
    const target = kept.documents[2] as StoredDocument;
    const forged: Record<string, unknown> = { ...target.source, marker: 'edited and re-hashed' };
    forged['@hash'] = hashOf(forged);
    const client = inspectionClient();
    await client.index({ index: target.index, id: target.id, document: forged, refresh: true });
    try {
      const { code, report } = await verify();
      assert.equal(code, 1);
      assert.equal(report.counts.modified, 1, JSON.stringify(report.findings));
      assert.equal(report.findings[0]?.id, target.id);
    } finally {
      await client.index({ index: target.index, id: target.id, document: target.source, refresh: true });
    }
  });

  test('a deleted event is reported missing, by its log, position and index', async () => {
    const target = kept.documents[0] as StoredDocument;
    const client = inspectionClient();
    await client.delete({ index: target.index, id: target.id, refresh: true });
    try {
      for (let run = 0; run < 2; run++) {
        const { code, report } = await verify();
        assert.equal(code, 1);
        assert.equal(report.counts.missing, 1, JSON.stringify(report.findings));
        const finding = report.findings.find((each) => each.kind === 'missing');
        assert.equal(finding?.index, target.index);
        assert.equal(finding?.log, target.source['@log']);
        assert.equal(finding?.position, target.source['@position']);
      }
    } finally {
      await client.index({ index: target.index, id: target.id, document: target.source, refresh: true });
    }
  });

  test('an event inserted with a forged @hash is reported added, by its id; with no position, too', async () => {
    const original = kept.documents[0] as StoredDocument;
    const client = inspectionClient();
    const squatter: Record<string, unknown> = { ...original.source, '@id': `${kept.uid}-99999`, marker: 'inserted' };
    squatter['@hash'] = hashOf(squatter);
    const loose: Record<string, unknown> = { ...original.source, '@id': `${kept.uid}-99998`, marker: 'inserted without a position' };
    delete loose['@log'];
    delete loose['@position'];
    loose['@hash'] = hashOf(loose);
    await client.index({ index: original.index, id: `${kept.uid}-99999`, document: squatter, refresh: true });
    await client.index({ index: original.index, id: `${kept.uid}-99998`, document: loose, refresh: true });
    try {
      const { code, report } = await verify();
      assert.equal(code, 1);
      assert.equal(report.counts.added, 2, JSON.stringify(report.findings));
      assert.deepEqual(report.findings.filter((each) => each.kind === 'added').map((each) => each.id).sort(), [`${kept.uid}-99998`, `${kept.uid}-99999`]);
      assert.equal(report.counts.modified + report.counts.missing + report.counts.checkpoint, 0);
    } finally {
      await client.delete({ index: original.index, id: `${kept.uid}-99999`, refresh: true });
      await client.delete({ index: original.index, id: `${kept.uid}-99998`, refresh: true });
    }
  });

  test('a checkpoint document replaced in mlog_evidence is reported, by its seq', async () => {
    const proof = kept.proof as { checkpoints: { seq: number }[] };
    const seq = proof.checkpoints[0]?.seq as number;
    const client = inspectionClient();
    const original = (await client.get<Record<string, any>>({ index: EVIDENCE_INDEX, id: String(seq) }))._source as Record<string, any>;
    // A checkpoint re-signed with a key that is not MLog's, with a different root.
    const payload = { ...JSON.parse(Buffer.from(String(original.jws).split('.')[1] as string, 'base64url').toString('utf8')), root: 'ab'.repeat(32) };
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: original.kid, typ: 'mlog-evidence+jws' })).toString('base64url');
    const body = Buffer.from(jcs(payload)).toString('base64url');
    const forgedJws = `${header}.${body}.${sign(null, Buffer.from(`${header}.${body}`), generateKeyPairSync('ed25519').privateKey).toString('base64url')}`;
    await client.index({ index: EVIDENCE_INDEX, id: String(seq), document: { ...original, root: payload.root, jws: forgedJws }, refresh: true });
    try {
      for (let run = 0; run < 2; run++) {
        const { code, report } = await verify();
        assert.equal(code, 1);
        assert.ok(report.counts.checkpoint >= 1, JSON.stringify(report.findings));
        assert.ok(
          report.findings.some((each) => each.kind === 'checkpoint' && each.seq === seq && /does not verify/.test(each.message)),
          JSON.stringify(report.findings),
        );
      }
    } finally {
      await client.index({ index: EVIDENCE_INDEX, id: String(seq), document: original, refresh: true });
    }
    await refresh(EVIDENCE_INDEX);
    assert.equal((await verify()).code, 0);
  });

  test('verify-receipt refuses a receipt whose proof was altered, or signed by another key', async () => {
    const proof = structuredClone(kept.proof) as { events: { hash: string; leaf: { hash: string } }[] };
    const first = proof.events[0] as { hash: string; leaf: { hash: string } };
    first.hash = 'cd'.repeat(32);
    first.leaf.hash = first.hash;
    const file = join(dir, 'altered.json');
    writeFileSync(file, JSON.stringify({ receipt: kept.receipt, proof }));
    const altered = await runMlogCli(['verify-receipt', file], { MLOG_SIGNING_KEY: keyPath });
    assert.equal(altered.code, 1, altered.stdout);
    assert.match(altered.stdout, /FAILED/);

    const stranger = join(dir, 'stranger.pem');
    writeFileSync(stranger, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ receipt: kept.receipt, proof: kept.proof }));
    const wrongKey = await runMlogCli(['verify-receipt', good, '--public-key', stranger], {});
    assert.equal(wrongKey.code, 1, wrongKey.stdout);
    assert.match(wrongKey.stdout, /The receipt does not verify: it is signed with key .* which is not a trusted key/);
  });

  test('each run is recorded in mlog_audit: who ran it and its scope before it reads any event, its outcome and counts when it ends', async () => {
    const runs = () => Promise.all([auditRecords(VERIFY_STARTED_EVENT, { scope_system: system.code }), auditRecords(VERIFY_FINISHED_EVENT, { scope_system: system.code })]);
    const [startedBefore, finishedBefore] = await runs();
    const clean = await verify('--from', '2019-01-01', '--to', '2026-12-31');
    assert.equal(clean.code, 0, JSON.stringify(clean.report.findings));
    const [startedAfter, finishedAfter] = await runs();
    assert.equal(startedAfter.length, startedBefore.length + 1);
    assert.equal(finishedAfter.length, finishedBefore.length + 1);
    const [started, finished] = [startedAfter[0] as Record<string, unknown>, finishedAfter[0] as Record<string, unknown>];
    assert.equal(started.user, commandLineActor());
    assert.match(String(started.user), /^cli by \S+ on \S+$/);
    assert.equal(started.scope_all, false);
    assert.equal(started.scope_from_month, '2019.01');
    assert.equal(started.scope_to_month, '2026.12');
    assert.match(String(started.event_message), new RegExp(`started mlog verify of the events of IS ${system.code} received in 2019.01 to 2026.12`));
    assert.equal(finished.run_id, started.run_id);
    assert.ok(String(finished.event_time) >= String(started.event_time));
    assert.equal(finished.user, started.user);
    assert.equal(finished.outcome, 'ok');
    assert.equal(finished.ok, true);
    assert.equal(finished.events_scanned, 8);
    assert.equal(finished.events_verified, 8);
    for (const kind of ['modified', 'missing', 'added', 'checkpoint', 'signature']) assert.equal(finished[`findings_${kind}`], 0, kind);
    // Counts only: no stored event's content is in either record.
    for (const record of [started, finished]) assert.doesNotMatch(JSON.stringify(record), /batch-0|single-0|signed/);

    const target = kept.documents[1] as StoredDocument;
    const client = inspectionClient();
    await client.update({ index: target.index, id: target.id, doc: { marker: 'edited for the audit record' }, refresh: true });
    try {
      assert.equal((await verify()).code, 1);
    } finally {
      await client.index({ index: target.index, id: target.id, document: target.source, refresh: true });
    }
    const [, [failed]] = await runs();
    assert.equal(failed?.outcome, 'findings');
    assert.equal(failed?.ok, false);
    assert.equal(failed?.findings_modified, 1);
    assert.equal(failed?.findings_missing, 0);
    assert.equal(failed?.events_scanned, 8);
    assert.match(String(failed?.event_message), /: 1 finding$/);
  });

  test('when the run cannot be recorded (mlog_audit refuses writes), verify reads nothing: it exits 1, says why, and prints no report', async () => {
    const finishedBefore = await auditRecords(VERIFY_FINISHED_EVENT, { scope_system: system.code });
    const runs = await whileAuditRefusesWrites(async () => [
      await runMlogCli(['verify', '--system', system.code, '--json'], { MLOG_SIGNING_KEY: keyPath }),
      await runMlogCli(['verify', '--all'], { MLOG_SIGNING_KEY: keyPath }),
    ]);
    for (const run of runs) {
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, /mlog verify cannot record its run in the audit index \(mlog_audit\), so it reads no event of the record/);
      assert.equal(run.stdout, '', 'no report, no counts, no findings');
    }
    assert.equal((await auditRecords(VERIFY_FINISHED_EVENT, { scope_system: system.code })).length, finishedBefore.length);
    // Writable again: the same run is recorded and reads the record.
    assert.equal((await verify()).code, 0);
  });

  test('usage: verify says what to verify, and names a missing key', async () => {
    const bare = await runMlogCli(['verify'], { MLOG_SIGNING_KEY: keyPath });
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /--all, or narrow with --system, --from and --to/);
    const keyless = await runMlogCli(['verify', '--all'], { MLOG_SIGNING_KEY: '' });
    assert.equal(keyless.code, 1);
    assert.match(keyless.stderr, /give --public-key FILE/);
  });
});
