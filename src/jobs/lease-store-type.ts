import type { RecordVersion } from '../systems/system-store-type.js';

/** A lease as stored: who holds a shared job, and until when. */
export interface LeaseRecord {
  /** The job the lease is for, e.g. "retention"; also the document id. */
  name: string;
  /** Unique id of the run that holds it (host, process, random part). */
  holder: string;
  /** Who or what runs it, for people: "scheduler on <host>", "cli by <user>". */
  run_by: string;
  acquired_at: string;
  /** ISO instant after which another run may take the lease over. */
  expires_at: string;
}

/** A lease as read, with the version a conditional write of it is made against. */
export interface StoredLease<Lease = LeaseRecord> {
  lease: Lease;
  version: RecordVersion;
}

/**
 * Where leases live (mlog_leases); shared by every MLog instance on the cluster. Every write is
 * conditional, so two instances racing for one lease cannot both win: create() only when none exists,
 * replace() and remove() only when the record is still at the version the caller read. `key` names
 * the lease (a job's name, an evidence log).
 */
export interface ConditionalLeaseStore<Lease> {
  read(key: string): Promise<StoredLease<Lease> | undefined>;
  /** Stores a lease that does not exist yet; undefined when one already exists. */
  create(lease: Lease): Promise<RecordVersion | undefined>;
  /** Replaces the lease read at `version`; undefined when it changed or vanished meanwhile. */
  replace(lease: Lease, version: RecordVersion): Promise<RecordVersion | undefined>;
  /** Deletes the lease if it is still at `version`; false when it changed or is gone. */
  remove(key: string, version: RecordVersion): Promise<boolean>;
}

/** The leases of shared jobs (retention, alerts), one per job name. */
export type LeaseStore = ConditionalLeaseStore<LeaseRecord>;
