/**
 * The idempotency-purge job of a real MLog, on the real Elasticsearch MLog is provisioned with (which
 * has no _delete_by_query): records whose 24 hours have passed are deleted, live keys stay and still
 * answer their first UID.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { IDEMPOTENCY_INDEX } from '../../src/storage/index-names.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, type TestSystem } from '../helpers/test-mlog.js';

const HOUR = 60 * 60 * 1000;

/** A record as an earlier call, claimed `ageMs` ago, would have left it. */
function record(system: string, ageMs: number): Record<string, unknown> {
  const at = new Date(Date.now() - ageMs).toISOString();
  return { system, uid: randomUUID(), state: 'done', holder: 'earlier/1/test', body_sha256: '0'.repeat(64), claimed_at: at, received_at: at, updated_at: at, events: 1 };
}

function recordId(): string {
  return createHash('sha256').update(randomUUID()).digest('hex');
}

async function storedIds(system: string): Promise<Set<string>> {
  const client = inspectionClient();
  await client.indices.refresh({ index: IDEMPOTENCY_INDEX });
  const found = await client.search({ index: IDEMPOTENCY_INDEX, query: { term: { system } }, size: 10_000, _source: false });
  return new Set(found.hits.hits.map((hit) => hit._id as string));
}

describe('the idempotency-purge job', () => {
  let mlog: TestMLog;
  let is: TestSystem;
  before(async () => {
    mlog = await TestMLog.start();
    is = await mlog.addSystem();
  });
  after(async () => {
    await mlog?.stop();
    await closeInspectionClient();
  });

  test('deletes the keys older than 24 hours (more than one bulk of them) and keeps the live ones', async () => {
    const expired = Array.from({ length: 2_300 }, () => ({ id: recordId(), source: record(is.code, 25 * HOUR + Math.floor(Math.random() * 48 * HOUR)) }));
    const live = Array.from({ length: 5 }, () => ({ id: recordId(), source: record(is.code, 23 * HOUR) }));
    const written = await inspectionClient().bulk({
      refresh: true,
      operations: [...expired, ...live].flatMap(({ id, source }) => [{ create: { _index: IDEMPOTENCY_INDEX, _id: id } }, source]),
    });
    assert.equal(written.errors, false);

    const key = randomUUID();
    const body = JSON.stringify(event({ event_correlation: `purge-${key}` }));
    const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': key };
    const first = await is.register(body, { headers });
    assert.equal(first.status, 200, first.text);
    assert.equal((await storedIds(is.code)).size, expired.length + live.length + 1);

    const purge = mlog.mlog.jobs.find((job) => job.name === 'idempotency-purge');
    assert.ok(purge !== undefined, 'the purge job is scheduled by default');
    assert.equal(await purge.runNow(), 'ran');

    const left = await storedIds(is.code);
    assert.equal(expired.filter(({ id }) => left.has(id)).length, 0, 'every expired key is deleted');
    for (const { id } of live) assert.ok(left.has(id), 'a key claimed 23 hours ago stays');
    assert.equal(left.size, live.length + 1, 'the key just used stays');

    const again = await is.register(body, { headers });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.UID, first.json.UID, 'a live key still answers its first UID');
    assert.equal(again.headers['idempotent-replayed'], 'true');
  });

  test('MLOG_IDEMPOTENCY_PURGE_SCHEDULE=off schedules no purge', async () => {
    const quiet = await TestMLog.start({ MLOG_IDEMPOTENCY_PURGE_SCHEDULE: 'off' });
    try {
      assert.equal(quiet.mlog.jobs.find((job) => job.name === 'idempotency-purge'), undefined);
    } finally {
      await quiet.stop();
    }
  });
});
