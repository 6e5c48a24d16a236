/**
 * Fairness between systems on /register, end to end through real mutual TLS and Elasticsearch: the
 * bytes of bodies one IS may have being registered at once (429 with Retry-After for that IS only,
 * decided before its body is read), and for the instance (503). The round-robin forming of shared
 * bulks is tested in test/unit/bulk-batcher.test.ts; its figures under a flood come from
 * test/faults/fairness.fault.ts. A call larger than a bulk travels in several (so that other systems'
 * bulks leave between its parts) and stays whole or nothing.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { TestMLog, event, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';
import { closeInspectionClient, documentsWithMarker, eventIndexPattern, inspectionClient, storedEvents } from '../helpers/elasticsearch-inspection.js';

// Per IS 3,000 bytes of bodies being registered, 5,000 for the instance.
let mlog: TestMLog;
let a: TestSystem;
let b: TestSystem;
let c: TestSystem;

before(async () => {
  mlog = await TestMLog.start({ MLOG_MAX_REGISTER_BYTES_PER_IS: '3000', MLOG_MAX_REGISTER_BYTES: '5000' });
  [a, b, c] = await Promise.all([mlog.addSystem(), mlog.addSystem(), mlog.addSystem()]);
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

interface HeldCall {
  request: ClientRequest;
  answer: Promise<IncomingMessage | Error>;
}

/** A /register call declaring `length` bytes whose body never finishes: its bytes stay counted until it is aborted. */
function holdCall(system: TestSystem, length: number): HeldCall {
  const request = httpsRequest({
    host: '127.0.0.1',
    port: mlog.mlog.publicPort,
    path: '/register',
    method: 'POST',
    ca: mlog.ca.certPem,
    servername: 'localhost',
    cert: system.certificate.certPem,
    key: system.certificate.keyPem,
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(length) },
    agent: false,
  });
  const answer = new Promise<IncomingMessage | Error>((resolve) => {
    request.on('response', resolve);
    request.on('error', resolve);
  });
  request.write('{"event_time":');
  return { request, answer };
}

/** A body of about `bytes` bytes carrying `mark`. */
function body(mark: string, bytes = 200): string {
  const text = JSON.stringify(event({ event_correlation: mark }));
  return JSON.stringify(event({ event_correlation: mark, padding: 'p'.repeat(Math.max(0, bytes - text.length - 14)) }));
}

function assertRefused(answer: HttpAnswer, status: 429 | 503, retryAfter: string, pattern: RegExp): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.headers['retry-after'], retryAfter);
  assert.equal(answer.json.status, String(status));
  assert.match(answer.json.message, pattern);
  assert.equal(answer.json.UID, undefined);
}

/** Retries `call` until it is answered 200 (the held calls' bytes are freed when MLog sees their connections close). */
async function eventually200(call: () => Promise<HttpAnswer>): Promise<HttpAnswer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await call();
    if (answer.status === 200 || attempt >= 50) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('bytes of /register bodies being registered', () => {
  test("past its bound an IS hears 429 with Retry-After before its body is read, another IS is served; past the instance's bound 503; freed bytes admit again", async () => {
    const held = [holdCall(a, 2_500)];
    // The held call's bytes are counted once MLog has admitted it; a small call of A (2,500 + 1,000 > 3,000) is then refused.
    const markA = `fair-${randomUUID()}`;
    let refused: HttpAnswer | undefined;
    for (let attempt = 0; attempt < 50 && refused?.status !== 429; attempt++) {
      refused = await a.register(body(markA, 1_000));
      if (refused.status !== 429) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assertRefused(refused as HttpAnswer, 429, '1', new RegExp(`"${a.code}" already has 3000 bytes of events being registered`));
    assert.deepEqual(await documentsWithMarker(a.code, markA), [], 'a refused call stores nothing');

    const markB = `fair-${randomUUID()}`;
    const served = await b.register(body(markB, 1_000));
    assert.equal(served.status, 200, `another IS is still served: ${served.text}`);
    assert.equal((await documentsWithMarker(b.code, markB)).length, 1);

    // B holds 2,000 more: 4,500 of 5,000 are counted; C's 1,000 would pass the instance's bound.
    held.push(holdCall(b, 2_000));
    let overloaded: HttpAnswer | undefined;
    for (let attempt = 0; attempt < 50 && overloaded?.status !== 503; attempt++) {
      overloaded = await c.register(body(`fair-${randomUUID()}`, 1_000));
      if (overloaded.status !== 503) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assertRefused(overloaded as HttpAnswer, 503, '2', /registering 5000 bytes of events at once/);

    // Clients that go away free their bytes.
    for (const call of held) call.request.destroy();
    await Promise.all(held.map((call) => call.answer));
    for (const system of [a, b, c]) {
      const answer = await eventually200(() => system.register(body(`fair-${randomUUID()}`, 1_000)));
      assert.equal(answer.status, 200, answer.text);
    }
    const metrics = await mlog.callAdmin('/metrics', { token: null });
    assert.match(metrics.text, /mlog_admission_refused_total\{limit="system_bytes"\} [1-9]/);
    assert.match(metrics.text, /mlog_admission_refused_total\{limit="global_bytes"\} [1-9]/);
  });
});

/** Shard-level bulk requests Elasticsearch has received for the IS's event indices. */
async function bulkRequests(code: string): Promise<number> {
  const stats = await inspectionClient().indices.stats({ index: eventIndexPattern(code), metric: 'bulk' });
  return (stats._all.primaries as { bulk?: { total_operations: number } }).bulk?.total_operations ?? 0;
}

describe('a call with more events than a bulk holds (MLOG_GROUP_COMMIT_MAX_OPERATIONS=4)', () => {
  let split: TestMLog;
  before(async () => {
    split = await TestMLog.start({ MLOG_GROUP_COMMIT_MAX_OPERATIONS: '4' });
  });
  after(async () => {
    await split?.stop();
  });

  test('travels to Elasticsearch in bulks of at most 4 and is acknowledged whole', async () => {
    const system = await split.addSystem();
    const first = await system.register(event());
    assert.equal(first.status, 200, first.text);
    const before = await bulkRequests(system.code);
    const answer = await system.register(Array.from({ length: 10 }, (_, i) => JSON.stringify(event({ n: i }))).join('\n'));
    assert.equal(answer.status, 200, answer.text);
    assert.equal((await bulkRequests(system.code)) - before, 3, '10 events in 3 bulks (4 + 4 + 2)');
    const stored = await storedEvents(system.code, answer.json.UID);
    assert.deepEqual(stored.map((doc) => doc.source.n), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('an event refused by Elasticsearch in its last part refuses the whole call, and the parts already written are removed', async () => {
    const system = await split.addSystem();
    const first = await system.register(event({ amount: 5 }));
    assert.equal(first.status, 200, first.text);
    const before = await bulkRequests(system.code);
    const mark = `split-${randomUUID()}`;
    // Line 10 sends "amount" as an object where the index maps it as a single value: only Elasticsearch can tell.
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify(event({ event_correlation: mark, amount: i === 9 ? { nested: i } : i })));
    const answer = await system.register(lines.join('\n'));
    assert.equal(answer.status, 400, answer.text);
    assert.match(answer.json.message, /^Line 10: the event cannot be stored/);
    assert.ok((await bulkRequests(system.code)) - before >= 4, 'three bulks of creates (8 events written before the refusal), then the removal');
    assert.deepEqual(await documentsWithMarker(system.code, mark), [], 'nothing of the refused call remains');
  });
});
