import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { canonicalJson } from '../../src/evidence/event-hash.js';
import { hashLeaf, type LogLeaf } from '../../src/evidence/evidence-log-entry.js';
import { inclusionProof, rangeHasherOf, treeRoot } from '../../src/evidence/merkle.js';
import { verifyReceiptBundle, type ReceiptBundle } from '../../src/evidence/receipt-verifier.js';
import type { JsonObject } from '../../src/json/json-object-parser.js';

const LOG = 'node-1-abc';
const UID = '0b7d2c1e-0000-4000-8000-000000000001';

async function keyPair(): Promise<{ privateKey: KeyObject; publicKey: KeyObject; kid: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, kid: await calculateJwkThumbprint(await exportJWK(publicKey)) };
}

function jws(key: { privateKey: KeyObject; kid: string }, typ: string, payload: JsonObject): string {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: key.kid, typ })).toString('base64url');
  const body = Buffer.from(canonicalJson(payload)).toString('base64url');
  return `${header}.${body}.${sign(null, Buffer.from(`${header}.${body}`), key.privateKey).toString('base64url')}`;
}

/** A log of 7 leaves: others at 0–1 and 5–6, the receipt's three events at 2–4; one checkpoint over all 7. */
async function bundle(): Promise<{ key: Awaited<ReturnType<typeof keyPair>>; value: ReceiptBundle; checkpointJws: string }> {
  const key = await keyPair();
  const leaves: LogLeaf[] = Array.from({ length: 7 }, (_, position) => ({ kind: 'event', id: `${position < 2 || position > 4 ? 'other' : UID}-${position}`, hash: String(position).repeat(64).slice(0, 64), is: 'tst', month: '2026.11' }));
  const hashes = leaves.map(hashLeaf);
  const root = treeRoot(hashes).toString('hex');
  const checkpointPayload = { kind: 'checkpoint', seq: 3, log: LOG, size: 7, root, time: '2026-11-28T12:00:00.000Z', previous: 'ab'.repeat(32), final: false };
  const checkpointJws = jws(key, 'mlog-evidence+jws', checkpointPayload);
  const ours = [2, 3, 4].map((position) => leaves[position] as Extract<LogLeaf, { kind: 'event' }>);
  const receipt = jws(key, 'mlog-receipt+jws', {
    iss: 'MLog',
    uid: UID,
    is: 'tst',
    received: '2026-11-28T11:59:59.000Z',
    log: LOG,
    first_position: 2,
    count: 3,
    events_root: treeRoot([2, 3, 4].map((position) => hashes[position] as Buffer)).toString('hex'),
    events: ours.map((leaf, i) => ({ id: leaf.id, position: 2 + i, hash: leaf.hash })),
  });
  const proof = {
    UID,
    events: ours.map((leaf, i) => ({
      id: leaf.id,
      log: LOG,
      position: 2 + i,
      hash: leaf.hash,
      leaf,
      leaf_hash: hashLeaf(leaf).toString('hex'),
      audit_path: inclusionProof(2 + i, 7, rangeHasherOf(hashes)).map((step) => step.toString('hex')),
      tree_size: 7,
      checkpoint: 3,
    })),
    checkpoints: [{ seq: 3, jws: checkpointJws, payload: checkpointPayload }],
  };
  return { key, value: { receipt, proof: proof as unknown as JsonObject }, checkpointJws };
}

test('a receipt with its proof holds: signed, every event proven, events_root matching', async () => {
  const { key, value, checkpointJws } = await bundle();
  const check = verifyReceiptBundle({ ...value, checkpoints: [{ seq: 3, jws: checkpointJws }] }, new Map([[key.kid, key.publicKey]]));
  assert.deepEqual(check.problems, []);
  assert.equal(check.ok, true);
  assert.equal(check.proven, 3);
  assert.ok(check.passed.some((line) => line.includes('is the one kept outside')));
});

test('a proof whose leaf or path was changed, a checkpoint unlike the one kept outside, or no proof at all: the receipt does not hold', async () => {
  const { key, value, checkpointJws } = await bundle();
  const keys = new Map([[key.kid, key.publicKey]]);

  const altered = structuredClone(value);
  const event = (altered.proof as unknown as { events: { hash: string; leaf: { hash: string } }[] }).events[1] as { hash: string; leaf: { hash: string } };
  event.hash = 'f'.repeat(64);
  event.leaf.hash = event.hash;
  const forged = verifyReceiptBundle(altered, keys);
  assert.equal(forged.ok, false);
  assert.ok(forged.problems.some((line) => /does not lead to the root of checkpoint 3/.test(line)), forged.problems.join('\n'));
  assert.ok(forged.problems.some((line) => /the receipt promised hash/.test(line)), forged.problems.join('\n'));

  const wrongPath = structuredClone(value);
  ((wrongPath.proof as unknown as { events: { audit_path: string[] }[] }).events[0] as { audit_path: string[] }).audit_path[0] = '0'.repeat(64);
  assert.equal(verifyReceiptBundle(wrongPath, keys).proven, 2);

  const other = await keyPair();
  const elsewhere = jws(other, 'mlog-evidence+jws', { kind: 'checkpoint', seq: 3, log: LOG, size: 7, root: 'cd'.repeat(32), time: 'x', previous: 'ab'.repeat(32), final: false });
  const keptElsewhere = verifyReceiptBundle({ ...value, checkpoints: [{ seq: 3, jws: elsewhere }] }, new Map([...keys, [other.kid, other.publicKey]]));
  assert.equal(keptElsewhere.ok, false);
  assert.ok(keptElsewhere.problems.some((line) => /differs from the copy kept outside/.test(line)), keptElsewhere.problems.join('\n'));

  const bare = verifyReceiptBundle({ receipt: value.receipt }, keys);
  assert.equal(bare.ok, false);
  assert.match(bare.problems[0] ?? '', /holds no proof/);

  const untrusted = verifyReceiptBundle({ ...value, checkpoints: [{ seq: 3, jws: checkpointJws }] }, new Map([[other.kid, other.publicKey]]));
  assert.equal(untrusted.ok, false);
  assert.match(untrusted.problems[0] ?? '', /The receipt does not verify/);
});
