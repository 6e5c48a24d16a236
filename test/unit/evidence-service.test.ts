import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GENESIS_PREVIOUS, type StoredChainEntry } from '../../src/evidence/chain-entry.js';
import { EvidenceLog } from '../../src/evidence/evidence-log.js';
import type { LogLeaf } from '../../src/evidence/evidence-log-entry.js';
import type { ChainEntryBuilder, EvidenceStore } from '../../src/evidence/evidence-store-type.js';
import { EvidenceService } from '../../src/evidence/evidence-service.js';
import type { LeafChunk } from '../../src/evidence/leaf-chunk.js';
import { SigningKey } from '../../src/evidence/signing-key.js';
import { createLogger } from '../../src/logging/logger.js';

const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string;
const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHashOf = (leaf: LogLeaf) => sha(Buffer.from([0]), Buffer.from(canonicalize(leaf)));
function mth(hashes: Buffer[]): Buffer {
  if (hashes.length === 1) return hashes[0] as Buffer;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return sha(Buffer.from([1]), mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}
const event = (n: number): LogLeaf => ({ kind: 'event', id: `uid-${n}`, hash: String(n).padStart(64, '0'), is: 'mpass', month: '2026.11' });

/** The evidence store's in-memory twin: chunks by id, the chain as an array. */
class MemoryEvidenceStore implements Pick<EvidenceStore, 'putChunks' | 'append'> {
  readonly chunks = new Map<string, LeafChunk>();
  readonly writes: number[] = [];
  readonly chain: StoredChainEntry[] = [];
  async putChunks(chunks: readonly LeafChunk[]): Promise<void> {
    this.writes.push(chunks.length);
    for (const chunk of chunks) this.chunks.set(`${chunk.log}:${chunk.first}`, structuredClone(chunk));
  }
  async append(build: ChainEntryBuilder): Promise<StoredChainEntry> {
    const head = this.chain.at(-1);
    const { entry } = await build(this.chain.length, head === undefined ? GENESIS_PREVIOUS : head.hash);
    this.chain.push(entry);
    return entry;
  }
}

test('full chunks are written in the background four at a time, and a checkpoint writes the rest and signs the root of every leaf', async () => {
  const log = new EvidenceLog('test-log');
  const store = new MemoryEvidenceStore();
  const service = new EvidenceService({ log, key: await SigningKey.ephemeral(), store: store as unknown as EvidenceStore, logger: createLogger('error', true), checkpointSeconds: 60 });
  const all: LogLeaf[] = [];
  for (let n = 0; n < 3 * 1024; n++) {
    log.settle(log.reserve(1), [event(n)]);
    all.push(event(n));
  }
  await nextTurn();
  assert.deepEqual(store.writes, [], 'three full chunks wait');
  for (let n = 3 * 1024; n < 4 * 1024 + 10; n++) {
    log.settle(log.reserve(1), [event(n)]);
    all.push(event(n));
  }
  for (let i = 0; i < 5 && store.writes.length === 0; i++) await nextTurn();
  assert.deepEqual(store.writes, [4], 'the fourth full chunk sends the four');
  assert.equal(log.firstRetained, 4096, 'their leaves are no longer held');
  for (const first of [0, 1024, 2048, 3072]) {
    const chunk = store.chunks.get(`test-log:${first}`) as LeafChunk;
    assert.equal(chunk.count, 1024);
    assert.equal(chunk.root, mth(all.slice(first, first + 1024).map(leafHashOf)).toString('hex'));
  }

  const checkpoint = (await service.checkpoint()) as Extract<StoredChainEntry, { kind: 'checkpoint' }>;
  assert.equal(checkpoint.size, 4106);
  assert.equal(checkpoint.root, mth(all.map(leafHashOf)).toString('hex'));
  assert.equal(store.chunks.get('test-log:4096')?.count, 10);
  assert.equal(await service.checkpoint(), undefined, 'nothing new: no checkpoint');
  const final = (await service.close()) as Extract<StoredChainEntry, { kind: 'checkpoint' }>;
  assert.equal(final.final, true);
  assert.equal(final.previous, checkpoint.hash);
});

test("a receipt's events_root is the RFC 9162 root of its events' leaves, whether the log still holds them or not, and follows the events it is given", async () => {
  const log = new EvidenceLog('test-log');
  const store = new MemoryEvidenceStore();
  const service = new EvidenceService({ log, key: await SigningKey.ephemeral(), store: store as unknown as EvidenceStore, logger: createLogger('error', true), checkpointSeconds: 60 });
  const received = new Date('2026-11-28T17:00:00.000Z');
  const leafOf = (n: number): Extract<LogLeaf, { kind: 'event' }> => ({ kind: 'event', id: `uid-${n}-00000`, hash: createHash('sha256').update(`event ${n}`).digest('hex'), is: 'mpass', month: '2026.11' });
  const payloadOf = (jws: string | undefined) => JSON.parse(Buffer.from((jws ?? '').split('.')[1] ?? '', 'base64url').toString('utf8')) as { events_root: string; first_position: number; count: number };
  const earlier = log.reserve(1);
  const first = log.reserve(3);
  const leaves = [0, 1, 2].map((k) => leafOf(first + k));
  // Settled behind a position still in flight, then with it: the receipt is the same either way.
  log.settle(first, leaves);
  const places = leaves.map((leaf, k) => ({ id: leaf.id, log: log.id, position: first + k, hash: leaf.hash }));
  const expected = mth(leaves.map(leafHashOf)).toString('hex');
  const whileWaiting = payloadOf(await service.receipt({ uid: 'uid', is: 'mpass', received, events: places }));
  assert.equal(whileWaiting.events_root, expected);
  log.settle(earlier, [leafOf(earlier)]);
  assert.equal(payloadOf(await service.receipt({ uid: 'uid', is: 'mpass', received, events: places })).events_root, expected);
  log.forgetBefore(log.settledSize);
  assert.equal(payloadOf(await service.receipt({ uid: 'uid', is: 'mpass', received, events: places })).events_root, expected, 'leaves no longer held');
  // Events unlike the leaves held at their positions: the receipt commits to the events it names.
  const other = new EvidenceLog('other-log');
  const otherService = new EvidenceService({ log: other, key: await SigningKey.ephemeral(), store: store as unknown as EvidenceStore, logger: createLogger('error', true), checkpointSeconds: 60 });
  other.settle(other.reserve(3), leaves);
  const changed = places.map((place, k) => ({ ...place, log: other.id, ...(k === 1 ? { hash: 'f'.repeat(64) } : {}) }));
  const changedLeaves = leaves.map((leaf, k) => (k === 1 ? { ...leaf, hash: 'f'.repeat(64) } : leaf));
  assert.equal(payloadOf(await otherService.receipt({ uid: 'uid', is: 'mpass', received, events: changed })).events_root, mth(changedLeaves.map(leafHashOf)).toString('hex'));
  const inMarch = payloadOf(await otherService.receipt({ uid: 'uid', is: 'mpass', received: new Date('2026-03-01T00:00:00.000Z'), events: changed.map((place) => ({ ...place, hash: leaves[0]?.hash as string })) }));
  assert.equal(inMarch.events_root, mth(leaves.map((leaf) => leafHashOf({ ...leaf, hash: leaves[0]?.hash as string, month: '2026.03' }))).toString('hex'));
});

test('the signed text of a receipt payload is its RFC 8785 text, with and without listed events, for any string', async () => {
  const { receiptText } = await import('../../src/evidence/receipt.js');
  const awkward = ['plain', 'é "quoted" \\ back', '\u2028\u0000\u001f', '\ud800 lone', '😀', ''];
  for (const text of awkward) {
    const base = { iss: 'MLog' as const, uid: `uid ${text}`, is: `is${text}`, received: '2026-11-28T17:00:00.000Z', log: `log${text}`, first_position: 41, count: 2, events_root: 'a'.repeat(64) };
    assert.equal(receiptText(base), canonicalize(base));
    const listed = { ...base, events: [{ id: `id ${text}`, position: 41, hash: 'b'.repeat(64) }, { position: 42, hash: text, id: 'x' }] };
    assert.equal(receiptText(listed), canonicalize(listed));
  }
  const beyondSafe = { iss: 'MLog' as const, uid: 'u', is: 'i', received: 'r', log: 'l', first_position: 2 ** 60, count: 1, events_root: 'c' };
  assert.equal(receiptText(beyondSafe), canonicalize(beyondSafe));
});
