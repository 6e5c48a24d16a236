import cluster from 'node:cluster';
import { pathToFileURL } from 'node:url';
import { loadConfig, type MLogConfig } from './config/config.js';
import { ConfigurationError } from './errors/mlog-error.js';
import { AdmissionControl } from './events/admission-control.js';
import { IdempotencyService } from './events/idempotency-service.js';
import { IngestService } from './events/ingest-service.js';
import { PersonalDataService } from './events/personal-data-service.js';
import { QueryService } from './events/query-service.js';
import { createAdminApp } from './http/admin-app.js';
import { createPublicApp, type Routes } from './http/public-app.js';
import { onboardingRoutes } from './http/routes/onboarding-routes.js';
import { personalDataRoutes } from './http/routes/personal-data-routes.js';
import { rejectionRoutes } from './http/routes/rejection-routes.js';
import { listenAdmin, listenPublic } from './http/servers.js';
import { RetentionJob, scheduledRunBy } from './jobs/retention-job.js';
import { scheduleJob, type ScheduledJob } from './jobs/scheduler.js';
import { createLogger, type Logger } from './logging/logger.js';
import { Metrics } from './metrics/metrics.js';
import { answerMetricsRequests, workerMetrics } from './process/cluster-metrics.js';
import { WorkerPool } from './process/worker-pool.js';
import { RejectionRecorder } from './rejections/rejection-recorder.js';
import { RejectionSearch } from './rejections/rejection-search.js';
import { ElasticsearchAuditLog } from './storage/elasticsearch-audit-log.js';
import { createElasticsearchClient } from './storage/elasticsearch-client.js';
import { ElasticsearchConformanceFacts } from './storage/elasticsearch-conformance-facts.js';
import { ElasticsearchEventStore } from './storage/elasticsearch-event-store.js';
import { ElasticsearchStartupCheck } from './storage/elasticsearch-startup-check.js';
import { ElasticsearchIdempotencyStore } from './storage/elasticsearch-idempotency-store.js';
import { ElasticsearchIndexCatalog } from './storage/elasticsearch-index-catalog.js';
import { ElasticsearchLeaseStore } from './storage/elasticsearch-lease-store.js';
import { ElasticsearchPersonalDataStore } from './storage/elasticsearch-personal-data-store.js';
import { ElasticsearchRejectionStore } from './storage/elasticsearch-rejection-store.js';
import { ElasticsearchSystemStore } from './storage/elasticsearch-system-store.js';
import { installIndexTemplates } from './storage/template-installer.js';
import { OnboardingService } from './onboarding/onboarding-service.js';
import { SystemRegistry } from './systems/system-registry.js';

export interface RunningMLog {
  publicPort: number;
  adminPort: number;
  logger: Logger;
  registry: SystemRegistry;
  /** The scheduled jobs (retention, idempotency-purge), each of which can also be run now. */
  jobs: readonly ScheduledJob[];
  /** Stops accepting calls, finishes those in flight (bounded), closes storage. */
  stop(): Promise<void>;
}

/**
 * The composition root: config → logger → storage → services → apps → listeners. Resolves once both
 * listeners accept connections; index templates are installed first (and again until Elasticsearch
 * answers, while /readyz says 503).
 */
export async function startMLog(config: MLogConfig, options: { logger?: Logger; metrics?: Metrics } = {}): Promise<RunningMLog> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = options.metrics ?? new Metrics();
  const writeDeadlineMs = config.limits.writeDeadlineSeconds * 1000;
  const client = createElasticsearchClient(config.elasticsearch, { requestTimeoutMs: writeDeadlineMs });
  const storageCheck = new ElasticsearchStartupCheck(client);
  let durabilityProblem: string | undefined;

  let templatesInstalled = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const installTemplates = async (): Promise<void> => {
    try {
      await installIndexTemplates(client, logger);
      durabilityProblem = await storageCheck.translogDurabilityProblem();
      // At start the problem stops the process (below); found on a later attempt, /readyz reports it.
      if (durabilityProblem !== undefined && retryTimer !== undefined) logger.error('MLog cannot acknowledge events durably', { problem: durabilityProblem });
      templatesInstalled = true;
    } catch (error) {
      logger.warn('index templates not installed yet; retrying in 5 s', { error: (error as Error).message });
      retryTimer = setTimeout(() => void installTemplates(), 5_000);
      retryTimer.unref();
    }
  };
  await installTemplates();
  // Reached Elasticsearch at start and found events would not be fsynced before they are acknowledged: refuse to start.
  if (durabilityProblem !== undefined) {
    await client.close();
    throw new ConfigurationError(durabilityProblem);
  }

  // Group commit (see src/storage/bulk-batcher.ts): concurrent /register calls share bulks.
  const eventStore = new ElasticsearchEventStore(
    client,
    logger,
    { deadlineMs: writeDeadlineMs, firstBackoffMs: 50, maxBackoffMs: 1_000, lateWriteWindowMs: 120_000 },
    {
      batching: {
        maxWaitMs: config.groupCommit.waitMs,
        maxOperations: config.groupCommit.maxOperations,
        maxChars: config.groupCommit.maxBytes,
        maxInFlight: config.groupCommit.maxInFlight,
        maxQueuedOperationsPerLane: config.groupCommit.maxWaitingEventsPerSystem,
        maxQueuedCharsPerLane: config.groupCommit.maxWaitingBytesPerSystem,
        maxQueuedChars: config.groupCommit.maxWaitingBytes,
      },
    },
  );
  const registry = new SystemRegistry(new ElasticsearchSystemStore(client), logger, config.registryCacheSeconds);
  const ingest = new IngestService(eventStore, logger);
  const queries = new QueryService(eventStore, logger);
  const rejectionStore = new ElasticsearchRejectionStore(client);
  const rejections = new RejectionRecorder(rejectionStore, logger, {}, metrics.rejectionCounters());
  const audit = new ElasticsearchAuditLog(client);

  const readiness = {
    async problem(): Promise<string | undefined> {
      if (!templatesInstalled) return 'The index templates are not installed yet (is Elasticsearch reachable?).';
      try {
        await client.cluster.health({ timeout: '2s' }, { requestTimeout: 3_000 });
      } catch {
        return 'Elasticsearch does not answer.';
      }
      if (durabilityProblem !== undefined) return durabilityProblem;
      try {
        return await storageCheck.writeBlockProblem();
      } catch {
        return 'Elasticsearch does not answer.';
      }
    },
  };

  // Routes of further capabilities, each built from its service here.
  const publicRoutes: Routes[] = [];
  const adminRoutes: Routes[] = [];
  // Scheduled jobs, stopped first on shutdown.
  const jobs: ScheduledJob[] = [];

  // --- retention (index lifecycle) ---
  if (config.retention.schedule !== undefined) {
    const retention = new RetentionJob({
      registry,
      catalog: new ElasticsearchIndexCatalog(client),
      leases: new ElasticsearchLeaseStore(client),
      audit,
      logger,
      personalDataMonths: config.retention.personalDataMonths,
      rejectionsMonths: config.retention.rejectionsMonths,
    });
    const runBy = scheduledRunBy();
    jobs.push(
      scheduleJob(
        {
          name: 'retention',
          schedule: config.retention.schedule,
          // The job logs its outcome (deleted, failures, or skipped because another instance holds the lease).
          async run(signal) {
            await retention.run({ execute: true, runBy, signal });
          },
        },
        logger,
      ),
    );
  }

  // --- Idempotency-Key on /register (records purged on MLOG_IDEMPOTENCY_PURGE_SCHEDULE once their 24 hours have passed) and limits on calls in flight ---
  const idempotency = new IdempotencyService(ingest, new ElasticsearchIdempotencyStore(client), logger);
  if (config.idempotency.purgeSchedule !== undefined) {
    jobs.push(
      scheduleJob(
        {
          name: 'idempotency-purge',
          schedule: config.idempotency.purgeSchedule,
          async run(signal) {
            const deleted = await idempotency.purgeExpired(new Date(), signal);
            if (deleted > 0) logger.info('expired idempotency keys deleted', { deleted });
          },
        },
        logger,
      ),
    );
  }
  const admissionControl = new AdmissionControl(config.limits, (system, systemInFlight, total) => {
    metrics.inFlight.set(total);
    metrics.inFlightBySystem.set({ system }, systemInFlight);
  });

  const registerBytes = new AdmissionControl({ maxInFlight: config.limits.maxRegisterBytes, maxInFlightPerSystem: config.limits.maxRegisterBytesPerSystem });

  // --- onboarding: conformance reports and activation ---
  const onboarding = new OnboardingService(registry, new ElasticsearchConformanceFacts(client), audit, logger);
  adminRoutes.push(onboardingRoutes(onboarding));

  // --- personal data for those it concerns; rejections for administrators ---
  const personalData = new PersonalDataService(new ElasticsearchPersonalDataStore(client), registry, queries, logger);
  publicRoutes.push(personalDataRoutes(personalData));
  adminRoutes.push(rejectionRoutes(new RejectionSearch(rejectionStore)));

  const publicListener = await listenPublic(createPublicApp({ registry, ingest, idempotency, admission: admissionControl, registerBytes, queries, logger, metrics, rejections, routes: publicRoutes }), {
    host: config.publicApi.host,
    port: config.publicApi.port,
    certPath: config.publicApi.tlsCertPath,
    keyPath: config.publicApi.tlsKeyPath,
    clientCaPath: config.publicApi.tlsClientCaPath,
    handshakeTimeoutMs: config.publicApi.tlsHandshakeTimeoutSeconds * 1000,
  });
  const adminListener = await listenAdmin(createAdminApp({ registry, readiness, logger, metrics, token: config.adminApi.token, routes: adminRoutes }), {
    host: config.adminApi.host,
    port: config.adminApi.port,
  });
  if (config.adminApi.token === undefined) logger.warn('MLOG_ADMIN_TOKEN is not set: the administration API refuses every call');
  logger.info('MLog started', { publicPort: publicListener.port, adminPort: adminListener.port, adminHost: config.adminApi.host });

  return {
    publicPort: publicListener.port,
    adminPort: adminListener.port,
    logger,
    registry,
    jobs,
    async stop() {
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      await Promise.all(jobs.map((job) => job.stop()));
      const graceMs = config.limits.shutdownGraceSeconds * 1000;
      await Promise.all([publicListener.close(graceMs), adminListener.close(graceMs)]);
      await eventStore.close(graceMs);
      await rejections.flush();
      await client.close();
      logger.info('MLog stopped');
    },
  };
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
