import type { ConditionalLeaseStore, StoredLease } from '../jobs/lease-store-type.js';
import type { JsonObject } from '../json/json-object-parser.js';

/**
 * The lease of one evidence log (docs/evidence.md, "A process that crashed: sealing its log"). Its
 * process renews it on the checkpoint schedule while it lives (`live`); an instance that finds it
 * lapsed takes it over (`sealing`) with a write conditional on the version it read, so exactly one
 * instance seals a log, and a log whose process renewed meanwhile is left alone.
 */
export interface LogLease {
  log: string;
  state: 'live' | 'sealing';
  /** The log of the process holding the lease: the log's own for `live`, the sealer's for `sealing`. */
  holder: string;
  /** Who holds it, for people: "MLog on <host>, pid <n>". */
  run_by: string;
  /**
   * The kid of the signing key of the process that wrote the lease. Only an instance signing with the
   * same key (the same deployment) seals the log: a checkpoint signed with another key would not verify
   * where the deployment's key is trusted.
   */
  kid: string;
  acquired_at: string;
  /** ISO instant after which the lease has lapsed and another instance may take it over. */
  expires_at: string;
}

export type StoredLogLease = StoredLease<LogLease>;

/** A stored event of one evidence log, as sealing reads it back: what its leaf names, and the document. */
export interface LoggedEvent {
  /** The document id (the leaf's `id`). */
  id: string;
  /** The IS and month of the event index holding it (mlog-<is>-<yyyy.MM>). */
  is: string;
  month: string;
  position: number;
  /** Its stored `@hash` ("" when it has none). */
  hash: string;
  /** The document as stored. */
  source: JsonObject;
}

/**
 * The leases of the evidence logs (in mlog_leases, document id `evidence-log:<log>`; read, create,
 * replace and remove by log, each write conditional as for every lease) and the reading of a log's
 * events back from the event indices.
 */
export interface LogLeaseStore extends ConditionalLeaseStore<LogLease> {
  /**
   * Leases written with the signing key `kid` whose expiry is before `now`, oldest expiry first, at
   * most `limit`; lapsed leases of other keys (another deployment on the same cluster) are read past,
   * however many there are before them.
   */
  lapsed(now: Date, limit: number, kid: string): Promise<StoredLogLease[]>;
  /** The stored events of `log` at positions ≥ `from`, in position order, handed over a page at a time (every event index, refreshed first). */
  eventsOfLog(log: string, from: number, each: (events: LoggedEvent[]) => void): Promise<void>;
}
