import type { JsonObject } from '../json/json-object-parser.js';
import { hashLeaf, type LogLeaf } from './evidence-log-entry.js';
import type { EventProof } from './proof.js';
import { treeRoot, verifyInclusion } from './merkle.js';
import { verifyMlogJws, type TrustedKeys } from './verifier.js';

/**
 * `mlog verify-receipt`: a receipt MLog gave at /register, checked offline against the /proof/{uid}
 * answer taken later and, when given, checkpoints kept outside MLog. Pure: the caller reads the file.
 */

/** What the file of `mlog verify-receipt` holds (docs/evidence.md, "Checking a receipt offline"). */
export interface ReceiptBundle {
  /** The MLog-Receipt header's value. */
  receipt: string;
  /** The answer of GET /proof/{uid}. */
  proof?: JsonObject;
  /** Chain entries kept outside MLog (lines of `mlog checkpoints export`, or GET /checkpoints/latest's checkpoints): each with its `jws`. */
  checkpoints?: JsonObject[];
  /** MLog's public JWK, as GET /checkpoints/latest gives it; trusted only when no other key is given. */
  key?: JsonObject;
}

export interface ReceiptCheck {
  ok: boolean;
  uid?: string;
  log?: string;
  /** Events the receipt promises. */
  events: number;
  /** Events whose inclusion proof verifies against a signed checkpoint. */
  proven: number;
  /** What holds, one sentence each. */
  passed: string[];
  /** What does not hold, one sentence each. */
  problems: string[];
}

type ProofEvent = EventProof;

const HEX64 = /^[0-9a-f]{64}$/;

function isProofEvent(value: unknown): value is ProofEvent {
  const event = value as Partial<ProofEvent> | null;
  return (
    typeof event === 'object' &&
    event !== null &&
    typeof event.id === 'string' &&
    typeof event.log === 'string' &&
    typeof event.position === 'number' &&
    typeof event.hash === 'string' &&
    typeof event.leaf === 'object' &&
    event.leaf !== null &&
    Array.isArray(event.audit_path) &&
    event.audit_path.every((step) => typeof step === 'string' && HEX64.test(step)) &&
    typeof event.tree_size === 'number' &&
    typeof event.checkpoint === 'number'
  );
}

/** Checks the receipt's signature, each event's hash and position against the proof, each proof against its signed checkpoint, and those checkpoints against the copies kept outside. */
export function verifyReceiptBundle(bundle: ReceiptBundle, keys: TrustedKeys): ReceiptCheck {
  const check: ReceiptCheck = { ok: false, events: 0, proven: 0, passed: [], problems: [] };
  const signed = verifyMlogJws(bundle.receipt, keys);
  if (signed.problem !== undefined || signed.payload === undefined) {
    check.problems.push(`The receipt does not verify: ${signed.problem ?? 'its payload does not decode'}.`);
    return check;
  }
  const receipt = signed.payload;
  const uid = typeof receipt.uid === 'string' ? receipt.uid : '';
  const log = typeof receipt.log === 'string' ? receipt.log : '';
  const first = typeof receipt.first_position === 'number' ? receipt.first_position : -1;
  const count = typeof receipt.count === 'number' ? receipt.count : 0;
  check.uid = uid;
  check.log = log;
  check.events = count;
  check.passed.push(`The receipt is signed by MLog's key ${receiptKid(bundle.receipt)}: UID ${uid}, ${count} event(s) at positions ${first} to ${first + count - 1} of log ${log}.`);

  if (bundle.proof === undefined) {
    check.problems.push('The file holds no proof (the answer of GET /proof/{uid}): the receipt is MLog\'s promise, but nothing shows the events are in a checkpoint.');
    return check;
  }
  const proof = bundle.proof;
  if (proof.UID !== uid) check.problems.push(`The proof is of UID ${JSON.stringify(proof.UID ?? null)}, not of the receipt's ${uid}.`);
  const proofEvents = Array.isArray(proof.events) ? proof.events.filter(isProofEvent) : [];
  if (!Array.isArray(proof.events) || proofEvents.length !== proof.events.length) check.problems.push('The proof\'s "events" are not all proofs of an event (id, log, position, hash, leaf, audit_path, tree_size, checkpoint).');

  // The checkpoints the proof leads to, each verified; and the copies kept outside, which they must equal.
  const checkpoints = new Map<number, JsonObject>();
  for (const entry of Array.isArray(proof.checkpoints) ? (proof.checkpoints as JsonObject[]) : []) {
    const jws = typeof entry?.jws === 'string' ? entry.jws : '';
    const verified = verifyMlogJws(jws, keys);
    const seq = verified.payload?.seq;
    if (verified.problem !== undefined || verified.payload === undefined || typeof seq !== 'number') {
      check.problems.push(`Checkpoint ${JSON.stringify(entry?.seq ?? null)} of the proof does not verify: ${verified.problem ?? 'it has no seq'}.`);
      continue;
    }
    checkpoints.set(seq, verified.payload);
  }
  for (const kept of bundle.checkpoints ?? []) {
    const verified = verifyMlogJws(typeof kept.jws === 'string' ? kept.jws : '', keys);
    const seq = verified.payload?.seq;
    if (verified.problem !== undefined || verified.payload === undefined || typeof seq !== 'number') {
      check.problems.push(`A checkpoint kept outside does not verify: ${verified.problem ?? 'it has no seq'}.`);
      continue;
    }
    const used = checkpoints.get(seq);
    if (used === undefined) continue;
    if (used.root !== verified.payload.root || used.size !== verified.payload.size || used.log !== verified.payload.log) {
      check.problems.push(`Checkpoint ${seq} of the proof differs from the copy kept outside (root ${String(used.root)} against ${String(verified.payload.root)}).`);
    } else check.passed.push(`Checkpoint ${seq} of the proof is the one kept outside.`);
  }

  const byPosition = new Map<number, ProofEvent>();
  for (const event of proofEvents) {
    if (event.log !== log || event.position < first || event.position >= first + count) {
      check.problems.push(`The proof's event ${event.id} is at position ${event.position} of log ${event.log}, outside the receipt's positions.`);
      continue;
    }
    byPosition.set(event.position, event);
    const leafHash = hashLeaf(event.leaf);
    const leaf = event.leaf;
    // The leaf is what the inclusion proof commits to: its id and hash are the ones that count.
    if (leaf.kind !== 'event' || leaf.hash !== event.hash) {
      check.problems.push(`The proof's leaf at position ${event.position} is not an event with hash ${event.hash}.`);
      continue;
    }
    const checkpoint = checkpoints.get(event.checkpoint);
    if (checkpoint === undefined) {
      check.problems.push(`Event ${event.id} is proven against checkpoint ${event.checkpoint}, which the proof does not hold signed.`);
      continue;
    }
    if (checkpoint.log !== event.log || checkpoint.size !== event.tree_size || typeof checkpoint.root !== 'string') {
      check.problems.push(`Event ${event.id}: checkpoint ${event.checkpoint} is of log ${String(checkpoint.log)} with ${String(checkpoint.size)} leaves, not of log ${event.log} with ${event.tree_size}.`);
      continue;
    }
    const path = event.audit_path.map((step) => Buffer.from(step, 'hex'));
    if (!verifyInclusion(leafHash, event.position, event.tree_size, path, Buffer.from(checkpoint.root, 'hex'))) {
      check.problems.push(`The inclusion proof of event ${event.id} (position ${event.position}) does not lead to the root of checkpoint ${event.checkpoint}.`);
      continue;
    }
    check.proven += 1;
  }

  const listed = Array.isArray(receipt.events) ? (receipt.events as JsonObject[]) : undefined;
  if (listed !== undefined) {
    for (const promised of listed) {
      const proven = byPosition.get(promised.position as number);
      if (proven === undefined) check.problems.push(`The receipt's event ${String(promised.id)} (position ${String(promised.position)}) has no proof in the file.`);
      else {
        const leaf = proven.leaf as Extract<LogLeaf, { kind: 'event' }>;
        if (leaf.id !== promised.id || leaf.hash !== promised.hash) {
          check.problems.push(`Event ${String(promised.id)} at position ${String(promised.position)}: the receipt promised hash ${String(promised.hash)}, the proof's leaf holds event ${String(leaf.id)} with hash ${String(leaf.hash)}.`);
        }
      }
    }
  }
  if (byPosition.size === count) {
    const root = treeRoot(Array.from({ length: count }, (_, i) => hashLeaf((byPosition.get(first + i) as ProofEvent).leaf))).toString('hex');
    if (root === receipt.events_root) check.passed.push(`The events of the proof give the receipt's events_root ${root}.`);
    else check.problems.push(`The events of the proof give root ${root}, not the receipt's events_root ${String(receipt.events_root)}.`);
  } else if (listed === undefined) {
    check.problems.push(`The proof holds ${byPosition.size} of the receipt's ${count} events.`);
  }
  if (check.proven === count && count > 0) check.passed.push(`Every event of the receipt is proven in a signed checkpoint (${count} of ${count}).`);
  check.ok = check.problems.length === 0 && check.proven === count;
  return check;
}

function receiptKid(jws: string): string {
  try {
    return String((JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown }).kid);
  } catch {
    return 'unknown';
  }
}
