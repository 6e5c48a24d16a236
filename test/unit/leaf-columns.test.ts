import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hashLeaf, type LogLeaf } from '../../src/evidence/evidence-log-entry.js';
import { columnBuffers, leafColumns, leafColumnsPage, LogLeaves } from '../../src/evidence/leaf-columns.js';
import { treeRoot } from '../../src/evidence/merkle.js';

const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

function leafOf(i: number, salt = ''): LogLeaf {
  return i % 11 === 3
    ? { kind: 'void', reason: `refused ${'é'.repeat(i * 7)}` }
    : { kind: 'event', id: `${salt}id-${i}-${'x'.repeat(i % 13)}`, hash: hex(`${salt}${i}`), is: i % 2 === 0 ? 'tst' : 'mpass', month: i % 5 === 0 ? '2026.10' : '2026.11' };
}

test('leafColumns gives RFC 9162 leaf hashes and roots for every chunk size from 0 to 70, and for a full chunk with long and non-ASCII leaves', () => {
  for (const size of [...Array.from({ length: 71 }, (_, i) => i), 1024]) {
    const leaves = Array.from({ length: size }, (_, i) => leafOf(i));
    const { hashes, root, count } = leafColumns(leaves);
    const expected = leaves.map(hashLeaf);
    assert.equal(count, size);
    assert.deepEqual(Buffer.from(hashes), Buffer.concat(expected), `leaf hashes of ${size}`);
    assert.equal(root, treeRoot(expected).toString('hex'), `root of ${size}`);
  }
});

test('a log joined from several chunks reads back every leaf: kind, index, id, hash, scope and leaf hash', () => {
  const leaves = Array.from({ length: 100 }, (_, i) => leafOf(i, 's'));
  const log = new LogLeaves([leafColumns(leaves.slice(0, 40)), leafColumns([]), leafColumns(leaves.slice(40, 41)), leafColumns(leaves.slice(41))]);
  assert.equal(log.count, 100);
  leaves.forEach((leaf, position) => {
    assert.deepEqual(log.leafHash(position), hashLeaf(leaf), `leaf hash at ${position}`);
    assert.equal(log.isEvent(position), leaf.kind === 'event');
    if (leaf.kind !== 'event') return;
    assert.equal(log.index(position), `mlog-${leaf.is}-${leaf.month}`);
    assert.equal(log.id(position), leaf.id);
    assert.equal(log.hash(position), leaf.hash);
    assert.equal(log.idIs(position, leaf.id), true);
    assert.equal(log.idIs(position, `${leaf.id}x`), false);
    assert.equal(log.idIs(position, leaf.id.slice(0, -1)), false);
    assert.equal(log.hashIs(position, leaf.hash), true);
    assert.equal(log.hashIs(position, hex('other')), false);
    assert.equal(log.inScope(position, { system: 'tst' }), leaf.is === 'tst');
    assert.equal(log.inScope(position, { fromMonth: '2026.11' }), leaf.month === '2026.11');
    assert.equal(log.inScope(position, { toMonth: '2026.10', system: 'mpass' }), leaf.month === '2026.10' && leaf.is === 'mpass');
  });
});

test('a log of full chunks and a last partial one finds each position in its chunk', () => {
  const leaves = Array.from({ length: 2 * 1024 + 5 }, (_, i) => leafOf(i, 'f'));
  const log = new LogLeaves([leafColumns(leaves.slice(0, 1024)), leafColumns(leaves.slice(1024, 2048)), leafColumns(leaves.slice(2048))]);
  assert.equal(log.count, 2053);
  for (const position of [0, 1, 1023, 1024, 1025, 2047, 2048, 2052]) {
    const leaf = leaves[position] as LogLeaf;
    assert.deepEqual(log.leafHash(position), hashLeaf(leaf), `leaf hash at ${position}`);
    if (leaf.kind === 'event') assert.equal(log.idIs(position, leaf.id) && log.hashIs(position, leaf.hash) && log.id(position) === leaf.id, true, `leaf at ${position}`);
    else assert.equal(log.isEvent(position), false);
  }
});

test('an event leaf whose id or hash is not a string matches no document id or @hash, even one that reads the same', () => {
  const forged = [{ kind: 'event', id: 7, hash: null, is: 'tst', month: '2026.11' }] as unknown as LogLeaf[];
  const log = new LogLeaves([leafColumns(forged)]);
  assert.equal(log.isEvent(0), true);
  assert.equal(log.id(0), '7');
  assert.equal(log.idIs(0, '7'), false);
  assert.equal(log.hashIs(0, 'null'), false);
  assert.deepEqual(log.leafHash(0), hashLeaf(forged[0] as LogLeaf));
});

test('leafColumnsPage reads each hit of a leaf-chunk answer, in hit order, its leaves as leafColumns gives them, and its columns survive a move to another thread', () => {
  const chunks = [Array.from({ length: 5 }, (_, i) => leafOf(i, 'a')), [], Array.from({ length: 3 }, (_, i) => leafOf(i, 'c'))];
  const hits: unknown[] = chunks.map((leaves, i) => ({ _index: 'mlog_evidence_leaves', _id: `log:${i}`, _source: { log: 'log', first: i * 1024, leaves, ...(i === 0 ? { root: 'r' } : {}) }, sort: ['log', i] }));
  hits.push({ _index: 'mlog_evidence_leaves', _id: 'log:x', _source: { first: 'nine', leaves: 'not a list' }, sort: ['log', 9] });
  const page = leafColumnsPage(JSON.stringify({ hits: { hits } }));
  assert.deepEqual(
    page.map((chunk) => [chunk.id, chunk.log, chunk.first, chunk.root, chunk.columns.count]),
    [
      ['log:0', 'log', 0, 'r', 5],
      ['log:1', 'log', 1024, undefined, 0],
      ['log:2', 'log', 2048, undefined, 3],
      ['log:x', '', -1, undefined, 0],
    ],
  );
  chunks.forEach((leaves, i) => assert.deepEqual(page[i]?.columns, leafColumns(leaves)));
  const moved = structuredClone(page, { transfer: page.flatMap(columnBuffers) });
  assert.equal(page[0]?.columns.hashes.byteLength, 0, 'the buffers moved');
  chunks.forEach((leaves, i) => assert.deepEqual(moved[i]?.columns, leafColumns(leaves)));
});
