/**
 * The compiled production build: `npm run build` makes dist/, and MLog runs from it as production
 * does, in an installation made of dist/, bin/, index-templates/, package.json and a node_modules
 * without tsx nor TypeScript (and without src/): `bin/mlog-server` (the Dockerfile's command, and
 * `npm run serve`'s) runs `node dist/main.js` with MLog's memory settings (one process, and with
 * workers, which inherit them), registers and answers over mutual TLS, and the compiled `mlog`
 * command (bin/mlog.js) works. Anything in dist/ that still needed a TypeScript loader or a source
 * file would fail here.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../scripts/dev-pki.js';
import { elasticsearchUrl, event, uniqueCode } from '../helpers/test-mlog.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Packages a compiled installation must not need: TypeScript loaders and compilers. */
const LOADERS = new Set(['tsx', 'typescript', '@typescript', 'esbuild', '@esbuild', '@swc', '.bin']);

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', ...options.env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

/** An installation as the Dockerfile's runtime stage makes it, with node_modules minus every TypeScript loader. */
function install(dir: string): void {
  for (const name of ['dist', 'bin', 'index-templates']) cpSync(join(ROOT, name), join(dir, name), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (!LOADERS.has(name)) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  if (existsSync(join(ROOT, 'web', 'dist', 'index.html'))) {
    mkdirSync(join(dir, 'web'));
    symlinkSync(join(ROOT, 'web', 'dist'), join(dir, 'web', 'dist'));
  }
}

interface Started {
  child: ChildProcess;
  publicPort: number;
  adminPort: number;
  /** Every line it wrote to standard output so far. */
  lines: string[];
  exited: Promise<number | null>;
}

/** The node flags and environment bin/mlog-server gives MLog's processes (docs/performance.md, "Memory under load"). */
const MEMORY_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=1536'];
const MEMORY_ENVIRONMENT = 'MALLOC_ARENA_MAX=2';

/** MLog started as the Dockerfile starts it: `bin/mlog-server` (node with MLog's memory settings, dist/main.js). */
function start(dir: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(join(dir, 'bin', 'mlog-server'), [], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (!line.includes('"message":"MLog started"')) return;
      const { publicPort, adminPort } = JSON.parse(line) as { publicPort: number; adminPort: number };
      resolve({ child, publicPort, adminPort, lines, exited });
    });
    void exited.then((code) => reject(new Error(`bin/mlog-server exited (${code}) before it started: ${stderr}${lines.join('\n')}`)));
  });
}

async function stop(mlog: Started): Promise<number | null> {
  mlog.child.kill('SIGTERM');
  return mlog.exited;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

function call(port: number, client: IssuedCertificate, caPem: string, method: string, path: string, body?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(
      { host: '127.0.0.1', port, path, method, ca: caPem, servername: 'localhost', cert: client.certPem, key: client.keyPem, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

async function waitReady(adminPort: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await get(adminPort, '/readyz')).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('MLog did not become ready');
}

/** The processes below `pid`, from /proc/<pid>/task/<tid>/children. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  for (let at = -1; at < found.length; at++) {
    const parent = at < 0 ? pid : (found[at] as number);
    try {
      for (const task of readdirSync(`/proc/${parent}/task`)) {
        found.push(...readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').split(' ').filter((child) => child.trim() !== '').map(Number));
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

/** The command line of a running process, from /proc. */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '');
}

function environment(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
}

/** The process is node running dist/main.js with exactly `flags` before it: no --import, --require or --loader, no NODE_OPTIONS. */
function assertRuns(pid: number, flags: string[]): void {
  const argv = commandLine(pid);
  assert.match(argv[0] ?? '', /(^|\/)node$/, `process ${pid} runs ${argv.join(' ')}`);
  assert.deepEqual(argv.slice(1, -1), flags, `process ${pid} runs ${argv.join(' ')}`);
  assert.match(argv.at(-1) ?? '', /(^|\/)dist\/main\.js$/, `process ${pid} runs ${argv.join(' ')}`);
  assert.equal(environment(pid).filter((variable) => variable.startsWith('NODE_OPTIONS=')).length, 0);
}

/** Runs as production does: MLog's memory flags and MALLOC_ARENA_MAX. */
function assertProductionSettings(pid: number): void {
  assertRuns(pid, MEMORY_FLAGS);
  assert.ok(environment(pid).includes(MEMORY_ENVIRONMENT), `process ${pid} runs without ${MEMORY_ENVIRONMENT}`);
}

describe('the compiled build (npm run build, bin/mlog-server, bin/mlog.js)', () => {
  let dir: string;
  let caPem: string;
  let client: IssuedCertificate;
  let env: Record<string, string>;
  const code = uniqueCode('compiled');

  before(async () => {
    const built = await run('npm', ['run', 'build'], { cwd: ROOT });
    assert.equal(built.code, 0, built.stderr + built.stdout);
    assert.ok(existsSync(join(ROOT, 'dist', 'search', 'query-language.peggy.js')), 'the query grammar is compiled into a module');
    assert.ok(existsSync(join(ROOT, 'dist', 'syslog', 'syslog.peggy.js')), 'the syslog grammar is compiled into a module');
    dir = mkdtempSync(join(tmpdir(), 'mlog-compiled-'));
    const installation = join(dir, 'mlog');
    mkdirSync(installation);
    install(installation);
    const pki = join(dir, 'pki');
    mkdirSync(pki);
    const ca = await createCertificateAuthority(pki, 'Compiled Build Test CA');
    caPem = ca.certPem;
    client = await issueClientCertificate(ca, pki, { name: 'client' });
    const server = await issueServerCertificate(ca, pki, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
    env = {
      MLOG_ELASTICSEARCH_URL: elasticsearchUrl(),
      MLOG_TLS_CERT: server.certPath,
      MLOG_TLS_KEY: server.keyPath,
      MLOG_TLS_CLIENT_CA: ca.certPath,
      MLOG_HOST: '127.0.0.1',
      MLOG_PORT: '0',
      MLOG_ADMIN_PORT: '0',
      MLOG_RETENTION_SCHEDULE: 'off',
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const installation = () => join(dir, 'mlog');

  test('the installation holds no source tree and no TypeScript loader', () => {
    assert.equal(existsSync(join(installation(), 'src')), false);
    assert.equal(existsSync(join(installation(), 'node_modules', 'tsx')), false);
    const compiled = readdirSync(join(installation(), 'dist'), { recursive: true }).map(String);
    assert.deepEqual(compiled.filter((name) => name.endsWith('.ts') || name.endsWith('.peggy')), []);
  });

  test('the compiled mlog command adds and lists an information system', async () => {
    const mlog = (args: string[]) => run(process.execPath, ['bin/mlog.js', ...args], { cwd: installation(), env: { MLOG_ELASTICSEARCH_URL: elasticsearchUrl() } });
    const added = await mlog(['systems', 'add', '--code', code, '--name', 'Compiled build IS', '--idno', '1003600000000', '--cert', join(dir, 'pki', 'client.pem'), '--status', 'active', '--event-type', 'Test.Event']);
    assert.equal(added.code, 0, added.stderr);
    const listed = await mlog(['systems', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const systems = JSON.parse(listed.stdout) as { code: string; status: string }[];
    assert.equal(systems.find((system) => system.code === code)?.status, 'active');
  });

  test('bin/mlog-server runs node dist/main.js with the memory settings; it registers an event over mutual TLS and answers its query, and serves the console', async () => {
    const mlog = await start(installation(), env);
    try {
      // exec: the process started is node itself, no shell left between it and its supervisor.
      assertProductionSettings(mlog.child.pid as number);
      await waitReady(mlog.adminPort);
      const registered = await call(mlog.publicPort, client, caPem, 'POST', '/register', JSON.stringify(event({ event_message: 'from the compiled build', legal_basis: 'Test' })));
      assert.equal(registered.status, 200, JSON.stringify(registered.json));
      const uid = registered.json.UID as string;
      const queried = await call(mlog.publicPort, client, caPem, 'GET', `/query/${uid}?legal_basis=Test`);
      assert.equal(queried.status, 200, JSON.stringify(queried.json));
      assert.match(JSON.stringify(queried.json), /from the compiled build/);
      // The console's query language runs on the grammar compiled at build time.
      if (existsSync(join(installation(), 'web', 'dist'))) {
        const page = await get(mlog.adminPort, '/console/');
        assert.equal(page.status, 200);
        assert.match(page.body, /<div id="root">/);
      }
    } finally {
      assert.equal(await stop(mlog), 0);
    }
  });

  test('with MLOG_WORKERS=2 the workers run the compiled code too, with the memory settings', async () => {
    const mlog = await start(installation(), { ...env, MLOG_WORKERS: '2' });
    try {
      await waitReady(mlog.adminPort);
      const workers = mlog.lines.filter((line) => line.includes('"message":"worker started"')).map((line) => (JSON.parse(line) as { pid: number }).pid);
      assert.equal(workers.length, 2, mlog.lines.join('\n'));
      for (const pid of [mlog.child.pid as number, ...workers]) assertProductionSettings(pid);
      const registered = await call(mlog.publicPort, client, caPem, 'POST', '/register', JSON.stringify(event({ legal_basis: 'Test' })));
      assert.equal(registered.status, 200, JSON.stringify(registered.json));
    } finally {
      assert.equal(await stop(mlog), 0);
    }
  });

  test('MLOG_NODE_FLAGS and MALLOC_ARENA_MAX set to "" run node with its own defaults', async () => {
    const mlog = await start(installation(), { ...env, MLOG_NODE_FLAGS: '', MALLOC_ARENA_MAX: '' });
    try {
      const pid = mlog.child.pid as number;
      assertRuns(pid, []);
      assert.equal(environment(pid).filter((variable) => variable.startsWith('MALLOC_ARENA_MAX=')).length, 0);
      await waitReady(mlog.adminPort);
    } finally {
      assert.equal(await stop(mlog), 0);
    }
  });

  test('npm run serve starts MLog through bin/mlog-server', async () => {
    const npm = spawn('npm', ['run', '--silent', 'serve'], { cwd: installation(), env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      let started: { adminPort: number } | undefined;
      for (let i = 0; i < 300 && started === undefined; i++) {
        const line = output.split('\n').find((text) => text.includes('"message":"MLog started"'));
        if (line !== undefined) started = JSON.parse(line) as { adminPort: number };
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(started !== undefined, `npm run serve did not start MLog: ${output}`);
      const server = descendants(npm.pid as number).find((pid) => commandLine(pid).at(-1)?.endsWith('dist/main.js'));
      assert.ok(server !== undefined, `no node dist/main.js below npm: ${output}`);
      assertProductionSettings(server);
      await waitReady(started.adminPort);
      process.kill(server, 'SIGTERM');
    } finally {
      npm.kill('SIGTERM');
      await exited;
    }
  });
});