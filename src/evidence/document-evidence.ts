import { ConflictError, MLogError } from '../errors/mlog-error.js';
import type { JsonObject } from '../json/json-object-parser.js';
import type { DocumentEvidence, DocumentEvidenceSource } from '../search/document-evidence-type.js';
import { HASH_FIELD, LOG_FIELD, POSITION_FIELD, storedEventHash } from './event-hash.js';
import { hashLeaf } from './evidence-log-entry.js';
import type { EvidenceService } from './evidence-service.js';
import { verifyInclusion } from './merkle.js';
import { trustedKeyFrom } from './trusted-key.js';
import { verifyMlogJws } from './verifier.js';

/**
 * The console's view of one stored event's evidence: its proof from the evidence service (as
 * GET /proof/{uid} makes it), checked here as an outside verifier would — the checkpoint's signature
 * with MLog's key, the audit path to its root (RFC 9162), the leaf naming the event and its @hash, and
 * the document hashing to its @hash.
 */
export class DocumentEvidenceChecker implements DocumentEvidenceSource {
  constructor(private readonly evidence: EvidenceService) {}

  async evidenceOf(source: Readonly<Record<string, unknown>>): Promise<DocumentEvidence> {
    const hash = source[HASH_FIELD];
    const log = source[LOG_FIELD];
    const position = source[POSITION_FIELD];
    const id = source['@id'];
    const uid = source['@uid'];
    const code = source['@is'];
    if (typeof hash !== 'string' || typeof log !== 'string' || typeof position !== 'number') {
      return { status: 'not-logged', message: 'This event was registered without the evidence log (before it was turned on, or with MLOG_EVIDENCE=off): it has no hash or log position.' };
    }
    const hashHolds = storedEventHash(source as JsonObject) === hash;
    const placed = {
      hash,
      hashHolds,
      log,
      position,
      ...(typeof id === 'string' && typeof uid === 'string' ? { receipt: { uid, id, log, position, hash } } : {}),
    };
    if (!hashHolds) return { status: 'failed', message: 'The event as stored does not hash to its @hash: it was changed after MLog stored it.', ...placed };
    if (typeof code !== 'string' || typeof uid !== 'string' || typeof id !== 'string') {
      return { status: 'failed', message: 'The event has no @is, @uid or @id to find its proof by.', ...placed };
    }
    let answer: Awaited<ReturnType<EvidenceService['proof']>>;
    try {
      answer = await this.evidence.proof(code, uid);
    } catch (error) {
      if (error instanceof ConflictError) return { status: 'not-yet-checkpointed', message: error.message, ...placed };
      if (error instanceof MLogError && error.status < 500) return { status: 'failed', message: `No inclusion proof can be made: ${error.message}`, ...placed };
      throw error;
    }
    const proof = answer.events.find((each) => each.leaf.kind === 'event' && each.leaf.id === id && each.position === position && each.log === log);
    if (proof === undefined) return { status: 'failed', message: `The log has no leaf for this event at position ${position} of log ${log}.`, ...placed };
    const checkpoint = answer.checkpoints.find((each) => each.seq === proof.checkpoint);
    const detail = {
      leafHash: hashLeaf(proof.leaf).toString('hex'),
      auditPath: proof.audit_path,
      ...(checkpoint === undefined
        ? {}
        : { checkpoint: { seq: checkpoint.seq, size: checkpoint.payload.size, root: checkpoint.payload.root, time: checkpoint.payload.time, kid: kidOf(checkpoint.jws) } }),
    };
    if (proof.leaf.kind !== 'event' || proof.leaf.hash !== hash) {
      return { status: 'failed', message: `Position ${position} of log ${log} recorded hash ${proof.leaf.kind === 'event' ? proof.leaf.hash : '(a refused write)'}, not the event's @hash.`, ...placed, ...detail };
    }
    if (checkpoint === undefined) return { status: 'failed', message: `The proof names checkpoint ${proof.checkpoint}, which it does not hold.`, ...placed, ...detail };
    const key = await trustedKeyFrom(JSON.stringify((await this.evidence.latest()).key), "MLog's key");
    const signed = verifyMlogJws(checkpoint.jws, new Map([[key.kid, key.publicKey]]));
    if (signed.problem !== undefined || signed.payload?.root !== checkpoint.payload.root || signed.payload?.size !== proof.tree_size || signed.payload?.log !== log) {
      return { status: 'failed', message: `Checkpoint ${checkpoint.seq} does not verify with MLog's key ${key.kid}${signed.problem === undefined ? '' : `: ${signed.problem}`}.`, ...placed, ...detail };
    }
    const included = verifyInclusion(hashLeaf(proof.leaf), position, proof.tree_size, proof.audit_path.map((step) => Buffer.from(step, 'hex')), Buffer.from(checkpoint.payload.root, 'hex'));
    if (!included) return { status: 'failed', message: `The audit path of position ${position} does not lead to the root of checkpoint ${checkpoint.seq}.`, ...placed, ...detail };
    return {
      status: 'verified',
      message: `Position ${position} of log ${log} is proven in checkpoint ${checkpoint.seq} (${checkpoint.payload.size} leaves, signed ${checkpoint.payload.time}), and the event hashes to its @hash.`,
      ...placed,
      ...detail,
    };
  }
}

function kidOf(jws: string): string {
  try {
    return String((JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown }).kid);
  } catch {
    return '';
  }
}
