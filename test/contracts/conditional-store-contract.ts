/**
 * The promises of MLog's conditional stores, as their interfaces state them, written once and run
 * against every implementation: a test file calls idempotencyStoreContract, leaseStoreContract or
 * conditionalLeaseStoreContract with a factory that returns a fresh store (the in-memory stores of
 * the unit tests, the
 * Elasticsearch stores on a real cluster). Ids are random per test, so a store shared with other
 * tests (one Elasticsearch index) holds no record of another test under the same id.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IdempotencyRecord, IdempotencyStore } from '../../src/events/idempotency-store-type.js';
import { acquireLease } from '../../src/jobs/lease.js';
import type { ConditionalLeaseStore, LeaseRecord, LeaseStore } from '../../src/jobs/lease-store-type.js';
import type { RecordVersion } from '../../src/systems/system-store-type.js';

type Factory<S> = () => S | Promise<S>;

/** The conditional writes both stores promise, over one record shape. */
interface ConditionalRecords<R> {
  read(id: string): Promise<{ record: R; version: RecordVersion } | undefined>;
  create(id: string, record: R): Promise<RecordVersion | undefined>;
  replace(id: string, record: R, version: RecordVersion): Promise<RecordVersion | undefined>;
  remove(id: string, version: RecordVersion): Promise<boolean>;
}

function sameVersion(a: RecordVersion, b: RecordVersion): boolean {
  return a.seqNo === b.seqNo && a.primaryTerm === b.primaryTerm;
}

/**
 * create only when absent; replace and remove only at the version read (both parts of it); reads
 * see every acknowledged write at once; of writers racing from one read, exactly one wins.
 * `sample(id, n)` is the n-th distinct record for `id`.
 */
function conditionalRecordsContract<R>(open: () => Promise<ConditionalRecords<R>>, sample: (id: string, n: number) => R): void {
  const newId = () => `contract-${randomUUID()}`;

  test('read of an id never written: undefined', async () => {
    const store = await open();
    assert.equal(await store.read(newId()), undefined);
  });

  test('create of an absent id stores the record as given; a read right after sees it at the version create returned', async () => {
    const store = await open();
    const id = newId();
    const version = await store.create(id, sample(id, 1));
    assert.ok(version !== undefined, 'create of an absent id succeeds');
    const read = await store.read(id);
    assert.ok(read !== undefined, 'the record is read back at once, without a refresh');
    assert.deepEqual(read.record, sample(id, 1));
    assert.ok(sameVersion(read.version, version), `read version ${JSON.stringify(read.version)} is the created ${JSON.stringify(version)}`);
  });

  test('create of an id that exists: undefined, and the stored record is unchanged', async () => {
    const store = await open();
    const id = newId();
    const version = await store.create(id, sample(id, 1));
    assert.ok(version !== undefined);
    assert.equal(await store.create(id, sample(id, 2)), undefined);
    const read = await store.read(id);
    assert.deepEqual(read?.record, sample(id, 1));
    assert.ok(read !== undefined && sameVersion(read.version, version));
  });

  test('replace at the version read: a new version, and the new record is read back at it', async () => {
    const store = await open();
    const id = newId();
    const first = await store.create(id, sample(id, 1));
    assert.ok(first !== undefined);
    const second = await store.replace(id, sample(id, 2), first);
    assert.ok(second !== undefined, 'replace at the current version succeeds');
    assert.ok(!sameVersion(second, first), 'the version changes with every write');
    const read = await store.read(id);
    assert.deepEqual(read?.record, sample(id, 2));
    assert.ok(read !== undefined && sameVersion(read.version, second));
  });

  test('replace at a version that is no longer current: undefined, and the record is unchanged', async () => {
    const store = await open();
    const id = newId();
    const first = await store.create(id, sample(id, 1));
    assert.ok(first !== undefined);
    const second = await store.replace(id, sample(id, 2), first);
    assert.ok(second !== undefined);
    assert.equal(await store.replace(id, sample(id, 3), first), undefined, 'the stale version is refused');
    assert.equal(await store.replace(id, sample(id, 3), { seqNo: second.seqNo, primaryTerm: second.primaryTerm + 1 }), undefined, 'another primary term is another version');
    const read = await store.read(id);
    assert.deepEqual(read?.record, sample(id, 2));
    assert.ok(read !== undefined && sameVersion(read.version, second));
  });

  test('replace of a record that vanished meanwhile: undefined, and nothing is written back', async () => {
    const store = await open();
    const id = newId();
    const version = await store.create(id, sample(id, 1));
    assert.ok(version !== undefined);
    assert.equal(await store.remove(id, version), true);
    assert.equal(await store.replace(id, sample(id, 2), version), undefined);
    assert.equal(await store.read(id), undefined, 'a refused replace does not create the record');
  });

  test('remove at the version read: true, and the record is gone; a second remove: false', async () => {
    const store = await open();
    const id = newId();
    const version = await store.create(id, sample(id, 1));
    assert.ok(version !== undefined);
    assert.equal(await store.remove(id, version), true);
    assert.equal(await store.read(id), undefined);
    assert.equal(await store.remove(id, version), false);
  });

  test('remove at a version that is no longer current (either part): false, and the record stays', async () => {
    const store = await open();
    const id = newId();
    const first = await store.create(id, sample(id, 1));
    assert.ok(first !== undefined);
    const second = await store.replace(id, sample(id, 2), first);
    assert.ok(second !== undefined);
    assert.equal(await store.remove(id, first), false, 'the stale version is refused');
    assert.equal(await store.remove(id, { seqNo: second.seqNo, primaryTerm: second.primaryTerm + 1 }), false, 'another primary term is another version');
    assert.deepEqual((await store.read(id))?.record, sample(id, 2));
  });

  test('remove of an id never written: false', async () => {
    const store = await open();
    assert.equal(await store.remove(newId(), { seqNo: 0, primaryTerm: 1 }), false);
  });

  test('a record removed and created again has a new version: the old one neither replaces nor removes it', async () => {
    const store = await open();
    const id = newId();
    const old = await store.create(id, sample(id, 1));
    assert.ok(old !== undefined);
    assert.equal(await store.remove(id, old), true);
    const fresh = await store.create(id, sample(id, 2));
    assert.ok(fresh !== undefined, 'the id is free again after remove');
    assert.ok(!sameVersion(fresh, old));
    assert.equal(await store.replace(id, sample(id, 3), old), undefined);
    assert.equal(await store.remove(id, old), false);
    assert.deepEqual((await store.read(id))?.record, sample(id, 2));
  });

  test('of 8 creates of one id at once, exactly one succeeds, and its record is the one stored', async () => {
    const store = await open();
    const id = newId();
    const versions = await Promise.all(Array.from({ length: 8 }, (_, n) => store.create(id, sample(id, n + 1))));
    const winners = versions.flatMap((version, n) => (version === undefined ? [] : [{ version, n }]));
    assert.equal(winners.length, 1, `creates that succeeded: ${winners.length}`);
    const read = await store.read(id);
    assert.deepEqual(read?.record, sample(id, (winners[0]?.n ?? 0) + 1));
  });

  test('of 8 replaces from one read at once, exactly one succeeds, and its record is the one stored', async () => {
    const store = await open();
    const id = newId();
    const version = await store.create(id, sample(id, 1));
    assert.ok(version !== undefined);
    const results = await Promise.all(Array.from({ length: 8 }, (_, n) => store.replace(id, sample(id, n + 2), version)));
    const winners = results.flatMap((result, n) => (result === undefined ? [] : [{ result, n }]));
    assert.equal(winners.length, 1, `replaces that succeeded: ${winners.length}`);
    const read = await store.read(id);
    assert.deepEqual(read?.record, sample(id, (winners[0]?.n ?? 0) + 2));
    assert.ok(read !== undefined && winners[0] !== undefined && sameVersion(read.version, winners[0].result));
  });

  test('of 8 removes from one read at once, exactly one succeeds', async () => {
    const store = await open();
    const id = newId();
    const version = await store.create(id, sample(id, 1));
    assert.ok(version !== undefined);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.remove(id, version)));
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await store.read(id), undefined);
  });
}

const DAY = 24 * 60 * 60 * 1000;

function idempotencyRecord(n: number, claimedAt: Date, fields: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  const claimed = claimedAt.toISOString();
  const record: IdempotencyRecord = {
    system: 'contract-is',
    uid: `uid-${n}`,
    state: n % 3 === 0 ? 'done' : n % 3 === 1 ? 'pending' : 'failed',
    holder: `instance-${n}`,
    body_sha256: String(n).padStart(64, '0'),
    claimed_at: claimed,
    received_at: claimed,
    updated_at: new Date(claimedAt.getTime() + n).toISOString(),
    ...fields,
  };
  if (n % 3 === 0) record.events = n;
  return record;
}

/** The promises of IdempotencyStore (src/events/idempotency-store-type.ts) for the store `factory` returns. */
export function idempotencyStoreContract(name: string, factory: Factory<IdempotencyStore>): void {
  describe(`${name} keeps the promises of an IdempotencyStore`, () => {
    const now = new Date();
    conditionalRecordsContract<IdempotencyRecord>(
      async () => {
        const store = await factory();
        return {
          read: async (id) => {
            const stored = await store.read(id);
            return stored === undefined ? undefined : { record: stored.record, version: stored.version };
          },
          create: (id, record) => store.create(id, record),
          replace: (id, record, version) => store.replace(id, record, version),
          remove: (id, version) => store.remove(id, version),
        };
      },
      (_id, n) => idempotencyRecord(n, now),
    );

    // removeClaimedBefore deletes across the whole store: these records are claimed in 1971, so the
    // cutoff reaches no record of any other test sharing the store; what an interrupted earlier run
    // left there is cleared first.
    const CUTOFF = new Date('1971-06-01T00:00:00.000Z');
    const clearEarlierRuns = (store: IdempotencyStore) => store.removeClaimedBefore(new Date('1972-01-01T00:00:00.000Z'));

    test('removeClaimedBefore deletes every record claimed before the instant (more than one batch of them), keeps the rest, and says how many', async () => {
      const store = await factory();
      await clearEarlierRuns(store);
      const cutoff = CUTOFF;
      const expired = Array.from({ length: 7 }, (_, n) => ({ id: `contract-${randomUUID()}`, record: idempotencyRecord(n, new Date(cutoff.getTime() - (n + 1) * 60_000)) }));
      const kept = [
        { id: `contract-${randomUUID()}`, record: idempotencyRecord(20, cutoff) },
        { id: `contract-${randomUUID()}`, record: idempotencyRecord(21, new Date(cutoff.getTime() + 1)) },
      ];
      for (const { id, record } of [...expired, ...kept]) assert.ok((await store.create(id, record)) !== undefined);
      assert.equal(await store.removeClaimedBefore(cutoff), expired.length);
      for (const { id } of expired) assert.equal(await store.read(id), undefined, 'an expired record is gone');
      for (const { id, record } of kept) assert.deepEqual((await store.read(id))?.record, record, 'a record claimed at or after the instant stays');
      assert.equal(await store.removeClaimedBefore(cutoff), 0, 'nothing is left to delete');
    });

    test('removeClaimedBefore with a signal already aborted deletes nothing', async () => {
      const store = await factory();
      await clearEarlierRuns(store);
      const cutoff = CUTOFF;
      const id = `contract-${randomUUID()}`;
      const record = idempotencyRecord(3, new Date(cutoff.getTime() - DAY));
      assert.ok((await store.create(id, record)) !== undefined);
      assert.equal(await store.removeClaimedBefore(cutoff, AbortSignal.abort()), 0);
      assert.deepEqual((await store.read(id))?.record, record);
      assert.equal(await store.removeClaimedBefore(cutoff), 1);
    });
  });
}

function leaseOf(name: string, n: number): LeaseRecord {
  const acquired = new Date(Date.UTC(2026, 0, 1, 0, n));
  return {
    name,
    holder: `host-${n}/1/${name}`,
    run_by: `scheduler on host-${n}`,
    acquired_at: acquired.toISOString(),
    expires_at: new Date(acquired.getTime() + 60_000).toISOString(),
  };
}

/** The conditional writes every lease store promises (ConditionalLeaseStore, src/jobs/lease-store-type.ts); `sample(key, n)` is the n-th distinct lease named `key`. */
export function conditionalLeaseStoreContract<Lease>(factory: Factory<ConditionalLeaseStore<Lease>>, sample: (key: string, n: number) => Lease): void {
  conditionalRecordsContract<Lease>(async () => {
    const store = await factory();
    return {
      read: async (id) => {
        const stored = await store.read(id);
        return stored === undefined ? undefined : { record: stored.lease, version: stored.version };
      },
      create: (_id, record) => store.create(record),
      replace: (_id, record, version) => store.replace(record, version),
      remove: (id, version) => store.remove(id, version),
    };
  }, sample);
}

/** The promises of LeaseStore (src/jobs/lease-store-type.ts) for the store `factory` returns, and the lease built on them. */
export function leaseStoreContract(name: string, factory: Factory<LeaseStore>): void {
  describe(`${name} keeps the promises of a LeaseStore`, () => {
    conditionalLeaseStoreContract(factory, leaseOf);

    const TTL = 60_000;
    const request = (lease: string, holder: string) => ({ name: lease, holder, run_by: `run ${holder}`, ttlMs: TTL });
    const at = (text: string) => () => new Date(text);

    test('a lease is held until it expires, then taken over by exactly one of the runs that want it', async () => {
      const store = await factory();
      const lease = `contract-${randomUUID()}`;
      let now = new Date('2026-01-01T00:00:00Z');
      const first = await acquireLease(store, request(lease, 'a'), () => now);
      assert.ok(first.acquired);
      const early = await acquireLease(store, request(lease, 'b'), at('2026-01-01T00:00:59.999Z'));
      assert.ok(!early.acquired && early.current.holder === 'a', 'held until its expiry');
      const late = await Promise.all(['b', 'c', 'd', 'e'].map((holder) => acquireLease(store, request(lease, holder), at('2026-01-01T00:01:00Z'))));
      const winners = late.filter((result) => result.acquired);
      assert.equal(winners.length, 1, 'exactly one run takes an expired lease over');
      const holder = (await store.read(lease))?.lease.holder;
      for (const result of late) if (!result.acquired) assert.equal(result.current.holder, holder);
      now = new Date('2026-01-01T00:01:00Z');
      assert.equal(await first.lease.renewIfDue(), false, 'the former holder learns it lost the lease');
      assert.equal(await first.lease.release(), false, 'and cannot release the new holder’s lease');
      assert.equal((await store.read(lease))?.lease.holder, holder);
      const winner = winners[0];
      assert.ok(winner?.acquired);
      assert.equal(await winner.lease.release(), true);
      assert.equal(await store.read(lease), undefined, 'a released lease is free');
    });
  });
}
