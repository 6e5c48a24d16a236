/**
 * Connections that never become a request MLog serves, through raw sockets: TCP connections to the
 * public port that send nothing or only the start of a TLS ClientHello are cut after
 * MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS and leave no socket or open file behind; request heads that Node
 * would answer bare or not at all (HTTP/1.1 without Host, an unsupported Expect, CONNECT, a request
 * line far over the limit) are answered in the envelope on both listeners.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { randomUUID } from 'node:crypto';
import { TestMLog, event, type TestSystem } from '../helpers/test-mlog.js';
import { closeInspectionClient, documentsWithMarker } from '../helpers/elasticsearch-inspection.js';

let mlog: TestMLog;
let system: TestSystem;

before(async () => {
  mlog = await TestMLog.start({ MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS: '1' });
  system = await mlog.addSystem();
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Files this process holds open (MLog runs in this process, and so do the test's own sockets). */
/**
 * Open files of this process that are TCP sockets of `port`, at either end (MLog runs in this
 * process, so its accepted sockets and the test's client sockets both count); MLog's connections to
 * Elasticsearch, which come and go with its jobs, do not.
 */
function openSocketsOf(port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, remote] = fields;
      const inode = fields[9];
      if (inode !== undefined && inode !== '0' && (local?.endsWith(hexPort) === true || remote?.endsWith(hexPort) === true)) inodes.add(inode);
    }
  }
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) count++;
  }
  return count;
}

/** TCP sockets of `port` in CLOSE-WAIT (the client hung up, the server never closed its side). */
function closeWaitSockets(port: number): number {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let found = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local?.endsWith(suffix) && state === '08') found++;
    }
  }
  return found;
}

/** The first bytes of a TLS 1.2 ClientHello record: its header and the start of the handshake message. */
const CLIENT_HELLO_START = Buffer.from('160301020001', 'hex');

interface Exchange {
  text: string;
  /** True when the server closed the connection before `waitMs`. */
  closedByServer: boolean;
  status: number;
  json: any;
}

/** Sends `request` on a raw connection and reads until the server closes it (or `waitMs` pass). */
function exchange(listener: 'public' | 'admin', request: string, waitMs = 10_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket: Socket =
      listener === 'public'
        ? tlsConnect(
            { host: '127.0.0.1', port: mlog.mlog.publicPort, ca: mlog.ca.certPem, servername: 'localhost', cert: system.certificate.certPem, key: system.certificate.keyPem },
            () => socket.write(request),
          )
        : netConnect(mlog.mlog.adminPort, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (closedByServer = true));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0);
      let json: unknown;
      try {
        json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
      } catch {
        json = undefined;
      }
      resolve({ text, closedByServer, status, json });
    });
  });
}

function assertEnvelope(answer: Exchange, status: number, message: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.text.slice(0, 300)));
  assert.match(answer.text, /\r\nContent-Type: application\/json; charset=utf-8\r\n/);
  assert.equal(answer.json?.status, String(status), `an envelope: ${JSON.stringify(answer.text.slice(0, 300))}`);
  assert.match(answer.json.message, message);
  assert.match(answer.json.timestamp, /^\d{13}$/);
}

describe('connections that never finish a TLS handshake', () => {
  test('a connection that sends nothing is closed by MLog after MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS (1 s here)', { timeout: 30_000 }, async () => {
    const started = Date.now();
    const socket = netConnect(mlog.mlog.publicPort, '127.0.0.1');
    socket.on('error', () => {});
    const closedAfter = await new Promise<number | undefined>((resolve) => {
      const guard = setTimeout(() => resolve(undefined), 15_000);
      socket.once('end', () => {
        clearTimeout(guard);
        resolve(Date.now() - started);
      });
    });
    socket.destroy();
    assert.ok(closedAfter !== undefined, 'MLog still held the silent connection open after 15 s');
    assert.ok(closedAfter >= 900, `closed after ${closedAfter} ms, before the handshake timeout`);
  });

  test('300 connections that send nothing or the first bytes of a ClientHello are cut, then hang up: the open sockets of the port return to the baseline, none is left in CLOSE-WAIT', { timeout: 60_000 }, async () => {
    const port = mlog.mlog.publicPort;
    const baseline = openSocketsOf(port);
    const sockets: Socket[] = [];
    let cutByServer = 0;
    const closed: Promise<void>[] = [];
    for (let n = 0; n < 300; n++) {
      const socket = netConnect(port, '127.0.0.1');
      socket.on('error', () => {});
      if (n % 2 === 1) socket.once('connect', () => socket.write(CLIENT_HELLO_START));
      socket.once('end', () => cutByServer++);
      closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
      sockets.push(socket);
    }
    await Promise.all(sockets.map((socket) => new Promise((resolve) => (socket.connecting ? socket.once('connect', resolve) : resolve(undefined)))));
    const whileOpen = openSocketsOf(port);
    // Past the handshake timeout, then every client hangs up.
    const deadline = Date.now() + 15_000;
    while (cutByServer < sockets.length && Date.now() < deadline) await sleep(100);
    const cut = cutByServer;
    for (const socket of sockets) socket.end();
    await Promise.race([Promise.all(closed), sleep(10_000)]);
    for (const socket of sockets) socket.destroy();
    let after = openSocketsOf(port);
    const settle = Date.now() + 10_000;
    while ((after > baseline || closeWaitSockets(port) > 0) && Date.now() < settle) {
      await sleep(100);
      after = openSocketsOf(port);
    }
    const closeWait = closeWaitSockets(port);
    console.log(`# 300 unfinished handshakes: open sockets of the port ${baseline} before, ${whileOpen} while connected, ${after} after; ${cut} cut by MLog; ${closeWait} in CLOSE-WAIT`);
    assert.equal(cut, sockets.length, `MLog cut ${cut} of ${sockets.length} connections that never finished their handshake`);
    assert.equal(closeWait, 0, `${closeWait} sockets of the public port are left in CLOSE-WAIT`);
    assert.ok(whileOpen >= baseline + 300, `only ${whileOpen - baseline} sockets of the port were counted while 300 were connected`);
    assert.ok(after <= baseline, `open sockets of the port: ${baseline} before, ${after} after the clients left`);
    // The listener still serves.
    assert.equal((await system.register(event())).status, 200);
  });
});

describe('request heads answered in the envelope', () => {
  test('HTTP/1.1 without Host → 400 naming the Host header, on both listeners; HTTP/1.0 needs none', async () => {
    assertEnvelope(await exchange('public', 'GET /query/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nConnection: close\r\n\r\n'), 400, /The Host header is missing/);
    assertEnvelope(await exchange('admin', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'), 400, /The Host header is missing/);
    assertEnvelope(await exchange('admin', 'GET /healthz HTTP/1.0\r\n\r\n'), 200, /MLog is running/);
  });

  test('Expect other than 100-continue → 417 in the envelope, nothing stored; Expect: 100-continue is still met', async () => {
    const mark = `conn-${randomUUID()}`;
    const body = JSON.stringify(event({ event_correlation: mark }));
    const head = `POST /register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n`;
    assertEnvelope(await exchange('public', `${head}Expect: 200-ok\r\n\r\n${body}`), 417, /only "Expect: 100-continue" is supported/);
    assert.deepEqual(await documentsWithMarker(system.code, mark), []);
    assertEnvelope(await exchange('admin', 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n'), 417, /Expect/);

    const continued = await exchange('public', `${head}Expect: 100-continue\r\n\r\n${body}`);
    assert.match(continued.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.equal((await documentsWithMarker(system.code, mark)).length, 1);
  });

  test('CONNECT → 405 in the envelope on both listeners, and the connection is closed', async () => {
    for (const listener of ['public', 'admin'] as const) {
      const answer = await exchange(listener, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      assertEnvelope(answer, 405, /The method CONNECT is not accepted; MLog is not a proxy/);
      assert.ok(answer.closedByServer, `${listener}: closed by MLog`);
    }
  });

  test('request lines of 70 KB, 100 KB and 1 MB → 431 in the envelope over mutual TLS, not a reset connection', { timeout: 60_000 }, async () => {
    for (const size of [70_000, 100_000, 1_000_000]) {
      for (const listener of ['public', 'admin'] as const) {
        const answer = await exchange(listener, `GET /query?legal_reason=${'a'.repeat(size)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
        assertEnvelope(answer, 431, /larger than 65536 bytes/);
        assert.ok(answer.closedByServer, `${listener}, ${size} bytes: closed by MLog`);
      }
    }
  });

  test('a client that keeps sending after its 431, and never closes its side, is disconnected by MLog', { timeout: 30_000 }, async () => {
    const socket = netConnect({ host: '127.0.0.1', port: mlog.mlog.adminPort, allowHalfOpen: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.on('error', () => {});
    let open = true;
    socket.once('close', () => (open = false));
    socket.write(`GET /healthz?${'a'.repeat(70_000)}`);
    const until = Date.now() + 20_000;
    while (open && Date.now() < until) {
      socket.write('a'.repeat(1_000));
      await sleep(50);
    }
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 431 /);
    assert.equal(open, false, 'still connected after 20 s of sending');
  });
});
