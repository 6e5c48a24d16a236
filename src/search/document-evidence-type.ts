/**
 * What the console's document view shows of a stored event's evidence (docs/evidence.md): its
 * `@hash`, its place in an evidence log, what a receipt for it promised, and whether its inclusion
 * proof verifies now against the newest signed checkpoint of its log.
 */
export type DocumentEvidenceStatus =
  /** The proof leads to the root of a checkpoint signed with MLog's key, and the event hashes to its @hash. */
  | 'verified'
  /** The event is past its log's newest checkpoint: the next one is due within MLOG_CHECKPOINT_SECONDS. */
  | 'not-yet-checkpointed'
  /** Something does not hold: the message says what. */
  | 'failed'
  /** The event was registered without the evidence log (before it was on, or with MLOG_EVIDENCE=off). */
  | 'not-logged'
  /** This MLog has no evidence service to ask. */
  | 'unavailable';

export interface DocumentEvidence {
  status: DocumentEvidenceStatus;
  /** One plain-English sentence. */
  message: string;
  hash?: string;
  /** Whether the document as stored hashes to its @hash now. */
  hashHolds?: boolean;
  log?: string;
  position?: number;
  /** What the receipt of its registration promised for it (MLog keeps no receipt; these are its fields). */
  receipt?: { uid: string; id: string; log: string; position: number; hash: string };
  /** The checkpoint the proof was checked against. */
  checkpoint?: { seq: number; size: number; root: string; time: string; kid: string };
  leafHash?: string;
  auditPath?: string[];
}

/** Gives the evidence of a stored event, from its document as stored. */
export interface DocumentEvidenceSource {
  evidenceOf(source: Readonly<Record<string, unknown>>): Promise<DocumentEvidence>;
}
