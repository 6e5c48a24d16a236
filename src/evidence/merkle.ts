import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0), section 2.1: leaf and node hashes
 * with domain separation (0x00 before a leaf, 0x01 before two children), the tree hash of n leaves
 * split at the largest power of two smaller than n, inclusion proofs and their verification.
 * Hashes are 32-byte Buffers (SHA-256).
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256() — the root of an empty tree. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/**
 * node:crypto's one-shot hash (Node 20.12 and later; MLog runs on 20.11 too, with createHash): no
 * Hash object per call, about a third less CPU for the short inputs of leaves and nodes, which the
 * ingest path hashes several times per event.
 */
const oneShot = typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined;

/** SHA-256 of `data` (a string as its UTF-8 bytes). */
export function sha256(data: string | Uint8Array): Buffer {
  return oneShot === undefined ? createHash('sha256').update(data).digest() : oneShot('sha256', data, 'buffer');
}

/** SHA-256 of `data` (a string as its UTF-8 bytes), lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return oneShot === undefined ? createHash('sha256').update(data).digest('hex') : oneShot('sha256', data, 'hex');
}

/** MTH({d}) = SHA-256(0x00 || d); a string is hashed as its UTF-8 bytes. */
export function leafHash(leafInput: Uint8Array | string): Buffer {
  if (oneShot === undefined) return createHash('sha256').update(LEAF_PREFIX).update(leafInput).digest();
  // U+0000 is the one byte 0x00 in UTF-8.
  return oneShot('sha256', typeof leafInput === 'string' ? `\u0000${leafInput}` : Buffer.concat([LEAF_PREFIX, leafInput]), 'buffer');
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (oneShot === undefined) return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
  return oneShot('sha256', Buffer.concat([NODE_PREFIX, left, right]), 'buffer');
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The hash of the leaves [start, end) of a tree: a function so that a store can answer aligned
 * ranges from roots it kept (a full chunk of 2^k leaves) instead of from every leaf.
 */
export type RangeHasher = (start: number, end: number) => Buffer;

/** A RangeHasher over leaf hashes held in memory (recursive, O(end - start)). */
export function rangeHasherOf(leafHashes: readonly Buffer[]): RangeHasher {
  const hashRange = (start: number, end: number): Buffer => {
    const size = end - start;
    if (size === 0) return EMPTY_ROOT;
    if (size === 1) return leafHashes[start] as Buffer;
    const k = largestPowerOfTwoBelow(size);
    return nodeHash(hashRange(start, start + k), hashRange(start + k, end));
  };
  return hashRange;
}

/** MTH(D[n]) of leaf hashes already computed with `leafHash`. */
export function treeRoot(leafHashes: readonly Buffer[]): Buffer {
  return rangeHasherOf(leafHashes)(0, leafHashes.length);
}

/**
 * PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the audit path of leaf `index` in the tree of the first
 * `size` leaves, nearest sibling first. `hashRange` answers MTH of any leaf range inside [0, size).
 */
export function inclusionProof(index: number, size: number, hashRange: RangeHasher): Buffer[] {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) {
    throw new RangeError(`leaf ${index} is not in a tree of ${size} leaves`);
  }
  const path: Buffer[] = [];
  let start = 0;
  let end = size;
  // Walk down from the root, remembering the sibling subtree at each split; the path lists them bottom-up.
  const siblings: Buffer[] = [];
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (index < start + k) {
      siblings.push(hashRange(start + k, end));
      end = start + k;
    } else {
      siblings.push(hashRange(start, start + k));
      start = start + k;
    }
  }
  for (let i = siblings.length - 1; i >= 0; i--) path.push(siblings[i] as Buffer);
  return path;
}

/**
 * The verification of RFC 9162 section 2.1.3.2: whether `path` proves that the leaf with hash
 * `leaf` is at `index` of the tree of `size` leaves whose root is `root`.
 */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[], root: Uint8Array): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(Buffer.from(root));
}

/**
 * An append-only tree kept as its frontier: the roots of the perfect subtrees that make up the
 * leaves so far, largest first (at most log2(n) + 1 hashes). Appending and taking the root cost
 * O(log n) without keeping the leaves.
 */
export class MerkleFrontier {
  /** [size, hash] of each perfect subtree, sizes strictly decreasing powers of two. */
  private readonly subtrees: { size: number; hash: Buffer }[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  append(leaf: Buffer): void {
    this.appendSubtree(leaf, 1);
  }

  /**
   * Appends one leaf and returns the root of the perfect subtree of `completes` leaves (a power of
   * two) that this leaf completes, if it completes one: the root of a full chunk, taken from the
   * tree itself instead of from a second tree of the chunk's leaves.
   */
  appendCompleting(leaf: Buffer, completes: number): Buffer | undefined {
    let completed: Buffer | undefined = completes === 1 ? leaf : undefined;
    let node = { size: 1, hash: leaf };
    for (;;) {
      const last = this.subtrees.at(-1);
      if (last === undefined || last.size !== node.size) break;
      this.subtrees.pop();
      node = { size: last.size * 2, hash: nodeHash(last.hash, node.hash) };
      if (node.size === completes) completed = node.hash;
    }
    this.subtrees.push(node);
    this.count += 1;
    return completed;
  }

  /**
   * Appends `size` leaves at once by the root of their perfect subtree (MTH of a full leaf chunk):
   * `size` a power of two, and the leaves so far a multiple of it, as at a chunk's start.
   */
  appendSubtree(hash: Buffer, size: number): void {
    if (size < 1 || (size & (size - 1)) !== 0 || this.count % size !== 0) throw new RangeError(`a subtree of ${size} leaves cannot be appended after ${this.count} leaves`);
    let node = { size, hash };
    for (;;) {
      const last = this.subtrees.at(-1);
      if (last === undefined || last.size !== node.size) break;
      this.subtrees.pop();
      node = { size: last.size * 2, hash: nodeHash(last.hash, node.hash) };
    }
    this.subtrees.push(node);
    this.count += size;
  }

  /** MTH of every leaf appended so far: the subtrees folded from the right. */
  root(): Buffer {
    if (this.subtrees.length === 0) return EMPTY_ROOT;
    let root = (this.subtrees.at(-1) as { hash: Buffer }).hash;
    for (let i = this.subtrees.length - 2; i >= 0; i--) root = nodeHash((this.subtrees[i] as { hash: Buffer }).hash, root);
    return root;
  }
}
