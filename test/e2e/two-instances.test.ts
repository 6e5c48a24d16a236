/**
 * Two MLog instances on one Elasticsearch (one cluster, or one node), as behind a TCP load balancer:
 * they share the registry, the record, the Idempotency-Keys and the retention lease, so a system may
 * reach either and get the same answers.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { LEASES_INDEX } from '../../src/storage/index-names.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, type HttpAnswer } from '../helpers/test-mlog.js';

function uidOf(answer: HttpAnswer): string {
  assert.equal(answer.status, 200, answer.text);
  return answer.json.UID as string;
}

/** The query of events correlated by `mark`, registered within the last hour. */
function byCorrelation(mark: string): string {
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  return `/query?event_time_from=${encodeURIComponent(from)}&event_time_to=${encodeURIComponent(to)}&legal_basis=Test&legal_reason=Test&event_correlation=${mark}`;
}

function resultOf(answer: HttpAnswer): Record<string, unknown>[] {
  assert.equal(answer.status, 200, answer.text);
  // Only the test's own events: each query is itself recorded as an event of the system.
  return (answer.json.result as Record<string, unknown>[]).filter((found) => found.event_type === 'Test.Event');
}

describe('two MLog instances on one Elasticsearch', () => {
  let first: TestMLog;
  let second: TestMLog;
  // Far in the future: the retention job exists on both instances, runs only when asked.
  // The registry read afresh by every call: a system added through one instance is known to the other at once (not after MLOG_REGISTRY_CACHE_SECONDS).
  const retention = { MLOG_RETENTION_SCHEDULE: '0 0 1 1 *', MLOG_REGISTRY_CACHE_SECONDS: '0' };

  before(async () => {
    first = await TestMLog.start(retention);
    second = await TestMLog.start(retention, { sameCaAs: first });
  });

  after(async () => {
    await second?.stop();
    await first?.stop();
    await closeInspectionClient();
  });

  test('a system added through one is known to the other; events registered through both are found through either', async () => {
    const system = await first.addSystem();
    const mark = randomUUID();
    const uidA = uidOf(await system.register(event({ event_correlation: mark, part: 'a' })));
    const viaSecond = await second.callPublic('/register', { method: 'POST', certificate: system.certificate, body: JSON.stringify(event({ event_correlation: mark, part: 'b' })), headers: { 'Content-Type': 'application/json' } });
    const uidB = uidOf(viaSecond);
    assert.notEqual(uidA, uidB);
    for (const instance of [first, second]) {
      // Each instance reads its own writes at once; the other's within the refresh interval (1 s).
      const started = Date.now();
      let found = resultOf(await instance.callPublic(byCorrelation(mark), { certificate: system.certificate }));
      while (found.length < 2 && Date.now() - started < 5_000) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        found = resultOf(await instance.callPublic(byCorrelation(mark), { certificate: system.certificate }));
      }
      assert.deepEqual(found.map((found) => found['@uid']).sort(), [uidA, uidB].sort(), 'each instance finds both registrations');
      const byUid = resultOf(await instance.callPublic(`/query/${uidB}`, { certificate: system.certificate }));
      assert.equal(byUid.length, 1);
    }
  });

  test('one Idempotency-Key sent to both, one after the other and at once: one registration, one UID', async () => {
    const system = await second.addSystem();
    const mark = randomUUID();
    const body = JSON.stringify(event({ event_correlation: mark }));
    const send = (instance: TestMLog, key: string) =>
      instance.callPublic('/register', { method: 'POST', certificate: system.certificate, body, headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key } });
    const key = randomUUID();
    const uid = uidOf(await send(first, key));
    assert.equal(uidOf(await send(second, key)), uid, 'the second instance answers the first one\'s UID');

    const together = randomUUID();
    const answers = await Promise.all([send(first, together), send(second, together), send(first, together), send(second, together)]);
    const uids = new Set(answers.filter((answer) => answer.status === 200).map((answer) => answer.json.UID as string));
    assert.ok(uids.size <= 1, `one UID at most for one key: ${[...uids].join(', ')}`);
    for (const answer of answers) assert.ok(answer.status === 200 || answer.status === 409, `200 or 409 (in progress): ${answer.status} ${answer.text}`);
    const settled = uidOf(await send(second, together));
    if (uids.size === 1) assert.equal(settled, [...uids][0]);

    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the other instance's writes become searchable
    const stored = resultOf(await first.callPublic(byCorrelation(mark), { certificate: system.certificate }));
    assert.deepEqual(stored.map((found) => found['@uid']).sort(), [uid, settled].sort(), 'two keys, two registrations: nothing stored twice');
  });

  test('the retention lease is shared: while another instance holds it, neither deletes; once free, one run deletes', async () => {
    const client = inspectionClient();
    const index = `personaldata-2001.0${1 + (randomBytes(1)[0] as number) % 9}`;
    await client.indices.create({ index }, { ignore: [400] });
    const holder = { name: 'retention', holder: 'other-host/1/00000000', run_by: 'scheduler on other-host', acquired_at: new Date().toISOString(), expires_at: new Date(Date.now() + 60_000).toISOString() };
    await client.index({ index: LEASES_INDEX, id: 'retention', document: holder, refresh: true });
    try {
      const retentionOf = (instance: TestMLog) => instance.mlog.jobs.find((job) => job.name === 'retention');
      assert.ok(retentionOf(first) !== undefined && retentionOf(second) !== undefined);
      await Promise.all([retentionOf(first)?.runNow(), retentionOf(second)?.runNow()]);
      assert.equal(await client.indices.exists({ index }), true, 'neither instance deleted while another held the lease');
      const lease = await client.get<{ holder: string }>({ index: LEASES_INDEX, id: 'retention' });
      assert.equal(lease._source?.holder, holder.holder, 'the lease is left to its holder');

      await client.delete({ index: LEASES_INDEX, id: 'retention', refresh: true });
      await retentionOf(second)?.runNow();
      assert.equal(await client.indices.exists({ index }), false, 'the index past retention is deleted once the lease is free');
      const released = await client.get({ index: LEASES_INDEX, id: 'retention' }, { ignore: [404] });
      assert.equal(released.found, false, 'the run released the shared lease');
    } finally {
      await client.delete({ index: LEASES_INDEX, id: 'retention', refresh: true }, { ignore: [404] });
      await client.indices.delete({ index }, { ignore: [404] });
    }
  });
});
