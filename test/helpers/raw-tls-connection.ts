/**
 * Raw mutual-TLS connections to a test MLog's public listener, for tests that write HTTP by hand
 * (trickled headers, bodies that never finish), and the in-flight gauges read from /metrics.
 */
import assert from 'node:assert/strict';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { TestMLog, TestSystem } from './test-mlog.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RawConnection {
  socket: TLSSocket;
  /** Everything MLog sent so far, as text. */
  received: () => string;
  /** Resolves when the connection closes, with the milliseconds since it was opened. */
  closed: Promise<number>;
}

/** A TLS connection with `system`'s client certificate, handshake done. */
export async function rawConnection(mlog: TestMLog, system: TestSystem): Promise<RawConnection> {
  const started = Date.now();
  const socket = tlsConnect({
    host: '127.0.0.1',
    port: mlog.mlog.publicPort,
    ca: mlog.ca.certPem,
    servername: 'localhost',
    cert: system.certificate.certPem,
    key: system.certificate.keyPem,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  return { socket, received: () => text, closed };
}

/** Writes `parts` one every `everyMs` until the socket closes; returns how many were written. */
export async function trickle(socket: TLSSocket, parts: string[], everyMs: number): Promise<number> {
  let written = 0;
  for (const part of parts) {
    if (socket.destroyed || !socket.writable) break;
    socket.write(part);
    written++;
    await sleep(everyMs);
  }
  return written;
}

/** In-flight gauge values from /metrics: the instance's and each system's. */
export async function inFlightCalls(mlog: TestMLog): Promise<{ total: number; bySystem: Map<string, number> }> {
  const answer = await mlog.callAdmin('/metrics', { token: null });
  const total = Number(/^mlog_in_flight_calls (\d+)/m.exec(answer.text)?.[1] ?? NaN);
  const bySystem = new Map<string, number>();
  for (const match of answer.text.matchAll(/^mlog_in_flight_calls_by_system\{system="([^"]+)"\} (\d+)/gm)) bySystem.set(match[1] as string, Number(match[2]));
  return { total, bySystem };
}

/** Waits (up to 10 s) until the instance has `total` calls in flight; fails the test otherwise. */
export async function waitForInFlightCalls(mlog: TestMLog, total: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if ((await inFlightCalls(mlog)).total === total) return;
    if (Date.now() > deadline) assert.fail(`in-flight calls did not reach ${total}: ${(await inFlightCalls(mlog)).total}`);
    await sleep(20);
  }
}
