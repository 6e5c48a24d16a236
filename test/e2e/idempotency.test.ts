/**
 * Idempotency-Key on POST /register, end to end: real mutual TLS into a real MLog over the real
 * Elasticsearch, with the stored events counted in Elasticsearch directly.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TestMLog, event, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';
import { closeInspectionClient, documentsWithMarker, storedEvents } from '../helpers/elasticsearch-inspection.js';

let mlog: TestMLog;
let is: TestSystem;
let other: TestSystem;

before(async () => {
  mlog = await TestMLog.start();
  [is, other] = await Promise.all([mlog.addSystem(), mlog.addSystem()]);
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

function withKey(key: string): { headers: Record<string, string> } {
  return { headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key } };
}

function uidOf(answer: HttpAnswer): string {
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(Object.keys(answer.json).sort(), ['UID', 'message', 'status', 'timestamp']);
  return answer.json.UID as string;
}

function batch(mark: string, count = 2): string {
  return Array.from({ length: count }, (_, n) => JSON.stringify(event({ event_correlation: mark, n }))).join('\n');
}

describe('Idempotency-Key', () => {
  test('the same key twice: the same UID, the events stored once, the second answer marked replayed', async () => {
    const key = randomUUID();
    const mark = `idem-${randomUUID()}`;
    const body = batch(mark, 3);
    const first = await is.register(body, withKey(key));
    const second = await is.register(body, withKey(key));
    assert.equal(uidOf(second), uidOf(first));
    assert.equal(first.headers['idempotent-replayed'], undefined);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal((await storedEvents(is.code, uidOf(first))).length, 3);
    assert.equal((await documentsWithMarker(is.code, mark)).length, 3, 'nothing stored twice');
  });

  test('without the header, the same body twice is two registrations (unchanged behaviour)', async () => {
    const mark = `idem-${randomUUID()}`;
    const body = batch(mark, 1);
    const first = uidOf(await is.register(body));
    const second = uidOf(await is.register(body));
    assert.notEqual(first, second);
    assert.equal((await documentsWithMarker(is.code, mark)).length, 2);
  });

  test('the same key from another IS is independent', async () => {
    const key = randomUUID();
    const markA = `idem-${randomUUID()}`;
    const markB = `idem-${randomUUID()}`;
    const a = uidOf(await is.register(batch(markA, 1), withKey(key)));
    const b = uidOf(await other.register(batch(markB, 1), withKey(key)));
    assert.notEqual(a, b);
    assert.equal((await storedEvents(other.code, b)).length, 1);
    assert.equal((await documentsWithMarker(is.code, markA)).length, 1);
  });

  test('10 concurrent calls with one key: one stored copy, one UID for every call that succeeds, the rest 409 with Retry-After', async () => {
    const key = randomUUID();
    const mark = `idem-${randomUUID()}`;
    const body = batch(mark, 2);
    const answers = await Promise.all(Array.from({ length: 10 }, () => is.register(body, withKey(key))));
    const ok = answers.filter((answer) => answer.status === 200);
    assert.ok(ok.length >= 1, 'at least one succeeds');
    assert.equal(new Set(ok.map(uidOf)).size, 1, 'the same UID for all that succeed');
    for (const answer of answers.filter((each) => each.status !== 200)) {
      assert.equal(answer.status, 409, answer.text);
      assert.match(answer.json.message, /Idempotency-Key is in progress; retry/);
      assert.equal(answer.headers['retry-after'], '1');
    }
    assert.equal((await documentsWithMarker(is.code, mark)).length, 2, 'one stored copy');
    // Those told to retry get the same UID when they do.
    assert.equal(uidOf(await is.register(body, withKey(key))), uidOf(ok[0] as HttpAnswer));
  });

  test('a refused first call (400) frees the key: a retry with a valid body and the same key → 200', async () => {
    const key = randomUUID();
    const mark = `idem-${randomUUID()}`;
    const refused = await is.register(JSON.stringify({ event_type: 'Test.Event', event_correlation: mark }), withKey(key));
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.json.message, /event_time/);
    const corrected = batch(mark, 1);
    const uid = uidOf(await is.register(corrected, withKey(key)));
    assert.equal((await storedEvents(is.code, uid)).length, 1);
    assert.equal(uidOf(await is.register(corrected, withKey(key))), uid, 'and from then on it replays');
  });

  test('the same key with a different body → 422 naming the key, nothing stored', async () => {
    const key = randomUUID();
    const mark = `idem-${randomUUID()}`;
    uidOf(await is.register(batch(mark, 1), withKey(key)));
    const otherMark = `idem-${randomUUID()}`;
    const answer = await is.register(batch(otherMark, 1), withKey(key));
    assert.equal(answer.status, 422, answer.text);
    assert.equal(answer.json.status, '422');
    assert.match(answer.json.message, /Idempotency-Key was already used.*different body/);
    assert.equal(answer.json.UID, undefined);
    assert.deepEqual(await documentsWithMarker(is.code, otherMark), []);
  });

  for (const [label, key] of [
    ['empty', ''],
    ['longer than 255 characters', 'k'.repeat(256)],
    ['with a space inside', 'my key'],
    ['not ASCII', 'cheie-ă'],
  ] as const) {
    test(`an invalid key (${label}) → 400 naming the header, nothing stored`, async () => {
      const mark = `idem-${randomUUID()}`;
      const answer = await is.call('/register', {
        method: 'POST',
        body: batch(mark, 1),
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': Buffer.from(key, 'utf8').toString('latin1') },
      });
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.json.message, /Idempotency-Key header must be 1 to 255 visible ASCII characters/);
      assert.deepEqual(await documentsWithMarker(is.code, mark), []);
    });
  }

  test('a 255-character key of visible punctuation is accepted', async () => {
    const key = `${'!#$%&*+-.^_|~'.repeat(19)}${randomUUID().slice(0, 8)}`;
    assert.equal(key.length, 255);
    const body = batch(`idem-${randomUUID()}`, 1);
    const uid = uidOf(await is.register(body, withKey(key)));
    assert.equal(uidOf(await is.register(body, withKey(key))), uid);
  });
});
