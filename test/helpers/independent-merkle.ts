/**
 * RFC 9162 §2.1 written for the tests, independently of src/evidence/merkle.ts, so that MLog's proofs
 * are checked by code that shares nothing with the code that made them.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

/** RFC 8785 canonical JSON (the reference implementation's package). */
export const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string;

export const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** SHA-256(0x00 ‖ RFC 8785 text of the leaf). */
export const leafHashOf = (leaf: unknown): Buffer => sha256(Buffer.from([0x00]), Buffer.from(canonicalize(leaf), 'utf8'));

/** SHA-256(0x01 ‖ left ‖ right). */
export const children = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.from([0x01]), left, right);

/** MTH of leaf hashes. */
export function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k << 1 < leaves.length) k <<= 1;
  return children(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.2: the root an audit path leads to from `leaf` at `leafIndex` of `treeSize`; undefined when the path cannot be one. */
export function rootFromInclusionProof(leafIndex: number, treeSize: number, leaf: Buffer, path: Buffer[]): Buffer | undefined {
  if (leafIndex >= treeSize) return undefined;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = children(p, r);
      if (fn % 2 === 0) {
        do {
          fn >>= 1;
          sn >>= 1;
        } while (fn % 2 === 0 && fn !== 0);
      }
    } else {
      r = children(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 ? r : undefined;
}
