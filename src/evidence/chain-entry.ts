import { createHash } from 'node:crypto';
import { canonicalJson } from './event-hash.js';

/**
 * The entries of MLog's evidence chain (index mlog_evidence, docs/evidence.md): signed checkpoints of
 * the evidence logs and tombstones of the indices retention deleted, one chain for every log, entry
 * `seq` stored under document id `seq`.
 */

/** `previous` of entry 0: there is no entry before it. */
export const GENESIS_PREVIOUS = '0'.repeat(64);

/** The JWS header `typ` of a chain entry. */
export const CHAIN_ENTRY_TYP = 'mlog-evidence+jws';

/** MLog's signed statement that log `log` held `size` leaves whose RFC 9162 root is `root` at `time`. */
export interface CheckpointPayload {
  kind: 'checkpoint';
  seq: number;
  log: string;
  size: number;
  /** MTH of the first `size` leaves of the log, lowercase hex. */
  root: string;
  /** ISO instant of signing. */
  time: string;
  /** SHA-256 (hex) of the RFC 8785 payload text of entry seq − 1; GENESIS_PREVIOUS for entry 0. */
  previous: string;
  /** True for the last checkpoint of a log (its process shut down, or another sealed it): the log never grows again. */
  final: boolean;
  /**
   * Present on the final checkpoint an instance signed for a log whose process was gone (sealed,
   * docs/evidence.md): who sealed it ("MLog on <host>, pid <n>, log <its own log>"); `time` is when.
   */
  sealed_by?: string;
}

/** MLog's signed statement that retention deleted the event index `index` (every leaf naming it). */
export interface TombstonePayload {
  kind: 'tombstone';
  seq: number;
  /** The deleted index, mlog-<is>-<yyyy.MM>. */
  index: string;
  is: string;
  month: string;
  /** The policy that deleted it, in plain English ("retention of 24 months for IS mpass"). */
  reason: string;
  time: string;
  previous: string;
}

export type ChainPayload = CheckpointPayload | TombstonePayload;

/**
 * A chain entry as stored in mlog_evidence: the compact JWS (its payload is the RFC 8785 text of
 * the payload, header alg, kid and typ CHAIN_ENTRY_TYP), the decoded payload fields beside it so
 * they can be searched, the entry's own hash and the public key it verifies with.
 */
export type StoredChainEntry = ChainPayload & {
  /** SHA-256 (hex) of the RFC 8785 text of the payload: what the next entry's `previous` holds. */
  hash: string;
  kid: string;
  jws: string;
  /** The public JWK of the signing key (kid = its RFC 7638 thumbprint). */
  public_key: PublicJwk;
};

/** The public half of MLog's signing key as a JWK (OKP Ed25519 or EC P-256). */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y?: string;
  kid: string;
  alg: string;
  use?: string;
}

/** A chain entry as MLog's API answers it: the JWS, and its payload decoded. */
export interface ChainEntryView<P extends ChainPayload = ChainPayload> {
  seq: number;
  jws: string;
  payload: P;
}

/** SHA-256 (hex) of the RFC 8785 text of a chain payload: the next entry's `previous`. */
export function chainPayloadHash(payload: ChainPayload): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

/** The payload fields of a stored entry, without what was stored beside them. */
export function payloadOf(entry: StoredChainEntry): ChainPayload {
  if (entry.kind === 'checkpoint') {
    const { kind, seq, log, size, root, time, previous, final, sealed_by } = entry;
    return { kind, seq, log, size, root, time, previous, final, ...(sealed_by === undefined ? {} : { sealed_by }) };
  }
  const { kind, seq, index, is, month, reason, time, previous } = entry;
  return { kind, seq, index, is, month, reason, time, previous };
}
