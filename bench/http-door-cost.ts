/**
 * `npm run bench:http-door`: what Express costs a single-event call on the public door, apart from
 * MLog's own work. A server process answers `POST /register` (a 1,400-byte body read whole, a JSON
 * envelope answered) over mutual TLS, once from a bare node:https handler and once through an Express
 * app shaped like MLog's public app (four middlewares, a router, `response.status().json()`), taken
 * alternately; 32 keep-alive connections. Prints the server's CPU per call (user + system ÷ calls,
 * which the machine's load changes little) and its rate; asserts nothing.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate } from '../scripts/dev-pki.js';

const CONNECTIONS = 32;
const WARMUP_CALLS = 2_000;
const CALLS = Number(process.env.MLOG_BENCH_HTTP_CALLS ?? 10_000);
const ROUNDS = 3;
const BODY = `{"event_time":"2026-11-28T10:00:00Z","event_type":"Bench.Event","event_message":"${'x'.repeat(1_330)}"}`;

type Kind = 'bare' | 'express';

function answer(): string {
  return JSON.stringify({ status: '200', message: 'OK', timestamp: String(Date.now()), UID: '00000000-0000-4000-8000-000000000000' });
}

/** Reads the body whole, then calls `done`. */
function readBody(request: IncomingMessage, done: () => void): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', done);
}

function handler(kind: Kind): (request: IncomingMessage, response: ServerResponse) => void {
  if (kind === 'bare') {
    return (request, response) =>
      readBody(request, () => {
        const body = answer();
        response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'X-Request-Id': 'id' });
        response.end(body);
      });
  }
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);
  app.use((_request, response, next) => {
    response.setHeader('X-Request-Id', 'id');
    next();
  });
  for (let i = 0; i < 3; i++) app.use((_request, _response, next) => next());
  const router = express.Router();
  router.post('/register', (request, response) => readBody(request, () => response.status(200).json(JSON.parse(answer()))));
  app.use(router);
  return app;
}

async function serve(dir: string, kind: Kind): Promise<void> {
  const server = https.createServer(
    { key: readFileSync(path.join(dir, 'server.key')), cert: readFileSync(path.join(dir, 'server.crt')), ca: readFileSync(path.join(dir, 'ca.crt')), requestCert: true, rejectUnauthorized: true },
    handler(kind),
  );
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
  process.on('message', () => process.send?.({ cpu: process.cpuUsage() }));
}

function once<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve) => child.once('message', (message) => resolve(message as T)));
}

async function measure(dir: string, kind: Kind): Promise<{ micros: number; rate: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['serve', dir, kind], { execArgv: ['--import', 'tsx'] });
  const { port } = await once<{ port: number }>(child);
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONNECTIONS, key: readFileSync(path.join(dir, 'client.key')), cert: readFileSync(path.join(dir, 'client.crt')), ca: readFileSync(path.join(dir, 'ca.crt')) });
  const call = () =>
    new Promise<void>((resolve, reject) => {
      const request = https.request({ host: '127.0.0.1', port, method: 'POST', path: '/register', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(BODY) } }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`${kind}: status ${response.statusCode}`));
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', reject);
      request.end(BODY);
    });
  const run = async (calls: number) => {
    let started = 0;
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (started++ < calls) await call();
    }));
  };
  try {
    await run(WARMUP_CALLS);
    child.send('cpu');
    const before = await once<{ cpu: NodeJS.CpuUsage }>(child);
    const started = performance.now();
    await run(CALLS);
    const seconds = (performance.now() - started) / 1000;
    child.send('cpu');
    const after = await once<{ cpu: NodeJS.CpuUsage }>(child);
    const micros = (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / CALLS;
    return { micros, rate: CALLS / seconds };
  } finally {
    agent.destroy();
    child.kill();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mlog-bench-http-door-'));
  try {
    const ca = await createCertificateAuthority(dir, 'Bench CA');
    const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
    const client = await issueClientCertificate(ca, dir, { name: 'client' });
    const { copyFile } = await import('node:fs/promises');
    await copyFile(ca.certPath, path.join(dir, 'ca.crt'));
    await copyFile(server.certPath, path.join(dir, 'server.crt'));
    await copyFile(server.keyPath, path.join(dir, 'server.key'));
    await copyFile(client.certPath, path.join(dir, 'client.crt'));
    await copyFile(client.keyPath, path.join(dir, 'client.key'));
    console.log(`POST /register over mutual TLS, ${CONNECTIONS} keep-alive connections, ${CALLS.toLocaleString('en-US')} calls after ${WARMUP_CALLS.toLocaleString('en-US')}, server CPU per call (node ${process.version})`);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of ['bare', 'express'] as const) {
        const { micros, rate } = await measure(dir, kind);
        console.log(`  round ${round}  ${kind === 'bare' ? 'node:https handler' : 'Express app      '}  ${micros.toFixed(1).padStart(6)} µs CPU/call  ${Math.round(rate).toLocaleString('en-US').padStart(6)} calls/s`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') void serve(process.argv[3] as string, process.argv[4] as Kind);
else
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
