import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EMPTY_ROOT, inclusionProof, leafHash, MerkleFrontier, rangeHasherOf, treeRoot, verifyInclusion } from '../../src/evidence/merkle.js';
import { storedEventHash } from '../../src/evidence/event-hash.js';

// The eight leaf inputs of the reference tree used by RFC 6962 implementations' tests, and its root.
const REFERENCE_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const REFERENCE_ROOT = '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328';

test('the root of the reference tree of eight leaves is the published one', () => {
  assert.equal(treeRoot(REFERENCE_INPUTS.map((hex) => leafHash(Buffer.from(hex, 'hex')))).toString('hex'), REFERENCE_ROOT);
  assert.equal(EMPTY_ROOT.toString('hex'), createHash('sha256').digest('hex'));
});

test('the frontier gives the same root as the whole tree at every size, and every proof verifies only its own leaf', () => {
  const leaves = Array.from({ length: 37 }, (_, i) => leafHash(Buffer.from([i])));
  const frontier = new MerkleFrontier();
  for (let size = 1; size <= leaves.length; size++) {
    frontier.append(leaves[size - 1] as Buffer);
    const root = treeRoot(leaves.slice(0, size));
    assert.ok(frontier.root().equals(root), `root at size ${size}`);
    for (let index = 0; index < size; index++) {
      const path = inclusionProof(index, size, rangeHasherOf(leaves));
      assert.ok(verifyInclusion(leaves[index] as Buffer, index, size, path, root), `proof of ${index} in ${size}`);
      if (size > 1) assert.ok(!verifyInclusion(leaves[(index + 1) % size] as Buffer, index, size, path, root), `another leaf at ${index} of ${size}`);
    }
  }
});

test('a frontier built from the roots of aligned perfect subtrees and then leaves gives the root of all the leaves; a misaligned subtree is refused', () => {
  const leaves = Array.from({ length: 45 }, (_, i) => leafHash(Buffer.from([i, 7])));
  const frontier = new MerkleFrontier();
  // Chunks of 8 by their roots (as sealing reads the full leaf chunks), then the rest one by one.
  for (let first = 0; first < 40; first += 8) frontier.appendSubtree(treeRoot(leaves.slice(first, first + 8)), 8);
  assert.equal(frontier.size, 40);
  assert.ok(frontier.root().equals(treeRoot(leaves.slice(0, 40))));
  for (const leaf of leaves.slice(40)) frontier.append(leaf);
  assert.ok(frontier.root().equals(treeRoot(leaves)));
  assert.throws(() => frontier.appendSubtree(leaves[0] as Buffer, 8), RangeError);
  assert.throws(() => new MerkleFrontier().appendSubtree(leaves[0] as Buffer, 6), RangeError);
});

test('appending leaf by leaf hands back the root of each perfect subtree of the asked size exactly when its last leaf arrives', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from([i, 9])));
  const frontier = new MerkleFrontier();
  for (const [index, leaf] of leaves.entries()) {
    const completed = frontier.appendCompleting(leaf, 16);
    if ((index + 1) % 16 === 0) assert.equal(completed?.toString('hex'), treeRoot(leaves.slice(index - 15, index + 1)).toString('hex'), `the subtree ending at ${index}`);
    else assert.equal(completed, undefined, `no subtree of 16 ends at ${index}`);
    assert.ok(frontier.root().equals(treeRoot(leaves.slice(0, index + 1))), `root at size ${index + 1}`);
  }
  assert.equal(new MerkleFrontier().appendCompleting(leaves[0] as Buffer, 1), leaves[0]);
});

test('a stored event hash covers every field but itself, in canonical order', () => {
  const hash = storedEventHash({ b: 1, a: 'x' });
  assert.equal(storedEventHash({ a: 'x', b: 1, '@hash': 'anything' }), hash);
  assert.notEqual(storedEventHash({ a: 'x', b: 2 }), hash);
  assert.equal(hash, createHash('sha256').update('{"a":"x","b":1}').digest('hex'));
});
