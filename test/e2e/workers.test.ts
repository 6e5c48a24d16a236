/**
 * MLOG_WORKERS=2 through the real doors: `node --import tsx src/main.ts` as a child process (a primary
 * and its node:cluster workers) over the real Elasticsearch of the test run, called over mutual TLS.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority, issueServerCertificate, type CertificateAuthority, type IssuedCertificate } from '../../scripts/dev-pki.js';
import { eventIndexPattern, refresh, searchDocuments } from '../helpers/elasticsearch-inspection.js';
import { closed, tlsSyslogClient, waitFor } from '../helpers/syslog-peers.js';
import { elasticsearchUrl, event, MLogCaller, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

type LogLine = Record<string, unknown>;

/** MLog spawned as a process; its stdout read as JSON log lines. */
class MLogProcess {
  private stdout = '';
  private stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get output(): string {
    return `${this.stdout}\n${this.stderr}`;
  }

  lines(filter: LogLine = {}): LogLine[] {
    const parsed: LogLine[] = [];
    for (const line of this.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        parsed.push(JSON.parse(line) as LogLine);
      } catch {
        // a line still being written
      }
    }
    return parsed.filter((line) => Object.entries(filter).every(([key, value]) => line[key] === value));
  }

  /** Waits until `count` log lines match `filter` (polling for up to `seconds`), and returns them. */
  async waitForLines(filter: LogLine, count: number, seconds = 30): Promise<LogLine[]> {
    for (let waited = 0; waited < seconds * 10; waited++) {
      const found = this.lines(filter);
      if (found.length >= count) return found;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${count} log line(s) ${JSON.stringify(filter)}; output:\n${this.output}`);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pids(lines: LogLine[]): Set<number> {
  return new Set(lines.map((line) => Number(line.pid)));
}

/** The value of `mlog_events_registered_total` for one IS in a /metrics text (0 when absent). */
function registeredEvents(metricsText: string, code: string): number {
  const line = metricsText.split('\n').find((row) => row.startsWith(`mlog_events_registered_total{system="${code}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/**
 * Adds an IS through the admin API (answered by one worker), then waits until every worker knows it:
 * a worker whose registry copy is more than 1 s old reads the registry again on an unknown certificate.
 */
async function addSystemKnownToAllWorkers(api: MLogCaller): Promise<TestSystem> {
  const system = await api.addSystem();
  await sleep(1_200);
  return system;
}

describe('MLOG_WORKERS=2: a primary and two workers', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let tls: Record<string, string>;
  let mlog: MLogProcess;
  let api: MLogCaller;
  let system: TestSystem;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-workers-'));
    ca = await createCertificateAuthority(dir, 'Workers Test CA');
    const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
    tls = { MLOG_TLS_CERT: server.certPath, MLOG_TLS_KEY: server.keyPath, MLOG_TLS_CLIENT_CA: ca.certPath };
    const token = randomBytes(24).toString('hex');
    mlog = new MLogProcess({
      MLOG_ELASTICSEARCH_URL: elasticsearchUrl(),
      ...tls,
      MLOG_HOST: '127.0.0.1',
      MLOG_PORT: '0',
      MLOG_ADMIN_PORT: '0',
      MLOG_ADMIN_TOKEN: token,
      MLOG_RETENTION_SCHEDULE: 'off',
      MLOG_WORKERS: '2',
      MLOG_SYSLOG_TLS_PORT: '0',
    });
    const started = await mlog.waitForLines({ message: 'MLog started', role: 'worker' }, 2, 60);
    await mlog.waitForLines({ message: 'worker serving', role: 'primary' }, 2);
    api = new MLogCaller(dir, ca, server, { publicPort: Number(started[0]?.publicPort), adminPort: Number(started[0]?.adminPort) }, token);
    system = await addSystemKnownToAllWorkers(api);
  });

  after(async () => {
    mlog.signal('SIGKILL');
    await mlog.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  test('both workers share the listeners and answer calls', async () => {
    const forked = mlog.lines({ message: 'worker started', role: 'primary' });
    assert.equal(forked.length, 2);
    const started = mlog.lines({ message: 'MLog started', role: 'worker' });
    assert.equal(pids(started).size, 2, 'two worker processes started MLog');
    assert.deepEqual(pids(started), pids(forked));
    assert.ok(![...pids(started)].includes(Number(mlog.lines({ message: 'starting workers' })[0]?.pid)), 'the primary serves nothing itself');
    assert.equal(new Set(started.map((line) => `${line.publicPort}/${line.adminPort}`)).size, 1, 'both workers listen on the same ports');

    for (let i = 0; i < 8; i++) assert.equal((await api.callAdmin('/healthz', { token: null })).status, 200);
    const answered = await mlog.waitForLines({ message: 'request', route: '/healthz' }, 8);
    assert.equal(pids(answered).size, 2, 'calls on new connections are answered by both workers (round-robin)');
  });

  test('syslog over TLS: both workers listen on one port, each connection is served whole by one worker, and every message is stored', async () => {
    const listening = mlog.lines({ message: 'syslog listener started', role: 'worker' });
    assert.equal(pids(listening).size, 2, 'each worker runs the syslog listener');
    assert.equal(new Set(listening.map((line) => line.port)).size, 1, 'on the same port, shared through the primary');
    const port = Number(listening[0]?.port);
    const marker = `syslog-${randomUUID()}`;
    const connections = 6;
    for (let connection = 0; connection < connections; connection++) {
      const socket = await tlsSyslogClient(port, ca.certPem, system.certificate);
      const frames = [0, 1].map((message) => {
        const text = `<134>1 - host app - - - ${marker} ${connection}.${message}`;
        return `${Buffer.byteLength(text)} ${text}`;
      });
      socket.end(frames.join(''));
      await closed(socket);
    }
    const pattern = eventIndexPattern(system.code);
    await waitFor('every syslog message stored', async () => {
      await refresh(pattern);
      return (await searchDocuments(pattern, { match_phrase: { event_message: marker } })).length === connections * 2 ? true : undefined;
    });
    // The two messages of a connection, sent in one write, are stored together by the worker that has the connection.
    await mlog.waitForLines({ message: 'events registered', system: system.code, registrations: 2 }, 1);
    const accepted = mlog.lines({ message: 'events registered', system: system.code }).filter((line) => line.registrations !== undefined);
    assert.equal(pids(accepted).size, 2, 'connections went to both workers (round-robin)');
  });

  test('an event registered through one worker is found by /query/{uid}, whichever worker answers', async () => {
    const marker = `marker-${randomUUID()}`;
    const registered = await system.register(event({ marker }));
    assert.equal(registered.status, 200, registered.text);
    const uid = String(registered.json.UID);
    // Another worker sees the event after Elasticsearch's 1 s refresh (docs/workers.md): ask for up to 3 s.
    let found: HttpAnswer | undefined;
    for (let attempt = 0; attempt < 15; attempt++) {
      found = await system.call(`/query/${uid}`);
      if (found.status === 200) break;
      await sleep(200);
    }
    assert.equal(found?.status, 200, found?.text);
    assert.ok(found?.text.includes(marker), found?.text);
  });

  test('/metrics shows the sum over both workers, whichever worker answers', async () => {
    const counted = await addSystemKnownToAllWorkers(api);
    for (let i = 0; i < 10; i++) assert.equal((await counted.register(event())).status, 200);
    const answered = await mlog.waitForLines({ message: 'request', route: '/register', system: counted.code }, 10);
    assert.equal(pids(answered).size, 2, 'the registrations were answered by both workers');
    for (let i = 0; i < 4; i++) {
      const metrics = await api.callAdmin('/metrics', { token: null });
      assert.equal(metrics.status, 200, metrics.text);
      assert.equal(registeredEvents(metrics.text, counted.code), 10, metrics.text);
    }
  });

  test('a worker that is killed is replaced', async () => {
    const victim = Number(mlog.lines({ message: 'MLog started', role: 'worker' })[0]?.pid);
    process.kill(victim, 'SIGKILL');
    const exits = await mlog.waitForLines({ message: 'worker exited unexpectedly; starting another in 1 s', pid: victim }, 1);
    assert.equal(exits[0]?.signal, 'SIGKILL');
    await mlog.waitForLines({ message: 'worker started', role: 'primary' }, 3);
    // While the replacement starts (well over a second), the whole instance's metrics cannot be gathered: 503 at once, not a hang.
    const whileStarting = await api.callAdmin('/metrics', { token: null });
    assert.equal(whileStarting.status, 503, whileStarting.text);
    assert.equal(whileStarting.headers['retry-after'], '5');
    assert.match(whileStarting.json.message, /^The metrics of the whole instance are not available now: worker 3 \(pid \d+\) is still starting\.$/);
    await mlog.waitForLines({ message: 'worker serving', role: 'primary' }, 3, 60);
    // "worker serving" comes with the worker's first listener; "MLog started" once all of them (the syslog ones last) listen.
    const started = await mlog.waitForLines({ message: 'MLog started', role: 'worker' }, 3, 60);
    assert.equal(started.length, 3);
    assert.ok(!started.slice(0, 2).some((line) => line.pid === started[2]?.pid), 'a new process');
    assert.equal(isAlive(victim), false);
    assert.equal(isAlive(Number(started[2]?.pid)), true);
    // The replacement shares the listeners and sends its metrics.
    assert.equal((await api.callAdmin('/metrics', { token: null })).status, 200);
    assert.equal((await system.call(`/query/${randomUUID()}`)).status, 404);
  });

  test('SIGTERM to the primary stops every worker cleanly and exits 0', async () => {
    const workers = [...pids(mlog.lines({ message: 'MLog started', role: 'worker' }))].filter(isAlive);
    assert.equal(workers.length, 2);
    mlog.signal('SIGTERM');
    assert.equal(await mlog.exited, 0, mlog.output);
    assert.deepEqual(workers.filter(isAlive), [], 'no worker is left running');
    assert.deepEqual([...pids(mlog.lines({ message: 'MLog stopped', role: 'worker' }))].sort(), [...workers].sort(), 'each worker stopped cleanly');
    assert.equal(mlog.lines({ message: 'MLog stopped', role: 'primary' })[0]?.exitCode, 0);
  });

  test('a certificate file that cannot be read stops the primary at once, with one line and exit code 2, before any worker starts', async () => {
    const failing = new MLogProcess({
      MLOG_ELASTICSEARCH_URL: elasticsearchUrl(),
      ...tls,
      MLOG_TLS_CERT: join(dir, 'no-such-certificate.pem'),
      MLOG_HOST: '127.0.0.1',
      MLOG_PORT: '0',
      MLOG_ADMIN_PORT: '0',
      MLOG_RETENTION_SCHEDULE: 'off',
      MLOG_WORKERS: '2',
    });
    assert.equal(await failing.exited, 2, failing.output);
    assert.match(failing.output, /MLog cannot start: MLOG_TLS_CERT=".*no-such-certificate\.pem" cannot be read: there is no such file\./);
    assert.equal(failing.lines({ role: 'worker' }).length, 0, 'no worker started');
  });

  test('workers that keep dying stop MLog with exit code 1', async () => {
    // The administration port is held by another process: every worker fails to listen on it.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const failing = new MLogProcess({
        MLOG_ELASTICSEARCH_URL: elasticsearchUrl(),
        ...tls,
        MLOG_HOST: '127.0.0.1',
        MLOG_PORT: '0',
        MLOG_ADMIN_PORT: String((taken.address() as AddressInfo).port),
        MLOG_RETENTION_SCHEDULE: 'off',
        MLOG_WORKERS: '2',
      });
      assert.equal(await failing.exited, 1, failing.output);
      assert.equal(failing.lines({ message: 'worker exited unexpectedly; starting another in 1 s' }).length, 4, failing.output);
      assert.equal(failing.lines({ message: 'workers keep dying: 5 unexpected exits within 60 s; stopping MLog' }).length, 1, failing.output);
      assert.equal(failing.lines({ message: 'MLog started' }).length, 0);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
