/**
 * Calls the public door refuses before any route runs, through raw TLS sockets: an oversized head
 * (431) and bytes that are not HTTP (400) are answered in the envelope and recorded in the rejections
 * index, naming the IS of the client certificate (or, unregistered, its fingerprint), and so is a
 * CONNECT (the administration listener records nothing); a caller without
 * a certificate is told 401 whatever its method, an identified one 405 for a method MLog does not answer.
 */
import type { StoredRejection } from '../../src/rejections/rejection-search.js';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchUrl, TestMLog, uniqueCode, type TestSystem } from '../helpers/test-mlog.js';
import type { IssuedCertificate } from '../../scripts/dev-pki.js';
import { findRejection as findRecordedRejection } from '../helpers/elasticsearch-inspection.js';


interface Answer {
  status: number;
  requestId: string;
  json: any;
  closedByServer: boolean;
}

let mlog: TestMLog;
let system: TestSystem;
const client = new Client({ node: elasticsearchUrl() });

before(async () => {
  mlog = await TestMLog.start();
  system = await mlog.addSystem();
});

after(async () => {
  await mlog?.stop();
  await client.close();
});

/** Sends `bytes` on a TLS connection (with `certificate`, or none) once the handshake is done, and reads until MLog closes it. */
function exchange(bytes: string | Buffer, certificate: IssuedCertificate | undefined): Promise<Answer> {
  return new Promise((resolve) => {
    const socket: TLSSocket = tlsConnect(
      {
        host: '127.0.0.1',
        port: mlog.mlog.publicPort,
        ca: mlog.ca.certPem,
        servername: 'localhost',
        ...(certificate === undefined ? {} : { cert: certificate.certPem, key: certificate.keyPem }),
      },
      () => socket.write(bytes),
    );
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (closedByServer = true));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
      } catch {
        json = undefined;
      }
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0),
        requestId: /\r\nX-Request-Id: ([0-9a-f-]{36})\r\n/i.exec(text)?.[1] ?? '',
        json,
        closedByServer,
      });
    });
  });
}

function assertEnvelope(answer: Answer, status: number, message: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer));
  assert.equal(answer.json?.status, String(status));
  assert.match(answer.json.message, message);
  assert.match(answer.json.timestamp, /^\d{13}$/);
}

async function findRejection(requestId: string): Promise<StoredRejection> {
  assert.match(requestId, /^[0-9a-f-]{36}$/, 'the answer names its request id');
  return findRecordedRejection(requestId);
}

describe('refusals answered before the router runs are recorded in the rejections index', () => {
  test('a 70 KB request head from a registered certificate → 431 in the envelope, recorded naming the IS, its fingerprint and address', async () => {
    const answer = await exchange(`GET /query?legal_reason=${'a'.repeat(70_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`, system.certificate);
    assertEnvelope(answer, 431, /larger than 65536 bytes/);
    assert.ok(answer.closedByServer);
    const stored = await findRejection(answer.requestId);
    assert.equal(stored.status, 431);
    assert.equal(stored.reason, answer.json.message);
    assert.equal(stored.is, system.code);
    assert.equal(stored.certificate_fingerprint, system.certificate.fingerprint256);
    assert.equal(stored.source_address.replace('::ffff:', ''), '127.0.0.1');
    assert.ok(stored.body_bytes > 0, 'the size of what was sent is kept');
    assert.ok((stored.body_excerpt ?? '').length > 0 && (stored.body_excerpt ?? '').length <= 4096, 'an excerpt of at most 4 KB');
  });

  test('bytes that are not HTTP after a handshake → 400 in the envelope, recorded with the IS and what was sent', async () => {
    const garbage = '\u0001\u0002 not HTTP at all \u00ff\r\n\r\n';
    const answer = await exchange(Buffer.from(garbage, 'latin1'), system.certificate);
    assertEnvelope(answer, 400, /not valid HTTP/);
    const stored = await findRejection(answer.requestId);
    assert.equal(stored.status, 400);
    assert.equal(stored.is, system.code);
    assert.equal(stored.body_bytes, Buffer.byteLength(garbage, 'latin1'));
    assert.match(stored.body_excerpt ?? '', /not HTTP at all/);
  });

  test('an invalid header line with an unregistered certificate → 400, recorded with the request line and the fingerprint, no IS', async () => {
    const stranger = await mlog.issueCertificate(uniqueCode('stranger'));
    const answer = await exchange('POST /register HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n', stranger);
    assertEnvelope(answer, 400, /not valid HTTP/);
    const stored = await findRejection(answer.requestId);
    assert.equal(stored.status, 400);
    assert.equal(stored.is, undefined);
    assert.equal(stored.certificate_fingerprint, stranger.fingerprint256);
    assert.equal(stored.method, 'POST');
    assert.equal(stored.path, '/register');
  });

  test('a 70 KB head without any client certificate → 431, recorded without IS or fingerprint', async () => {
    const answer = await exchange(`GET /query?x=${'b'.repeat(70_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`, undefined);
    assertEnvelope(answer, 431, /larger than 65536 bytes/);
    const stored = await findRejection(answer.requestId);
    assert.equal(stored.status, 431);
    assert.equal(stored.is, undefined);
    assert.equal(stored.certificate_fingerprint, undefined);
  });
});

describe('CONNECT, and the administration listener', () => {
  test('CONNECT on the public listener → 405, recorded with method, target and IS', async () => {
    const answer = await exchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', system.certificate);
    assertEnvelope(answer, 405, /MLog is not a proxy/);
    const stored = await findRejection(answer.requestId);
    assert.equal(stored.status, 405);
    assert.equal(stored.method, 'CONNECT');
    assert.equal(stored.path, 'example.com:443');
    assert.equal(stored.is, system.code);
  });

  test('a 431 on the administration listener is answered but not recorded (only the public door records refusals)', async () => {
    const admin = await new Promise<Answer>((resolve) => {
      const socket = netConnect(mlog.mlog.adminPort, '127.0.0.1', () => socket.write(`GET /healthz?x=${'c'.repeat(70_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => {});
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0), requestId: /\r\nX-Request-Id: ([0-9a-f-]{36})\r\n/i.exec(text)?.[1] ?? '', json: undefined, closedByServer: true });
      });
    });
    assert.equal(admin.status, 431);
    assert.match(admin.requestId, /^[0-9a-f-]{36}$/);
    // A public refusal after it: once that one is stored, anything queued before it would be too.
    const later = await exchange('\u0001 not HTTP\r\n\r\n', system.certificate);
    await findRejection(later.requestId);
    const found = await client.search({ index: 'mlog_rejections-*', ignore_unavailable: true, allow_no_indices: true, query: { term: { request_id: admin.requestId } } });
    assert.equal(found.hits.hits.length, 0);
  });
});

describe('identified first, then the method is judged', () => {
  for (const method of ['PUT', 'DELETE', 'OPTIONS']) {
    test(`${method} /register without a client certificate → 401 (unidentified caller), recorded`, async () => {
      const answer = await mlog.callPublic('/register', { method });
      assert.equal(answer.status, 401, JSON.stringify(answer.json));
      assert.match(answer.json.message, /No client certificate was presented/);
      const stored = await findRejection(String(answer.headers['x-request-id']));
      assert.equal(stored.status, 401);
      assert.equal(stored.method, method);
      assert.equal(stored.path, '/register');
      assert.equal(stored.certificate_fingerprint, undefined);
    });
  }

  test('PUT /register with a registered certificate → 405 naming the methods MLog answers, recorded with the IS', async () => {
    const answer = await system.call('/register', { method: 'PUT', body: '{}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(answer.status, 405, JSON.stringify(answer.json));
    assert.match(answer.json.message, /The method PUT is not accepted; MLog answers GET, POST/);
    const stored = await findRejection(String(answer.headers['x-request-id']));
    assert.equal(stored.status, 405);
    assert.equal(stored.is, system.code);
  });

  test('PUT /register with an unregistered certificate → 401 naming its fingerprint', async () => {
    const stranger = await mlog.issueCertificate(uniqueCode('stranger'));
    const answer = await mlog.callPublic('/register', { method: 'PUT', certificate: stranger });
    assert.equal(answer.status, 401);
    assert.match(answer.json.message, /is not registered to any information system/);
  });
});
