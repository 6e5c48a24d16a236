/**
 * MLog as a child process (`node --import tsx src/main.ts`, or with `compiled` the production build's
 * `node dist/main.js`, which `npm run build` makes), launched as production launches it (through
 * bin/mlog-server: MLog's node flags and MALLOC_ARENA_MAX) on fresh loopback ports, for the tools
 * that must watch or stop it from outside: the benchmark (its memory, its CPU profile) and the
 * fault-injection suite (SIGKILL, SIGTERM). The caller adds its own settings (TLS files, limits).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const COMPILED_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MLOG_SERVER = fileURLToPath(new URL('../bin/mlog-server', import.meta.url));

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface MLogChild {
  child: ChildProcess;
  publicPort: number;
  adminPort: number;
  token: string;
}

/**
 * Spawns MLog over `elasticsearchUrl` on 127.0.0.1 with the given ports (fresh ones when absent) and
 * admin token (a random one when absent); `env` adds or overrides settings, `nodeArgs` go before the
 * entry point (for example --cpu-prof), after bin/mlog-server's (MLOG_NODE_FLAGS in `env` replaces
 * those). Its output is piped; the caller reads it and waits for start.
 */
export async function spawnMLog(
  elasticsearchUrl: string,
  options: { publicPort?: number; adminPort?: number; token?: string; env?: Record<string, string>; nodeArgs?: string[]; compiled?: boolean } = {},
): Promise<MLogChild> {
  const publicPort = options.publicPort ?? (await freePort());
  const adminPort = options.adminPort ?? (await freePort());
  const token = options.token ?? randomBytes(24).toString('hex');
  const entry = options.compiled === true ? [COMPILED_MAIN] : ['--import', 'tsx', MAIN];
  const child = spawn(MLOG_SERVER, [...(options.nodeArgs ?? []), ...entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      MLOG_ELASTICSEARCH_URL: elasticsearchUrl,
      MLOG_HOST: '127.0.0.1',
      MLOG_PORT: String(publicPort),
      MLOG_ADMIN_PORT: String(adminPort),
      MLOG_ADMIN_TOKEN: token,
      MLOG_RETENTION_SCHEDULE: 'off',
      MLOG_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, publicPort, adminPort, token };
}
