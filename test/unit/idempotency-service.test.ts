import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, StorageUnavailableError, UnprocessableContentError, ValidationError } from '../../src/errors/mlog-error.js';
import {
  bodySha256,
  decideIdempotentCall,
  DEFAULT_IDEMPOTENCY_POLICY,
  idempotencyRecordId,
  IdempotencyService,
  parseIdempotencyKey,
} from '../../src/events/idempotency-service.js';
import type { IdempotencyRecord } from '../../src/events/idempotency-store-type.js';
import type { Registration, RegistrationCall } from '../../src/events/ingest-service.js';
import { createLogger } from '../../src/logging/logger.js';
import type { KnownSystem } from '../../src/systems/system-registry.js';
import { MemoryIdempotencyStore } from '../helpers/memory-idempotency-store.js';

const policy = DEFAULT_IDEMPOTENCY_POLICY;
const DAY = 24 * 60 * 60 * 1000;
const at = (text: string) => new Date(text);

function record(fields: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    system: 'mpass',
    uid: 'uid-1',
    state: 'done',
    holder: 'instance-a',
    body_sha256: 'h1',
    claimed_at: '2026-01-01T00:00:00.000Z',
    received_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:01.000Z',
    events: 1,
    ...fields,
  };
}

describe('Idempotency-Key decisions (pure)', () => {
  test('no record: claim', () => {
    assert.deepEqual(decideIdempotentCall(undefined, 'h1', at('2026-01-01T00:00:00Z'), policy), { action: 'claim' });
  });

  test('done with the same body within 24 hours: replay its UID, up to the last millisecond', () => {
    assert.deepEqual(decideIdempotentCall(record(), 'h1', at('2026-01-01T23:59:59.999Z'), policy), { action: 'replay', uid: 'uid-1' });
  });

  test('24 hours after the claim the key is new again, whatever its state or body', () => {
    for (const state of ['done', 'pending', 'failed'] as const) {
      assert.deepEqual(decideIdempotentCall(record({ state }), 'h2', at('2026-01-02T00:00:00Z'), policy), { action: 'renew' });
    }
    assert.deepEqual(decideIdempotentCall(record({ claimed_at: 'garbage' }), 'h1', at('2026-01-01T00:00:02Z'), policy), { action: 'renew' });
  });

  test('another body under a done or pending key is refused; under a failed one it starts afresh', () => {
    assert.deepEqual(decideIdempotentCall(record(), 'h2', at('2026-01-01T01:00:00Z'), policy), { action: 'different-body' });
    assert.deepEqual(decideIdempotentCall(record({ state: 'pending' }), 'h2', at('2026-01-01T00:00:02Z'), policy), { action: 'different-body' });
    assert.deepEqual(decideIdempotentCall(record({ state: 'failed' }), 'h2', at('2026-01-01T00:00:02Z'), policy), { action: 'renew' });
  });

  test('pending: in progress until stale (3 minutes without news), then taken over', () => {
    const pending = record({ state: 'pending', updated_at: '2026-01-01T00:00:00.000Z' });
    assert.deepEqual(decideIdempotentCall(pending, 'h1', at('2026-01-01T00:02:59.999Z'), policy), { action: 'in-progress' });
    assert.deepEqual(decideIdempotentCall(pending, 'h1', at('2026-01-01T00:03:00Z'), policy), { action: 'take-over' });
  });

  test('failed: renewed at once with a new UID, never taken over with its own (a late compensating delete must find nothing of the retry)', () => {
    assert.deepEqual(decideIdempotentCall(record({ state: 'failed' }), 'h1', at('2026-01-01T00:00:02Z'), policy), { action: 'renew' });
    assert.deepEqual(decideIdempotentCall(record({ state: 'failed', updated_at: '2025-12-31T23:00:00.000Z' }), 'h1', at('2026-01-01T00:00:02Z'), policy), { action: 'renew' });
  });

  test('keys: 1 to 255 visible ASCII characters, else a 400 naming the header', () => {
    assert.equal(parseIdempotencyKey(undefined), undefined);
    for (const good of ['a', 'x'.repeat(255), '4f0c7f3e-1b1a-4c39-9a57-6c3f1f0b9d2e', '!~"#$%&()*+,-./:;<=>?@[]^_`{|}']) assert.equal(parseIdempotencyKey(good), good);
    for (const bad of ['', ' ', 'a b', 'x'.repeat(256), 'ключ', 'tab\there', 'nul\u0000']) {
      assert.throws(() => parseIdempotencyKey(bad), (error: unknown) => error instanceof ValidationError && /Idempotency-Key/.test(error.message), JSON.stringify(bad));
    }
  });

  test('record ids are scoped to the IS and do not hold the key', () => {
    assert.notEqual(idempotencyRecordId('mpass', 'k'), idempotencyRecordId('mpay', 'k'));
    assert.notEqual(idempotencyRecordId('a', 'b\nc'), idempotencyRecordId('a\nb', 'c'));
    assert.match(idempotencyRecordId('mpass', 'secret-key'), /^[0-9a-f]{64}$/);
  });
});

// ---------------------------------------------------------------------------------------------------

const caller = { system: { code: 'mpass' } } as unknown as KnownSystem;

/** A fake ingest: records the UIDs it stored under (a set, like create-semantics ids), fails on demand. */
class FakeIngest {
  readonly stored: { uid: string; receivedAt: string }[] = [];
  failWith: Error | undefined;

  async register(call: RegistrationCall): Promise<Registration> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.failWith !== undefined) throw this.failWith;
    const uid = call.uid ?? 'random';
    if (!this.stored.some((entry) => entry.uid === uid)) this.stored.push({ uid, receivedAt: call.receivedAt.toISOString() });
    return { uid, events: 1, signed: 0 };
  }
}

function setUp(now = () => new Date()) {
  const ingest = new FakeIngest();
  const store = new MemoryIdempotencyStore();
  const service = new IdempotencyService(ingest, store, createLogger('error', true), policy, now);
  const call = (body: string): RegistrationCall => ({ caller, body: Buffer.from(body), receivedAt: new Date() });
  return { ingest, store, service, call };
}

describe('IdempotencyService', () => {
  test('the same key twice: one registration, the same UID, the second marked replayed', async () => {
    const { ingest, service, call } = setUp();
    const first = await service.register(call('{"a":1}'), 'k1');
    const second = await service.register(call('{"a":1}'), 'k1');
    assert.equal(first.replayed, false);
    assert.deepEqual(second, { uid: first.uid, events: 1, replayed: true });
    assert.equal(ingest.stored.length, 1);
  });

  test('10 concurrent calls with one key: exactly one registers; the others replay or hear 409 with Retry-After', async () => {
    const { ingest, service, call } = setUp();
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => service.register(call('{"a":1}'), 'k1')));
    assert.equal(ingest.stored.length, 1);
    const uids = new Set<string>();
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') uids.add(outcome.value.uid);
      else assert.ok(outcome.reason instanceof ConflictError && outcome.reason.retryAfterSeconds === 1, String(outcome.reason));
    }
    assert.equal(uids.size, 1);
  });

  test('a refused first call (4xx) frees the key for a corrected retry', async () => {
    const { ingest, store, service, call } = setUp();
    ingest.failWith = new ValidationError('Line 1: event_time is missing.');
    await assert.rejects(service.register(call('bad'), 'k1'), ValidationError);
    assert.equal(store.records.size, 0);
    ingest.failWith = undefined;
    const retry = await service.register(call('good'), 'k1');
    assert.equal(retry.replayed, false);
    assert.equal(ingest.stored.length, 1);
  });

  test('a first call that failed on MLog\'s side (503): the retry registers once, under a new UID, so no late delete of the failed call\'s ids can meet it', async () => {
    const { ingest, store, service, call } = setUp();
    ingest.failWith = new StorageUnavailableError('Elasticsearch is unavailable.');
    await assert.rejects(service.register(call('{"a":1}'), 'k1'), StorageUnavailableError);
    const failed = [...store.records.values()][0]?.record;
    assert.equal(failed?.state, 'failed');
    ingest.failWith = undefined;
    const retryAt = new Date(Date.now() + 5_000);
    const retry = await service.register({ ...call('{"a":1}'), receivedAt: retryAt }, 'k1');
    assert.equal(retry.replayed, false);
    assert.notEqual(retry.uid, failed?.uid);
    assert.deepEqual(ingest.stored, [{ uid: retry.uid, receivedAt: retryAt.toISOString() }]);
    const replay = await service.register(call('{"a":1}'), 'k1');
    assert.deepEqual([replay.uid, replay.replayed], [retry.uid, true], 'a third call replays the retry\'s UID');
  });

  test('a release Elasticsearch cannot take at first is tried again until it is, so the retry is not told "in progress" for minutes', async () => {
    const { ingest, store, service, call } = setUp();
    const replace = store.replace.bind(store);
    let refusals = 2;
    store.replace = async (id, record, version) => {
      if (record.state === 'failed' && refusals-- > 0) throw new StorageUnavailableError('Elasticsearch is unavailable.');
      return replace(id, record, version);
    };
    ingest.failWith = new StorageUnavailableError('Elasticsearch is unavailable.');
    await assert.rejects(service.register(call('{"a":1}'), 'k1'), StorageUnavailableError);
    assert.equal([...store.records.values()][0]?.record.state, 'pending', 'the release was refused: still pending');
    const started = Date.now();
    while ([...store.records.values()][0]?.record.state !== 'failed' && Date.now() - started < 5_000) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal([...store.records.values()][0]?.record.state, 'failed', 'released by the background retries');
    assert.equal(refusals, -1, 'tried until acknowledged');
    const failedUid = [...store.records.values()][0]?.record.uid;
    ingest.failWith = undefined;
    const retry = await service.register(call('{"a":1}'), 'k1');
    assert.equal(retry.replayed, false, 'the retry registers at once instead of hearing 409');
    assert.notEqual(retry.uid, failedUid, 'under a new UID: a late delete of the failed call cannot meet it');
  });

  for (const [label, appliedAfterMs] of [['at once', 0], ['after the call has failed', 700]] as const) {
    test(`a claim whose write went unanswered but was applied ${label} is marked failed in the background: the retry registers under a new UID instead of hearing 409 for minutes`, async () => {
      const { ingest, store, service, call } = setUp();
      const create = store.create.bind(store);
      let claimed: IdempotencyRecord | undefined;
      store.create = async (id, record) => {
        claimed = record;
        if (appliedAfterMs === 0) await create(id, record);
        else setTimeout(() => void create(id, record), appliedAfterMs);
        throw new StorageUnavailableError('Elasticsearch is unavailable.');
      };
      await assert.rejects(service.register(call('{"a":1}'), 'k1'), StorageUnavailableError);
      store.create = create;
      const started = Date.now();
      while ([...store.records.values()][0]?.record.state !== 'failed' && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal([...store.records.values()][0]?.record.state, 'failed', 'the late claim is marked failed');
      const retry = await service.register(call('{"a":1}'), 'k1');
      assert.equal(retry.replayed, false);
      assert.notEqual(retry.uid, claimed?.uid);
      assert.deepEqual(ingest.stored.map((entry) => entry.uid), [retry.uid]);
    });
  }

  test('an unanswered claim write is never turned into a failure of another call\'s claim', async () => {
    const { store, service, call } = setUp();
    const create = store.create.bind(store);
    store.create = async () => {
      throw new StorageUnavailableError('Elasticsearch is unavailable.');
    };
    await assert.rejects(service.register(call('{"a":1}'), 'k1'), StorageUnavailableError);
    const id = idempotencyRecordId('mpass', 'k1');
    const other = record({ state: 'pending', uid: 'other-call', holder: 'instance-b', updated_at: new Date().toISOString() });
    await create(id, other);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.deepEqual([store.records.get(id)?.record.state, store.records.get(id)?.record.uid], ['pending', 'other-call']);
  });

  test('a claim applied twice (sent again after a broken connection) whose second answer is a conflict is still held by its call', async () => {
    const { ingest, store, service, call } = setUp();
    const create = store.create.bind(store);
    store.create = async (id, record) => {
      await create(id, record); // applied …
      return create(id, record); // … and applied again: "exists"
    };
    const first = await service.register(call('{"a":1}'), 'k1');
    assert.equal(first.replayed, false);
    assert.equal(ingest.stored.length, 1, 'registered, not told "in progress" by its own claim');
    assert.equal([...store.records.values()][0]?.record.state, 'done');
  });

  test('a claim left pending by a crash is taken over after it went stale, with the same UID', async () => {
    let now = at('2026-01-01T00:00:00Z');
    const { ingest, store, service, call } = setUp(() => now);
    const id = idempotencyRecordId('mpass', 'k1');
    const body = '{"a":1}';
    await store.create(id, record({ state: 'pending', uid: 'crashed-uid', body_sha256: bodySha256(Buffer.from(body)), updated_at: now.toISOString() }));
    await assert.rejects(service.register(call(body), 'k1'), ConflictError);
    now = new Date(now.getTime() + policy.staleAfterMs);
    const retry = await service.register(call(body), 'k1');
    assert.equal(retry.uid, 'crashed-uid');
    assert.equal((await store.read(id))?.record.state, 'done');
    assert.equal(ingest.stored[0]?.receivedAt, '2026-01-01T00:00:00.000Z', 'the first attempt\'s instant, so the same monthly index');
  });

  test('the same key with another body is refused with 422 and stores nothing', async () => {
    const { ingest, service, call } = setUp();
    await service.register(call('{"a":1}'), 'k1');
    await assert.rejects(service.register(call('{"a":2}'), 'k1'), (error: unknown) => error instanceof UnprocessableContentError && /different body/.test(error.message));
    assert.equal(ingest.stored.length, 1);
  });

  test('after 24 hours the key is new: a new UID; purgeExpired deletes the old records', async () => {
    let now = at('2026-01-01T00:00:00Z');
    const { store, service, call } = setUp(() => now);
    const first = await service.register(call('{"a":1}'), 'k1');
    await service.register(call('{"a":1}'), 'k2');
    now = new Date(now.getTime() + DAY);
    const later = await service.register(call('{"a":1}'), 'k1');
    assert.notEqual(later.uid, first.uid);
    assert.equal(later.replayed, false);
    assert.equal(await service.purgeExpired(new Date(now.getTime() + 1)), 1, 'only k2 is past its window');
    assert.equal(store.records.size, 1);
  });
});
