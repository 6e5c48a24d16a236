/**
 * End-to-end: what a caller and an operator see when Elasticsearch answers a request with an error
 * status — 429 when its search queue is full, 5xx when shards fail — through the real doors: MLog
 * over real mutual TLS, and the real `mlog` command. Elasticsearch is the test run's real one, reached
 * through a forwarding proxy in this process that passes every request on unchanged, except those the
 * test names, which it answers the way Elasticsearch answers them (error body with a reason quoting
 * the request, and the x-elastic-product header).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import winston from 'winston';
import { closeInspectionClient } from '../helpers/elasticsearch-inspection.js';
import { runMlogCli } from '../helpers/run-mlog-cli.js';
import { elasticsearchUrl, TestMLog, type TestSystem } from '../helpers/test-mlog.js';

/** A request the proxy answers itself: method and path matched, with this status and error type. */
interface Refusal {
  path: RegExp;
  status: number;
  type: string;
}

let refusal: Refusal | undefined;
let proxy: Server;
let proxyUrl: string;
let mlog: TestMLog;
let portal: TestSystem;
const logLines: string[] = [];

/** The reason Elasticsearch gives quotes what it was asked; MLog must pass none of it on. */
function reasonQuoting(text: string): string {
  return `rejected execution of coordinating operation [query: ${text}]`;
}

function startProxy(): Promise<void> {
  const target = new URL(elasticsearchUrl());
  proxy = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = incoming.url ?? '/';
      if (refusal !== undefined && refusal.path.test(path)) {
        const answer = JSON.stringify({ error: { type: refusal.type, reason: reasonQuoting(body.toString('utf8')) }, status: refusal.status });
        outgoing.writeHead(refusal.status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
        outgoing.end(answer);
        return;
      }
      const forwarded = request(
        // A new connection per request: a kept-alive one that Elasticsearch has just closed would fail the
        // forwarded request, and the caller would see Elasticsearch as unreachable.
        { host: target.hostname, port: target.port, method: incoming.method, path, headers: { ...incoming.headers, host: target.host }, agent: false },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on('error', () => outgoing.destroy());
      forwarded.end(body);
    });
  });
  return new Promise((resolve) => {
    proxy.listen(0, '127.0.0.1', () => {
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      resolve();
    });
  });
}

before(async () => {
  await startProxy();
  mlog = await TestMLog.start({ MLOG_ELASTICSEARCH_URL: proxyUrl });
  const logger = mlog.mlog.logger;
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        objectMode: true,
        write(chunk: unknown, _encoding, done) {
          logLines.push(JSON.stringify(chunk));
          done();
        },
      }),
    }),
  );
  logger.level = 'debug';
  logger.silent = false;
  portal = await mlog.addSystem({ permissions: ['personaldata:read'] });
});

after(async () => {
  refusal = undefined;
  await mlog?.stop();
  await new Promise((resolve) => proxy?.close(resolve));
  proxy?.closeAllConnections();
  await closeInspectionClient();
});

describe('Elasticsearch answers with an error status', () => {
  test('GET /personal-data while Elasticsearch answers its search 429 or 5xx: 503 with Retry-After, never 500; the subject stays out of the log', async () => {
    for (const [status, type] of [
      [429, 'es_rejected_execution_exception'],
      [500, 'search_phase_execution_exception'],
      [502, 'bad_gateway'],
    ] as const) {
      const subject = `subj-${randomUUID()}`;
      refusal = { path: /^\/personaldata-[^/]*\/_search/, status, type };
      const answer = await portal.call(`/personal-data?subject=${subject}&legal_basis=Law`);
      refusal = undefined;
      assert.equal(answer.status, 503, `Elasticsearch ${status}: ${answer.text}`);
      assert.equal(answer.headers['retry-after'], '5');
      assert.equal(answer.json.message, 'Elasticsearch is unavailable; the personal-data query cannot be answered now. Retry later.');
      assert.ok(!logLines.some((line) => line.includes(subject)), `the subject appears in MLog's log: ${logLines.find((line) => line.includes(subject))}`);
      assert.ok(logLines.some((line) => line.includes(`ResponseError ${status} ${type}`)), `the log names what Elasticsearch answered (${status} ${type})`);
    }
  });

  test('GET /query/<uid> while Elasticsearch answers its search 429: 503 with Retry-After', async () => {
    refusal = { path: /^\/mlog-[^/]*\/_search/, status: 429, type: 'es_rejected_execution_exception' };
    const answer = await portal.call(`/query/${randomUUID()}`);
    refusal = undefined;
    assert.equal(answer.status, 503, answer.text);
    assert.equal(answer.headers['retry-after'], '5');
    assert.equal(answer.json.message, 'Elasticsearch is unavailable; the query cannot be answered now. Retry later.');
  });

  test('mlog systems list while Elasticsearch answers 429: exit 1 naming the registry, without Elasticsearch\'s reason', async () => {
    refusal = { path: /^\/mlog_systems\/_search/, status: 429, type: 'es_rejected_execution_exception' };
    const run = await runMlogCli(['systems', 'list'], { MLOG_ELASTICSEARCH_URL: proxyUrl });
    refusal = undefined;
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.stderr.trim(), 'mlog: Elasticsearch is unavailable; the registry of information systems cannot be read or changed now. Retry later.');
  });

  test('mlog rejections list while Elasticsearch answers 400: exit 1, a defect of MLog named by status and type, without Elasticsearch\'s reason', async () => {
    refusal = { path: /^\/mlog_rejections-[^/]*\/_search/, status: 400, type: 'parsing_exception' };
    const run = await runMlogCli(['rejections', 'list'], { MLOG_ELASTICSEARCH_URL: proxyUrl });
    refusal = undefined;
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.stderr.trim(), 'mlog: Elasticsearch refused a request of MLog (ResponseError 400 parsing_exception); the rejections cannot be searched now.');
  });
});
