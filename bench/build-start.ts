/**
 * `npm run bench:build`: MLog's start time and memory run through tsx (`node --import tsx
 * src/main.ts`) against the compiled build (`node dist/main.js`, built first when stale), alternately,
 * ROUNDS times each: start (process spawned → /readyz 200), RSS once ready, and RSS after EVENTS
 * single-event calls (CONCURRENCY at a time, one IS, mutual TLS). Prints each run and the medians.
 * Elasticsearch: MLOG_BENCH_ELASTICSEARCH_URL (default http://127.0.0.1:9200).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../scripts/dev-pki.js';
import { ensureBuilt } from '../scripts/build.js';
import { spawnMLog } from '../scripts/mlog-child-process.js';
import { HttpClient } from './load-runner.js';
import { readRssBytes } from './rss-sampler.js';

const ROUNDS = Number(process.env.MLOG_BENCH_ROUNDS ?? 3);
const EVENTS = Number(process.env.MLOG_BENCH_EVENTS ?? 10_000);
const CONCURRENCY = 32;
const ELASTICSEARCH = process.env.MLOG_BENCH_ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';

interface Run {
  mode: 'tsx' | 'compiled';
  startMs: number;
  rssReadyMb: number;
  rssLoadedMb: number;
}

function register(port: number, agent: Agent, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = request({ host: '127.0.0.1', port, path: '/register', method: 'POST', agent, servername: 'localhost', headers: { 'Content-Type': 'application/json' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    call.on('error', reject);
    call.end(body);
  });
}

async function once(mode: Run['mode'], tls: Record<string, string>, ca: string, client: IssuedCertificate, code: string): Promise<Run> {
  const started = performance.now();
  const { child, publicPort, adminPort, token } = await spawnMLog(ELASTICSEARCH, { env: tls, compiled: mode === 'compiled' });
  child.stdout?.resume();
  child.stderr?.resume();
  const admin = new HttpClient(`http://127.0.0.1:${adminPort}`, 2);
  try {
    while ((await admin.request('GET', '/readyz').catch(() => undefined))?.status !== 200) {
      if (child.exitCode !== null) throw new Error(`MLog (${mode}) exited at start`);
      await sleep(10);
    }
    const startMs = performance.now() - started;
    const rssReadyMb = (readRssBytes(child.pid as number) ?? 0) / 1e6;
    const added = await admin.requestWithHeaders('POST', '/admin/systems', JSON.stringify({ code, name: 'Start bench', idno: '1003600000000', certificates: [client.certPem], status: 'active' }), { Authorization: `Bearer ${token}` });
    if (added.status !== 201 && added.status !== 409) throw new Error(`registering ${code}: ${added.status}`);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca, cert: client.certPem, key: client.keyPem });
    let next = 0;
    let refused = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < EVENTS) {
          const status = await register(publicPort, agent, JSON.stringify({ event_time: new Date().toISOString(), event_type: 'Bench.Start', event_message: randomUUID() }));
          if (status !== 200) refused++;
        }
      }),
    );
    agent.destroy();
    if (refused > 0) throw new Error(`${refused} of ${EVENTS} calls were refused`);
    const rssLoadedMb = (readRssBytes(child.pid as number) ?? 0) / 1e6;
    return { mode, startMs, rssReadyMb, rssLoadedMb };
  } finally {
    admin.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'mlog-bench-build-'));
  try {
    const ca = await createCertificateAuthority(dir, 'MLog Start Bench CA');
    const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
    const client = await issueClientCertificate(ca, dir, { name: 'client' });
    const tls = { MLOG_TLS_CERT: server.certPath, MLOG_TLS_KEY: server.keyPath, MLOG_TLS_CLIENT_CA: ca.certPath };
    const code = `bench-start-${randomUUID().slice(0, 8)}`;
    const runs: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? (['tsx', 'compiled'] as const) : (['compiled', 'tsx'] as const)) {
        const run = await once(mode, tls, ca.certPem, client, code);
        runs.push(run);
        console.log(`${mode.padEnd(8)} start ${run.startMs.toFixed(0).padStart(6)} ms   RSS ready ${run.rssReadyMb.toFixed(0).padStart(4)} MB   RSS after ${EVENTS.toLocaleString('en-US')} events ${run.rssLoadedMb.toFixed(0).padStart(4)} MB`);
      }
    }
    console.log('\nmedians');
    for (const mode of ['tsx', 'compiled'] as const) {
      const mine = runs.filter((run) => run.mode === mode);
      console.log(`${mode.padEnd(8)} start ${median(mine.map((run) => run.startMs)).toFixed(0).padStart(6)} ms   RSS ready ${median(mine.map((run) => run.rssReadyMb)).toFixed(0).padStart(4)} MB   RSS after ${EVENTS.toLocaleString('en-US')} events ${median(mine.map((run) => run.rssLoadedMb)).toFixed(0).padStart(4)} MB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
