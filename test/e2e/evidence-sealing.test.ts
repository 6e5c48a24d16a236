/**
 * Sealing the evidence log of an MLog process that is gone (docs/evidence.md, "A process that
 * crashed"), with real processes: an MLog that never checkpoints is SIGKILLed after acknowledging
 * events over mutual TLS; another MLog, started after it, takes the lapsed lease over, rebuilds the
 * leaves from the stored events (an acknowledged event deleted meanwhile becomes a void leaf, which
 * its receipt exposes) and signs a final checkpoint naming itself. Then every receipt's
 * positions are proven (checked with the RFC 9162 code of test/helpers/independent-merkle.ts, not
 * MLog's), `mlog verify` exits 0 with nothing "not yet checkpointed", and `mlog
 * verify-receipt` holds offline. Two live instances, renewing their leases, never seal each other.
 */
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { compactVerify, importJWK } from 'jose';
import { makePki, MLogProcess, scenarioCode, type Pki } from '../faults/fault-harness.js';
import { closeInspectionClient, inspectionClient, monthOf } from '../helpers/elasticsearch-inspection.js';
import { canonicalize, leafHashOf, mth, rootFromInclusionProof } from '../helpers/independent-merkle.js';
import { runMlogCli } from '../helpers/run-mlog-cli.js';
import { elasticsearchUrl, event } from '../helpers/test-mlog.js';

/** A log not renewed for 6 s may be sealed (renewed every 2 s): short for the test, long enough for a loaded machine. */
const SEAL_AFTER = '6';

interface Answer {
  status: number;
  receipt?: string;
  json: Record<string, any>;
  text: string;
}

/** A call to MLog's public listener over mutual TLS with the scenario's client certificate. */
function call(port: number, pki: Pki, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        ca: pki.caPem,
        servername: 'localhost',
        cert: pki.client.certPem,
        key: pki.client.keyPem,
        agent: false,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
        timeout: 60_000,
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          let json: Record<string, any> = {};
          try {
            json = JSON.parse(text) as Record<string, any>;
          } catch {
            // not JSON: the assertion on the status shows the text
          }
          const receipt = response.headers['mlog-receipt'];
          resolve({ status: response.statusCode ?? 0, text, json, ...(typeof receipt === 'string' ? { receipt } : {}) });
        });
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

function payloadOfJws(jws: string): Record<string, any> {
  return JSON.parse(Buffer.from(jws.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, any>;
}

/** The chain entries of mlog_evidence, by seq. */
async function chainEntries(): Promise<Record<string, any>[]> {
  const client = inspectionClient();
  await client.indices.refresh({ index: 'mlog_evidence', ignore_unavailable: true });
  const answer = await client.search<Record<string, any>>({ index: 'mlog_evidence', ignore_unavailable: true, size: 10_000, sort: [{ seq: 'asc' }], query: { match_all: {} } });
  return answer.hits.hits.map((hit) => hit._source as Record<string, any>);
}

async function waitFor<T>(what: string, limitMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const started = Date.now();
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs / 1000} s`);
    await sleep(250);
  }
}

async function stop(mlog: MLogProcess | undefined): Promise<void> {
  if (mlog === undefined || mlog.child.exitCode !== null || mlog.child.signalCode !== null) return;
  mlog.kill('SIGTERM');
  await mlog.exited;
}

describe('sealing the evidence log of an MLog process that is gone', () => {
  const running: MLogProcess[] = [];
  const pkis: Pki[] = [];

  /** A test CA, client certificate and signing key of its own for each test (a certificate belongs to one IS). */
  async function freshPki(): Promise<Pki> {
    const pki = await makePki();
    pkis.push(pki);
    return pki;
  }

  after(async () => {
    for (const mlog of running) await stop(mlog);
    await closeInspectionClient();
    for (const pki of pkis) rmSync(pki.dir, { recursive: true, force: true });
  });

  test('an instance SIGKILLed before any checkpoint: the next one seals its log, every receipt is proven and mlog verify holds', { timeout: 240_000 }, async () => {
    const pki = await freshPki();
    // The first MLog would checkpoint once an hour: everything it acknowledges is uncheckpointed when it is killed.
    const first = await MLogProcess.start(elasticsearchUrl(), pki, { env: { MLOG_CHECKPOINT_SECONDS: '3600', MLOG_EVIDENCE_SEAL_AFTER_SECONDS: SEAL_AFTER } });
    running.push(first);
    const code = scenarioCode('seal');
    await first.addSystem(code, pki.client);

    // Five calls of 1,000 events (full leaf chunks are stored in the background once four wait) and twenty small ones.
    const bodies = [
      ...Array.from({ length: 5 }, (_, n) => Array.from({ length: 1_000 }, (_, m) => JSON.stringify(event({ event_id: `big-${n}-${m}` }))).join('\n')),
      ...Array.from({ length: 20 }, (_, n) => Array.from({ length: 1 + (n % 3) }, (_, m) => JSON.stringify(event({ event_id: `small-${n}-${m}` }))).join('\n')),
    ];
    const receipts: { uid: string; receipt: string; payload: Record<string, any> }[] = [];
    for (const body of bodies) {
      const answer = await call(first.publicPort, pki, 'POST', '/register', body);
      assert.equal(answer.status, 200, answer.text);
      assert.ok(answer.receipt !== undefined, 'a receipt');
      receipts.push({ uid: answer.json.UID as string, receipt: answer.receipt, payload: payloadOfJws(answer.receipt) });
    }
    const log = receipts[0]?.payload.log as string;
    const acknowledged = receipts.reduce((sum, each) => sum + (each.payload.count as number), 0);
    assert.ok(receipts.every((each) => each.payload.log === log), 'one log for the first process');

    first.kill('SIGKILL');
    await first.exited;
    // One acknowledged event is deleted behind MLog's back before any checkpoint covered it: its position is sealed as a void leaf.
    const deleted = receipts[5] as (typeof receipts)[number];
    assert.equal(deleted.payload.count, 1);
    const deletedEvent = deleted.payload.events[0] as { id: string; position: number };
    await inspectionClient().delete({ index: `mlog-${code}-${monthOf(new Date(deleted.payload.received as string))}`, id: deletedEvent.id, refresh: true });
    assert.equal((await chainEntries()).filter((entry) => entry.log === log).length, 0, 'no checkpoint of the killed log before sealing');
    const lease = await inspectionClient().get<Record<string, any>>({ index: 'mlog_leases', id: `evidence-log:${log}` });
    assert.equal(lease._source?.state, 'live', 'the killed process left its lease behind');

    // An MLog of another deployment (its own signing key) on the same cluster, sweeping every 2 s, never
    // seals it: a checkpoint signed with its key would not verify where this deployment's key is trusted.
    const foreign = await MLogProcess.start(elasticsearchUrl(), await freshPki(), { env: { MLOG_EVIDENCE_SEAL_AFTER_SECONDS: SEAL_AFTER } });
    running.push(foreign);
    await waitFor('the killed log\'s lease to lapse', 30_000, async () => {
      const now = await inspectionClient().get<Record<string, any>>({ index: 'mlog_leases', id: `evidence-log:${log}` });
      return Date.parse(String(now._source?.expires_at)) < Date.now() ? true : undefined;
    });
    await sleep(5_000);
    assert.equal((await chainEntries()).filter((entry) => entry.log === log).length, 0, 'not sealed by an instance signing with another key');
    assert.equal((await inspectionClient().get<Record<string, any>>({ index: 'mlog_leases', id: `evidence-log:${log}` }))._source?.state, 'live', 'its lease not taken over');
    await stop(foreign);

    // Another instance of the deployment (same key), started after: it seals the killed one's log once its lease lapses.
    const second = await MLogProcess.start(elasticsearchUrl(), pki, { env: { MLOG_EVIDENCE_SEAL_AFTER_SECONDS: SEAL_AFTER } });
    running.push(second);
    const own = await call(second.publicPort, pki, 'POST', '/register', JSON.stringify(event({ event_id: 'on-the-sealer' })));
    assert.equal(own.status, 200, own.text);
    const sealerLog = payloadOfJws(own.receipt as string).log as string;
    const sealed = await waitFor('the sealed checkpoint', 90_000, async () => (await chainEntries()).find((entry) => entry.log === log));
    assert.equal(sealed.kind, 'checkpoint');
    assert.equal(sealed.final, true);
    assert.equal(sealed.size, acknowledged, 'every acknowledged position, no more');
    assert.match(String(sealed.sealed_by), new RegExp(`log ${sealerLog}$`), 'names the instance that sealed it');
    assert.deepEqual(payloadOfJws(sealed.jws as string).sealed_by, sealed.sealed_by, 'who sealed it is signed');
    const gone = await inspectionClient().get({ index: 'mlog_leases', id: `evidence-log:${log}` }, { ignore: [404] });
    assert.equal(gone.found, false, 'the lease of a sealed log is removed');

    // Each receipt's events are proven against the sealed checkpoint, checked here with code independent of MLog's.
    const latest = await call(second.publicPort, pki, 'GET', '/checkpoints/latest');
    const key = await importJWK(latest.json.key, latest.json.key.alg);
    for (const { uid, payload } of receipts) {
      if (uid === deleted.uid) continue;
      const proof = await call(second.publicPort, pki, 'GET', `/proof/${uid}`);
      assert.equal(proof.status, 200, proof.text);
      const checkpoint = (proof.json.checkpoints as { seq: number; jws: string }[]).find((each) => each.seq === sealed.seq);
      assert.ok(checkpoint !== undefined, 'proven against the sealed checkpoint');
      const signed = JSON.parse(new TextDecoder().decode((await compactVerify(checkpoint.jws, key)).payload)) as Record<string, any>;
      const leaves: Buffer[] = [];
      const events = (proof.json.events as Record<string, any>[]).sort((a, b) => a.position - b.position);
      assert.equal(events.length, payload.count);
      for (const [offset, item] of events.entries()) {
        assert.equal(item.position, payload.first_position + offset, 'at the position the receipt gave');
        assert.equal(item.leaf.kind, 'event');
        if (payload.events !== undefined) assert.equal(item.leaf.hash, payload.events[offset].hash, 'the hash the receipt promised');
        const leaf = leafHashOf(item.leaf);
        leaves.push(leaf);
        const root = rootFromInclusionProof(item.position, item.tree_size, leaf, (item.audit_path as string[]).map((hex) => Buffer.from(hex, 'hex')));
        assert.equal(root?.toString('hex'), signed.root);
      }
      assert.equal(mth(leaves).toString('hex'), payload.events_root, 'the leaves give the receipt\'s events_root');
    }
    assert.equal(canonicalize(sealedPayloadFields(sealed)), canonicalize(payloadOfJws(sealed.jws as string)));

    // The deleted event's position is a void leaf saying why; its receipt is what shows the deletion: no proof of it can be had.
    const client = inspectionClient();
    await client.indices.refresh({ index: 'mlog_evidence_leaves' });
    const chunk = await client.get<{ first: number; leaves: Record<string, unknown>[] }>({ index: 'mlog_evidence_leaves', id: `${log}:${deletedEvent.position - (deletedEvent.position % 1024)}` });
    const voidLeaf = chunk._source?.leaves[deletedEvent.position - (chunk._source?.first ?? 0)];
    assert.equal(voidLeaf?.kind, 'void');
    assert.match(String(voidLeaf?.reason), /no event is stored at this position: its write was never acknowledged before the process stopped \(sealed\)/);
    assert.equal((await call(second.publicPort, pki, 'GET', `/proof/${deleted.uid}`)).status, 404);
    const deletedFile = join(pki.dir, 'deleted-receipt.json');
    writeFileSync(deletedFile, JSON.stringify({ receipt: deleted.receipt }));
    const unproven = await runMlogCli(['verify-receipt', deletedFile], { MLOG_SIGNING_KEY: pki.env.MLOG_SIGNING_KEY as string, MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
    assert.equal(unproven.code, 1, unproven.stdout);

    // Offline, a kept receipt and its proof hold with `mlog verify-receipt`.
    const kept = receipts.at(-1) as (typeof receipts)[number];
    const file = join(pki.dir, 'receipt.json');
    writeFileSync(file, JSON.stringify({ receipt: kept.receipt, proof: (await call(second.publicPort, pki, 'GET', `/proof/${kept.uid}`)).json }));
    const offline = await runMlogCli(['verify-receipt', file], { MLOG_SIGNING_KEY: pki.env.MLOG_SIGNING_KEY as string, MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
    assert.equal(offline.code, 0, `${offline.stdout}\n${offline.stderr}`);

    // The system's record verifies, and nothing of it is left "not yet checkpointed" (the sealer's own log closes at its SIGTERM).
    // Narrowed to the system: the test Elasticsearch also holds other tests' chain entries, signed with keys this run is not given
    // (the fault suite's mlog-sigkill case runs --all on an Elasticsearch of its own).
    await stop(second);
    const verify = await runMlogCli(['verify', '--system', code, '--json', '--workers', '0'], { MLOG_SIGNING_KEY: pki.env.MLOG_SIGNING_KEY as string });
    const report = JSON.parse(verify.stdout) as { ok: boolean; counts: Record<string, number>; findings: unknown[]; events: { not_yet_checkpointed: number; verified: number } };
    assert.equal(verify.code, 0, JSON.stringify(report.findings.slice(0, 5)));
    assert.equal(report.events.not_yet_checkpointed, 0);
    assert.ok(report.events.verified >= acknowledged, 'every stored event of both logs verified');
  });

  test('two live instances renewing their leases never seal each other', { timeout: 180_000 }, async () => {
    const pki = await freshPki();
    const env = { MLOG_CHECKPOINT_SECONDS: '1', MLOG_EVIDENCE_SEAL_AFTER_SECONDS: SEAL_AFTER };
    const [one, two] = await Promise.all([MLogProcess.start(elasticsearchUrl(), pki, { env }), MLogProcess.start(elasticsearchUrl(), pki, { env })]);
    running.push(one as MLogProcess, two as MLogProcess);
    const code = scenarioCode('live');
    await (one as MLogProcess).addSystem(code, pki.client);
    const logs = new Set<string>();
    for (const mlog of [one, two] as MLogProcess[]) {
      const answer = await call(mlog.publicPort, pki, 'POST', '/register', JSON.stringify(event({ event_id: `before-${mlog.publicPort}` })));
      assert.equal(answer.status, 200, answer.text);
      logs.add(payloadOfJws(answer.receipt as string).log as string);
    }
    assert.equal(logs.size, 2);
    // Three times the time after which a lease not renewed may be sealed, each instance sweeping every 2 s.
    await sleep(3 * Number(SEAL_AFTER) * 1000);
    const entries = (await chainEntries()).filter((entry) => logs.has(entry.log as string));
    assert.ok(entries.length >= 2, 'both logs are checkpointed');
    assert.deepEqual(
      entries.filter((entry) => entry.final === true || entry.sealed_by !== undefined).map((entry) => entry.seq),
      [],
      'no live log was sealed or closed',
    );
    // Both still register and checkpoint: an event registered now is proven within a few seconds.
    for (const mlog of [one, two] as MLogProcess[]) {
      const answer = await call(mlog.publicPort, pki, 'POST', '/register', JSON.stringify(event({ event_id: `after-${mlog.publicPort}` })));
      assert.equal(answer.status, 200, answer.text);
      const proof = await waitFor('a proof of an event registered after the wait', 30_000, async () => {
        const got = await call(mlog.publicPort, pki, 'GET', `/proof/${answer.json.UID as string}`);
        return got.status === 200 ? got : undefined;
      });
      assert.equal(proof.json.events[0].log, payloadOfJws(answer.receipt as string).log);
    }
    for (const log of logs) {
      const lease = await inspectionClient().get<Record<string, any>>({ index: 'mlog_leases', id: `evidence-log:${log}` });
      assert.equal(lease._source?.state, 'live');
      assert.equal(lease._source?.holder, log);
    }
    // A clean stop closes each log with a final checkpoint and removes its lease: nothing is left to seal.
    await Promise.all([stop(one), stop(two)]);
    for (const log of logs) {
      const lease = await inspectionClient().get({ index: 'mlog_leases', id: `evidence-log:${log}` }, { ignore: [404] });
      assert.equal(lease.found, false);
    }
    const closing = (await chainEntries()).filter((entry) => logs.has(entry.log as string) && entry.final === true);
    assert.equal(closing.length, 2);
    assert.ok(closing.every((entry) => entry.sealed_by === undefined), 'closed by their own processes, not sealed');
  });
});

/** The payload fields of a stored sealed checkpoint, as MLog signed them. */
function sealedPayloadFields(entry: Record<string, any>): Record<string, unknown> {
  const { kind, seq, log, size, root, time, previous, final, sealed_by } = entry;
  return { kind, seq, log, size, root, time, previous, final, sealed_by };
}
