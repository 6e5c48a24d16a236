/**
 * Load and backpressure end to end, through real mutual TLS: limits on calls in flight (per IS → 429,
 * for the instance → 503, both with Retry-After; slots freed when a call ends or its client goes
 * away), and the listener's defences against slow and oversized clients (header and request
 * timeouts — in slow-clients.slow.test.ts, run by `npm run test:slow` —, keep-alive timeout, the 256 KB limit applied while the body streams, compressed bodies).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { gzipSync } from 'node:zlib';
import { TestMLog, event, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';
import { closeInspectionClient, documentsWithMarker } from '../helpers/elasticsearch-inspection.js';
import { inFlightCalls, rawConnection, waitForInFlightCalls } from '../helpers/raw-tls-connection.js';

// Global limit 3, per IS 2: two held calls of A fill A's share; one of B then fills the instance.
let mlog: TestMLog;
let a: TestSystem;
let b: TestSystem;
let c: TestSystem;

before(async () => {
  mlog = await TestMLog.start({ MLOG_MAX_IN_FLIGHT: '3', MLOG_MAX_IN_FLIGHT_PER_IS: '2' });
  [a, b, c] = await Promise.all([mlog.addSystem(), mlog.addSystem(), mlog.addSystem()]);
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function body(mark = `bp-${randomUUID()}`): string {
  return JSON.stringify(event({ event_correlation: mark }));
}

async function inFlight(): Promise<{ total: number; bySystem: Map<string, number> }> {
  return inFlightCalls(mlog);
}

async function waitForInFlight(total: number): Promise<void> {
  await waitForInFlightCalls(mlog, total);
}

interface HeldCall {
  request: ClientRequest;
  answer: Promise<IncomingMessage | Error>;
}

/** A /register call whose body never finishes: it holds its slot until aborted. */
function holdCall(system: TestSystem): HeldCall {
  const request = httpsRequest({
    host: '127.0.0.1',
    port: mlog.mlog.publicPort,
    path: '/register',
    method: 'POST',
    ca: mlog.ca.certPem,
    servername: 'localhost',
    cert: system.certificate.certPem,
    key: system.certificate.keyPem,
    headers: { 'Content-Type': 'application/json', 'Content-Length': '1000' },
    agent: false,
  });
  const answer = new Promise<IncomingMessage | Error>((resolve) => {
    request.on('response', resolve);
    request.on('error', resolve);
  });
  request.write('{"event_time":');
  return { request, answer };
}

function assertOverloaded(answer: HttpAnswer, status: 429 | 503, retryAfter: string, pattern: RegExp): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.headers['retry-after'], retryAfter);
  assert.equal(answer.json.status, String(status));
  assert.match(answer.json.message, pattern);
  assert.equal(answer.json.UID, undefined);
}

describe('limits on calls in flight', () => {
  test('per IS: past its limit an IS hears 429 with Retry-After while another IS is served; the instance limit → 503; aborted calls free their slots', async () => {
    const held = [holdCall(a), holdCall(a)];
    await waitForInFlight(2);
    assert.equal((await inFlight()).bySystem.get(a.code), 2);

    const markA = `bp-${randomUUID()}`;
    assertOverloaded(await a.register(body(markA)), 429, '1', new RegExp(`"${a.code}" has 2 calls in flight`));
    assert.deepEqual(await documentsWithMarker(a.code, markA), [], 'a refused call stores nothing');
    for (const query of ['/query?uid=00000000-0000-4000-8000-000000000000', '/personal-data?subject=x&legal_basis=y']) {
      assert.equal((await a.call(query)).status, 429, `${query} is limited too`);
    }
    assert.equal((await b.register(body())).status, 200, 'another IS is still served');

    held.push(holdCall(b));
    await waitForInFlight(3);
    assertOverloaded(await c.register(body()), 503, '2', /handling as many calls as it can/);
    assertOverloaded(await b.register(body()), 503, '2', /Retry after 2 s/);

    // Clients that go away free their slots.
    for (const call of held) call.request.destroy();
    await Promise.all(held.map((call) => call.answer));
    await waitForInFlight(0);
    assert.equal((await inFlight()).bySystem.get(a.code), 0);
    for (const system of [a, b, c]) assert.equal((await system.register(body())).status, 200);

    const metrics = await mlog.callAdmin('/metrics', { token: null });
    assert.match(metrics.text, /mlog_admission_refused_total\{limit="system"\} [1-9]/);
    assert.match(metrics.text, /mlog_admission_refused_total\{limit="global"\} [1-9]/);
  });

  test('a burst of 30 calls from one IS: every answer is 200 or 429 with Retry-After, none lost or failed; another IS meanwhile gets 200s; afterwards all succeed', async () => {
    const marks = Array.from({ length: 30 }, () => `bp-${randomUUID()}`);
    const [burst, others] = await Promise.all([
      Promise.all(marks.map((mark) => a.register(body(mark)))),
      (async () => {
        const answers: HttpAnswer[] = [];
        for (let n = 0; n < 5; n++) answers.push(await b.register(body()));
        return answers;
      })(),
    ]);
    const statuses = burst.map((answer) => answer.status);
    assert.ok(statuses.every((status) => status === 200 || status === 429 || status === 503), `only 200/429/503: ${statuses.join(',')}`);
    for (const answer of burst.filter((each) => each.status !== 200)) assert.ok(answer.headers['retry-after'] !== undefined);
    assert.ok(statuses.includes(200));
    assert.ok(others.every((answer) => answer.status === 200 || answer.status === 503), others.map((x) => x.status).join(','));
    assert.ok(others.some((answer) => answer.status === 200));
    // Exactly the acknowledged calls are stored.
    for (const [index, answer] of burst.entries()) {
      const stored = await documentsWithMarker(a.code, marks[index] as string);
      assert.equal(stored.length, answer.status === 200 ? 1 : 0);
    }
    await waitForInFlight(0);
    for (let n = 0; n < 5; n++) assert.equal((await a.register(body())).status, 200);
    console.log(`# burst of 30 with a per-IS limit of 2: ${statuses.filter((s) => s === 200).length} × 200, ${statuses.filter((s) => s === 429).length} × 429, ${statuses.filter((s) => s === 503).length} × 503`);
  });
});

// ---------------------------------------------------------------------------------------------------

/** A raw mutual-TLS connection to the public listener, for clients that misbehave at the HTTP level. */
describe('slow and oversized clients', () => {
  test('an idle keep-alive connection is closed after the keep-alive timeout', { timeout: 30_000 }, async () => {
    const connection = await rawConnection(mlog, c);
    connection.socket.write('GET /query?uid=00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    const answeredAt = Date.now();
    const closedAfter = await connection.closed;
    assert.match(connection.received(), /^HTTP\/1\.1 404 /);
    const idle = Date.now() - answeredAt;
    assert.ok(idle >= 4_000 && idle <= 12_000, `idle connection closed after ${idle} ms (${closedAfter} ms after connecting)`);
  });

  test('a 10 MB body with its Content-Length is refused with 413 before it is sent', { timeout: 30_000 }, async () => {
    const connection = await rawConnection(mlog, c);
    connection.socket.write(`POST /register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
    const deadline = Date.now() + 5_000;
    while (!/\r\n\r\n/.test(connection.received()) && Date.now() < deadline) await sleep(20);
    assert.match(connection.received(), /^HTTP\/1\.1 413 /, 'answered with no byte of the body sent');
    assert.match(connection.received(), /262144 bytes/);
    connection.socket.destroy();
  });

  test('a 10 MB chunked body is refused with 413 once it passes 256 KB, long before the client finished sending', { timeout: 30_000 }, async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const total = 10 * 1024 * 1024;
    const rssBefore = process.memoryUsage().rss;
    let sent = 0;
    let sentWhenAnswered = -1;
    const request = httpsRequest({
      host: '127.0.0.1',
      port: mlog.mlog.publicPort,
      path: '/register',
      method: 'POST',
      ca: mlog.ca.certPem,
      servername: 'localhost',
      cert: c.certificate.certPem,
      key: c.certificate.keyPem,
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      agent: false,
    });
    const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
      request.on('response', (response) => {
        sentWhenAnswered = sent;
        let text = '';
        response.on('data', (data: Buffer) => (text += data.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      request.on('error', reject);
    });
    while (sent < total && sentWhenAnswered < 0 && !request.destroyed) {
      // MLog stops reading once it answered: wait for room to write, or for the answer.
      if (!request.write(chunk)) await Promise.race([new Promise((resolve) => request.once('drain', resolve)), answered.catch(() => undefined)]);
      sent += chunk.length;
      await sleep(2);
    }
    const answer = await answered;
    request.destroy();
    assert.equal(answer.status, 413, answer.text);
    assert.match(answer.text, /at most 262144 bytes/);
    assert.ok(sentWhenAnswered >= 0 && sentWhenAnswered < total / 2, `413 arrived after ${sentWhenAnswered} of ${total} bytes were written`);
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    console.log(`# chunked 10 MB: 413 after ${sentWhenAnswered} bytes written; RSS grew ${(rssGrowth / 1048576).toFixed(1)} MB (client and server share this process)`);
    await waitForInFlight(0);
  });

  test('a gzip body → 415, nothing stored', async () => {
    const mark = `bp-${randomUUID()}`;
    const answer = await c.call('/register', { method: 'POST', body: gzipSync(Buffer.from(body(mark))), headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } });
    assert.equal(answer.status, 415, answer.text);
    assert.match(answer.json.message, /Compressed bodies/);
    assert.deepEqual(await documentsWithMarker(c.code, mark), []);
  });
});
