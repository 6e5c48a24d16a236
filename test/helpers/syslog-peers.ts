/**
 * Real syslog peers for the syslog door's tests: Debian's rsyslogd started with a configuration the
 * test writes, util-linux `logger`, and plain sockets that send exact bytes (TLS with a client
 * certificate, or TCP from a chosen source address).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import type { IssuedCertificate } from '../../scripts/dev-pki.js';

const run = promisify(execFile);

export const RSYSLOGD = '/usr/sbin/rsyslogd';
export const LOGGER = '/usr/bin/logger';

/** A TCP port nobody listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Polls `attempt` until it yields a value (or throws after `timeoutMs`). */
export const waitFor = until;

/** rsyslogd in the foreground with its own configuration and work directory, fed through an imtcp input on `inputPort`. */
export class Rsyslog {
  private constructor(
    readonly child: ChildProcess,
    readonly inputPort: number,
    private readonly output: () => string,
  ) {}

  /**
   * Starts rsyslogd with an imtcp input on a free port and the `actions` given (rsyslog.conf syntax);
   * `global` adds parameters to the global() statement (TLS files of omfwd).
   */
  static async start(dir: string, options: { actions: string; global?: string; modules?: string }): Promise<Rsyslog> {
    const work = join(dir, `rsyslog-${Date.now()}-${Math.random().toString(16).slice(2)}`);
    mkdirSync(work, { recursive: true });
    const inputPort = await freePort();
    const conf = join(work, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${work}" ${options.global ?? ''})`,
        'module(load="imtcp")',
        options.modules ?? '',
        `input(type="imtcp" port="${inputPort}" address="127.0.0.1")`,
        options.actions,
        '',
      ].join('\n'),
    );
    const child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const rsyslog = new Rsyslog(child, inputPort, () => output);
    await until(`rsyslogd to listen on ${inputPort} (${conf}): ${output}`, async () => {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${output}`);
      await new Promise<void>((resolve, reject) => {
        const socket = netConnect(inputPort, '127.0.0.1', () => {
          socket.end();
          resolve();
        });
        socket.on('error', reject);
      });
      return true;
    });
    return rsyslog;
  }

  /** What rsyslogd wrote to its stdout and stderr. */
  get log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** Runs util-linux `logger` with `args` against 127.0.0.1:`port` over TCP. */
export async function logger(port: number, args: string[]): Promise<void> {
  // RFC 3164 stamps carry no zone: logger writes them in UTC here, whatever the machine's zone.
  await run(LOGGER, ['--tcp', '--server', '127.0.0.1', '--port', String(port), ...args], { env: { ...process.env, TZ: 'UTC' } });
}

/** The exact bytes util-linux `logger` sends for `args` (caught by a local server). */
export async function loggerBytes(args: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const server = createServer((socket) => socket.on('data', (chunk: Buffer) => chunks.push(chunk)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await logger(port, args);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return Buffer.concat(chunks);
}

/** A TLS connection to a syslog listener with a client certificate (or none). */
export async function tlsSyslogClient(port: number, caPem: string, certificate: IssuedCertificate | undefined): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost', ...(certificate === undefined ? {} : { cert: certificate.certPem, key: certificate.keyPem }) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A plain TCP connection from `localAddress` (a 127.x.y.z address). */
export async function tcpSyslogClient(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the socket is closed by the other end (or destroyed). */
export function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    socket.once('close', () => resolve());
    socket.on('error', () => {});
  });
}

/** RELP answers as they arrive on a socket: `next()` resolves with the next whole `rsp` frame. */
export class RelpAnswers {
  private buffer = Buffer.alloc(0);
  private readonly waiting: ((frame: { txnr: number; command: string; data: string }) => void)[] = [];
  private readonly frames: { txnr: number; command: string; data: string }[] = [];

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const match = /^(\d+) (\w+) (\d+)[ \n]/.exec(this.buffer.toString('latin1', 0, 64));
        if (match === null) return;
        const length = Number(match[3]);
        const start = match[0].length - (length === 0 ? 1 : 0);
        if (this.buffer.length < start + length + 1) return;
        const frame = { txnr: Number(match[1]), command: match[2] ?? '', data: this.buffer.subarray(start, start + length).toString('utf8') };
        this.buffer = this.buffer.subarray(start + length + 1);
        const waiter = this.waiting.shift();
        if (waiter === undefined) this.frames.push(frame);
        else waiter(frame);
      }
    });
  }

  next(): Promise<{ txnr: number; command: string; data: string }> {
    const frame = this.frames.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** One RELP frame as a client sends it. */
export function relpFrame(txnr: number, command: string, data: string): Buffer {
  const bytes = Buffer.from(data, 'utf8');
  return Buffer.concat([Buffer.from(`${txnr} ${command} ${bytes.length}${bytes.length === 0 ? '' : ' '}`), bytes, Buffer.from('\n')]);
}
