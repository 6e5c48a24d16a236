/**
 * The direct query door (MLOG_QUERY_DIRECT=on: GET /query and GET /query/{uid} answered on node:https
 * before Express) answers every query as the Express routes do (MLOG_QUERY_DIRECT=off): the same
 * statuses, messages, headers, results and records, for found and not-found queries, each kind of
 * refusal, and the request targets (any case, one trailing slash, UIDs that need decoding, which the
 * door leaves to Express). Two real MLogs over the real Elasticsearch, called over mutual TLS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { closeInspectionClient, findRejection } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, uniqueCode, type CallOptions, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

/** Headers every answer carries whatever its content (the connection's own are compared separately). */
const VARYING = new Set(['date', 'x-request-id', 'content-length', 'keep-alive']);

interface Door {
  mlog: TestMLog;
  system: TestSystem;
  /** The UID of the call that registered this door's two events. */
  uid: string;
}

/** The events each door's IS registers: the same in both, old fixed times so a range finds exactly them. */
const EVENTS = [event({ event_time: '2020-03-01T10:00:00Z', event_type: 'Door.Opened', event_message: 'first' }), event({ event_time: '2020-03-01T11:00:00Z', event_type: 'Door.Closed', event_message: 'second' })];

/** What the result of a found query says, without what differs between two IS (UIDs, receive times, the IS). */
function resultShape(answer: HttpAnswer): unknown {
  const result = answer.json?.result;
  if (!Array.isArray(result)) return undefined;
  return result.map((found: Record<string, unknown>) => ({ event_time: found.event_time, event_type: found.event_type, event_message: found.event_message, fields: Object.keys(found).sort() }));
}

/** What must be the same through both doors: status, message, header names, the headers that say something, the result. */
function comparable(answer: HttpAnswer): Record<string, unknown> {
  return {
    status: answer.status,
    // Each MLog has its own IS, certificates and UIDs: their names, fingerprints and UIDs differ, the rest must not.
    message: String(answer.json?.message)
      .replace(/SHA-256 [0-9A-F:]+/g, 'SHA-256 (fingerprint)')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '(uid)'),
    envelopeFields: Object.keys(answer.json ?? {}).sort(),
    pagination: answer.json?.pagination,
    result: resultShape(answer),
    headerNames: Object.keys(answer.headers).filter((name) => !VARYING.has(name)).sort(),
    contentType: answer.headers['content-type'],
    connection: answer.headers.connection,
    allow: answer.headers.allow,
    requestId: /^[0-9a-f-]{36}$/.test(String(answer.headers['x-request-id'])),
  };
}

describe('GET /query answers the same through the direct door and through Express', () => {
  let direct: Door;
  let express: Door;

  before(async () => {
    const [on, off] = await Promise.all([TestMLog.start({ MLOG_QUERY_DIRECT: 'on' }), TestMLog.start({ MLOG_QUERY_DIRECT: 'off' })]);
    const door = async (mlog: TestMLog): Promise<Door> => {
      const system = await mlog.addSystem();
      const registered = await system.register(EVENTS.map((one) => JSON.stringify(one)).join('\n'));
      assert.equal(registered.status, 200, registered.text);
      return { mlog, system, uid: String(registered.json.UID) };
    };
    [direct, express] = await Promise.all([door(on), door(off)]);
  });
  after(async () => {
    await Promise.all([direct?.mlog.stop(), express?.mlog.stop()]);
    await closeInspectionClient();
  });

  /** The same query through both doors (each over its own IS: `path` may use the door's UID); the answers must agree. */
  async function both(path: (door: Door) => string, options: CallOptions | ((door: Door) => CallOptions) = {}): Promise<[HttpAnswer, HttpAnswer]> {
    const of = (door: Door): CallOptions => (typeof options === 'function' ? options(door) : options);
    const answers = await Promise.all([direct.system.call(path(direct), of(direct)), express.system.call(path(express), of(express))]);
    assert.deepEqual(comparable(answers[0]), comparable(answers[1]), `${of(direct).method ?? 'GET'} ${path(direct)}: the direct door answers as Express does`);
    return answers;
  }

  const RANGE = '?event_time_from=2020-03-01T00:00:00Z&event_time_to=2020-03-02T00:00:00Z&legal_basis=Audit';

  test('found: by UID in the path (any case, one trailing slash), by uid parameter, by range with a filter', async () => {
    for (const path of [(d: Door) => `/query/${d.uid}`, (d: Door) => `/QUERY/${d.uid}/`, (d: Door) => `/Query/${d.uid}?legal_basis=Audit&page_size=1`, (d: Door) => `/query?uid=${d.uid}`, (d: Door) => `/query/?uid=${d.uid}`]) {
      const [answer] = await both(path);
      assert.equal(answer.status, 200, path(direct));
      assert.ok(answer.json.result.length >= 1, path(direct));
    }
    const [range] = await both(() => `/query${RANGE}`);
    assert.equal(range.status, 200);
    assert.deepEqual(range.json.result.map((found: Record<string, unknown>) => found.event_message).sort(), ['first', 'second']);
    const [filtered] = await both(() => `/query${RANGE}&filter=event_type=Door.Closed`);
    assert.deepEqual(filtered.json.result.map((found: Record<string, unknown>) => found.event_message), ['second']);
  });

  test('not found, and refused queries: each with the same status and message', async () => {
    assert.equal((await both(() => `/query/${randomUUID()}`))[0].status, 404);
    assert.equal((await both(() => `/query${RANGE}&page=5`))[0].status, 404);
    assert.equal((await both(() => '/query?event_time_from=yesterday&event_time_to=2020-03-02T00:00:00Z&legal_basis=Audit'))[0].status, 400);
    assert.equal((await both(() => '/query?event_time_from=2020-03-01T00:00:00Z&event_time_to=2020-03-02T00:00:00Z'))[0].status, 400);
    assert.equal((await both(() => `/query${RANGE}&filter=no_such_field=1`))[0].status, 400);
    assert.equal((await both((d) => `/query/${d.uid}?page_size=0`))[0].status, 400);
    assert.equal((await both((d) => `/query/${d.uid}?page=%zz`))[0].status, 400);
    assert.equal((await both((d) => `/query/${d.uid}`, { certificate: null }))[0].status, 401);
    assert.equal((await both((d) => `/query/${d.uid}`, { headers: { Expect: 'something-else' } }))[0].status, 417);
    const [onStranger, offStranger] = await Promise.all([direct.mlog.issueCertificate(uniqueCode('stranger')), express.mlog.issueCertificate(uniqueCode('stranger'))]);
    assert.equal((await both((d) => `/query/${d.uid}`, (d) => ({ certificate: d === direct ? onStranger : offStranger })))[0].status, 401);
  });

  test('targets the door leaves to Express are answered as before: escapes in the UID, other paths, other methods', async () => {
    // An escaped UID is decoded by Express's router: the same UID, found.
    const [escaped] = await both((d) => `/query/${d.uid.replace('-', '%2D')}`);
    assert.equal(escaped.status, 200);
    assert.equal((await both(() => '/query/%zz'))[0].status, 400);
    assert.equal((await both(() => '/query/a%20b'))[0].status, 400);
    for (const path of ['/query//', '/query/a/b', '/querys', '/query-x']) assert.equal((await both(() => path))[0].status, 404, path);
    assert.equal((await both((d) => `/query/${d.uid}`, { method: 'HEAD' }))[0].status, 405);
    assert.equal((await both((d) => `/query/${d.uid}`, { method: 'POST', body: '{}' }))[0].status, 404);
    assert.equal((await both((d) => `/query/${d.uid}`, { method: 'DELETE', certificate: null }))[0].status, 401);
  });

  test('a query refused by the direct door is recorded with its IS, method and path; every answered query is registered', async () => {
    const answer = await direct.system.call('/Query/?event_time_from=2020-03-01T00:00:00Z&event_time_to=2020-03-02T00:00:00Z', {});
    assert.equal(answer.status, 400);
    const stored = await findRejection(String(answer.headers['x-request-id']));
    assert.equal(stored.status, 400);
    assert.equal(stored.reason, answer.json.message);
    assert.equal(stored.is, direct.system.code);
    assert.equal(stored.method, 'GET');
    assert.equal(stored.path, '/Query/');
    const unidentified = await direct.mlog.callPublic(`/query/${direct.uid}`, { certificate: null });
    const refused = await findRejection(String(unidentified.headers['x-request-id']));
    assert.equal(refused.status, 401);
    assert.equal(refused.is, undefined);
    // The queries above were registered as MLog.ClientQuery events of the door's IS, before their answers.
    const now = new Date();
    const records = await direct.system.call(
      `/query?event_time_from=${new Date(now.getTime() - 3_600_000).toISOString()}&event_time_to=${new Date(now.getTime() + 60_000).toISOString()}&legal_basis=Audit&filter=event_type=MLog.ClientQuery&page_size=100`,
    );
    assert.equal(records.status, 200, records.text);
    assert.ok(
      records.json.result.some((record: Record<string, unknown>) => String(record.event_message).includes(`filter=UID=${direct.uid}`)),
      'the query by UID was registered',
    );
  });

  test('queries are counted in the same metric series through both doors', async () => {
    for (const door of [direct, express]) {
      const series = /mlog_http_requests_total\{listener="public",route="\/query\/:uid",status="200"\} (\d+)/;
      const read = async (): Promise<number> => Number(series.exec((await door.mlog.callAdmin('/metrics', { token: null })).text)?.[1] ?? 0);
      const before = await read();
      assert.equal((await door.system.call(`/query/${door.uid}`)).status, 200);
      assert.equal((await door.system.call(`/query/${door.uid}`)).status, 200);
      assert.equal(await read(), before + 2, 'both queries are counted under /query/:uid');
    }
  });
});
