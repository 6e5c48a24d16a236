import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireLease, decideLeaseAcquisition, isLeaseExpired, isLeaseRenewalDue, leaseRecord, newLeaseHolder } from '../../src/jobs/lease.js';
import type { LeaseRecord } from '../../src/jobs/lease-store-type.js';
import { MemoryLeaseStore } from '../helpers/memory-lease-store.js';

const TTL = 60_000;
const at = (text: string) => new Date(text);

function lease(fields: Partial<LeaseRecord> = {}): LeaseRecord {
  return { name: 'retention', holder: 'host-a/1/x', run_by: 'scheduler on host-a', acquired_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T00:01:00.000Z', ...fields };
}

describe('lease decisions (pure)', () => {
  test('no lease stored: create one', () => {
    assert.deepEqual(decideLeaseAcquisition(undefined, at('2026-01-01T00:00:30Z')), { action: 'create' });
  });

  test('an unexpired lease is left to its holder, up to the last millisecond', () => {
    const current = lease();
    assert.deepEqual(decideLeaseAcquisition(current, at('2026-01-01T00:00:30Z')), { action: 'wait', current });
    assert.deepEqual(decideLeaseAcquisition(current, at('2026-01-01T00:00:59.999Z')), { action: 'wait', current });
  });

  test('a lease is expired from its expiry instant on, and then taken over', () => {
    const previous = lease();
    assert.deepEqual(decideLeaseAcquisition(previous, at('2026-01-01T00:01:00Z')), { action: 'take-over', previous });
    assert.deepEqual(decideLeaseAcquisition(previous, at('2026-06-01T00:00:00Z')), { action: 'take-over', previous });
  });

  test('an unreadable expiry counts as expired, so a damaged record cannot block the job forever', () => {
    assert.equal(isLeaseExpired(lease({ expires_at: 'soon' }), at('2026-01-01T00:00:00Z')), true);
    assert.equal(decideLeaseAcquisition(lease({ expires_at: '' }), at('2026-01-01T00:00:00Z')).action, 'take-over');
  });

  test('leaseRecord: expiry is now + ttl; a renewal keeps the first acquisition time', () => {
    const now = at('2026-01-01T00:00:00Z');
    assert.deepEqual(leaseRecord({ name: 'retention', holder: 'h', run_by: 'cli by me' }, now, TTL), {
      name: 'retention',
      holder: 'h',
      run_by: 'cli by me',
      acquired_at: '2026-01-01T00:00:00.000Z',
      expires_at: '2026-01-01T00:01:00.000Z',
    });
    const renewed = leaseRecord(lease(), at('2026-01-01T00:00:40Z'), TTL);
    assert.equal(renewed.acquired_at, '2026-01-01T00:00:00.000Z');
    assert.equal(renewed.expires_at, '2026-01-01T00:01:40.000Z');
  });

  test('a renewal is due once a third of the time has passed', () => {
    const current = lease();
    assert.equal(isLeaseRenewalDue(current, at('2026-01-01T00:00:00Z'), TTL), false);
    assert.equal(isLeaseRenewalDue(current, at('2026-01-01T00:00:19.999Z'), TTL), false);
    assert.equal(isLeaseRenewalDue(current, at('2026-01-01T00:00:20Z'), TTL), true);
    assert.equal(isLeaseRenewalDue(current, at('2026-01-01T00:05:00Z'), TTL), true);
    assert.equal(isLeaseRenewalDue(lease({ expires_at: 'x' }), at('2026-01-01T00:00:00Z'), TTL), true);
  });

  test('holder ids are unique per run', () => {
    assert.notEqual(newLeaseHolder(), newLeaseHolder());
  });
});

describe('acquireLease over a conditional store', () => {
  const request = (holder: string, run_by = `run ${holder}`) => ({ name: 'retention', holder, run_by, ttlMs: TTL });

  test('acquires a free lease, refuses it to the next run while held, and frees it on release', async () => {
    const store = new MemoryLeaseStore();
    const clock = () => at('2026-01-01T00:00:00Z');
    const first = await acquireLease(store, request('a'), clock);
    assert.ok(first.acquired);
    assert.equal(store.current()?.holder, 'a');

    const second = await acquireLease(store, request('b'), clock);
    assert.equal(second.acquired, false);
    assert.ok(!second.acquired && second.current.holder === 'a' && second.current.run_by === 'run a');

    assert.equal(await first.lease.release(), true);
    assert.equal(store.current(), undefined);
    assert.ok((await acquireLease(store, request('b'), clock)).acquired);
  });

  test('of runs starting at once, exactly one acquires', async () => {
    const store = new MemoryLeaseStore();
    const clock = () => at('2026-01-01T00:00:00Z');
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((holder) => acquireLease(store, request(holder), clock)));
    const winners = results.filter((result) => result.acquired);
    assert.equal(winners.length, 1);
    const holder = store.current()?.holder;
    for (const result of results) if (!result.acquired) assert.equal(result.current.holder, holder);
  });

  test('a crashed holder’s lease is taken over after expiry, and only then', async () => {
    const store = new MemoryLeaseStore();
    store.put(lease({ holder: 'crashed', expires_at: '2026-01-01T00:01:00.000Z' }));
    const before = await acquireLease(store, request('b'), () => at('2026-01-01T00:00:59.999Z'));
    assert.equal(before.acquired, false);
    const after = await acquireLease(store, request('b'), () => at('2026-01-01T00:01:00Z'));
    assert.ok(after.acquired);
    assert.equal(store.current()?.holder, 'b');
    assert.equal(store.current()?.expires_at, '2026-01-01T00:02:00.000Z');
  });

  test('of runs taking over one expired lease at once, exactly one wins', async () => {
    const store = new MemoryLeaseStore();
    store.put(lease({ holder: 'crashed', expires_at: '2025-01-01T00:00:00.000Z' }));
    const results = await Promise.all(['a', 'b', 'c'].map((holder) => acquireLease(store, request(holder), () => at('2026-01-01T00:00:00Z'))));
    assert.equal(results.filter((result) => result.acquired).length, 1);
  });

  test('renewal extends the lease; a holder whose lease was taken over learns it and cannot release the new one', async () => {
    const store = new MemoryLeaseStore();
    let now = at('2026-01-01T00:00:00Z');
    const clock = () => now;
    const first = await acquireLease(store, request('a'), clock);
    assert.ok(first.acquired);

    now = at('2026-01-01T00:00:10Z');
    assert.equal(await first.lease.renewIfDue(), true);
    assert.equal(store.current()?.expires_at, '2026-01-01T00:01:00.000Z', 'not due yet: unchanged');

    now = at('2026-01-01T00:00:30Z');
    assert.equal(await first.lease.renewIfDue(), true);
    assert.equal(store.current()?.expires_at, '2026-01-01T00:01:30.000Z');
    assert.equal(store.current()?.acquired_at, '2026-01-01T00:00:00.000Z');

    // The holder stalls past expiry; another run takes over.
    now = at('2026-01-01T00:02:00Z');
    const second = await acquireLease(store, request('b'), clock);
    assert.ok(second.acquired);
    assert.equal(await first.lease.renewIfDue(), false);
    assert.equal(await first.lease.release(), false);
    assert.equal(store.current()?.holder, 'b');
    assert.equal(await second.lease.release(), true);
  });
});
