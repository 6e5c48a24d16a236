/**
 * MLog under test, as a separate process so its memory and CPU can be sampled apart from the load
 * generator's: the production build (`node dist/main.js`) by default, or the sources through tsx
 * (`node --import tsx src/main.ts`). Its own TLS files come from scripts/dev-pki.ts; systems
 * are registered through the administration API.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IssuedCertificate } from '../scripts/dev-pki.js';
import { spawnMLog } from '../scripts/mlog-child-process.js';
import { HttpClient } from './load-runner.js';

export interface MLogTls {
  serverCertPath: string;
  serverKeyPath: string;
  caPath: string;
}

export class MLogUnderTest {
  private output = '';
  private readonly listeners: ((line: string) => void)[] = [];
  private partial = '';
  private readonly admin: HttpClient;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly publicPort: number,
    readonly adminPort: number,
    private readonly token: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.keep(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.keep(chunk));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    this.admin = new HttpClient(`http://127.0.0.1:${adminPort}`, 2);
  }

  /** Last 20 KB of MLog's output (warnings and errors; it runs at MLOG_LOG_LEVEL=warn). */
  get log(): string {
    return this.output;
  }

  private keep(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-20_000);
    if (this.listeners.length === 0) return;
    const lines = (this.partial + chunk.toString()).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) for (const listener of this.listeners) listener(line);
  }

  /** Calls `listener` with every whole line MLog writes from now on (its log, at the MLOG_LOG_LEVEL it was started with). */
  onLine(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** `nodeArgs` go before the entry point (for example --cpu-prof); `compiled` runs the production build (`node dist/main.js`) instead of the sources through tsx. */
  static async start(elasticsearchUrl: string, tls: MLogTls, env: Record<string, string> = {}, nodeArgs: string[] = [], compiled = true): Promise<MLogUnderTest> {
    const { child, publicPort, adminPort, token } = await spawnMLog(elasticsearchUrl, {
      env: {
        MLOG_TLS_CERT: tls.serverCertPath,
        MLOG_TLS_KEY: tls.serverKeyPath,
        MLOG_TLS_CLIENT_CA: tls.caPath,
        MLOG_MAX_IN_FLIGHT: '4096',
        MLOG_MAX_IN_FLIGHT_PER_IS: '1024',
        ...env,
      },
      nodeArgs,
      compiled,
    });
    const mlog = new MLogUnderTest(child, publicPort, adminPort, token);
    const started = Date.now();
    while ((await mlog.call('GET', '/healthz').catch(() => undefined))?.status !== 200) {
      if (child.exitCode !== null) throw new Error(`MLog exited at start:\n${mlog.output}`);
      if (Date.now() - started > 90_000) {
        await mlog.stop();
        throw new Error(`MLog did not start within 90 s:\n${mlog.output}`);
      }
      await sleep(200);
    }
    return mlog;
  }

  /** A call to the administration API, with the admin token. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
    return this.admin.requestWithHeaders(method, path, body === undefined ? undefined : JSON.stringify(body), { Authorization: `Bearer ${this.token}` });
  }

  /** Registers an active IS that may sign (not required to), with the given certificate. */
  async addSystem(code: string, certificate: IssuedCertificate): Promise<void> {
    const answer = await this.call('POST', '/admin/systems', { code, name: `Benchmark ${code}`, idno: '1003600000000', certificates: [certificate.certPem], status: 'active' });
    if (answer.status !== 201) throw new Error(`registering ${code}: ${answer.status} ${answer.body}`);
  }

  /** SIGTERM, then SIGKILL after 20 s. */
  async stop(): Promise<void> {
    this.admin.close();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(killer);
  }
}
