import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { canonicalJson, storedEventHash } from '../../src/evidence/event-hash.js';
import { hashLeaf, type LogLeaf } from '../../src/evidence/evidence-log-entry.js';
import { treeRoot } from '../../src/evidence/merkle.js';
import { checkStoredEvent, type StoredEventHit } from '../../src/evidence/event-check.js';
import { verifyEvidence, type ChainRecord, type StoredLeafChunk, type VerifyInput } from '../../src/evidence/verifier.js';
import type { JsonObject } from '../../src/json/json-object-parser.js';

const GENESIS = '0'.repeat(64);

interface Signer {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

async function signer(): Promise<Signer> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, kid: await calculateJwkThumbprint(await exportJWK(publicKey)) };
}

function jws(key: Signer, payload: JsonObject): string {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: key.kid, typ: 'mlog-evidence+jws' })).toString('base64url');
  const body = Buffer.from(canonicalJson(payload)).toString('base64url');
  return `${header}.${body}.${sign(null, Buffer.from(`${header}.${body}`), key.privateKey).toString('base64url')}`;
}

/** A chain built entry by entry, each linked to the previous one's payload hash. */
function chainOf(key: Signer, payloads: Omit<JsonObject, 'seq' | 'previous'>[]): ChainRecord[] {
  let previous = GENESIS;
  return payloads.map((partial, seq) => {
    const payload: JsonObject = { ...partial, seq, previous };
    previous = createHash('sha256').update(canonicalJson(payload)).digest('hex');
    return { id: String(seq), jws: jws(key, payload) };
  });
}

function event(index: string, log: string, position: number, fields: JsonObject = {}): StoredEventHit {
  const id = `uid-${position}-00000`;
  const source: JsonObject = { event_type: 'Test.Event', value: position, ...fields, '@id': id, '@uid': `uid-${position}`, '@is': 'tst', '@received': '2026-11-28T12:00:00.000Z', '@log': log, '@position': position };
  source['@hash'] = storedEventHash(source);
  return { index, id, source };
}

function leafOf(hit: StoredEventHit): LogLeaf {
  return { kind: 'event', id: hit.id, hash: hit.source['@hash'] as string, is: 'tst', month: '2026.11' };
}

async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

const INDEX = 'mlog-tst-2026.11';
const LOG = 'node-a-1-abc';

/** Ten events in one log, one checkpoint over all of them. */
async function world(): Promise<{ key: Signer; events: StoredEventHit[]; leaves: LogLeaf[]; chain: ChainRecord[] }> {
  const key = await signer();
  const events = Array.from({ length: 10 }, (_, position) => event(INDEX, LOG, position));
  const leaves = events.map(leafOf);
  const chain = chainOf(key, [{ kind: 'checkpoint', log: LOG, size: 10, root: treeRoot(leaves.map(hashLeaf)).toString('hex'), time: '2026-11-28T12:01:00.000Z', final: false }]);
  return { key, events, leaves, chain };
}

function input(key: Signer, chain: ChainRecord[], leaves: LogLeaf[], events: StoredEventHit[], extra: Partial<VerifyInput> = {}): VerifyInput {
  const chunk: StoredLeafChunk = { id: `${LOG}:0`, log: LOG, first: 0, leaves };
  return { chain: iterate(chain), leafChunks: iterate([chunk]), events: iterate([events.map(checkStoredEvent)]), keys: new Map([[key.kid, key.publicKey]]), ...extra };
}

test('untouched evidence verifies: every event proven, no finding', async () => {
  const { key, events, leaves, chain } = await world();
  const report = await verifyEvidence(input(key, chain, leaves, events));
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.events.scanned, 10);
  assert.equal(report.events.verified, 10);
  assert.deepEqual(report.logs, [{ log: LOG, leaves: 10, checkpointed: 10, checkpoints: 1, final: false }]);
});

test('an event whose field was edited is reported modified, by index, id, log and position', async () => {
  const { key, events, leaves, chain } = await world();
  (events[3] as StoredEventHit).source.value = 999;
  const report = await verifyEvidence(input(key, chain, leaves, events));
  assert.equal(report.ok, false);
  assert.deepEqual(report.counts, { modified: 1, missing: 0, added: 0, checkpoint: 0, signature: 0 });
  const [finding] = report.findings;
  assert.equal(finding?.kind, 'modified');
  assert.equal(finding?.index, INDEX);
  assert.equal(finding?.id, 'uid-3-00000');
  assert.equal(finding?.uid, 'uid-3');
  assert.equal(finding?.log, LOG);
  assert.equal(finding?.position, 3);
});

test('an event edited and re-hashed is modified: its @hash is not what the log recorded', async () => {
  const { key, events, leaves, chain } = await world();
  const hit = events[4] as StoredEventHit;
  hit.source.value = 'changed';
  hit.source['@hash'] = storedEventHash(hit.source);
  const report = await verifyEvidence(input(key, chain, leaves, events));
  assert.deepEqual(report.counts, { modified: 1, missing: 0, added: 0, checkpoint: 0, signature: 0 });
  assert.equal(report.findings[0]?.id, 'uid-4-00000');
  assert.match(report.findings[0]?.message ?? '', /re-hashed/);
});

test('a deleted event is missing, named by its log position and index; a tombstone of its index makes it pruned instead', async () => {
  const { key, events, leaves, chain } = await world();
  const remaining = events.filter((_, position) => position !== 6);
  const report = await verifyEvidence(input(key, chain, leaves, remaining));
  assert.deepEqual(report.counts, { modified: 0, missing: 1, added: 0, checkpoint: 0, signature: 0 });
  assert.equal(report.findings[0]?.position, 6);
  assert.equal(report.findings[0]?.index, INDEX);

  const root = treeRoot(leaves.map(hashLeaf)).toString('hex');
  const withTombstone = chainOf(key, [
    { kind: 'checkpoint', log: LOG, size: 10, root, time: '2026-11-28T12:01:00.000Z', final: false },
    { kind: 'tombstone', index: INDEX, is: 'tst', month: '2026.11', reason: 'retention of 1 month for IS tst', time: '2027-01-01T00:00:00.000Z' },
  ]);
  const pruned = await verifyEvidence(input(key, withTombstone, leaves, []));
  assert.equal(pruned.ok, true, JSON.stringify(pruned.findings));
  assert.equal(pruned.events.pruned_by_retention, 10);
});

test('inserted events are added: one with no position, one with a forged @hash at another event\'s position', async () => {
  const { key, events, leaves, chain } = await world();
  const loose = event(INDEX, LOG, 50);
  delete loose.source['@log'];
  delete loose.source['@position'];
  loose.source['@hash'] = storedEventHash(loose.source);
  const squatter = event(INDEX, LOG, 2, { value: 'forged' });
  squatter.id = 'forged-00000';
  squatter.source['@id'] = 'forged-00000';
  squatter.source['@hash'] = storedEventHash(squatter.source);
  const report = await verifyEvidence(input(key, chain, leaves, [...events, loose, squatter]));
  assert.deepEqual(report.counts, { modified: 0, missing: 0, added: 2, checkpoint: 0, signature: 0 });
  assert.deepEqual(report.findings.map((finding) => finding.id).sort(), ['forged-00000', 'uid-50-00000']);
});

test('a chain entry replaced, removed or re-rooted is a checkpoint finding', async () => {
  const { key, events, leaves, chain } = await world();
  const other = await signer();
  const forged = chainOf(other, [{ kind: 'checkpoint', log: LOG, size: 10, root: treeRoot(leaves.map(hashLeaf)).toString('hex'), time: 'x', final: false }]);
  const replaced = await verifyEvidence(input(key, forged, leaves, events));
  assert.equal(replaced.counts.checkpoint, 1);
  assert.match(replaced.findings[0]?.message ?? '', /not a trusted key of MLog/);

  const wrongRoot = chainOf(key, [{ kind: 'checkpoint', log: LOG, size: 10, root: 'ab'.repeat(32), time: 'x', final: false }]);
  const rerooted = await verifyEvidence(input(key, wrongRoot, leaves, events));
  assert.equal(rerooted.counts.checkpoint, 1);
  assert.match(rerooted.findings[0]?.message ?? '', /the stored leaves give/);
  // The events are then not proven by any checkpoint.
  assert.equal(rerooted.events.verified, 0);

  const root = treeRoot(leaves.map(hashLeaf)).toString('hex');
  const three = chainOf(key, [
    { kind: 'checkpoint', log: LOG, size: 5, root: treeRoot(leaves.slice(0, 5).map(hashLeaf)).toString('hex'), time: 'a', final: false },
    { kind: 'checkpoint', log: LOG, size: 10, root, time: 'b', final: false },
    { kind: 'checkpoint', log: LOG, size: 10, root, time: 'c', final: true },
  ]);
  assert.equal((await verifyEvidence(input(key, three, leaves, events))).ok, true);
  const gap = await verifyEvidence(input(key, [three[0], three[2]] as ChainRecord[], leaves, events));
  assert.equal(gap.counts.checkpoint, 1);
  assert.match(gap.findings[0]?.message ?? '', /Chain entry 1 is missing/);
  const relinked = chainOf(key, [
    { kind: 'checkpoint', log: LOG, size: 5, root: treeRoot(leaves.slice(0, 5).map(hashLeaf)).toString('hex'), time: 'a', final: false },
    { kind: 'checkpoint', log: LOG, size: 10, root, time: 'other', final: false },
  ]);
  const broken = await verifyEvidence(input(key, [relinked[0], relinked[1], three[2]] as ChainRecord[], leaves, events));
  assert.equal(broken.counts.checkpoint, 1);
  assert.match(broken.findings[0]?.message ?? '', /Chain entry 2 breaks the chain/);
});

test('events after the last checkpoint are counted as not yet checkpointed, not as failures', async () => {
  const { key, events, leaves } = await world();
  const chain = chainOf(key, [{ kind: 'checkpoint', log: LOG, size: 4, root: treeRoot(leaves.slice(0, 4).map(hashLeaf)).toString('hex'), time: 'a', final: false }]);
  const report = await verifyEvidence(input(key, chain, leaves.slice(0, 4), events));
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.events.verified, 4);
  assert.equal(report.events.not_yet_checkpointed, 6);
});

test('a stored client signature that no longer verifies is a signature finding', async () => {
  const { key, events, leaves } = await world();
  const signed = events[1] as StoredEventHit;
  signed.source['@jws'] = 'a.b.c';
  signed.source['@hash'] = storedEventHash(signed.source);
  leaves[1] = leafOf(signed);
  const root = treeRoot(leaves.map(hashLeaf)).toString('hex');
  const rechained = chainOf(key, [{ kind: 'checkpoint', log: LOG, size: 10, root, time: 'a', final: false }]);
  const report = await verifyEvidence(input(key, rechained, leaves, events, { checkSignature: async () => 'the certificate is not registered' }));
  assert.deepEqual(report.counts, { modified: 0, missing: 0, added: 0, checkpoint: 0, signature: 1 });
  assert.equal(report.findings[0]?.id, 'uid-1-00000');
});

test('a log of several full leaf chunks verifies against checkpoints inside and at the end of chunks; a leaf changed in a full chunk is found', async () => {
  const key = await signer();
  const events = Array.from({ length: 2 * 1024 + 300 }, (_, position) => event(INDEX, LOG, position));
  const leaves = events.map(leafOf);
  const hashes = leaves.map(hashLeaf);
  const sizes = [700, 1024, 2048, 2100, leaves.length];
  const chainFor = (rootOf: (size: number) => string): ChainRecord[] =>
    chainOf(
      key,
      sizes.map((size, i) => ({ kind: 'checkpoint', log: LOG, size, root: rootOf(size), time: `2026-11-28T12:0${i}:00.000Z`, final: false })),
    );
  const chain = chainFor((size) => treeRoot(hashes.slice(0, size)).toString('hex'));
  const chunks = (stored: LogLeaf[]): StoredLeafChunk[] =>
    [0, 1024, 2048].map((first) => {
      const part = stored.slice(first, first + 1024);
      // The stored root is the root of the leaves as registered.
      return { id: `${LOG}:${first}`, log: LOG, first, leaves: part, ...(part.length === 1024 ? { root: treeRoot(hashes.slice(first, first + 1024)).toString('hex') } : {}) };
    });
  const run = (stored: LogLeaf[], entries = chain) =>
    verifyEvidence({ chain: iterate(entries), leafChunks: iterate(chunks(stored)), events: iterate([events.map(checkStoredEvent)]), keys: new Map([[key.kid, key.publicKey]]) });

  const clean = await run(leaves);
  assert.equal(clean.ok, true, JSON.stringify(clean.findings.slice(0, 3)));
  assert.equal(clean.events.verified, events.length);

  // A leaf of the second full chunk rewritten, with the chunk's stored root and every checkpoint as they were.
  const changed = leaves.map((leaf, position) => (position === 1500 && leaf.kind === 'event' ? { ...leaf, hash: 'f'.repeat(64) } : leaf));
  const report = await run(changed);
  assert.equal(report.ok, false);
  assert.equal(report.findings.filter((finding) => finding.kind === 'checkpoint' && finding.message.startsWith(`Leaf chunk ${LOG}:1024 `)).length, 1);
  assert.deepEqual(
    report.findings.filter((finding) => finding.kind === 'checkpoint' && finding.seq !== undefined).map((finding) => finding.seq),
    [2, 3, 4],
  );
  assert.ok(report.findings.some((finding) => finding.kind === 'modified' && finding.position === 1500));
});
