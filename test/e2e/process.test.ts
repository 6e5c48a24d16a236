import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../scripts/dev-pki.js';
import { elasticsearchUrl } from '../helpers/test-mlog.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, exited, output: () => stdout };
}

function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the MLog process', () => {
  let dir: string;
  let tls: Record<string, string>;
  let client: IssuedCertificate;
  let caPem: string;
  /** A file that is not PEM (an environment file given by mistake). */
  let notPem: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-process-'));
    const ca = await createCertificateAuthority(dir, 'Process Test CA');
    caPem = ca.certPem;
    client = await issueClientCertificate(ca, dir, { name: 'client' });
    const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
    tls = { MLOG_TLS_CERT: server.certPath, MLOG_TLS_KEY: server.keyPath, MLOG_TLS_CLIENT_CA: ca.certPath };
    notPem = join(dir, 'settings.env');
    writeFileSync(notPem, 'MLOG_PORT=8443\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a wrong configuration value stops it with one line naming the variable', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_PORT: 'eighty' }, /^MLog cannot start: MLOG_PORT="eighty" is not a port number/],
      [{ ...tls }, /^MLog cannot start: MLOG_ELASTICSEARCH_URL is not set/],
      [{ MLOG_ELASTICSEARCH_URL: 'ftp://x', ...tls }, /^MLog cannot start: MLOG_ELASTICSEARCH_URL contains "ftp:\/\/x": only http and https/],
      [{ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_ADMIN_TOKEN: 'short' }, /^MLog cannot start: MLOG_ADMIN_TOKEN is shorter than 16 characters/],
      [{ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_RETENTION_SCHEDULE: '99 * * * *' }, /^MLog cannot start: MLOG_RETENTION_SCHEDULE="99 \* \* \* \*" is not a cron expression/],
      // The files are checked before anything starts: readable, parsed, and the server key the certificate's own.
      [{ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_TLS_CERT: join(dir, 'missing.pem') }, /^MLog cannot start: MLOG_TLS_CERT=".*missing\.pem" cannot be read: there is no such file\.$/m],
      [{ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_TLS_CERT: tls.MLOG_TLS_KEY! }, /^MLog cannot start: MLOG_TLS_CERT=".*" holds no PEM certificate/],
      [{ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_TLS_KEY: client.keyPath }, /^MLog cannot start: MLOG_TLS_KEY=".*" is not the key of the certificate in MLOG_TLS_CERT=/],
      [{ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_TLS_KEY: tls.MLOG_TLS_CERT! }, /^MLog cannot start: MLOG_TLS_KEY=".*" holds no PEM private key that MLog can read/],
      [{ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_TLS_CLIENT_CA: notPem }, /^MLog cannot start: MLOG_TLS_CLIENT_CA=".*" holds no PEM certificate/],
      [{ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_ELASTICSEARCH_CA: dir }, /^MLog cannot start: MLOG_ELASTICSEARCH_CA=".*" cannot be read: it is a directory\.$/m],
    ];
    for (const [env, pattern] of cases) {
      const run = await startProcess(env).exited;
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, pattern);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    }
  });

  test('an address already in use stops it with one line naming the variables', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = String((taken.address() as AddressInfo).port);
    try {
      const run = await startProcess({ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_HOST: '127.0.0.1', MLOG_PORT: port, MLOG_ADMIN_PORT: '0', MLOG_RETENTION_SCHEDULE: 'off' }).exited;
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stderr.trim(), `MLog cannot start: MLOG_HOST="127.0.0.1" with MLOG_PORT="${port}": the address is already in use by another process.`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test('the development identity is said loudly at start', async () => {
    const process = startProcess({ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_PORT: '0', MLOG_ADMIN_PORT: '0', MLOG_HOST: '127.0.0.1', MLOG_DEV_IDENTITY: 'mpass-dev', MLOG_DEV_HTTP_PORT: '0', MLOG_RETENTION_SCHEDULE: 'off' });
    await waitFor(() => process.output().includes('MLog started'), 'MLog to start');
    process.child.kill('SIGTERM');
    const run = await process.exited;
    const warning = run.stdout.split('\n').find((line) => line.includes('DEVELOPMENT IDENTITY ON'));
    assert.ok(warning !== undefined, run.stdout);
    assert.match(warning, /"level":"warn"/);
    assert.match(warning, /every call is information system \\"mpass-dev\\" without a certificate/);
  });

  test('SIGTERM stops it cleanly', async () => {
    const process = startProcess({ MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...tls, MLOG_PORT: '0', MLOG_ADMIN_PORT: '0', MLOG_HOST: '127.0.0.1' });
    await waitFor(() => process.output().includes('MLog started'), 'MLog to start');
    process.child.kill('SIGTERM');
    const run = await process.exited;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /"message":"MLog stopped"/);
  });

  test('with Elasticsearch unreachable: alive, not ready, and calls answered 503 with Retry-After', async () => {
    const adminPort = String(20_000 + Math.floor(Math.random() * 20_000));
    const publicPort = String(Number(adminPort) + 1);
    const process = startProcess({ MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9', ...tls, MLOG_PORT: publicPort, MLOG_ADMIN_PORT: adminPort, MLOG_HOST: '127.0.0.1', MLOG_ADMIN_TOKEN: 'a'.repeat(32) });
    try {
      await waitFor(() => process.output().includes('MLog started'), 'MLog to start');
      assert.equal((await get(Number(adminPort), '/healthz')).status, 200);
      const ready = await get(Number(adminPort), '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.headers['retry-after'], '5');
      assert.match(JSON.parse(ready.body).message, /index templates are not installed/);
      const registered = await new Promise<{ status: number; retryAfter: unknown; body: string }>((resolve, reject) => {
        const call = httpsRequest(
          { host: '127.0.0.1', port: Number(publicPort), path: '/register', method: 'POST', ca: caPem, servername: 'localhost', cert: client.certPem, key: client.keyPem },
          (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => (body += chunk.toString()));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'], body }));
          },
        );
        call.on('error', reject);
        call.end('{"event_time":"2024-01-01","event_type":"X"}');
      });
      assert.equal(registered.status, 503, registered.body);
      assert.equal(JSON.parse(registered.body).status, '503');
      assert.ok(Number(registered.retryAfter) > 0);
      assert.doesNotMatch(process.output(), /"level":"error"/);
    } finally {
      process.child.kill('SIGTERM');
      await process.exited;
    }
  });
});
