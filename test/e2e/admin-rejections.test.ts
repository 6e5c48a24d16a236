/**
 * End-to-end: refused public-API calls of several kinds are recorded and found by administrators
 * through GET /admin/rejections (bearer token), filtered by IS, time and status; a burst of refused
 * calls all get their 4xx promptly and are all recorded. Every IS has a unique code, so the searches
 * by system see only this file's rejections.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { REJECTIONS_LISTED_EVENT, type StoredRejection } from '../../src/rejections/rejection-search.js';
import { auditRecords, closeInspectionClient, whileAuditRefusesWrites } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

type Rejection = StoredRejection;

let mlog: TestMLog;

before(async () => {
  mlog = await TestMLog.start();
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

async function rejections(query: string): Promise<HttpAnswer> {
  return mlog.callAdmin(`/admin/rejections${query === '' ? '' : `?${query}`}`);
}

/** Polls until the search finds at least `count` rejections (they are written about once a second). */
async function rejectionsOnceRecorded(query: string, count: number): Promise<{ total: number; result: Rejection[] }> {
  let last: HttpAnswer | undefined;
  for (let attempt = 0; attempt < 60; attempt++) {
    last = await rejections(query);
    assert.equal(last.status, 200, last.text);
    if (last.json.pagination['record-count'] >= count) return { total: last.json.pagination['record-count'], result: last.json.result as Rejection[] };
    await sleep(250);
  }
  throw new Error(`fewer than ${count} rejections found for ${query}: ${last?.text}`);
}

function plainAddress(address: string): string {
  return address.replace(/^::ffff:/, '');
}

describe('GET /admin/rejections', () => {
  let system: TestSystem;
  let bystander: TestSystem;
  let started: string;
  let ended: string;
  /** The refused calls made, by request id. */
  const refused = new Map<string, { answer: HttpAnswer; path: string; sent?: string }>();
  /** The body of the 413, refused unread for its declared size. */
  let oversized = '';

  before(async () => {
    [system, bystander] = await Promise.all([mlog.addSystem(), mlog.addSystem()]);
    started = new Date(Date.now() - 1).toISOString();
    const keep = (answer: HttpAnswer, path: string, sent?: string) => {
      assert.ok(answer.status >= 400 && answer.status < 500, answer.text);
      refused.set(String(answer.headers['x-request-id']), { answer, path, ...(sent === undefined ? {} : { sent }) });
    };
    // 400 at /register, with a body of more than 4 KB in two-byte characters, the 4,096th byte inside one
    const invalid = JSON.stringify({ event_type: 'X', note: `a${'ș'.repeat(5_000)}` });
    assert.equal(Buffer.from(invalid)[4096]! & 0xc0, 0x80);
    keep(await system.register(invalid), '/register', invalid);
    // 413: over 256 KB
    oversized = JSON.stringify(event({ padding: 'p'.repeat(300_000) }));
    keep(await system.register(oversized), '/register');
    // 400 and 404 of /query
    keep(await system.call('/query?event_time_from=2024-01-01&event_time_to=2024-02-01'), '/query', 'event_time_from=2024-01-01&event_time_to=2024-02-01');
    keep(await system.call('/query?event_time_from=1999-01-01&event_time_to=1999-01-02&legal_basis=x'), '/query');
    // 403 of /personal-data without the permission
    keep(await system.call('/personal-data?subject=someone&legal_basis=x'), '/personal-data');
    ended = new Date(Date.now() + 1).toISOString();
    // another IS's refusal, which a search by system must leave out
    assert.equal((await bystander.register('not json')).status, 400);
  });

  test('every refused call is found by system: status, reason, IS, address, path, excerpt of at most 4 KB; newest first', async () => {
    const found = await rejectionsOnceRecorded(`system=${system.code}`, refused.size);
    assert.equal(found.total, refused.size);
    assert.deepEqual(found.result.map((rejection) => rejection.status).sort(), [400, 400, 403, 404, 413]);
    for (const rejection of found.result) {
      const call = refused.get(rejection.request_id);
      assert.ok(call !== undefined, `rejection ${rejection.request_id} is one of this test's calls`);
      assert.equal(rejection.status, call.answer.status);
      assert.equal(rejection.reason, call.answer.json.message);
      assert.equal(rejection.is, system.code);
      assert.equal(plainAddress(rejection.source_address), '127.0.0.1');
      assert.equal(rejection.path, call.path);
      if (rejection.body_excerpt !== undefined) {
        assert.ok(Buffer.byteLength(rejection.body_excerpt) <= 4096, `excerpt of ${Buffer.byteLength(rejection.body_excerpt)} bytes`);
      }
      if (call.sent !== undefined && Buffer.byteLength(call.sent) <= 4096) assert.equal(rejection.body_excerpt, call.sent);
    }
    const invalid = found.result.find((rejection) => rejection.status === 400 && rejection.path === '/register') as Rejection;
    assert.equal(invalid.body_bytes, Buffer.byteLength(refused.get(invalid.request_id)?.sent ?? ''));
    assert.ok((invalid.body_excerpt ?? '').length > 2000 && !(invalid.body_excerpt ?? '').includes('\ufffd'), 'cut at a character boundary');
    const tooLarge = found.result.find((rejection) => rejection.status === 413) as Rejection;
    assert.equal(tooLarge.body_bytes, Buffer.byteLength(oversized), 'the declared size of a body refused unread');
    const times = found.result.map((rejection) => Date.parse(rejection['@received']));
    assert.deepEqual(times, [...times].sort((x, y) => y - x), 'newest first');
    assert.ok(!found.result.some((rejection) => rejection.is === bystander.code));
  });

  test('filters: status, time window, another system; an empty page is 200', async () => {
    await rejectionsOnceRecorded(`system=${system.code}`, refused.size);
    const forbidden = await rejections(`system=${system.code}&status=403`);
    assert.equal(forbidden.status, 200);
    assert.deepEqual(forbidden.json.result.map((rejection: Rejection) => rejection.path), ['/personal-data']);

    const inWindow = await rejections(`system=${system.code}&from=${encodeURIComponent(started)}&to=${encodeURIComponent(ended)}`);
    assert.equal(inWindow.json.pagination['record-count'], refused.size);

    const after = await rejections(`system=${system.code}&from=${encodeURIComponent(ended)}`);
    assert.equal(after.status, 200, after.text);
    assert.deepEqual(Object.keys(after.json).sort(), ['message', 'pagination', 'result', 'status', 'timestamp']);
    assert.deepEqual(after.json.result, []);
    assert.deepEqual(after.json.pagination, { 'record-count': 0, page: 0, 'page-size': 50 });

    const before = await rejections(`system=${system.code}&to=${encodeURIComponent(started)}`);
    assert.equal(before.json.pagination['record-count'], 0);

    const other = await rejectionsOnceRecorded(`system=${bystander.code}`, 1);
    assert.equal(other.total, 1);
    assert.equal(other.result[0]?.is, bystander.code);
  });

  test('an IS found but refused is recorded as that IS: suspended, calling from another address, or with an expired certificate, through each door', async () => {
    const [suspended, elsewhere, lapsed] = await Promise.all([mlog.addSystem({ status: 'suspended' }), mlog.addSystem({ allowed_addresses: ['192.0.2.10'] }), mlog.addSystem()]);
    const expired = await mlog.issueCertificate(`${lapsed.code}-old`, { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const patched = await mlog.callAdmin(`/admin/systems/${lapsed.code}`, { method: 'PATCH', body: JSON.stringify({ certificates: [lapsed.certificate.certPem, expired.certPem] }) });
    assert.equal(patched.status, 200, patched.text);
    // POST /register and GET /query/{uid} are answered by their direct doors, GET /personal-data by the Express app.
    const calls = (system: TestSystem, certificate = system.certificate) => [
      system.register(event(), { certificate }),
      system.call('/query/00000000-0000-4000-8000-000000000000', { certificate }),
      system.call('/personal-data?subject=someone&legal_basis=x', { certificate }),
    ];
    for (const [system, status, reason, certificate] of [
      [suspended, 403, /is suspended/, suspended.certificate],
      [elsewhere, 403, /may not call MLog from 127\.0\.0\.1/, elsewhere.certificate],
      [lapsed, 401, /expired/, expired],
    ] as const) {
      const answers = await Promise.all(calls(system, certificate));
      for (const answer of answers) assert.equal(answer.status, status, answer.text);
      const found = await rejectionsOnceRecorded(`system=${system.code}`, answers.length);
      assert.equal(found.total, answers.length, `${system.code}: every refused call is found by its IS`);
      assert.deepEqual(found.result.map((rejection) => rejection.path).sort(), ['/personal-data', '/query/00000000-0000-4000-8000-000000000000', '/register']);
      for (const rejection of found.result) {
        assert.equal(rejection.is, system.code);
        assert.equal(rejection.status, status);
        assert.match(rejection.reason, reason);
      }
    }
  });

  test('pages of a search do not overlap', async () => {
    await rejectionsOnceRecorded(`system=${system.code}`, refused.size);
    const ids: string[] = [];
    for (const page of [0, 1, 2]) {
      const answer = await rejections(`system=${system.code}&page=${page}&page_size=2`);
      assert.deepEqual(answer.json.pagination, { 'record-count': refused.size, page, 'page-size': 2 });
      ids.push(...answer.json.result.map((rejection: Rejection) => rejection.request_id));
    }
    assert.equal(ids.length, refused.size);
    assert.equal(new Set(ids).size, refused.size);
  });

  test('every search is recorded in mlog_audit as the administration API\'s, with its filters and the caller\'s address; with mlog_audit refusing writes, 503 and no refused call', async () => {
    const answer = await rejections(`system=${system.code}&status=403&page_size=3`);
    assert.equal(answer.status, 200, answer.text);
    const [record] = await auditRecords(REJECTIONS_LISTED_EVENT, { filter_system: system.code, page_size: '3' });
    assert.equal(record?.user, 'admin-api');
    assert.equal(record?.filter_status, 403);
    assert.equal(record?.source_address, '127.0.0.1');
    assert.equal(typeof record?.time_from, 'string');

    const blocked = await whileAuditRefusesWrites(() => rejections(`system=${system.code}`));
    assert.equal(blocked.status, 503, blocked.text);
    assert.deepEqual(Object.keys(blocked.json).sort(), ['message', 'status', 'timestamp']);
    assert.match(blocked.json.message, /cannot be recorded in the audit index \(mlog_audit\), so no refused call is read/);
  });

  test('needs the bearer token; bad parameters are 400', async () => {
    const anonymous = await mlog.callAdmin('/admin/rejections', { token: null });
    assert.equal(anonymous.status, 401);
    const wrong = await mlog.callAdmin('/admin/rejections', { token: 'x'.repeat(48) });
    assert.equal(wrong.status, 401);
    for (const [query, message] of [
      ['status=200', /from 400 to 499/],
      ['system=Not%20a%20code', /not an IS code/],
      ['from=yesterday', /^from "yesterday"/],
      ['page=10&page_size=1000', /may not pass 10000/],
    ] as const) {
      const answer = await rejections(query);
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.json.message, message);
    }
  });
});

describe('a burst of refused calls', () => {
  test('200 refused calls all get their 4xx promptly, and all are recorded', async () => {
    const system = await mlog.addSystem();
    const total = 200;
    const concurrency = 20;
    const statuses: number[] = [];
    let slowest = 0;
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const n = next++;
          const callStarted = Date.now();
          const answer = n % 2 === 0 ? await system.call(`/query?event_time_from=2024-01-01&n=${n}`) : await system.register(`not an event ${n}`);
          slowest = Math.max(slowest, Date.now() - callStarted);
          statuses.push(answer.status);
        }
      }),
    );
    const elapsed = Date.now() - started;
    assert.equal(statuses.length, total);
    assert.deepEqual([...new Set(statuses)], [400], 'every call got its 400, none a 5xx');
    assert.ok(elapsed < 30_000, `the burst took ${elapsed} ms`);
    assert.ok(slowest < 5_000, `the slowest refusal took ${slowest} ms`);
    const found = await rejectionsOnceRecorded(`system=${system.code}&page_size=1`, total);
    assert.equal(found.total, total);
  });
});
