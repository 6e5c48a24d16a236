/**
 * The public listener's timeouts against slow clients, through real mutual TLS: headers trickled
 * (slowloris) are cut off by the headers timeout, a body trickled slowly by the request timeout.
 * About 90 s of waiting for Node's timers, so it runs in `npm run test:slow`, not `npm test`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestMLog, type TestSystem } from '../helpers/test-mlog.js';
import { closeInspectionClient } from '../helpers/elasticsearch-inspection.js';
import { rawConnection, trickle, waitForInFlightCalls } from '../helpers/raw-tls-connection.js';

let mlog: TestMLog;
let system: TestSystem;

before(async () => {
  mlog = await TestMLog.start();
  system = await mlog.addSystem();
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

test('slowloris (headers trickled) is cut off by the headers timeout; a body trickled slowly is cut off by the request timeout', { timeout: 150_000 }, async () => {
  const loris = await rawConnection(mlog, system);
  const headerLines = ['POST /register HTTP/1.1\r\n', 'Host: localhost\r\n', ...Array.from({ length: 200 }, (_, n) => `X-Slow-${n}: ${n}\r\n`)];
  const slowBody = await rawConnection(mlog, system);
  slowBody.socket.write(`POST /register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
  const [lorisWritten, , lorisMs, slowBodyMs] = await Promise.all([
    trickle(loris.socket, headerLines, 1_000),
    trickle(slowBody.socket, Array.from({ length: 200 }, () => ' '), 1_000),
    loris.closed,
    slowBody.closed,
  ]);
  // headersTimeout is 10 s, checked every 30 s (Node's connectionsCheckingInterval); requestTimeout is 60 s.
  assert.ok(lorisMs >= 9_000 && lorisMs <= 45_000, `slowloris cut off after ${lorisMs} ms`);
  assert.ok(lorisWritten < headerLines.length);
  assert.match(loris.received(), /^HTTP\/1\.1 408 /, 'answered 408 in the envelope');
  assert.ok(slowBodyMs >= 59_000 && slowBodyMs <= 100_000, `slow body cut off after ${slowBodyMs} ms`);
  assert.match(slowBody.received(), /^HTTP\/1\.1 408 |^$/);
  await waitForInFlightCalls(mlog, 0);
  console.log(`# slowloris closed after ${lorisMs} ms, slow body after ${slowBodyMs} ms`);
});
