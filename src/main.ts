import cluster from 'node:cluster';
import { pathToFileURL } from 'node:url';
import { composeMLog } from './composition/index.js';
import { CONFIGURATION, loadConfig, type MLogConfig } from './config/config.js';
import { checkConfiguredFiles } from './config/config-files.js';
import { ConfigurationError } from './errors/mlog-error.js';
import type { AdminAccounts } from './admins/admin-accounts.js';
import type { AlertNotifier } from './alerts/alert-notifier-type.js';
import type { RequestListener } from 'node:http';
import { isLoopbackHost, listenAdmin, listenDevelopment, listenPublic, type Listening } from './http/servers.js';
import type { ScheduledJob } from './jobs/scheduler.js';
import { createLogger, type Logger } from './logging/logger.js';
import { Metrics } from './metrics/metrics.js';
import { answerMetricsRequests, workerMetrics } from './process/cluster-metrics.js';
import { WorkerPool } from './process/worker-pool.js';
import { listenSyslog, type SyslogListening } from './syslog/syslog-listeners.js';
import type { SyslogDoor, SyslogDoorKind } from './syslog/syslog-door.js';
import type { SystemRegistry } from './systems/system-registry.js';

export interface RunningMLog {
  publicPort: number;
  adminPort: number;
  /** The ports of the syslog listeners that are on (MLOG_SYSLOG_TLS_PORT, MLOG_RELP_PORT, MLOG_SYSLOG_TCP_PORT). */
  syslogPorts: Partial<Record<SyslogDoorKind, number>>;
  /** The development listener's port (MLOG_DEV_HTTP_PORT with MLOG_DEV_IDENTITY), when it is on. */
  developmentPort?: number;
  logger: Logger;
  registry: SystemRegistry;
  /** The console's administrator accounts (`npm start` creates the first one). */
  accounts: AdminAccounts;
  /** The scheduled jobs (retention, idempotency-purge), each of which can also be run now. */
  jobs: readonly ScheduledJob[];
  /** Delivers alert notifications while started (by the alerts engine, as it holds the alerts lease). */
  alertNotifier: AlertNotifier;
  /** Stops accepting calls, finishes those in flight (bounded), closes storage. */
  stop(): Promise<void>;
}

/**
 * MLog in this process: composed (src/composition), then listening. Resolves once both listeners
 * accept connections; index templates are installed first (and again until Elasticsearch answers,
 * while /readyz says 503). Stops in this order: jobs, listeners, writes in flight, storage.
 */
export async function startMLog(config: MLogConfig, options: { logger?: Logger; metrics?: Metrics } = {}): Promise<RunningMLog> {
  checkConfiguredFiles(config);
  const logger = options.logger ?? createLogger(config.logLevel);
  const mlog = await composeMLog(config, logger, options.metrics ?? new Metrics());
  const graceMs = config.limits.shutdownGraceSeconds * 1000;
  const { publicApi, adminApi } = config;
  let listeners: { close(graceMs: number): Promise<void> }[] = [];
  try {
    const publicListener = await listening(addressOf(PUBLIC_API.host.variable, publicApi.host, PUBLIC_API.port.variable, publicApi.port), listenPublic(mlog.publicApp, {
      host: publicApi.host,
      port: publicApi.port,
      certPath: publicApi.tlsCertPath,
      keyPath: publicApi.tlsKeyPath,
      clientCaPath: publicApi.tlsClientCaPath,
      handshakeTimeoutMs: publicApi.tlsHandshakeTimeoutSeconds * 1000,
      recordRefusal: mlog.publicRefusals,
    }));
    listeners = [publicListener];
    const adminTls = adminApi.tlsCertPath !== undefined && adminApi.tlsKeyPath !== undefined ? { certPath: adminApi.tlsCertPath, keyPath: adminApi.tlsKeyPath } : undefined;
    const adminListener = await listening(addressOf(ADMIN_API.host.variable, adminApi.host, ADMIN_API.port.variable, adminApi.port), listenAdmin(mlog.adminApp, { host: adminApi.host, port: adminApi.port, ...(adminTls === undefined ? {} : { tls: adminTls }) }));
    listeners = [publicListener, adminListener];
    if (config.proxies.trusted !== undefined) {
      logger.info('calls from the trusted reverse proxies (MLOG_TRUSTED_PROXIES) are identified by the client certificate they forward and come from the address they add to X-Forwarded-For; nothing but those proxies may be able to reach MLog from their addresses', { trustedProxies: config.proxies.trusted, certificateHeader: config.proxies.certificateHeader });
    }
    if (adminApi.token === undefined) logger.warn('MLOG_ADMIN_TOKEN is not set: the administration API refuses every call');
    if (adminTls === undefined && !isLoopbackHost(adminApi.host)) {
      logger.warn('the administration listener serves plain HTTP on a non-loopback address: console passwords and session cookies cross the network unencrypted; set MLOG_ADMIN_TLS_CERT and MLOG_ADMIN_TLS_KEY', { adminHost: adminApi.host });
    }
    const syslogListeners = await startSyslogListeners(config, mlog.syslog, (listener) => listeners.push(listener));
    const syslogPorts = Object.fromEntries(syslogListeners.map((listener) => [listener.door, listener.port]));
    const development = await startDevelopmentListener(config, mlog.publicApp, logger);
    if (development !== undefined) listeners.push(development);
    logger.info('MLog started', { publicPort: publicListener.port, adminPort: adminListener.port, adminHost: adminApi.host, adminTls: adminTls !== undefined, syslogPorts, ...(development === undefined ? {} : { developmentPort: development.port }) });
    return {
      ...(development === undefined ? {} : { developmentPort: development.port }),
      publicPort: publicListener.port,
      adminPort: adminListener.port,
      syslogPorts,
      logger,
      registry: mlog.services.registry,
      accounts: mlog.services.accounts,
      jobs: mlog.jobs,
      alertNotifier: mlog.services.alertNotifier,
      async stop() {
        await mlog.stopJobs();
        await Promise.all(listeners.map((listener) => listener.close(graceMs)));
        await mlog.close(graceMs);
        logger.info('MLog stopped');
      },
    };
  } catch (error) {
    // A listener could not start (an address in use, an unreadable certificate): nothing is left running.
    await mlog.stopJobs();
    await Promise.all(listeners.map((listener) => listener.close(0)));
    await mlog.close(0);
    throw error;
  }
}

const { publicApi: PUBLIC_API, adminApi: ADMIN_API, syslog: SYSLOG, development: DEVELOPMENT } = CONFIGURATION;
const SYSLOG_PORT_VARIABLES: Record<SyslogDoorKind, string> = { tls: SYSLOG.tlsPort.variable, relp: SYSLOG.relpPort.variable, tcp: SYSLOG.tcpPort.variable };

/** Why a listener could not take its address, in words, by the error's code; undefined for another failure. */
const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'is already in use by another process',
  EACCES: 'may not be used by this user (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'is not an address of this machine',
  ENOTFOUND: 'does not name an address of this machine',
  EAI_AGAIN: 'could not be resolved',
};

/** How a failed listener's message names its address: `MLOG_HOST="0.0.0.0" with MLOG_PORT="8443"`. */
function addressOf(hostVariable: string, host: string, portVariable: string, port: number): string {
  return `${hostVariable}="${host}" with ${portVariable}="${port}"`;
}

/**
 * A listener being started; when it cannot take its address (in use, not this machine's, not allowed),
 * a ConfigurationError whose one line names the variables (`named`), so MLog stops like for any wrong value.
 */
async function listening<T>(named: string, started: Promise<T>): Promise<T> {
  try {
    return await started;
  } catch (error) {
    const why = LISTEN_FAILURES[(error as NodeJS.ErrnoException).code ?? ''];
    if (why === undefined) throw error;
    throw new ConfigurationError(`${named}: the address ${why}.`);
  }
}

/**
 * The development listener, when MLOG_DEV_HTTP_PORT and MLOG_DEV_IDENTITY are set: plain HTTP on
 * 127.0.0.1, every call being that IS. Said loudly at start; never on unless configured.
 */
async function startDevelopmentListener(config: MLogConfig, app: RequestListener, logger: Logger): Promise<Listening | undefined> {
  const { identity, httpPort } = config.development;
  if (identity === undefined || httpPort === undefined) return undefined;
  const listener = await listening(`${DEVELOPMENT.httpPort.variable}="${httpPort}" on 127.0.0.1`, listenDevelopment(app, { port: httpPort, identity }));
  logger.warn(`DEVELOPMENT IDENTITY ON: plain HTTP on 127.0.0.1:${listener.port}, where every call is information system "${identity}" without a certificate (MLOG_DEV_IDENTITY). For local development only; never in production.`, { developmentPort: listener.port, developmentIdentity: identity });
  return listener;
}

/** The syslog listeners whose ports are set, on MLOG_HOST; TLS ones with the public listener's certificate and client CAs. */
async function startSyslogListeners(config: MLogConfig, door: SyslogDoor, started: (listener: SyslogListening) => void): Promise<SyslogListening[]> {
  const { publicApi, syslog } = config;
  const tls = { certPath: publicApi.tlsCertPath, keyPath: publicApi.tlsKeyPath, clientCaPath: publicApi.tlsClientCaPath, handshakeTimeoutMs: publicApi.tlsHandshakeTimeoutSeconds * 1000 };
  const wanted: [SyslogDoorKind, number | undefined][] = [
    ['tls', syslog.tlsPort],
    ['relp', syslog.relpPort],
    ['tcp', syslog.tcpPort],
  ];
  const listeners: SyslogListening[] = [];
  for (const [kind, port] of wanted) {
    if (port === undefined) continue;
    const listener = await listening(addressOf(PUBLIC_API.host.variable, publicApi.host, SYSLOG_PORT_VARIABLES[kind], port), listenSyslog(door, kind, { host: publicApi.host, port, ...(kind === 'tcp' ? {} : { tls }) }));
    started(listener);
    listeners.push(listener);
    if (kind === 'tcp') {
      door.logger.warn('syslog over plain TCP is on (MLOG_SYSLOG_TCP_PORT): messages cross the network unencrypted and their system is known only by source address (syslog_addresses)', { port: listener.port });
    }
  }
  return listeners;
}

/** With MLOG_WORKERS > 1: a logger whose every line names the process that wrote it. */
function processLogger(config: MLogConfig, fields: Record<string, unknown>): Logger {
  const logger = createLogger(config.logLevel);
  logger.defaultMeta = { ...logger.defaultMeta, ...fields };
  return logger;
}

/**
 * MLOG_WORKERS > 1, in the primary process: forks the workers (each runs this module again, as a
 * worker), replaces those that die, answers their requests for the whole instance's metrics, and on
 * SIGTERM or SIGINT stops them all and exits. See docs/workers.md.
 */
function runPrimary(config: MLogConfig): void {
  checkConfiguredFiles(config);
  const logger = processLogger(config, { role: 'primary' });
  const pool = new WorkerPool({ workers: config.workers, shutdownGraceMs: config.limits.shutdownGraceSeconds * 1000, logger });
  answerMetricsRequests(() => pool.startingWorker(), logger);
  process.on('SIGTERM', () => pool.stop('SIGTERM'));
  process.on('SIGINT', () => pool.stop('SIGINT'));
  void pool.run().then((exitCode) => process.exit(exitCode));
}

/** In a worker of the cluster: its log lines name the worker, and its /metrics shows the whole instance. */
function workerOptions(config: MLogConfig): { logger: Logger; metrics: Metrics } {
  const logger = processLogger(config, { role: 'worker', worker: cluster.worker?.id, pid: process.pid });
  return { logger, metrics: workerMetrics() };
}

/** Runs MLog from the environment until SIGTERM or SIGINT: one process, or with MLOG_WORKERS > 1 a primary and its workers. */
export async function runFromEnvironment(config: MLogConfig): Promise<void> {
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config);
  const mlog = await startMLog(config, cluster.isWorker ? workerOptions(config) : {});
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    mlog.logger.info('stopping', { signal });
    mlog.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        mlog.logger.error('stop failed', { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await runFromEnvironment(loadConfig());
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`MLog cannot start: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
