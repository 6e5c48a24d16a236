// Checks MLog's evidence for one registration, offline, with jose and node:crypto only:
//   node verify-evidence.mjs RECEIPT_FILE PROOF_JSON LATEST_JSON
// RECEIPT_FILE: the MLog-Receipt header of the /register answer; PROOF_JSON: the answer of
// GET /proof/{uid}; LATEST_JSON: the answer of GET /checkpoints/latest (for MLog's public key, which
// you should also keep from a trusted source). Exit 0 when the receipt, the checkpoints and every
// inclusion proof verify, and the proof holds the hashes the receipt promised.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';

const [receiptFile, proofFile, latestFile] = process.argv.slice(2);
const receiptJws = readFileSync(receiptFile, 'utf8').trim();
const proof = JSON.parse(readFileSync(proofFile, 'utf8'));
const { key } = JSON.parse(readFileSync(latestFile, 'utf8'));

// RFC 8785 for the flat objects of ASCII strings and integers MLog puts in leaves: keys sorted, no spaces.
const canonical = (object) => `{${Object.keys(object).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(object[k])}`).join(',')}}`;
const sha256 = (...parts) => parts.reduce((hash, part) => hash.update(part), createHash('sha256')).digest();
const leafHash = (leaf) => sha256(Buffer.from([0]), Buffer.from(canonical(leaf)));
const nodeHash = (left, right) => sha256(Buffer.from([1]), left, right);

// RFC 9162 section 2.1.3.2: the root an audit path leads to from a leaf.
function rootFromPath(index, size, leaf, path) {
  if (index >= size) return undefined;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) do { fn >>= 1; sn >>= 1; } while (fn % 2 === 0 && fn !== 0);
    } else r = nodeHash(r, p);
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 ? r : undefined;
}
// RFC 9162 section 2.1.1: the root of a list of leaf hashes.
function treeRoot(hashes) {
  if (hashes.length === 0) return sha256();
  if (hashes.length === 1) return hashes[0];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return nodeHash(treeRoot(hashes.slice(0, k)), treeRoot(hashes.slice(k)));
}

const publicKey = await importJWK(key, key.alg);
const problems = [];

// 1. The receipt: MLog's signature, and what it promised.
if (decodeProtectedHeader(receiptJws).kid !== key.kid) problems.push('the receipt was signed with another key');
const receipt = JSON.parse(new TextDecoder().decode((await compactVerify(receiptJws, publicKey)).payload));
const month = receipt.received.slice(0, 7).replace('-', '.');

// 2. The checkpoints the proof uses: MLog's signatures.
const checkpoints = new Map();
for (const checkpoint of proof.checkpoints) {
  const signed = JSON.parse(new TextDecoder().decode((await compactVerify(checkpoint.jws, publicKey)).payload));
  checkpoints.set(signed.seq, signed);
}

// 3. Each event: the receipt's hash is the leaf, and the leaf is in the signed tree.
const promised = receipt.events ?? [];
const leafHashes = [];
for (const item of proof.events) {
  const leaf = { kind: 'event', id: item.id, hash: item.hash, is: receipt.is, month };
  leafHashes.push(leafHash(leaf));
  const listed = promised.find((event) => event.id === item.id);
  if (listed !== undefined && (listed.hash !== item.hash || listed.position !== item.position)) problems.push(`${item.id}: not the hash or position the receipt promised`);
  const checkpoint = checkpoints.get(item.checkpoint);
  const root = rootFromPath(item.position, checkpoint.size, leafHash(leaf), item.audit_path.map((hex) => Buffer.from(hex, 'hex')));
  if (checkpoint.log !== receipt.log || root?.toString('hex') !== checkpoint.root) problems.push(`${item.id}: the inclusion proof does not lead to checkpoint ${item.checkpoint}`);
  else console.log(`${item.id}: position ${item.position} of ${checkpoint.size}, in checkpoint ${checkpoint.seq} signed ${checkpoint.time}`);
}
if (treeRoot(leafHashes).toString('hex') !== receipt.events_root) problems.push('the events do not make the events_root of the receipt');

for (const problem of problems) console.error(problem);
console.log(problems.length === 0 ? `Receipt of UID ${receipt.uid}: ${receipt.count} events, every one proved.` : 'NOT VERIFIED');
process.exitCode = problems.length === 0 ? 0 : 1;
