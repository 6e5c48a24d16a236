/**
 * `npm run bench:syslog`: syslog messages per second through MLog over TLS (identified, parsed,
 * validated, durably stored), against Debian's rsyslog taking the same messages into the same
 * Elasticsearch with omelasticsearch, in the same run; the p99 of RELP acknowledgements; MLog's RSS.
 * Prints figures; asserts nothing. Elasticsearch: MLOG_BENCH_ELASTICSEARCH_URL, or a local one started here.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate } from '../scripts/dev-pki.js';
import { startLocalElasticsearch, type LocalElasticsearch } from '../scripts/local-elasticsearch.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logging/logger.js';
import { startMLog } from '../src/main.js';

const MESSAGES = Number(process.env.MLOG_BENCH_SYSLOG_MESSAGES ?? 20_000);
const CONNECTIONS = 4;
const RELP_MESSAGES = 2_000;
const RELP_WINDOW = 32;

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function message(marker: string, index: number): string {
  return `<134>1 ${new Date().toISOString()} bench-host billing 4242 Invoice [origin@32473 ref="A-${index}"] invoice ${index} paid ${marker}`;
}

function frame(text: string): string {
  return `${Buffer.byteLength(text)} ${text}`;
}

async function count(url: string, index: string): Promise<number> {
  await fetch(`${url}/${index}/_refresh?ignore_unavailable=true&allow_no_indices=true`, { method: 'POST' });
  const response = await fetch(`${url}/${index}/_count?ignore_unavailable=true&allow_no_indices=true`);
  const body = (await response.json()) as { count?: number };
  return body.count ?? 0;
}

async function untilCount(url: string, index: string, expected: number, limitMs = 600_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while ((await count(url, index)) < expected) {
    if (Date.now() > deadline) throw new Error(`${index}: fewer than ${expected} documents after ${limitMs} ms`);
    await sleep(100);
  }
}

/** Writes the frames over `connections` sockets, honouring back-pressure; resolves when all are written. */
async function send(sockets: { write(data: string): boolean; once(event: 'drain', listener: () => void): unknown }[], frames: string[]): Promise<void> {
  await Promise.all(
    sockets.map(async (socket, which) => {
      for (let index = which; index < frames.length; index += sockets.length) {
        if (!socket.write(frames[index] as string)) await new Promise<void>((resolve) => socket.once('drain', resolve));
      }
    }),
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlog-bench-syslog-'));
  let elasticsearch: LocalElasticsearch | undefined;
  let url = process.env.MLOG_BENCH_ELASTICSEARCH_URL;
  if (url === undefined) {
    elasticsearch = await startLocalElasticsearch({ port: 9850, dataDir: path.join(dir, 'es'), heap: '1g' });
    url = elasticsearch.url;
  }
  const ca = await createCertificateAuthority(dir, 'Bench CA');
  const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
  const client = await issueClientCertificate(ca, dir, { name: 'bench-syslog' });
  const mlog = await startMLog(
    loadConfig({
      MLOG_ELASTICSEARCH_URL: url,
      MLOG_HOST: '127.0.0.1',
      MLOG_PORT: '0',
      MLOG_ADMIN_PORT: '0',
      MLOG_TLS_CERT: server.certPath,
      MLOG_TLS_KEY: server.keyPath,
      MLOG_TLS_CLIENT_CA: ca.certPath,
      MLOG_SYSLOG_TLS_PORT: '0',
      MLOG_RELP_PORT: '0',
      MLOG_RETENTION_SCHEDULE: 'off',
    }),
    { logger: createLogger('error', true) },
  );
  const code = `bench-syslog-${randomUUID().slice(0, 8)}`;
  await mlog.registry.add({ code, name: 'Syslog bench', idno: '1003600000000', certificates: [client.certPem], status: 'active' });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    // MLog over TLS.
    const marker = randomUUID();
    const frames = Array.from({ length: MESSAGES }, (_, index) => frame(message(marker, index)));
    const tlsSockets = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => new Promise<TLSSocket>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: mlog.syslogPorts.tls as number, ca: ca.certPem, servername: 'localhost', cert: client.certPem, key: client.keyPem }, () => resolve(socket));
        socket.once('error', reject);
      })),
    );
    const mlogStarted = Date.now();
    await send(tlsSockets, frames);
    await untilCount(url, `mlog-${code}-*`, MESSAGES);
    const mlogSeconds = (Date.now() - mlogStarted) / 1000;
    for (const socket of tlsSockets) socket.end();

    // rsyslog: imtcp → omelasticsearch, the same messages into the same Elasticsearch.
    const index = `bench-rsyslog-${randomUUID().slice(0, 8)}`;
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const conf = path.join(dir, 'rsyslog.conf');
    const { hostname, port: esPort } = new URL(url);
    writeFileSync(
      conf,
      [
        `global(workDirectory="${dir}")`,
        'module(load="imtcp")',
        'module(load="omelasticsearch")',
        `input(type="imtcp" port="${port}" address="127.0.0.1")`,
        'template(name="event" type="list" option.jsonf="on") {',
        '  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")',
        '  property(outname="host" name="hostname" format="jsonf")',
        '  property(outname="app" name="app-name" format="jsonf")',
        '  property(outname="severity" name="syslogseverity-text" format="jsonf")',
        '  property(outname="message" name="msg" format="jsonf")',
        '}',
        `action(type="omelasticsearch" server="${hostname}" serverport="${esPort}" searchIndex="${index}" template="event" bulkmode="on" maxbytes="5m" esVersion.major="8" queue.type="LinkedList" queue.size="200000" queue.dequeueBatchSize="1000" action.resumeRetryCount="-1")`,
        '',
      ].join('\n'),
    );
    const rsyslogd = spawn('/usr/sbin/rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], { stdio: 'ignore' });
    try {
      const plain = await (async () => {
        for (;;) {
          try {
            return await Promise.all(
              Array.from({ length: CONNECTIONS }, () => new Promise<ReturnType<typeof netConnect>>((resolve, reject) => {
                const socket = netConnect(port, '127.0.0.1', () => resolve(socket));
                socket.once('error', reject);
              })),
            );
          } catch {
            await sleep(100);
          }
        }
      })();
      const rsyslogStarted = Date.now();
      await send(plain, frames);
      await untilCount(url, index, MESSAGES);
      const rsyslogSeconds = (Date.now() - rsyslogStarted) / 1000;
      for (const socket of plain) socket.end();

      // RELP acknowledgements: a window of messages in flight on one connection, each timed to its 200 OK.
      const relp = await new Promise<TLSSocket>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: mlog.syslogPorts.relp as number, ca: ca.certPem, servername: 'localhost', cert: client.certPem, key: client.keyPem }, () => resolve(socket));
        socket.once('error', reject);
      });
      const sentAt = new Map<number, number>();
      const latencies: number[] = [];
      let buffer = '';
      let acknowledged = 0;
      let next = 2;
      const done = new Promise<void>((resolve) => {
        relp.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('latin1');
          for (;;) {
            const match = /^(\d+) rsp (\d+)[ \n]/.exec(buffer);
            if (match === null) return;
            const length = Number(match[2]);
            const end = match[0].length - (length === 0 ? 1 : 0) + length + 1;
            if (buffer.length < end) return;
            buffer = buffer.slice(end);
            const txnr = Number(match[1]);
            const started = sentAt.get(txnr);
            if (started !== undefined) {
              latencies.push(Date.now() - started);
              acknowledged++;
              if (acknowledged === RELP_MESSAGES) resolve();
              else if (next < RELP_MESSAGES + 2) sendOne();
            }
          }
        });
      });
      const relpMarker = randomUUID();
      const sendOne = () => {
        const text = message(relpMarker, next);
        sentAt.set(next, Date.now());
        relp.write(`${next} syslog ${Buffer.byteLength(text)} ${text}\n`);
        next++;
      };
      relp.write('1 open 31 relp_version=0\nrelp_software=bench\ncommands=syslog\n'.replace('31', String(Buffer.byteLength('relp_version=0\nrelp_software=bench\ncommands=syslog'))));
      for (let index = 0; index < RELP_WINDOW; index++) sendOne();
      await done;
      relp.end();
      latencies.sort((a, b) => a - b);
      const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];

      const mlogRate = MESSAGES / mlogSeconds;
      const rsyslogRate = MESSAGES / rsyslogSeconds;
      say(`syslog over TLS, ${MESSAGES} messages on ${CONNECTIONS} connections, until all are searchable in Elasticsearch:`);
      say(`  MLog (identified, parsed, validated, durably stored):   ${mlogRate.toFixed(0)} messages/s (${mlogSeconds.toFixed(1)} s)`);
      say(`  rsyslog imtcp → omelasticsearch (bulk, same messages):  ${rsyslogRate.toFixed(0)} messages/s (${rsyslogSeconds.toFixed(1)} s)`);
      say(`  ratio MLog / rsyslog: ${(mlogRate / rsyslogRate).toFixed(2)}`);
      say(`RELP acknowledgements (${RELP_MESSAGES} messages, ${RELP_WINDOW} in flight): p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${latencies.at(-1)} ms`);
      say(`peak RSS of the process running MLog (and this benchmark's clients): ${(peakRss / 1024 / 1024).toFixed(0)} MB`);
    } finally {
      rsyslogd.kill('SIGTERM');
    }
  } finally {
    clearInterval(sampler);
    await mlog.stop();
    await elasticsearch?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
