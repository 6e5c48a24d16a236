import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EvidenceLog, newLogId } from '../../src/evidence/evidence-log.js';
import type { LogLeaf } from '../../src/evidence/evidence-log-entry.js';

// Leaf and tree hashes computed here from RFC 9162 directly, not with src/evidence/merkle.ts.
const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHashOf = (leaf: LogLeaf) => sha(Buffer.from([0]), Buffer.from(canonical(leaf)));
function canonical(leaf: LogLeaf): string {
  const keys = Object.keys(leaf).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify((leaf as Record<string, unknown>)[key])}`).join(',')}}`;
}
function mth(hashes: Buffer[]): Buffer {
  if (hashes.length === 0) return sha();
  if (hashes.length === 1) return hashes[0] as Buffer;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return sha(Buffer.from([1]), mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}
const event = (n: number): LogLeaf => ({ kind: 'event', id: `uid-${n}`, hash: String(n).padStart(64, '0'), is: 'mpass', month: '2026.11' });

test('positions are handed out in order, synchronously, and consecutive for one call', () => {
  const log = new EvidenceLog('test-log');
  assert.equal(log.reserve(3), 0);
  assert.equal(log.reserve(1), 3);
  assert.equal(log.reserve(0), 4);
  assert.equal(log.reserve(2), 4);
  assert.equal(log.size, 6);
  assert.equal(log.settledSize, 0);
});

test('the settled prefix stops at the first position still in flight, and grows when it settles', () => {
  const log = new EvidenceLog('test-log');
  const a = log.reserve(2);
  const b = log.reserve(1);
  const c = log.reserve(2);
  log.settle(c, [event(3), event(4)]);
  assert.equal(log.settledSize, 0, 'a later call settled first: nothing before it is known yet');
  log.settle(a, [event(0), event(1)]);
  assert.equal(log.settledSize, 2);
  log.voidPositions(b, 1, 'the write was refused (400 ValidationError); nothing of it is stored');
  assert.equal(log.settledSize, 5);
  const snapshot = log.snapshot();
  const expected = [event(0), event(1), { kind: 'void', reason: 'the write was refused (400 ValidationError); nothing of it is stored' } as LogLeaf, event(3), event(4)];
  assert.deepEqual(snapshot.leaves, expected);
  assert.equal(snapshot.root.toString('hex'), mth(expected.map(leafHashOf)).toString('hex'));
});

test('a position cannot settle twice, nor one never handed out', () => {
  const log = new EvidenceLog('test-log');
  const first = log.reserve(1);
  log.settle(first, [event(0)]);
  assert.throws(() => log.settle(first, [event(0)]), /not reserved or have settled/);
  assert.throws(() => log.settle(1, [event(1)]), /not reserved/);
});

test('forgetting persisted leaves keeps the root and the positions, and never forgets past the settled prefix', () => {
  const log = new EvidenceLog('test-log');
  const all: LogLeaf[] = [];
  for (let n = 0; n < 10; n++) {
    const position = log.reserve(1);
    all.push(event(n));
    log.settle(position, [event(n)]);
  }
  const pending = log.reserve(1);
  log.forgetBefore(20);
  assert.equal(log.firstRetained, 10, 'only up to the settled prefix');
  log.settle(pending, [event(10)]);
  all.push(event(10));
  const snapshot = log.snapshot();
  assert.equal(snapshot.size, 11);
  assert.equal(snapshot.leavesFrom, 10);
  assert.deepEqual(snapshot.leaves, [event(10)]);
  assert.equal(snapshot.root.toString('hex'), mth(all.map(leafHashOf)).toString('hex'));
});

test('each full chunk of 1,024 leaves has its RFC 9162 root, kept until its leaves are forgotten', () => {
  const log = new EvidenceLog('test-log');
  const all: LogLeaf[] = [];
  // Out of order: calls of 3 positions settle last first within each group of two.
  for (let n = 0; n < 2100; n += 6) {
    const a = log.reserve(3);
    const b = log.reserve(3);
    const leavesOf = (from: number) => [0, 1, 2].map((k) => event(from + k));
    log.settle(b, leavesOf(b));
    log.settle(a, leavesOf(a));
  }
  for (let n = 0; n < log.size; n++) all.push(event(n));
  const snapshot = log.snapshot();
  assert.equal(snapshot.size, log.size);
  assert.deepEqual([...snapshot.chunkRoots.keys()], [0, 1024]);
  assert.equal(snapshot.chunkRoots.get(1024)?.toString('hex'), mth(all.slice(1024, 2048).map(leafHashOf)).toString('hex'));
  assert.equal(snapshot.root.toString('hex'), mth(all.map(leafHashOf)).toString('hex'));
  log.forgetBefore(2048);
  assert.deepEqual([...log.snapshot().chunkRoots.keys()], []);
  assert.equal(log.snapshot().leaves.length, log.size - 2048);
});

test('the leaves of a write and their hashes are held for its receipt, settled or waiting behind an earlier position, until forgotten', () => {
  const log = new EvidenceLog('test-log');
  const a = log.reserve(2);
  const b = log.reserve(3);
  log.settle(b, [event(2), event(3), event(4)]);
  const waiting = log.held(b + 1, 2);
  assert.ok(waiting !== undefined, 'a write settled behind one in flight');
  assert.deepEqual(waiting.leaves.slice(waiting.at, waiting.at + 2), [event(3), event(4)]);
  assert.deepEqual([0, 1].map((k) => waiting.hashOf(k).toString('hex')), [event(3), event(4)].map((leaf) => leafHashOf(leaf).toString('hex')));
  assert.equal(log.held(a, 2), undefined, 'positions not settled');
  assert.equal(log.held(b + 2, 2), undefined, 'a range running past the write');
  log.settle(a, [event(0), event(1)]);
  const settled = log.held(1, 3);
  assert.ok(settled !== undefined);
  assert.deepEqual(settled.leaves.slice(settled.at, settled.at + 3), [event(1), event(2), event(3)]);
  assert.deepEqual([0, 1, 2].map((k) => settled.hashOf(k).toString('hex')), [1, 2, 3].map((n) => leafHashOf(event(n)).toString('hex')));
  log.forgetBefore(2);
  assert.equal(log.held(1, 2), undefined, 'a forgotten leaf');
  const kept = log.held(2, 3);
  assert.ok(kept !== undefined);
  assert.deepEqual(kept.leaves.slice(kept.at, kept.at + 3), [event(2), event(3), event(4)]);
  assert.ok(kept.hashOf(0).equals(leafHashOf(event(2))));
});

test('leaf hashes are held for the latest 8,192 settled positions only, and stay right past the wrap of their buffer', () => {
  const log = new EvidenceLog('test-log');
  for (let n = 0; n < 8192 + 20; n++) log.settle(log.reserve(1), [event(n)]);
  assert.equal(log.held(10, 2), undefined, 'pushed out by 8,192 later positions');
  const wrapped = log.held(8190, 4);
  assert.ok(wrapped !== undefined);
  assert.deepEqual([0, 1, 2, 3].map((k) => wrapped.hashOf(k).toString('hex')), [8190, 8191, 8192, 8193].map((n) => leafHashOf(event(n)).toString('hex')));
  assert.deepEqual(wrapped.leaves.slice(wrapped.at, wrapped.at + 4), [8190, 8191, 8192, 8193].map(event));
});

test('writes settled out of order cannot overlap one another', () => {
  const log = new EvidenceLog('test-log');
  log.reserve(1);
  const later = log.reserve(4);
  log.settle(later, [event(1), event(2), event(3), event(4)]);
  assert.throws(() => log.settle(later + 2, [event(3)]), /have settled already/);
  assert.equal(log.settledSize, 0);
});

test('whenSettled waits for every position handed out before it, not for later ones', async () => {
  const log = new EvidenceLog('test-log');
  const first = log.reserve(1);
  let settled = false;
  const waiting = log.whenSettled().then(() => (settled = true));
  const later = log.reserve(1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false);
  log.settle(first, [event(0)]);
  await waiting;
  assert.equal(settled, true);
  assert.equal(log.settledSize, 1);
  log.voidPositions(later, 1, 'refused');
  await log.whenSettled();
});

test('log ids differ between processes started at the same instant and are safe as document ids', () => {
  const now = new Date('2026-11-28T14:00:00.123Z');
  const a = newLogId(now, 'host one/ä');
  const b = newLogId(now, 'host one/ä');
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9.-]+-20261128T140000Z-[0-9a-f]{12}$/);
});

test('the text a store sends is the canonical form hashed, with @hash first, and parses back to the document', async () => {
  const { hashedEventText, storedEventHash } = await import('../../src/evidence/event-hash.js');
  const document = { z: 1, a: 'ä "quoted"\n', nested: { b: [1, 2.5, null, true], a: {} }, '10': 'ten', '9': 'nine', '@log': 'l', '@position': 3 };
  const { hash, text } = hashedEventText(document);
  assert.equal(hash, storedEventHash(document));
  const parsed = JSON.parse(text);
  assert.equal(parsed['@hash'], hash);
  assert.equal(storedEventHash(parsed), hash, 'hashing what was stored gives @hash again');
  assert.ok(text.startsWith(`{"@hash":"${hash}",`));
  assert.ok(!text.includes('\n'), 'one NDJSON line');
  assert.equal(hashedEventText({}).text, `{"@hash":"${hashedEventText({}).hash}"}`);
});
