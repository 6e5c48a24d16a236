/**
 * The direct register door (MLOG_REGISTER_DIRECT=on: POST /register answered on node:https before
 * Express) answers every call as the Express route does (MLOG_REGISTER_DIRECT=off): the same statuses,
 * messages, headers and records, for accepted calls, every kind of refusal, and the request targets
 * Express treats as /register (any case, one trailing slash, a query string). Two real MLogs over the
 * real Elasticsearch, called over mutual TLS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { closeInspectionClient, findRejection } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, uniqueCode, type CallOptions, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

/** Headers every answer carries whatever its content (the connection's own are compared separately). */
const VARYING = new Set(['date', 'x-request-id', 'mlog-receipt', 'content-length', 'keep-alive']);

interface Door {
  mlog: TestMLog;
  system: TestSystem;
}

/** What must be the same through both doors: status, message, header names, the headers that say something. */
function comparable(answer: HttpAnswer): Record<string, unknown> {
  return {
    status: answer.status,
    // Each MLog has its own IS and certificates: their names and fingerprints differ, the rest must not.
    message: String(answer.json?.message).replace(/SHA-256 [0-9A-F:]+/g, 'SHA-256 (fingerprint)'),
    envelopeFields: Object.keys(answer.json ?? {}).sort(),
    headerNames: Object.keys(answer.headers).filter((name) => !VARYING.has(name)).sort(),
    contentType: answer.headers['content-type'],
    connection: answer.headers.connection,
    retryAfter: answer.headers['retry-after'],
    replayed: answer.headers['idempotent-replayed'],
    requestId: /^[0-9a-f-]{36}$/.test(String(answer.headers['x-request-id'])),
    receipt: answer.headers['mlog-receipt'] !== undefined,
  };
}

describe('POST /register answers the same through the direct door and through Express', () => {
  let direct: Door;
  let express: Door;

  before(async () => {
    const [on, off] = await Promise.all([TestMLog.start({ MLOG_REGISTER_DIRECT: 'on' }), TestMLog.start({ MLOG_REGISTER_DIRECT: 'off' })]);
    direct = { mlog: on, system: await on.addSystem() };
    express = { mlog: off, system: await off.addSystem() };
  });
  after(async () => {
    await Promise.all([direct?.mlog.stop(), express?.mlog.stop()]);
    await closeInspectionClient();
  });

  /** The same call through both doors (each with its own IS); the answers must agree. */
  async function both(path: string, options: CallOptions | ((door: Door) => CallOptions)): Promise<[HttpAnswer, HttpAnswer]> {
    const of = (door: Door): CallOptions => (typeof options === 'function' ? options(door) : options);
    const answers = await Promise.all([direct.system.call(path, of(direct)), express.system.call(path, of(express))]);
    assert.deepEqual(comparable(answers[0]), comparable(answers[1]), `${of(direct).method ?? 'GET'} ${path}: the direct door answers as Express does`);
    return answers;
  }

  test('an accepted event: 200 with its UID and the MLog-Receipt header', async () => {
    const [answer] = await both('/register', { method: 'POST', body: JSON.stringify(event()) });
    assert.equal(answer.status, 200);
    assert.match(String(answer.json.UID), /^[0-9a-f-]{36}$/);
    assert.ok(answer.headers['mlog-receipt'] !== undefined, 'the receipt header is there');
  });

  test('the targets Express treats as /register: any case, one trailing slash, a query string', async () => {
    for (const path of ['/Register', '/REGISTER/', '/register/?trace=1', '/register?x']) {
      const [answer] = await both(path, { method: 'POST', body: JSON.stringify(event()) });
      assert.equal(answer.status, 200, path);
    }
    for (const path of ['/register//', '/registers', '/register/x', '/regist%65r']) {
      const [answer] = await both(path, { method: 'POST', body: JSON.stringify(event()) });
      assert.equal(answer.status, 404, path);
    }
  });

  test('refusals: invalid event, unparsable body, compressed body, too large, no certificate, unknown certificate', async () => {
    assert.equal((await both('/register', { method: 'POST', body: JSON.stringify({ event_type: 'X' }) }))[0].status, 400);
    assert.equal((await both('/register', { method: 'POST', body: '{"not json' }))[0].status, 400);
    assert.equal((await both('/register', { method: 'POST', body: JSON.stringify(event()), headers: { 'Content-Encoding': 'gzip' } }))[0].status, 415);
    const [tooLarge] = await both('/register', { method: 'POST', body: 'x'.repeat(262_145) });
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.headers.connection, 'close');
    assert.equal((await both('/register', { method: 'POST', body: JSON.stringify(event()), certificate: null }))[0].status, 401);
    assert.equal((await both('/register', { method: 'POST', body: JSON.stringify(event()), headers: { Expect: 'something-else' } }))[0].status, 417);
    const [onStranger, offStranger] = await Promise.all([direct.mlog.issueCertificate(uniqueCode('stranger')), express.mlog.issueCertificate(uniqueCode('stranger'))]);
    const [stranger] = await both('/register', (door) => ({ method: 'POST', body: JSON.stringify(event()), certificate: door === direct ? onStranger : offStranger }));
    assert.equal(stranger.status, 401);
  });

  test('other methods stay with Express: identified first (401 without a certificate), then 405', async () => {
    assert.equal((await both('/register', { method: 'PUT', body: JSON.stringify(event()), certificate: null }))[0].status, 401);
    assert.equal((await both('/register', { method: 'PUT', body: JSON.stringify(event()) }))[0].status, 405);
    assert.equal((await both('/register', { method: 'GET' }))[0].status, 404);
  });

  test('an Idempotency-Key: the repeated call answers the first UID, marked as a replay; a malformed key is refused', async () => {
    const key = randomUUID();
    const body = JSON.stringify(event());
    const [first] = await both('/register', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
    assert.equal(first.status, 200);
    const [again] = await both('/register', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.json.UID, first.json.UID);
    assert.equal((await both('/register', { method: 'POST', body, headers: { 'Idempotency-Key': 'has spaces' } }))[0].status, 400);
  });

  test('a call refused by the direct door is recorded with its IS, path, address and body', async () => {
    const body = JSON.stringify({ event_type: 'X', marker: randomUUID() });
    const answer = await direct.system.call('/Register/?trace=1', { method: 'POST', body });
    assert.equal(answer.status, 400);
    const stored = await findRejection(String(answer.headers['x-request-id']));
    assert.equal(stored.status, 400);
    assert.equal(stored.reason, answer.json.message);
    assert.equal(stored.is, direct.system.code);
    assert.equal(stored.method, 'POST');
    assert.equal(stored.path, '/Register/');
    assert.equal(stored.body_excerpt, body);
    const unidentified = await direct.mlog.callPublic('/register', { method: 'POST', body, certificate: null });
    const refused = await findRejection(String(unidentified.headers['x-request-id']));
    assert.equal(refused.status, 401);
    assert.equal(refused.is, undefined);
  });

  test('calls and events are counted in the same metric series through both doors; a replay counts no events', async () => {
    for (const door of [direct, express]) {
      const calls = /mlog_http_requests_total\{listener="public",route="\/register",status="200"\} (\d+)/;
      const events = new RegExp(`mlog_events_registered_total\\{system="${door.system.code}"\\} (\\d+)`);
      const read = async (): Promise<[number, number]> => {
        const text = (await door.mlog.callAdmin('/metrics', { token: null })).text;
        return [Number(calls.exec(text)?.[1] ?? 0), Number(events.exec(text)?.[1] ?? 0)];
      };
      const [callsBefore, eventsBefore] = await read();
      const key = randomUUID();
      const body = `${JSON.stringify(event())}\n${JSON.stringify(event())}`;
      assert.equal((await door.system.register(body, { headers: { 'Idempotency-Key': key } })).status, 200);
      assert.equal((await door.system.register(body, { headers: { 'Idempotency-Key': key } })).headers['idempotent-replayed'], 'true');
      const [callsAfter, eventsAfter] = await read();
      assert.equal(callsAfter, callsBefore + 2, 'both calls are counted');
      assert.equal(eventsAfter, eventsBefore + 2, 'the two events of the first call are counted, none of the replay');
    }
  });
});
