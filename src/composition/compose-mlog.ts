import { CONFIGURATION, type MLogConfig } from '../config/config.js';
import { addressMatcher, loadDeclared } from '../config/settings.js';
import { readCertificates } from '../config/config-files.js';
import { ConfigurationError } from '../errors/mlog-error.js';
import { createAdminApp } from '../http/admin-app.js';
import { consoleApi } from '../http/console/console-api.js';
import { oidcRoutes } from '../http/console/oidc-routes.js';
import { connectionRefusalRecorder, type ConnectionRefusalRecorder } from '../http/connection-refusals.js';
import { createPublicApp } from '../http/public-app.js';
import type { ProxyTrust } from '../http/peer-credentials.js';
import { readingRoutes } from '../http/console/reading-routes.js';
import { dashboardRoutes } from '../http/console/dashboard-routes.js';
import { consoleAlertRuleRoutes } from '../http/console/alert-rule-routes.js';
import { alertRuleRoutes } from '../http/routes/alert-rule-routes.js';
import { onboardingRoutes } from '../http/routes/onboarding-routes.js';
import { personalDataRoutes } from '../http/routes/personal-data-routes.js';
import { rejectionRoutes } from '../http/routes/rejection-routes.js';
import type { ScheduledJob } from '../jobs/scheduler.js';
import { createLogger, type Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { SyslogDoor } from '../syslog/syslog-door.js';
import { createServices, type Services } from './create-services.js';
import { createStores } from './create-stores.js';
import { scheduleJobs } from './schedule-jobs.js';
import { EvidenceEventStore } from '../evidence/evidence-event-store.js';
import { EvidenceLog } from '../evidence/evidence-log.js';
import { SigningKey } from '../evidence/signing-key.js';
import { ChainWebhook } from '../evidence/checkpoint-webhook.js';
import type { StoredChainEntry } from '../evidence/chain-entry.js';
import { evidenceRoutes } from '../http/routes/evidence-routes.js';

/** MLog put together, not yet listening. */
export interface ComposedMLog {
  services: Services;
  /** The scheduled jobs (retention, idempotency-purge), each of which can also be run now. */
  jobs: readonly ScheduledJob[];
  publicApp: ReturnType<typeof createPublicApp>;
  /** Records the calls the public listener refuses before publicApp runs (listenPublic's `recordRefusal`). */
  publicRefusals: ConnectionRefusalRecorder;
  adminApp: ReturnType<typeof createAdminApp>;
  /** The syslog door's service calls, for the syslog listeners (src/syslog). */
  syslog: SyslogDoor;
  /** Stops the scheduled jobs and the background installs of the index templates. */
  stopJobs(): Promise<void>;
  /** Once the listeners are closed: lets writes in flight finish (bounded by `graceMs`), writes the rejections queued, closes storage. */
  close(graceMs: number): Promise<void>;
}

/**
 * createStores → createServices → scheduleJobs → the apps of the doors. Resolves once the index
 * templates are installed, or Elasticsearch did not answer yet (the templates are then installed in
 * the background while /readyz says 503). Throws a ConfigurationError when Elasticsearch would
 * acknowledge events before they are fsynced.
 */
export async function composeMLog(config: MLogConfig, logger: Logger, metrics: Metrics): Promise<ComposedMLog> {
  const writeDeadlineMs = config.limits.writeDeadlineSeconds * 1000;
  const key = await loadSigningKey(config.evidence.signingKeyPath, logger);
  const log = config.evidence.mode === 'on' ? new EvidenceLog() : undefined;
  const stores = createStores(
    { elasticsearch: config.elasticsearch, groupCommit: config.groupCommit, writeDeadlineSeconds: config.limits.writeDeadlineSeconds, requestTimeoutMs: writeDeadlineMs, indices: config.indices },
    logger,
  );
  const durabilityProblem = await stores.readiness.start();
  if (durabilityProblem !== undefined) {
    await stores.close();
    throw new ConfigurationError(durabilityProblem);
  }
  // Every write to an event index goes through this process's evidence log (docs/evidence.md).
  if (log !== undefined) {
    stores.events = new EvidenceEventStore(stores.events, log);
    logger.info('evidence log opened', { log: log.id, kid: key.kid });
  }
  const webhook = config.evidence.webhookUrl === undefined ? undefined : new ChainWebhook(config.evidence.webhookUrl, logger);
  const services = createServices(config, stores, logger, metrics, {
    key,
    ...(log === undefined ? {} : { log }),
    checkpointSeconds: config.evidence.checkpointSeconds,
    sealAfterSeconds: config.evidence.sealAfterSeconds,
    ...(webhook === undefined ? {} : { onEntry: (entry: StoredChainEntry) => webhook.publish(entry) }),
  });
  await openEvidenceLease(services, logger);
  const jobs = scheduleJobs(config, services, logger);
  await installShippedDashboards(services, logger);

  const { registry, ingest, idempotency, admission, registerBytes, queries, rejections } = services;
  const publicApp = createPublicApp({ registry, ...proxyTrust(config), ...(config.development.identity === undefined ? {} : { developmentIdentity: config.development.identity }), ingest, idempotency, admission, registerBytes, queries, logger, metrics, rejections, registerDirect: config.limits.registerDirect === 'on', queryDirect: config.limits.queryDirect === 'on', routes: [personalDataRoutes(services.personalData), ...(services.evidence === undefined ? [] : [evidenceRoutes(services.evidence)])] });
  const secureCookie = config.adminApi.tlsCertPath !== undefined;
  const adminApp = createAdminApp({
    registry,
    readiness: stores.readiness,
    logger,
    metrics,
    token: config.adminApi.token,
    routes: [onboardingRoutes(services.onboarding), rejectionRoutes(services.rejectionSearch), alertRuleRoutes(services.alertRules)],
    consoleApi: consoleApi({
      sessions: services.consoleSessions,
      accounts: services.accounts,
      systems: registry,
      secureCookie,
      oidc: services.oidc !== undefined,
      openRouters: services.oidc === undefined ? [] : [oidcRoutes(services.oidc, secureCookie)],
      routers: [readingRoutes(services.consoleSearch, logger), dashboardRoutes(services.dashboards), consoleAlertRuleRoutes(services.alertRules)],
    }),
  });

  return {
    services,
    jobs,
    publicApp,
    publicRefusals: connectionRefusalRecorder(registry, rejections),
    adminApp,
    syslog: new SyslogDoor({ registry, ingest, rejections, metrics, logger, maxMessageBytes: config.syslog.maxMessageBytes }),
    async stopJobs() {
      stores.readiness.stop();
      await Promise.all(jobs.map((job) => job.stop()));
      await services.alertEngine.stop();
      await services.alertNotifier.stop();
    },
    async close(graceMs) {
      await stores.events.close(graceMs);
      await finalCheckpoint(services, logger);
      await webhook?.stop(Math.max(graceMs, 1000));
      await services.rejections.flush();
      await stores.close();
    },
  };
}

/**
 * MLog's signing key: MLOG_SIGNING_KEY's file (refusing to start when it holds no usable key), or a
 * key made now that ends with the process, with a warning.
 */
async function loadSigningKey(path: string | undefined, logger: Logger): Promise<SigningKey> {
  if (path !== undefined) return SigningKey.fromFile(path);
  const key = await SigningKey.ephemeral();
  logger.warn('MLOG_SIGNING_KEY is not set: checkpoints, tombstones and receipts are signed with a key that ends with this process', { kid: key.kid });
  return key;
}

/** The last checkpoint of this process's log, once every write in flight has settled; a failure is logged (the leaves stay unsigned). */
async function finalCheckpoint(services: Services, logger: Logger): Promise<void> {
  if (services.evidence?.log === undefined) return;
  try {
    const entry = await services.evidence.close();
    if (entry !== undefined && entry.kind === 'checkpoint') logger.info('final evidence checkpoint signed', { log: entry.log, size: entry.size, seq: entry.seq });
  } catch (error) {
    logger.warn('final evidence checkpoint not written', { error: (error as Error).message });
    return;
  }
  try {
    // The log is closed: nothing is left for another instance to seal.
    await services.evidenceSealer?.release();
  } catch (error) {
    logger.warn('the lease of the closed evidence log was not removed; another instance releases it once it lapses', { error: (error as Error).message });
  }
}

/**
 * Before anything is registered: the lease of this process's evidence log, and (in the background,
 * start does not wait for it) the sealing of the logs of processes that are gone. A lease that cannot
 * be written now is written at the next checkpoint.
 */
async function openEvidenceLease(services: Services, logger: Logger): Promise<void> {
  const sealer = services.evidenceSealer;
  if (sealer === undefined) return;
  await sealer.renew();
  void sealer.sealOrphans().catch((error: unknown) => logger.warn('orphaned evidence logs not looked for at start; the next checkpoint run does', { error: (error as Error).message }));
}

/** Installs MLog's shipped dashboards that are absent; when Elasticsearch cannot take them now, MLog starts without them (they come at the next start). */
async function installShippedDashboards(services: Services, logger: Logger): Promise<void> {
  try {
    const installed = await services.dashboards.installShipped();
    if (installed.length > 0) logger.info('shipped dashboards installed', { dashboards: installed });
  } catch (error) {
    logger.warn('shipped dashboards not installed; they are installed at the next start', { error: (error as Error).name });
  }
}

/** What a command of `mlog` configures: where Elasticsearch is, and for `mlog retention` its settings and indices. */
export interface CommandLineSettings {
  elasticsearch: MLogConfig['elasticsearch'];
  /** Declared defaults when unset (commands other than `mlog retention` do not read them). */
  retention?: MLogConfig['retention'];
  retentionIndices?: readonly string[];
  /** MLOG_SMTP_URL and MLOG_SMTP_FROM as the command's environment has them: `mlog alerts add` refuses an e-mail channel without them, as the server does. */
  smtp?: MLogConfig['smtp'];
  /** MLOG_SIGNING_KEY as the command's environment has it: `mlog retention run` signs its tombstones with it (unset: a key that ends with the command). */
  signingKeyPath?: string;
}

/**
 * Runs `action` with MLog's services on the configured cluster (index templates installed first),
 * closing the connection after. The registry is read afresh by every call; nothing is scheduled.
 */
export async function withCommandLineServices<T>(settings: CommandLineSettings, action: (services: Services) => Promise<T>): Promise<T> {
  const logger = createLogger('error', true);
  // A command registers no events: the write path keeps its declared defaults.
  const limits = loadDeclared({}, CONFIGURATION.limits);
  const stores = createStores(
    {
      elasticsearch: settings.elasticsearch,
      groupCommit: loadDeclared({}, CONFIGURATION.groupCommit),
      writeDeadlineSeconds: limits.writeDeadlineSeconds,
      ...(settings.retentionIndices === undefined ? {} : { retentionIndices: settings.retentionIndices }),
    },
    logger,
  );
  try {
    await stores.readiness.installTemplates();
    const key = settings.signingKeyPath === undefined ? await SigningKey.ephemeral() : await SigningKey.fromFile(settings.signingKeyPath);
    const services = createServices(
      { registryCacheSeconds: 0, limits, retention: settings.retention ?? loadDeclared({}, CONFIGURATION.retention), console: loadDeclared({}, CONFIGURATION.console), ...(settings.smtp === undefined ? {} : { smtp: settings.smtp }) },
      stores,
      logger,
      undefined,
      { key, checkpointSeconds: loadDeclared({}, CONFIGURATION.evidence).checkpointSeconds },
    );
    return await action(services);
  } finally {
    await stores.close();
  }
}

/** The reverse proxies MLOG_TRUSTED_PROXIES names, whose forwarded certificates must come from MLOG_TLS_CLIENT_CA's CAs; none when unset. */
function proxyTrust(config: MLogConfig): { proxies?: ProxyTrust } {
  const { trusted, certificateHeader } = config.proxies;
  if (trusted === undefined) return {};
  return { proxies: { isTrusted: addressMatcher(trusted, CONFIGURATION.proxies.trusted.variable), certificateHeader, issuers: readCertificates('MLOG_TLS_CLIENT_CA', config.publicApi.tlsClientCaPath) } };
}
