import { CONFIGURATION, type MLogConfig } from '../config/config.js';
import { loadDeclared } from '../config/settings.js';
import { ConfigurationError } from '../errors/mlog-error.js';
import { createAdminApp } from '../http/admin-app.js';
import { consoleApi } from '../http/console/console-api.js';
import { oidcRoutes } from '../http/console/oidc-routes.js';
import { connectionRefusalRecorder, type ConnectionRefusalRecorder } from '../http/connection-refusals.js';
import { createPublicApp } from '../http/public-app.js';
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
  const stores = createStores(
    { elasticsearch: config.elasticsearch, groupCommit: config.groupCommit, writeDeadlineSeconds: config.limits.writeDeadlineSeconds, requestTimeoutMs: writeDeadlineMs, indices: config.indices },
    logger,
  );
  const durabilityProblem = await stores.readiness.start();
  if (durabilityProblem !== undefined) {
    await stores.close();
    throw new ConfigurationError(durabilityProblem);
  }
  const services = createServices(config, stores, logger, metrics);
  const jobs = scheduleJobs(config, services, logger);
  await installShippedDashboards(services, logger);

  const { registry, ingest, idempotency, admission, registerBytes, queries, rejections } = services;
  const publicApp = createPublicApp({ registry, ingest, idempotency, admission, registerBytes, queries, logger, metrics, rejections, routes: [personalDataRoutes(services.personalData)] });
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
      await services.rejections.flush();
      await stores.close();
    },
  };
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
    const services = createServices(
      { registryCacheSeconds: 0, limits, retention: settings.retention ?? loadDeclared({}, CONFIGURATION.retention), console: loadDeclared({}, CONFIGURATION.console), ...(settings.smtp === undefined ? {} : { smtp: settings.smtp }) },
      stores,
      logger,
    );
    return await action(services);
  } finally {
    await stores.close();
  }
}
