import type { IdempotencyRecord, IdempotencyStore, StoredIdempotencyRecord } from '../../src/events/idempotency-store-type.js';
import type { RecordVersion } from '../../src/systems/system-store-type.js';

/** An IdempotencyStore in memory with the same conditional-write semantics as Elasticsearch; each call yields first, so calls interleave. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<string, StoredIdempotencyRecord>();
  private seqNo = 0;

  private async tick(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  private next(): RecordVersion {
    return { seqNo: ++this.seqNo, primaryTerm: 1 };
  }

  private same(a: RecordVersion, b: RecordVersion): boolean {
    return a.seqNo === b.seqNo && a.primaryTerm === b.primaryTerm;
  }

  async read(id: string): Promise<StoredIdempotencyRecord | undefined> {
    await this.tick();
    const stored = this.records.get(id);
    return stored === undefined ? undefined : { record: { ...stored.record }, version: stored.version };
  }

  async create(id: string, record: IdempotencyRecord): Promise<RecordVersion | undefined> {
    await this.tick();
    if (this.records.has(id)) return undefined;
    const version = this.next();
    this.records.set(id, { record: { ...record }, version });
    return version;
  }

  async replace(id: string, record: IdempotencyRecord, version: RecordVersion): Promise<RecordVersion | undefined> {
    await this.tick();
    const stored = this.records.get(id);
    if (stored === undefined || !this.same(stored.version, version)) return undefined;
    const next = this.next();
    this.records.set(id, { record: { ...record }, version: next });
    return next;
  }

  async remove(id: string, version: RecordVersion): Promise<boolean> {
    await this.tick();
    const stored = this.records.get(id);
    if (stored === undefined || !this.same(stored.version, version)) return false;
    this.records.delete(id);
    return true;
  }

  async removeClaimedBefore(before: Date, signal?: AbortSignal): Promise<number> {
    await this.tick();
    let deleted = 0;
    for (const [id, stored] of this.records) {
      if (signal?.aborted === true) break;
      if (Date.parse(stored.record.claimed_at) < before.getTime()) {
        this.records.delete(id);
        deleted++;
      }
    }
    return deleted;
  }
}
