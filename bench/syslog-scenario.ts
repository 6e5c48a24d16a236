/**
 * The syslog scenario's measurements, shared by `npm run bench` (bench/run-bench.ts, MLog as a child
 * process) and `npm run bench:syslog` (bench/syslog-door.ts, MLog in the same process):
 * - the same RFC 5424 messages, octet-counted, sent over a few connections to MLog's syslog-over-TLS
 *   listener and to Debian's rsyslog (imtcp → omelasticsearch, bulk) taking them into the same
 *   Elasticsearch; each timed from the first byte sent until every message is searchable;
 * - RELP acknowledgements: a window of messages in flight on one RELP connection, each timed from
 *   its sending to its `200 OK`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import path from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { InformationSystem } from '../src/systems/information-system.js';

/** The client certificate of the bench's IS and MLog's CA, PEM. */
export interface SyslogClientTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One RFC 5424 message as rsyslog or logger would send it, with structured data, unique by `marker` and `index`. */
/** An active IS that may send plain-TCP syslog from 127.0.0.1, for the benchmarks that drive the syslog door in process. */
export function localSyslogSystem(code: string, name: string, at: string): InformationSystem {
  return {
    code,
    name,
    idno: '1003600000000',
    certificates: [],
    allowed_addresses: [],
    require_signature: false,
    syslog_addresses: ['127.0.0.1'],
    permissions: [],
    event_types: [],
    retention_months: 60,
    status: 'active',
    created_at: at,
    updated_at: at,
  };
}

export function syslogMessage(marker: string, index: number): string {
  return `<134>1 ${new Date().toISOString()} bench-host billing 4242 Invoice [origin@32473 ref="A-${index}"] invoice ${index} paid ${marker}`;
}

/** `count` messages, octet-counted (RFC 6587). */
export function octetCountedFrames(marker: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => {
    const text = syslogMessage(marker, index);
    return `${Buffer.byteLength(text)} ${text}`;
  });
}

async function count(url: string, index: string): Promise<number> {
  await fetch(`${url}/${index}/_refresh?ignore_unavailable=true&allow_no_indices=true`, { method: 'POST' });
  const response = await fetch(`${url}/${index}/_count?ignore_unavailable=true&allow_no_indices=true`);
  const body = (await response.json()) as { count?: number };
  return body.count ?? 0;
}

/** Waits until `index` (a name or pattern) holds at least `expected` documents, polling every 100 ms. */
export async function untilCount(url: string, index: string, expected: number, limitMs = 600_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while ((await count(url, index)) < expected) {
    if (Date.now() > deadline) throw new Error(`${index}: fewer than ${expected} documents after ${limitMs} ms`);
    await sleep(100);
  }
}

/** Writes the frames over the sockets (frame i on socket i mod n), honouring back-pressure. */
async function send(sockets: Socket[], frames: string[]): Promise<void> {
  await Promise.all(
    sockets.map(async (socket, which) => {
      for (let index = which; index < frames.length; index += sockets.length) {
        if (!socket.write(frames[index] as string)) await new Promise<void>((resolve) => socket.once('drain', resolve));
      }
    }),
  );
}

function tlsConnection(port: number, tls: SyslogClientTls): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: tls.caPem, servername: 'localhost', cert: tls.certPem, key: tls.keyPem }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Seconds MLog takes to make `frames` searchable: sent over `connections` syslog-over-TLS
 * connections, until the IS's indices (`indexPattern`) hold `expected` documents.
 */
export async function timeMLogOverTls(options: { url: string; port: number; tls: SyslogClientTls; frames: string[]; connections: number; indexPattern: string; expected: number }): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: options.connections }, () => tlsConnection(options.port, options.tls)));
  const started = Date.now();
  await send(sockets, options.frames);
  await untilCount(options.url, options.indexPattern, options.expected);
  const seconds = (Date.now() - started) / 1000;
  for (const socket of sockets) socket.end();
  return seconds;
}

/**
 * Seconds Debian's rsyslog (imtcp → omelasticsearch, bulks of up to 1,000) takes to make the same
 * frames searchable in the same Elasticsearch, over `connections` plain TCP connections.
 */
export async function timeRsyslogToElasticsearch(options: { url: string; workDir: string; frames: string[]; connections: number }): Promise<number> {
  const index = `bench-rsyslog-${randomUUID().slice(0, 8)}`;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const conf = path.join(options.workDir, `rsyslog-${index}.conf`);
  const { hostname, port: esPort } = new URL(options.url);
  writeFileSync(
    conf,
    [
      `global(workDirectory="${options.workDir}")`,
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
  const rsyslogd = spawn('/usr/sbin/rsyslogd', ['-n', '-f', conf, '-i', path.join(options.workDir, `rsyslogd-${index}.pid`)], { stdio: 'ignore' });
  try {
    let sockets: Socket[] | undefined;
    for (let attempt = 0; sockets === undefined; attempt++) {
      if (attempt > 300) throw new Error(`rsyslogd did not listen on ${port} within 30 s`);
      sockets = await Promise.all(
        Array.from({ length: options.connections }, () => new Promise<Socket>((resolve, reject) => {
          const socket = netConnect(port, '127.0.0.1', () => resolve(socket));
          socket.once('error', reject);
        })),
      ).catch(async () => {
        await sleep(100);
        return undefined;
      });
    }
    const started = Date.now();
    await send(sockets, options.frames);
    await untilCount(options.url, index, options.frames.length);
    const seconds = (Date.now() - started) / 1000;
    for (const socket of sockets) socket.end();
    return seconds;
  } finally {
    rsyslogd.kill('SIGTERM');
    await fetch(`${options.url}/${index}`, { method: 'DELETE' }).catch(() => undefined);
  }
}

/** Latencies (ms, sorted) of `messages` RELP `syslog` commands, `window` in flight on one connection, each from its sending to its answer. */
export async function relpAcknowledgements(options: { port: number; tls: SyslogClientTls; messages: number; window: number }): Promise<number[]> {
  const relp = await tlsConnection(options.port, options.tls);
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const marker = randomUUID();
  let buffer = '';
  let next = 2;
  const last = options.messages + 1;
  const sendOne = () => {
    const text = syslogMessage(marker, next);
    sentAt.set(next, performance.now());
    relp.write(`${next} syslog ${Buffer.byteLength(text)} ${text}\n`);
    next++;
  };
  const done = new Promise<void>((resolve, reject) => {
    relp.once('error', reject);
    relp.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const match = /^(\d+) rsp (\d+)[ \n]/.exec(buffer);
        if (match === null) return;
        const length = Number(match[2]);
        const end = match[0].length - (length === 0 ? 1 : 0) + length + 1;
        if (buffer.length < end) return;
        const text = buffer.slice(match[0].length, end - 1);
        buffer = buffer.slice(end);
        const txnr = Number(match[1]);
        const started = sentAt.get(txnr);
        if (started === undefined) continue;
        if (!text.startsWith('200')) {
          reject(new Error(`RELP message ${txnr} was refused: ${text}`));
          return;
        }
        latencies.push(performance.now() - started);
        if (latencies.length === options.messages) resolve();
        else if (next <= last) sendOne();
      }
    });
  });
  const offers = 'relp_version=0\nrelp_software=bench\ncommands=syslog';
  relp.write(`1 open ${Buffer.byteLength(offers)} ${offers}\n`);
  for (let index = 0; index < options.window && next <= last; index++) sendOne();
  await done;
  relp.end();
  return latencies.sort((a, b) => a - b);
}

/** The p-th quantile (0..1) of sorted values. */
export function quantile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}
