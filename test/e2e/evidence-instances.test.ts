/**
 * Several MLog instances writing at once on one Elasticsearch: each has its own evidence log (no
 * instance waits on another for a position), their checkpoints form one chain without a fork (every
 * seq taken once, each entry naming the hash of the one before), and every event's proof verifies
 * with the RFC 9162 code of this file.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { compactVerify, importJWK } from 'jose';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, TestSystem } from '../helpers/test-mlog.js';
import { canonicalize, rootFromInclusionProof, sha256 } from '../helpers/independent-merkle.js';

describe('evidence with several MLog instances at once', () => {
  let first: TestMLog;
  let second: TestMLog;
  let systemOnFirst: TestSystem;
  let systemOnSecond: TestSystem;

  before(async () => {
    first = await TestMLog.start({ MLOG_CHECKPOINT_SECONDS: '1' });
    // The second instance signs with the first one's key and accepts the first one's client CA, as instances of one deployment do.
    second = await TestMLog.start({ MLOG_CHECKPOINT_SECONDS: '1', MLOG_SIGNING_KEY: first.signingKeyPath, MLOG_TLS_CLIENT_CA: first.ca.certPath });
    systemOnFirst = await first.addSystem();
    systemOnSecond = new TestSystem(systemOnFirst.code, systemOnFirst.certificate, second);
  });

  after(async () => {
    await Promise.all([first.stop(), second.stop()]);
    await closeInspectionClient();
  });

  test('two instances write at once: two logs, one unforked chain, every proof verifies', async () => {
    const calls = await Promise.all(
      Array.from({ length: 40 }, (_, n) => (n % 2 === 0 ? systemOnFirst : systemOnSecond).register(n % 5 === 0 ? [1, 2].map((m) => JSON.stringify(event({ event_id: `i${n}-${m}` }))).join('\n') : JSON.stringify(event({ event_id: `i${n}` })))),
    );
    for (const call of calls) assert.equal(call.status, 200, call.text);
    const logs = new Set(calls.map((call) => JSON.parse(Buffer.from(String(call.headers['mlog-receipt']).split('.')[1] as string, 'base64url').toString()).log));
    assert.equal(logs.size, 2, 'one log per instance');

    const latest = await systemOnFirst.call('/checkpoints/latest');
    const key = await importJWK(latest.json.key, latest.json.key.alg);
    for (const call of calls) {
      let proof;
      for (let attempt = 0; attempt < 60; attempt++) {
        proof = await systemOnFirst.call(`/proof/${call.json.UID}`);
        if (proof.status === 200) break;
        assert.equal(proof.status, 409, proof.text);
        await sleep(300);
      }
      assert.equal(proof?.status, 200, proof?.text);
      const checkpoints = new Map<number, Record<string, any>>();
      for (const checkpoint of proof.json.checkpoints) {
        const { payload } = await compactVerify(checkpoint.jws, key);
        checkpoints.set(checkpoint.seq, JSON.parse(new TextDecoder().decode(payload)));
      }
      for (const item of proof.json.events) {
        const checkpoint = checkpoints.get(item.checkpoint) as Record<string, any>;
        const leaf = sha256(Buffer.from([0x00]), Buffer.from(canonicalize(item.leaf)));
        const root = rootFromInclusionProof(item.position, item.tree_size, leaf, item.audit_path.map((hex: string) => Buffer.from(hex, 'hex')));
        assert.equal(root?.toString('hex'), checkpoint.root);
        assert.equal(item.leaf.hash, item.hash);
      }
    }

    // The chain from before this test: every seq once, each entry naming its predecessor's hash.
    const client = inspectionClient();
    await client.indices.refresh({ index: 'mlog_evidence' });
    const entries = await client.search<Record<string, any>>({ index: 'mlog_evidence', size: 10_000, sort: [{ seq: 'asc' }], query: { match_all: {} } });
    const chain = entries.hits.hits.map((hit) => hit._source as Record<string, any>);
    const mine = chain.filter((entry) => logs.has(entry.log));
    assert.ok(mine.length >= 2, 'checkpoints of both logs');
    for (const [n, entry] of chain.entries()) {
      assert.equal(entry.seq, n, 'no seq taken twice, none skipped');
      const payload = JSON.parse(Buffer.from(String(entry.jws).split('.')[1] as string, 'base64url').toString());
      assert.equal(entry.hash, sha256(Buffer.from(canonicalize(payload))).toString('hex'));
      if (n > 0) assert.equal(payload.previous, chain[n - 1]?.hash, `entry ${n} names the hash of entry ${n - 1}`);
    }
  });
});
