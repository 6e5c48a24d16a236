/**
 * `npm start`: MLog for a newcomer. With no configuration it provisions and starts a local
 * Elasticsearch (when MLOG_ELASTICSEARCH_URL is unset), makes a development CA, a server certificate
 * and a demo information system with its client certificate under .local/ (git-ignored), builds the
 * console and MLog itself when missing or stale (dist/, `npm run build`), creates the demo system and
 * the console's administrator "admin" with a random password (.local/admin-password) when absent,
 * starts the compiled MLog (`bin/mlog-server`: `node dist/main.js` with its memory settings, as production runs it) as a child process, and prints
 * how to register a first event, query it, and open the console.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withCommandLineServices } from '../src/composition/index.js';
import { loadConfig } from '../src/config/config.js';
import { ConfigurationError } from '../src/errors/mlog-error.js';
import { newSigningKeyPem } from '../src/evidence/signing-key.js';
import { DIST_MAIN, ensureBuilt } from './build.js';
import { ensureConsoleBuilt } from './build-console.js';
import { ensureDevelopmentPki } from './dev-pki.js';
import { startLocalElasticsearch, type LocalElasticsearch } from './local-elasticsearch.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const LOCAL = join(ROOT, '.local');
const DEMO_CODE = 'demo';
/** MLog's server process as production launches it (node flags, MALLOC_ARENA_MAX). */
const MLOG_SERVER = join(ROOT, 'bin', 'mlog-server');

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

interface CompiledMLog {
  publicPort: number;
  adminPort: number;
  stopping: boolean;
  /** The child's exit code. */
  exited: Promise<number>;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number>;
}

/**
 * Runs `bin/mlog-server` (`node dist/main.js` with MLog's memory settings) with `env`, its output passed through; resolves with its ports once it
 * logs "MLog started" — or, when MLOG_LOG_LEVEL hides that line, once its /readyz answers 200 on the
 * configured ports —; rejects when it exits before.
 */
function startCompiledMLog(env: Record<string, string | undefined>, configured: { publicPort: number; adminHost: string; adminPort: number }): Promise<CompiledMLog> {
  const child = spawn(MLOG_SERVER, [DIST_MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number>((resolveExit) => child.on('exit', (code, signal) => resolveExit(code ?? (signal === null ? 1 : 128))));
  return new Promise((resolveStart, reject) => {
    let started = false;
    const ready = (publicPort: number, adminPort: number): void => {
      if (started) return;
      started = true;
      clearInterval(probe);
      const mlog: CompiledMLog = {
        publicPort,
        adminPort,
        stopping: false,
        exited,
        stop() {
          mlog.stopping = true;
          child.kill('SIGTERM');
          return exited;
        },
      };
      resolveStart(mlog);
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      say(line);
      if (started || !line.includes('"message":"MLog started"')) return;
      const { publicPort, adminPort } = JSON.parse(line) as { publicPort: number; adminPort: number };
      ready(publicPort, adminPort);
    });
    const probe = setInterval(() => {
      if (configured.adminPort === 0) return;
      fetch(`http://${configured.adminHost}:${configured.adminPort}/readyz`).then(
        (answer) => answer.status === 200 && ready(configured.publicPort, configured.adminPort),
        () => undefined,
      );
    }, 1_000);
    child.on('error', reject);
    void exited.then((code) => {
      clearInterval(probe);
      if (!started) reject(new Error(`bin/mlog-server (node dist/main.js) exited with code ${code} before it started.`));
    });
  });
}

function adminToken(): string {
  const file = join(LOCAL, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** MLog's signing key in .local (made once, Ed25519, PKCS#8 PEM): checkpoints and receipts stay verifiable across restarts. */
function signingKey(): string {
  const path = join(LOCAL, 'signing-key.pem');
  if (!existsSync(path)) {
    writeFileSync(path, newSigningKeyPem(), { mode: 0o600 });
    say(`MLog's signing key (checkpoints, receipts) made in ${path}.`);
  }
  return path;
}

async function main(): Promise<void> {
  mkdirSync(LOCAL, { recursive: true });
  await ensureConsoleBuilt({ log: (line) => say(line) });
  const env: Record<string, string | undefined> = { ...process.env };
  let elasticsearch: LocalElasticsearch | undefined;
  if (env.MLOG_ELASTICSEARCH_URL === undefined || env.MLOG_ELASTICSEARCH_URL.trim() === '') {
    say('MLOG_ELASTICSEARCH_URL is unset: provisioning a local Elasticsearch (the first run downloads it; later runs reuse it)…');
    elasticsearch = await startLocalElasticsearch({ port: 9200, dataDir: join(LOCAL, 'elasticsearch'), heap: '1g', log: (line) => say(`  ${line}`) });
    env.MLOG_ELASTICSEARCH_URL = elasticsearch.url;
    say(`Elasticsearch is running at ${elasticsearch.url} (data in .local/elasticsearch).`);
  }
  const pki = await ensureDevelopmentPki(join(LOCAL, 'pki'), 'demo-is');
  env.MLOG_TLS_CERT ??= pki.server.certPath;
  env.MLOG_TLS_KEY ??= pki.server.keyPath;
  env.MLOG_TLS_CLIENT_CA ??= pki.ca.certPath;
  env.MLOG_SYSLOG_TLS_PORT ??= '6514';
  env.MLOG_ADMIN_TOKEN ??= adminToken();
  env.MLOG_SIGNING_KEY ??= signingKey();

  const adminPasswordFile = join(LOCAL, 'admin-password');
  const config = loadConfig(env);
  await ensureBuilt((line) => say(line));

  await withCommandLineServices({ elasticsearch: config.elasticsearch }, async ({ registry, accounts }) => {
    if ((await registry.findByCode(DEMO_CODE)) === undefined) {
      await registry.add({
        code: DEMO_CODE,
        name: 'Demo information system',
        idno: '1000000000000',
        certificates: [pki.client.certPem],
        status: 'active',
        event_types: ['Demo.Hello', 'Demo.PersonalData.Access'],
      });
    }
    if ((await accounts.find('admin')) === undefined) {
      const password = randomBytes(18).toString('base64url');
      await accounts.add({ username: 'admin', role: 'administrator', password }, 'npm start');
      writeFileSync(adminPasswordFile, `${password}\n`, { mode: 0o600 });
    }
  });

  const mlog = await startCompiledMLog(env, { publicPort: config.publicApi.port, adminHost: config.adminApi.host, adminPort: config.adminApi.port });
  const stop = async (signal: string) => {
    say(`\n${signal}: stopping MLog${elasticsearch === undefined ? '' : ' and Elasticsearch'}…`);
    const code = await mlog.stop();
    if (elasticsearch !== undefined) {
      await elasticsearch.stop();
      say('Elasticsearch stopped.');
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  mlog.exited.then(async (code) => {
    if (mlog.stopping) return;
    process.stderr.write(`MLog exited (code ${code}).\n`);
    await elasticsearch?.stop();
    process.exit(1);
  });

  const rel = (path: string) => relative(process.cwd(), path) || '.';
  const tls = `--cacert ${rel(pki.ca.certPath)} --cert ${rel(pki.client.certPath)} --key ${rel(pki.client.keyPath)}`;
  const base = `https://localhost:${mlog.publicPort}`;
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  say();
  say(`MLog is running: public API ${base} (mutual TLS), administration http://${config.adminApi.host}:${mlog.adminPort}`);
  say(`The demo information system "${DEMO_CODE}" uses the client certificate ${rel(pki.client.certPath)} (serial ${pki.client.serialHex}).`);
  say();
  say(`From this folder, register a first event (the answer carries its UID):`);
  say(`  curl -s ${tls} -H 'Content-Type: application/json' \\`);
  say(`    --data-binary '{"event_time":"${new Date().toISOString()}","event_type":"Demo.Hello","event_message":"My first event","legal_basis":"Demo"}' \\`);
  say(`    ${base}/register | tee /dev/stderr | sed -E 's/.*"UID":"([^"]+)".*/\\1/' > .local/last-uid`);
  say();
  say('Query it back by that UID, or by time range (each query is itself registered, as MLog.ClientQuery):');
  say(`  curl -s ${tls} "${base}/query/$(cat .local/last-uid)"`);
  say(`  curl -s ${tls} '${base}/query?event_time_from=${today}&event_time_to=${tomorrow}&legal_basis=Demo&filter=event_type=Demo.Hello'`);
  say();
  say('Administration (token in .local/admin-token):');
  say(`  curl -s -H "Authorization: Bearer $(cat ${rel(join(LOCAL, 'admin-token'))})" http://${config.adminApi.host}:${mlog.adminPort}/admin/systems`);
  say();
  const consoleUrl = `${config.adminApi.tlsCertPath === undefined ? 'http' : 'https'}://${config.adminApi.host}:${mlog.adminPort}/console/`;
  say(`The console: ${consoleUrl}`);
  if (existsSync(adminPasswordFile)) say(`  sign in as "admin" with the password in ${rel(adminPasswordFile)}: ${readFileSync(adminPasswordFile, 'utf8').trim()}`);
  else say('  sign in as "admin" (its password was changed since .local/admin-password was removed; reset it with: mlog admins reset-password admin)');
  say();
  say('Stop with Ctrl+C.');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigurationError) process.stderr.write(`MLog cannot start: ${error.message}\n`);
  else process.stderr.write(`MLog cannot start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
