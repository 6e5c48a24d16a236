import type { ChainEntryView, CheckpointPayload, PublicJwk } from './chain-entry.js';
import type { LogLeaf } from './evidence-log-entry.js';

/** The inclusion proof of one event of a UID against a checkpoint of its log (GET /proof/{uid}). */
export interface EventProof {
  id: string;
  log: string;
  position: number;
  /** `@hash` of the stored event. */
  hash: string;
  /** The leaf at the event's position; its RFC 8785 text is the leaf input. */
  leaf: LogLeaf;
  /** SHA-256(0x00 ‖ leaf input), lowercase hex. */
  leaf_hash: string;
  /** RFC 9162 audit path, lowercase hex, nearest sibling first. */
  audit_path: string[];
  /** The tree size the path proves against: the checkpoint's `size`. */
  tree_size: number;
  /** The seq of the checkpoint (in `checkpoints`) whose root the path leads to. */
  checkpoint: number;
}

/** The answer of GET /proof/{uid}: each event's proof and the checkpoints they prove against. */
export interface ProofAnswer {
  UID: string;
  events: EventProof[];
  checkpoints: ChainEntryView<CheckpointPayload>[];
}

/** The answer of GET /checkpoints/latest. */
export interface LatestCheckpoints {
  /** The newest entry of the chain (a checkpoint or a tombstone). */
  head?: ChainEntryView;
  /** The newest checkpoint of each log, newest first. */
  checkpoints: ChainEntryView<CheckpointPayload>[];
  /** MLog's public key (the signing key of this process), as a JWK with its kid. */
  key: PublicJwk;
}
