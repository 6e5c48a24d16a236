/**
 * Local Elasticsearch for development, tests and CI, without Docker.
 *
 * The server comes from Maven Central (the "integ-test-zip" distribution: the server core plus
 * transport-netty4, apm, x-pack-core and x-pack-security modules; no bundled JDK, so the machine's
 * Java 17+ is used). It is fetched with `mvn dependency:copy` into a cache outside the repository
 * and unpacked once (atomically) by a small built-in unzipper, so neither `unzip` nor Python is needed.
 *
 * Elasticsearch refuses to run as root, so when this runs as root the server is started as the
 * system user `mlog-es` (created on first use).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

export const ELASTICSEARCH_VERSION = '8.19.21';

const ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ELASTICSEARCH_VERSION}:zip`;
const ZIP_NAME = `elasticsearch-${ELASTICSEARCH_VERSION}.zip`;
const HOME_NAME = `elasticsearch-${ELASTICSEARCH_VERSION}`;
const ES_USER = 'mlog-es';
/** Our pid file (JSON) inside the data dir. */
const PID_FILE = 'mlog-es.pid';
/** Pid file written by Elasticsearch itself (`-p`), holds the server JVM pid. */
const SERVER_PID_FILE = 'elasticsearch.pid';
const DEFAULT_START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;
const LOG_TAIL_LINES = 60;

type Log = (line: string) => void;
const noop: Log = () => {};

// ---------------------------------------------------------------------------------------------
// Provisioning
// ---------------------------------------------------------------------------------------------

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Default cache dir: $MLOG_CACHE_DIR, else /var/cache/mlog for root (an unprivileged user must be able to read it; /root is 0700), else ~/.cache/mlog. */
export function defaultCacheDir(): string {
  const fromEnv = process.env.MLOG_CACHE_DIR;
  if (fromEnv && fromEnv.trim() !== '') return path.resolve(fromEnv);
  if (isRoot()) return '/var/cache/mlog';
  return path.join(os.homedir(), '.cache', 'mlog');
}

/**
 * Fetches (mvn dependency:copy) the zip into a cache outside the repo if absent, unzips it once,
 * returns the Elasticsearch home directory. Idempotent and safe to call concurrently (every step
 * works in a private temp dir and publishes its result with an atomic rename).
 */
export async function provisionElasticsearch(options: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<string> {
  const log = options.log ?? noop;
  const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir());
  const home = path.join(cacheDir, HOME_NAME);
  if (isUnpackedHome(home)) return home;

  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  removeAbandonedTempDirs(cacheDir);
  const zipPath = path.join(cacheDir, ZIP_NAME);
  if (!fs.existsSync(zipPath)) {
    log(`Fetching ${ARTIFACT} with Maven into ${cacheDir} ...`);
    const tmp = fs.mkdtempSync(path.join(cacheDir, '.download-'));
    try {
      await run('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${tmp}`], {
        what: 'mvn dependency:copy',
      });
      const downloaded = path.join(tmp, ZIP_NAME);
      if (!fs.existsSync(downloaded)) throw new Error(`mvn dependency:copy did not produce ${downloaded}`);
      fs.renameSync(downloaded, zipPath); // atomic publish; a concurrent winner is simply overwritten by an identical file
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  if (isUnpackedHome(home)) return home;
  log(`Unpacking ${zipPath} ...`);
  const tmp = fs.mkdtempSync(path.join(cacheDir, '.unpack-'));
  try {
    await extractZip(zipPath, tmp);
    const unpacked = path.join(tmp, HOME_NAME);
    if (!isUnpackedHome(unpacked)) throw new Error(`${zipPath} does not contain ${HOME_NAME}/bin/elasticsearch`);
    makeWorldReadable(unpacked);
    fs.chmodSync(tmp, 0o755);
    try {
      fs.renameSync(unpacked, home);
    } catch (err) {
      // Another process won the race: fine as long as its result is complete.
      if (!isUnpackedHome(home)) throw err;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`Elasticsearch ${ELASTICSEARCH_VERSION} is in ${home}`);
  return home;
}

/** Interrupted runs leave `.download-*` / `.unpack-*` dirs behind; drop those older than an hour. */
function removeAbandonedTempDirs(cacheDir: string): void {
  for (const name of fs.readdirSync(cacheDir)) {
    if (!name.startsWith('.download-') && !name.startsWith('.unpack-')) continue;
    const p = path.join(cacheDir, name);
    try {
      if (Date.now() - fs.statSync(p).mtimeMs > 3_600_000) fs.rmSync(p, { recursive: true, force: true });
    } catch {
      // raced with another cleaner
    }
  }
}

function isUnpackedHome(home: string): boolean {
  return fs.existsSync(path.join(home, 'bin', 'elasticsearch')) && fs.existsSync(path.join(home, 'lib'));
}

/** chmod a+rX on a whole tree (the unprivileged ES user must be able to read the home). */
function makeWorldReadable(dir: string): void {
  const st = fs.statSync(dir);
  fs.chmodSync(dir, (st.mode & 0o7777) | 0o555);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) makeWorldReadable(p);
    else if (entry.isFile()) {
      const mode = fs.statSync(p).mode & 0o7777;
      fs.chmodSync(p, mode | 0o444 | (mode & 0o111 ? 0o111 : 0));
    }
  }
}

/**
 * Minimal zip extractor (stored and deflated entries, unix modes, symlinks), so that a fresh machine
 * with only Java, Maven and Node can unpack the distribution. Falls back to `unzip` for zip64 archives.
 */
async function extractZip(zipPath: string, destDir: string): Promise<void> {
  const buf = fs.readFileSync(zipPath);
  const EOCD_SIG = 0x06054b50;
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${zipPath} is not a zip file (or is truncated)`);
  const entries = buf.readUInt16LE(eocd + 10);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (entries === 0xffff || cdOffset === 0xffffffff) {
    // zip64: not worth implementing for our ~100 MB archive; use unzip if the machine has it.
    if (!commandExists('unzip')) throw new Error(`${zipPath} is a zip64 archive; install 'unzip' to unpack it`);
    await run('unzip', ['-q', zipPath, '-d', destDir], { what: 'unzip' });
    return;
  }
  const root = path.resolve(destDir);
  const crc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
  const dirModes: Array<[string, number]> = [];
  let p = cdOffset;
  for (let n = 0; n < entries; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: corrupt central directory`);
    const madeBy = buf.readUInt16LE(p + 4) >> 8;
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const extAttrs = buf.readUInt32LE(p + 38);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;

    const target = path.resolve(root, name);
    if (!target.startsWith(root + path.sep) && target !== root) throw new Error(`${zipPath}: unsafe entry name ${name}`);
    const unixMode = madeBy === 3 ? extAttrs >>> 16 : 0;
    const type = unixMode & 0o170000;
    const isDir = type === 0o040000 || name.endsWith('/');
    if (isDir) {
      fs.mkdirSync(target, { recursive: true, mode: 0o755 });
      dirModes.push([target, (unixMode & 0o777) || 0o755]);
      continue;
    }

    if (buf.readUInt32LE(localOffset) !== 0x04034b50) throw new Error(`${zipPath}: corrupt local header for ${name}`);
    const dataStart = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const raw = buf.subarray(dataStart, dataStart + compSize);
    let data: Buffer;
    if (method === 0) data = raw;
    else if (method === 8) data = zlib.inflateRawSync(raw);
    else throw new Error(`${zipPath}: unsupported compression method ${method} for ${name}`);
    if (data.length !== size) throw new Error(`${zipPath}: size mismatch for ${name}`);
    if (crc32 && crc32(data) >>> 0 !== crc) throw new Error(`${zipPath}: CRC mismatch for ${name}`);

    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    if (type === 0o120000) {
      fs.symlinkSync(data.toString('utf8'), target);
    } else {
      fs.writeFileSync(target, data, { mode: 0o644 });
      fs.chmodSync(target, (unixMode & 0o777) || 0o644);
    }
  }
  // Apply directory modes last (deepest first) so restrictive modes do not block extraction.
  for (const [dir, mode] of dirModes.reverse()) fs.chmodSync(dir, mode);
}

// ---------------------------------------------------------------------------------------------
// Starting / stopping
// ---------------------------------------------------------------------------------------------

export interface LocalElasticsearch {
  url: string;
  /** Pid of the Elasticsearch launcher (process group leader; the server JVM is its child). */
  pid: number;
  /** Graceful stop: SIGTERM, wait up to 60 s, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when the launcher process exits (for whatever reason). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Absolute paths used by this instance. */
  dataDir: string;
  home: string;
  logFile: string;
}

export interface StartOptions {
  port?: number;
  /** Default: port + 100. */
  transportPort?: number;
  /** Data, logs, config copy, tmp and pid files live here; reused across restarts. */
  dataDir: string;
  /** JVM heap (-Xms/-Xmx), default '1g'. */
  heap?: string;
  log?: (line: string) => void;
  /** Where the distribution is cached (see provisionElasticsearch). */
  cacheDir?: string;
  /** How long to wait for GET / and yellow health, default 120 s. */
  timeoutMs?: number;
  /** A node of a cluster of several (see local-elasticsearch-cluster.ts) instead of a single-node cluster. */
  cluster?: ClusterMembership;
}

/** What makes a node one of a cluster: the cluster's name, its own, where to find the others, and who may be master at the first start. */
export interface ClusterMembership {
  name: string;
  nodeName: string;
  /** host:transport-port of every node. */
  seedHosts: string[];
  /** Node names that vote at the cluster's first start (cluster.initial_master_nodes). */
  initialMasterNodes: string[];
}

/** Settings passed with -E. Notes from checking this distribution (8.19.21 integ-test-zip):
 *  - `ingest.geoip.downloader.enabled` is omitted: there is no ingest-geoip module, so it is an unknown setting.
 *  - `xpack.security.enabled=false` is needed: the zip contains x-pack-security, and without it the
 *    launcher would auto-configure TLS and passwords on first start. */
function esSettings(o: { port: number; transportPort: number; dataPath: string; logsPath: string; home: string; cluster?: ClusterMembership }): string[] {
  const settings: Record<string, string> = {
    ...(o.cluster === undefined
      ? { 'discovery.type': 'single-node' }
      : {
          'cluster.name': o.cluster.name,
          'node.name': o.cluster.nodeName,
          'discovery.seed_hosts': o.cluster.seedHosts.join(','),
          'cluster.initial_master_nodes': o.cluster.initialMasterNodes.join(','),
        }),
    'network.host': '127.0.0.1',
    'http.port': String(o.port),
    'transport.port': String(o.transportPort),
    'path.data': o.dataPath,
    'path.logs': o.logsPath,
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
    'action.destructive_requires_name': 'false',
  };
  if (fs.existsSync(path.join(o.home, 'modules', 'x-pack-security'))) {
    settings['xpack.security.enabled'] = 'false';
  }
  if (fs.existsSync(path.join(o.home, 'modules', 'ingest-geoip'))) {
    settings['ingest.geoip.downloader.enabled'] = 'false';
  }
  return Object.entries(settings).map(([k, v]) => `-E${k}=${v}`);
}

/**
 * Starts a single-node cluster on 127.0.0.1 at `port` (default 9200), data and logs under `dataDir`
 * (created; reused if it exists so data survives restarts), waits until HTTP answers (any response
 * carrying X-elastic-product: Elasticsearch; `GET /` itself is a 405 in this distribution) and cluster
 * health is at least yellow, returns e.g. { url: 'http://127.0.0.1:9200', ... }.
 * If the calling process exits without stop(), ES is sent SIGTERM; if it is SIGKILLed, the next start
 * on the same dataDir kills the leftover (pid file).
 */
export async function startLocalElasticsearch(options: StartOptions): Promise<LocalElasticsearch> {
  const log = options.log ?? noop;
  const port = options.port ?? 9200;
  const transportPort = options.transportPort ?? port + 100;
  const heap = options.heap ?? '1g';
  const timeoutMs = options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  if (!options.dataDir) throw new Error('startLocalElasticsearch: dataDir is required');
  for (const [name, p] of [['port', port], ['transportPort', transportPort]] as const) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`startLocalElasticsearch: invalid ${name} ${p} (Elasticsearch cannot use an ephemeral port 0; pick one)`);
  }
  if (!/^\d+[kKmMgG]?$/.test(heap)) throw new Error(`startLocalElasticsearch: invalid heap '${heap}' (e.g. '512m', '1g')`);

  const home = await provisionElasticsearch({ cacheDir: options.cacheDir, log });
  const dataDir = path.resolve(options.dataDir);
  const dirs = {
    data: path.join(dataDir, 'data'),
    logs: path.join(dataDir, 'logs'),
    config: path.join(dataDir, 'config'),
    tmp: path.join(dataDir, 'tmp'),
  };
  const logFile = path.join(dirs.logs, 'console.log');
  const pidFile = path.join(dataDir, PID_FILE);
  const serverPidFile = path.join(dataDir, SERVER_PID_FILE);

  // 1. A leftover from a crashed run on this data dir holds the port and the data-dir lock: kill it.
  await killStaleInstance(dataDir, port, log);

  // 2. Refuse to fight over ports with somebody else.
  const existing = await probeHttp(port, 2_000);
  if (existing.kind === 'elasticsearch') {
    throw new Error(
      `Port ${port} on 127.0.0.1 is already served by another Elasticsearch (version ${existing.version ?? '?'}, ` +
        `cluster "${existing.clusterName ?? '?'}", node "${existing.nodeName ?? '?'}") that was not started for data dir ${dataDir}. ` +
        `Stop it or choose another port.`,
    );
  }
  if (existing.kind === 'other' || !(await portIsFree(port))) {
    throw new Error(`Port ${port} on 127.0.0.1 is already in use by something that is not Elasticsearch; choose another port.`);
  }
  if (!(await portIsFree(transportPort))) {
    throw new Error(`Transport port ${transportPort} on 127.0.0.1 (for Elasticsearch on HTTP port ${port}) is already in use; pass another transportPort.`);
  }

  // 3. Directories, config copy, user.
  for (const d of [dataDir, dirs.data, dirs.logs, dirs.tmp]) fs.mkdirSync(d, { recursive: true });
  if (!fs.existsSync(path.join(dirs.config, 'elasticsearch.yml'))) {
    const tmpConfig = fs.mkdtempSync(path.join(dataDir, '.config-'));
    fs.cpSync(path.join(home, 'config'), tmpConfig, { recursive: true });
    fs.rmSync(dirs.config, { recursive: true, force: true });
    fs.renameSync(tmpConfig, dirs.config);
  }
  let ids: { uid: number; gid: number } | undefined;
  if (isRoot()) {
    ids = ensureEsUser(log);
    assertReachable(home, ids.uid, 'Elasticsearch home (set MLOG_CACHE_DIR or cacheDir to a world-readable place)');
    assertReachable(dataDir, ids.uid, 'data dir');
    chownTree(dataDir, ids.uid, ids.gid);
  }
  fs.rmSync(serverPidFile, { force: true });

  // 4. Spawn. Output goes straight to a file (no pipes), so ES survives and keeps logging if we die.
  const javaHome = findJavaHome();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['JAVA_HOME', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JAVA_OPTS', 'ES_HOME']) delete env[k];
  Object.assign(env, {
    ES_JAVA_HOME: javaHome,
    ES_PATH_CONF: dirs.config,
    ES_TMPDIR: dirs.tmp,
    ES_JAVA_OPTS: `-Xms${heap} -Xmx${heap}`,
  });
  if (ids) env.HOME = dataDir;

  fs.appendFileSync(logFile, `\n===== ${new Date().toISOString()} mlog: starting Elasticsearch ${ELASTICSEARCH_VERSION} on 127.0.0.1:${port} =====\n`);
  if (ids) fs.chownSync(logFile, ids.uid, ids.gid);
  const logOffset = fs.statSync(logFile).size;
  const fd = fs.openSync(logFile, 'a');
  const args = [...esSettings({ port, transportPort, dataPath: dirs.data, logsPath: dirs.logs, home, ...(options.cluster === undefined ? {} : { cluster: options.cluster }) }), '-p', serverPidFile];
  log(`Starting Elasticsearch ${ELASTICSEARCH_VERSION} on 127.0.0.1:${port} (data ${dataDir})`);
  const startedAt = Date.now();
  const child = (() => {
    try {
      return spawn(path.join(home, 'bin', 'elasticsearch'), args, {
        cwd: dirs.logs,
        env,
        stdio: ['ignore', fd, fd],
        detached: true, // own process group: stop() can signal launcher + server JVM together
        ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
      });
    } finally {
      fs.closeSync(fd);
    }
  })();
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  });
  child.unref();

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  fs.writeFileSync(pidFile, JSON.stringify({ pid, port, transportPort, dataDir, home, startedAt: new Date(startedAt).toISOString() }) + '\n');

  // Safety net: if the owning Node process exits without stop(), do not leave ES behind.
  const onExit = () => signalGroup(pid, 'SIGTERM');
  process.on('exit', onExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('exit', onExit);
      const serverPid = readServerPid(serverPidFile);
      if (!exitInfo) {
        signalGroup(pid, 'SIGTERM');
        if (!(await within(exited, STOP_TIMEOUT_MS))) {
          log(`Elasticsearch (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`);
          signalGroup(pid, 'SIGKILL');
          await within(exited, 5_000);
        }
      }
      // The launcher normally waits for the server JVM; make sure it is gone too.
      if (serverPid && isEsProcess(serverPid, dataDir)) await terminate(serverPid, 30_000);
      removePidFileIfOurs(pidFile, pid);
    })();
    return stopping;
  };

  // 5. Wait until it answers and the cluster is usable.
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = startedAt + timeoutMs;
    let answered = false;
    while (Date.now() < deadline) {
      if (exitInfo) {
        throw new Error(`Elasticsearch exited during startup (code ${exitInfo.code}, signal ${exitInfo.signal})`);
      }
      const probe = await probeHttp(port, 2_000);
      if (probe.kind === 'elasticsearch') {
        const serverPid = readServerPid(serverPidFile);
        if (probe.pid !== undefined && serverPid !== undefined && probe.pid !== serverPid) {
          throw new Error(`another Elasticsearch (pid ${probe.pid}) answered on port ${port}, not ours (pid ${serverPid})`);
        }
        answered = true;
        break;
      }
      await sleep(500);
    }
    if (!answered) throw new Error(`Elasticsearch did not answer on ${url} within ${Math.round(timeoutMs / 1000)} s`);
    const remaining = Math.max(1_000, deadline - Date.now());
    const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=${Math.ceil(remaining / 1000)}s`, {
      signal: AbortSignal.timeout(remaining + 5_000),
    });
    const health = (await res.json()) as { status?: string; timed_out?: boolean };
    if (!res.ok || health.timed_out || (health.status !== 'yellow' && health.status !== 'green')) {
      throw new Error(`cluster health did not reach yellow: ${JSON.stringify(health)}`);
    }
    if (exitInfo) throw new Error('Elasticsearch exited during startup');
  } catch (err) {
    await stop().catch(() => {});
    const tail = tailOfFile(logFile, logOffset, LOG_TAIL_LINES);
    if (tail.length === 0) tail.push('(no output yet)');
    for (const line of tail) log(line);
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(
      `Could not start Elasticsearch on ${url} (data dir ${dataDir}): ${message}\n` +
        `--- last lines of ${logFile} ---\n${tail.join('\n')}`,
    );
  }
  log(`Elasticsearch is up at ${url} after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return { url, pid, stop, exited, dataDir, home, logFile };
}

/**
 * Stops an Elasticsearch previously started for `dataDir` (by this or another process, using the
 * pid file). Returns true if something was stopped.
 */
export async function stopLocalElasticsearch(dataDirOption: string, log: Log = noop): Promise<boolean> {
  return killStaleInstance(path.resolve(dataDirOption), undefined, log);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

interface PidFileContent {
  pid?: number;
  port?: number;
}

async function killStaleInstance(dataDir: string, port: number | undefined, log: Log): Promise<boolean> {
  const pidFile = path.join(dataDir, PID_FILE);
  let recorded: PidFileContent = {};
  try {
    recorded = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as PidFileContent;
  } catch {
    // no or unreadable pid file
  }
  const candidates = [recorded.pid, readServerPid(path.join(dataDir, SERVER_PID_FILE))].filter(
    (p): p is number => typeof p === 'number' && p > 1,
  );
  let killed = false;
  for (const pid of candidates) {
    if (!isEsProcess(pid, dataDir, port)) continue;
    log(`Stopping leftover Elasticsearch (pid ${pid}) for ${dataDir}`);
    await terminate(pid, 30_000, true);
    killed = true;
  }
  fs.rmSync(pidFile, { force: true });
  if (killed && port !== undefined) {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !(await portIsFree(port))) await sleep(200);
  }
  return killed;
}

/** Is `pid` a live Elasticsearch process (launcher or server JVM) belonging to `dataDir` or listening on `port`? */
function isEsProcess(pid: number, dataDir: string, port?: number): boolean {
  if (!isAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return false;
  }
  if (!cmdline.includes('org.elasticsearch')) return false;
  return cmdline.includes(dataDir + path.sep) || (port !== undefined && cmdline.includes(`-Ehttp.port=${port} `));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Signal a process group (we spawn ES detached, so its pid is the group id); falls back to the pid. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM, wait up to `timeoutMs`, then SIGKILL (not our child: poll). */
async function terminate(pid: number, timeoutMs: number, group = false): Promise<void> {
  const send = (s: NodeJS.Signals) => {
    if (group) signalGroup(pid, s);
    else {
      try {
        process.kill(pid, s);
      } catch {
        // gone
      }
    }
  };
  send('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isAlive(pid)) await sleep(200);
  if (isAlive(pid)) {
    send('SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (Date.now() < killDeadline && isAlive(pid)) await sleep(100);
  }
}

function readServerPid(file: string): number | undefined {
  try {
    const n = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

function removePidFileIfOurs(pidFile: string, pid: number): void {
  try {
    const content = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as PidFileContent;
    if (content.pid === pid) fs.rmSync(pidFile, { force: true });
  } catch {
    // gone or unreadable
  }
}

type Probe =
  | { kind: 'none' }
  | { kind: 'other' }
  | { kind: 'elasticsearch'; version?: string; clusterName?: string; nodeName?: string; pid?: number };

/**
 * What answers HTTP on 127.0.0.1:`port`? Note: this distribution has no `rest-root` module, so `GET /`
 * (and `HEAD /`, i.e. client.ping()/info()) answers 405; we recognise Elasticsearch by its
 * X-elastic-product header and read the details from `_nodes/_local` instead.
 */
async function probeHttp(port: number, timeoutMs: number): Promise<Probe> {
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return { kind: 'none' };
  }
  const text = await res.text().catch(() => '');
  let body: { tagline?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON
  }
  if (res.headers.get('x-elastic-product') !== 'Elasticsearch' && body.tagline !== 'You Know, for Search') return { kind: 'other' };
  try {
    const info = await fetch(`http://127.0.0.1:${port}/_nodes/_local?filter_path=cluster_name,nodes.*.name,nodes.*.version,nodes.*.process.id`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!info.ok) return { kind: 'elasticsearch' }; // e.g. 401 from a secured cluster
    const nodes = (await info.json()) as {
      cluster_name?: string;
      nodes?: Record<string, { name?: string; version?: string; process?: { id?: number } }>;
    };
    const node = Object.values(nodes.nodes ?? {})[0];
    return { kind: 'elasticsearch', version: node?.version, clusterName: nodes.cluster_name, nodeName: node?.name, pid: node?.process?.id };
  } catch {
    return { kind: 'elasticsearch' };
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function ensureEsUser(log: Log): { uid: number; gid: number } {
  const lookup = () => {
    const u = spawnSync('id', ['-u', ES_USER], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', ES_USER], { encoding: 'utf8' });
    if (u.status !== 0 || g.status !== 0) return undefined;
    return { uid: Number.parseInt(u.stdout.trim(), 10), gid: Number.parseInt(g.stdout.trim(), 10) };
  };
  let ids = lookup();
  if (ids) return ids;
  log(`Creating system user ${ES_USER} (Elasticsearch refuses to run as root)`);
  const nologin = fs.existsSync('/usr/sbin/nologin') ? '/usr/sbin/nologin' : '/bin/false';
  const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', nologin, ES_USER], {
    encoding: 'utf8',
  });
  ids = lookup(); // a concurrent caller may have created it
  if (!ids) {
    throw new Error(
      `Running as root, but could not create the system user ${ES_USER} for Elasticsearch ` +
        `(useradd exit ${r.status}: ${(r.stderr || r.error?.message || '').trim()}). Create it manually or run as a non-root user.`,
    );
  }
  return ids;
}

/** Every ancestor of `target` must be traversable by `uid` (e.g. nothing under /root, which is 0700). */
function assertReachable(target: string, uid: number, what: string): void {
  let dir = path.resolve(target);
  const chain: string[] = [];
  while (true) {
    chain.push(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of chain.reverse()) {
    let st: fs.Stats;
    try {
      st = fs.statSync(d);
    } catch {
      return; // does not exist yet; will be created
    }
    const ok = st.uid === uid ? (st.mode & 0o100) !== 0 : (st.mode & 0o001) !== 0;
    if (!ok && d !== path.resolve(target)) {
      throw new Error(
        `The ${what} ${target} is not reachable by the unprivileged user ${ES_USER} that runs Elasticsearch: ` +
          `${d} has mode ${(st.mode & 0o777).toString(8)}. Use a directory outside it (e.g. under /tmp or /var/tmp).`,
      );
    }
  }
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else fs.lchownSync(p, uid, gid);
  }
}

function findJavaHome(): string {
  const valid = (h: string | undefined): h is string => !!h && fs.existsSync(path.join(h, 'bin', 'java'));
  if (valid(process.env.ES_JAVA_HOME)) return process.env.ES_JAVA_HOME;
  if (valid(process.env.JAVA_HOME)) return process.env.JAVA_HOME;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'java');
    if (fs.existsSync(candidate)) {
      const real = fs.realpathSync(candidate); // e.g. /usr/lib/jvm/java-17-openjdk-amd64/bin/java
      return path.dirname(path.dirname(real));
    }
  }
  throw new Error('No Java found: Elasticsearch needs Java 17+ (set ES_JAVA_HOME or JAVA_HOME, or put java on PATH)');
}

function commandExists(cmd: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, cmd)));
}

function run(cmd: string, args: string[], o: { what: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err) =>
      reject(new Error(`${o.what} failed: ${err.message}${(err as NodeJS.ErrnoException).code === 'ENOENT' ? ` (is ${cmd} installed?)` : ''}`)),
    );
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${o.what} failed (exit ${code ?? signal}):\n${output.trim()}`));
    });
  });
}

function tailOfFile(file: string, fromOffset: number, lines: number): string[] {
  try {
    const content = fs.readFileSync(file).subarray(fromOffset).toString('utf8');
    return content.split('\n').filter((l) => l.trim() !== '').slice(-lines);
  } catch {
    return [];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true if `promise` settles within `ms`, false otherwise; never leaves a timer behind. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
