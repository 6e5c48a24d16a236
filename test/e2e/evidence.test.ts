/**
 * The evidence ingest side through the doors a system uses (HTTPS with client certificates): the
 * MLog-Receipt of /register, GET /checkpoints/latest and GET /proof/{uid}, against the real
 * Elasticsearch. Receipts and checkpoints are checked with jose against MLog's public key; hashes,
 * leaves, roots and audit paths with the RFC 9162 / RFC 8785 code written in this file (it imports
 * nothing of src/evidence), so a mistake shared by MLog's own tree code cannot hide here.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { closeInspectionClient, inspectionClient, storedEvents } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';
import { canonicalize, leafHashOf, mth, rootFromInclusionProof, sha256 } from '../helpers/independent-merkle.js';

// RFC 9162 §2.1, written for the tests independently of src/evidence/merkle.ts.
/** @hash: SHA-256 of the RFC 8785 text of the stored document without @hash. */
function recomputedHash(source: Record<string, unknown>): string {
  const { '@hash': _hash, ...rest } = source;
  return createHash('sha256').update(canonicalize(rest)).digest('hex');
}
function decodePayload(jws: string): Record<string, any> {
  return JSON.parse(Buffer.from(jws.split('.')[1] as string, 'base64url').toString('utf8'));
}

describe('evidence: receipts, checkpoints and proofs', () => {
  let harness: TestMLog;
  let system: TestSystem;
  let other: TestSystem;
  let key: JWK;

  before(async () => {
    harness = await TestMLog.start({ MLOG_CHECKPOINT_SECONDS: '1' });
    system = await harness.addSystem();
    other = await harness.addSystem();
    const latest = await system.call('/checkpoints/latest');
    assert.equal(latest.status, 200, latest.text);
    key = latest.json.key;
  });

  after(async () => {
    await harness.stop();
    await closeInspectionClient();
  });

  /** The receipt of an answer, verified with the key of /checkpoints/latest; its payload. */
  async function verifiedReceipt(answer: HttpAnswer): Promise<Record<string, any>> {
    const receipt = answer.headers['mlog-receipt'];
    assert.equal(typeof receipt, 'string', `no MLog-Receipt in ${JSON.stringify(answer.headers)}`);
    const header = decodeProtectedHeader(receipt as string);
    assert.equal(header.typ, 'mlog-receipt+jws');
    assert.equal(header.kid, key.kid);
    const { payload } = await compactVerify(receipt as string, await importJWK(key, header.alg as string));
    return JSON.parse(new TextDecoder().decode(payload));
  }

  /** GET /proof/{uid} until every event is covered by a checkpoint (409 before). */
  async function proofOf(caller: TestSystem, uid: string): Promise<Record<string, any>> {
    for (let attempt = 0; attempt < 60; attempt++) {
      const answer = await caller.call(`/proof/${uid}`);
      if (answer.status === 200) return answer.json;
      assert.equal(answer.status, 409, answer.text);
      assert.ok(Number(answer.headers['retry-after']) >= 1, 'a 409 says when to retry');
      await sleep(300);
    }
    throw new Error(`no proof for ${uid} within 18 s`);
  }

  /** Checks every event of a proof answer with the code of this file and the key of /checkpoints/latest. */
  async function assertProofHolds(proof: Record<string, any>, expectedHashes: Map<string, string>): Promise<void> {
    assert.equal(proof.events.length, expectedHashes.size);
    const checkpoints = new Map<number, Record<string, any>>();
    for (const checkpoint of proof.checkpoints) {
      const { payload, protectedHeader } = await compactVerify(checkpoint.jws, await importJWK(key, key.alg as string));
      assert.equal(protectedHeader.typ, 'mlog-evidence+jws');
      const text = new TextDecoder().decode(payload);
      assert.equal(text, canonicalize(checkpoint.payload), 'the payload beside the JWS is the one signed, in RFC 8785 form');
      checkpoints.set(checkpoint.seq, checkpoint.payload);
    }
    for (const item of proof.events) {
      assert.equal(item.hash, expectedHashes.get(item.id), `the stored @hash of ${item.id}`);
      assert.deepEqual(item.leaf, { kind: 'event', id: item.id, hash: item.hash, is: item.leaf.is, month: item.leaf.month });
      const leaf = leafHashOf(item.leaf);
      assert.equal(item.leaf_hash, leaf.toString('hex'));
      const checkpoint = checkpoints.get(item.checkpoint) as Record<string, any>;
      assert.equal(checkpoint.log, item.log);
      assert.equal(checkpoint.size, item.tree_size);
      const root = rootFromInclusionProof(item.position, item.tree_size, leaf, item.audit_path.map((hex: string) => Buffer.from(hex, 'hex')));
      assert.equal(root?.toString('hex'), checkpoint.root, `the audit path of ${item.id} leads to the checkpoint's root`);
      // The same path does not prove another leaf there.
      const forged = leafHashOf({ ...item.leaf, hash: '0'.repeat(64) });
      assert.notEqual(rootFromInclusionProof(item.position, item.tree_size, forged, item.audit_path.map((hex: string) => Buffer.from(hex, 'hex')))?.toString('hex'), checkpoint.root);
    }
  }

  test('single, batched and signed registrations carry a receipt whose hashes are the stored @hash of each event', async () => {
    const single = await system.register(event({ event_id: 'single' }));
    assert.equal(single.status, 200, single.text);
    assert.deepEqual(Object.keys(single.json).sort(), ['UID', 'message', 'status', 'timestamp'], 'the envelope is unchanged');
    const batch = await system.register([1, 2, 3].map((n) => JSON.stringify(event({ event_id: `batch-${n}` }))).join('\n'));
    assert.equal(batch.status, 200, batch.text);
    const jws = await system.sign(event({ event_id: 'signed' }));
    const signed = await system.register(`${jws}\n${JSON.stringify(event({ event_id: 'after-signed' }))}`);
    assert.equal(signed.status, 200, signed.text);

    for (const [answer, count] of [[single, 1], [batch, 3], [signed, 2]] as const) {
      const uid = answer.json.UID as string;
      const receipt = await verifiedReceipt(answer);
      assert.equal(receipt.iss, 'MLog');
      assert.equal(receipt.uid, uid);
      assert.equal(receipt.is, system.code);
      assert.equal(receipt.count, count);
      const stored = await storedEvents(system.code, uid);
      assert.equal(stored.length, count);
      assert.deepEqual(
        receipt.events,
        stored.map((doc, n) => ({ id: doc.id, position: receipt.first_position + n, hash: doc.source['@hash'] })),
      );
      for (const doc of stored) {
        assert.equal(doc.source['@hash'], recomputedHash(doc.source), `@hash of ${doc.id} is SHA-256 of its RFC 8785 form`);
        assert.equal(doc.source['@log'], receipt.log);
        assert.equal(receipt.received, doc.source['@received']);
      }
      if (answer === signed) assert.equal(typeof stored[0]?.source['@jws'], 'string', 'the signed event keeps its JWS, covered by @hash');
      const month = String(receipt.received).slice(0, 7).replace('-', '.');
      const leaves = stored.map((doc) => leafHashOf({ kind: 'event', id: doc.id, hash: doc.source['@hash'], is: system.code, month }));
      assert.equal(receipt.events_root, mth(leaves).toString('hex'));

      const proof = await proofOf(system, uid);
      assert.equal(proof.UID, uid);
      await assertProofHolds(proof, new Map(stored.map((doc) => [doc.id, doc.source['@hash'] as string])));
    }
  });

  test('a receipt of more than 64 events commits to them by events_root alone', async () => {
    const body = Array.from({ length: 70 }, (_, n) => JSON.stringify(event({ event_id: `many-${n}` }))).join('\n');
    const answer = await system.register(body);
    assert.equal(answer.status, 200, answer.text);
    const receipt = await verifiedReceipt(answer);
    assert.equal(receipt.count, 70);
    assert.equal(receipt.events, undefined);
    assert.ok(String(answer.headers['mlog-receipt']).length < 8192);
    const stored = await storedEvents(system.code, answer.json.UID);
    const month = String(receipt.received).slice(0, 7).replace('-', '.');
    assert.equal(receipt.events_root, mth(stored.map((doc) => leafHashOf({ kind: 'event', id: doc.id, hash: doc.source['@hash'], is: system.code, month }))).toString('hex'));
  });

  test('past 1,024 positions: proofs go through the roots of full leaf chunks, which are the trees of their leaves', async () => {
    const calls = [];
    for (let n = 0; n < 12; n++) {
      calls.push(await system.register(Array.from({ length: 100 }, (_, m) => JSON.stringify(event({ event_id: `chunked-${n}-${m}` }))).join('\n')));
    }
    for (const call of calls) assert.equal(call.status, 200, call.text);
    const receipts = await Promise.all(calls.map((call) => verifiedReceipt(call)));
    const last = receipts.at(-1) as Record<string, any>;
    assert.ok(last.first_position + last.count > 1024, `the log holds more than 1,024 positions (${last.first_position + last.count})`);
    for (const call of [calls[0], calls[5], calls[11]]) {
      const uid = call?.json.UID as string;
      const stored = await storedEvents(system.code, uid);
      await assertProofHolds(await proofOf(system, uid), new Map(stored.map((doc) => [doc.id, doc.source['@hash'] as string])));
    }
    const client = inspectionClient();
    await client.indices.refresh({ index: 'mlog_evidence_leaves' });
    const full = await client.search<Record<string, any>>({ index: 'mlog_evidence_leaves', size: 10, query: { bool: { filter: [{ term: { log: last.log } }, { term: { count: 1024 } }] } } });
    assert.ok(full.hits.hits.length >= 1, 'a full chunk is stored');
    for (const hit of full.hits.hits) {
      const chunk = hit._source as Record<string, any>;
      assert.equal(hit._id, `${last.log}:${chunk.first}`);
      assert.equal(chunk.root, mth(chunk.leaves.map(leafHashOf)).toString('hex'));
    }
  });

  test('an idempotent replay answers the first call\'s receipt', async () => {
    const headers = { 'Idempotency-Key': `evidence-${Date.now()}` };
    const body = JSON.stringify(event({ event_id: 'idem' }));
    const first = await system.register(body, { headers });
    const again = await system.register(body, { headers });
    assert.equal(first.status, 200, first.text);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(typeof first.headers['mlog-receipt'], 'string');
    assert.equal(again.headers['mlog-receipt'], first.headers['mlog-receipt']);
  });

  test("another system's UID answers 404 exactly as /query/{uid} does; a malformed UID answers 400", async () => {
    const mine = await system.register(event({ event_id: 'mine' }));
    const uid = mine.json.UID as string;
    await proofOf(system, uid);
    const proof = await other.call(`/proof/${uid}`);
    const query = await other.call(`/query/${uid}`);
    assert.equal(proof.status, 404);
    assert.equal(query.status, 404);
    assert.equal(proof.json.message, query.json.message);
    const bad = await system.call('/proof/not-a-uid');
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /"not-a-uid" is not a UID/);
  });

  test('a refused write leaves void leaves at its positions, and later proofs still verify', async () => {
    const shaped = await system.register(event({ event_id: 'shape', shape_of_evidence: { nested: 1 } }));
    assert.equal(shaped.status, 200, shaped.text);
    const before = await verifiedReceipt(shaped);
    // The same custom field as text: Elasticsearch refuses the document (an object is mapped there).
    const refused = await system.register([1, 2].map((n) => JSON.stringify(event({ event_id: `refused-${n}`, shape_of_evidence: 'text' }))).join('\n'));
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.headers['mlog-receipt'], undefined);
    const next = await system.register(event({ event_id: 'after-refusal' }));
    assert.equal(next.status, 200, next.text);
    const receipt = await verifiedReceipt(next);
    assert.equal(receipt.log, before.log);
    const proof = await proofOf(system, next.json.UID);
    const stored = await storedEvents(system.code, next.json.UID);
    await assertProofHolds(proof, new Map(stored.map((doc) => [doc.id, doc.source['@hash'] as string])));

    // The positions between the two stored calls are void leaves (or MLog's own records of queries made meanwhile: none here).
    const client = inspectionClient();
    await client.indices.refresh({ index: 'mlog_evidence_leaves' });
    const chunks = await client.search<Record<string, any>>({
      index: 'mlog_evidence_leaves',
      size: 100,
      query: { term: { log: receipt.log } },
      sort: [{ first: 'asc' }],
    });
    const leaves: Record<string, any>[] = chunks.hits.hits.flatMap((hit) => hit._source?.leaves ?? []);
    const between = leaves.slice(before.first_position + 1, receipt.first_position);
    assert.equal(between.length, 2);
    for (const leaf of between) {
      assert.equal(leaf.kind, 'void');
      assert.match(leaf.reason, /refused \(400 ValidationError\); nothing of it is stored/);
    }
  });

  test("GET /checkpoints/latest: the chain head and each log's newest checkpoint, this log's signed with the key it gives, chained by hash", async () => {
    const registered = await system.register(event({ event_id: 'latest' }));
    const receipt = await verifiedReceipt(registered);
    await proofOf(system, registered.json.UID);
    const answer = await system.call('/checkpoints/latest');
    assert.equal(answer.status, 200, answer.text);
    const { head, checkpoints } = answer.json;
    assert.equal(answer.json.key.kid, key.kid);
    assert.equal(createPublicKey({ key: answer.json.key, format: 'jwk' }).export({ format: 'pem', type: 'spki' }), harness.signingPublicKeyPem, 'the key of MLOG_SIGNING_KEY');
    const mine = checkpoints.find((checkpoint: Record<string, any>) => checkpoint.payload.log === receipt.log);
    assert.ok(mine, `a checkpoint of log ${receipt.log}`);
    assert.ok(mine.payload.size > receipt.first_position);
    const verified = await compactVerify(mine.jws, await importJWK(key, key.alg as string));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(verified.payload)), mine.payload);
    assert.ok(head.seq >= mine.seq);
    // Every entry names the hash of the one before it (other test MLogs share the chain, each with its own key).
    const entry = await inspectionClient().get<Record<string, any>>({ index: 'mlog_evidence', id: String(mine.seq) });
    assert.deepEqual(decodePayload(entry._source?.jws), mine.payload);
    if (mine.seq > 0) {
      const previous = await inspectionClient().get<Record<string, any>>({ index: 'mlog_evidence', id: String(mine.seq - 1) });
      assert.equal(mine.payload.previous, createHash('sha256').update(canonicalize(decodePayload(previous._source?.jws))).digest('hex'));
    }
  });
});
