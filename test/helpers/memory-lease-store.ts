import { setImmediate as tick } from 'node:timers/promises';
import type { LeaseRecord, LeaseStore, StoredLease } from '../../src/jobs/lease-store-type.js';
import type { RecordVersion } from '../../src/systems/system-store-type.js';

/**
 * A LeaseStore with Elasticsearch's conditional-write semantics, yielding to the event loop between
 * a call and its effect so that concurrent acquisitions interleave.
 */
export class MemoryLeaseStore implements LeaseStore {
  private readonly records = new Map<string, StoredLease>();
  private seqNo = 0;

  async read(name: string): Promise<StoredLease | undefined> {
    await tick();
    const stored = this.records.get(name);
    return stored === undefined ? undefined : { lease: { ...stored.lease }, version: { ...stored.version } };
  }

  async create(record: LeaseRecord): Promise<RecordVersion | undefined> {
    await tick();
    if (this.records.has(record.name)) return undefined;
    return this.put(record);
  }

  async replace(record: LeaseRecord, version: RecordVersion): Promise<RecordVersion | undefined> {
    await tick();
    const stored = this.records.get(record.name);
    if (stored === undefined || stored.version.seqNo !== version.seqNo || stored.version.primaryTerm !== version.primaryTerm) return undefined;
    return this.put(record);
  }

  async remove(name: string, version: RecordVersion): Promise<boolean> {
    await tick();
    const stored = this.records.get(name);
    if (stored === undefined || stored.version.seqNo !== version.seqNo || stored.version.primaryTerm !== version.primaryTerm) return false;
    this.records.delete(name);
    return true;
  }

  /** Writes without conditions, as a crashed holder left it. */
  put(record: LeaseRecord): RecordVersion {
    const version = { seqNo: this.seqNo++, primaryTerm: 1 };
    this.records.set(record.name, { lease: { ...record }, version });
    return version;
  }

  current(name = 'retention'): LeaseRecord | undefined {
    return this.records.get(name)?.lease;
  }
}
