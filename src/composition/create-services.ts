import { hostname } from 'node:os';
import { AlertEngine } from '../alerts/alert-engine.js';
import { AlertRulesService } from '../alerts/alert-rules-service.js';
import { AdminAccounts } from '../admins/admin-accounts.js';
import { ConsoleSessions } from '../admins/console-sessions.js';
import { DEFAULT_LOCKOUT_POLICY } from '../admins/lockout.js';
import { OidcSignIn } from '../admins/oidc-sign-in.js';
import { EmailSender } from '../alerts/email-channel.js';
import { OutboxNotifier } from '../alerts/outbox-notifier.js';
import { WebhookSender } from '../alerts/webhook-channel.js';
import { CONFIGURATION, type MLogConfig } from '../config/config.js';
import { loadDeclared } from '../config/settings.js';
import { AdmissionControl } from '../events/admission-control.js';
import { IdempotencyService } from '../events/idempotency-service.js';
import { IngestService } from '../events/ingest-service.js';
import { PersonalDataService } from '../events/personal-data-service.js';
import { QueryService } from '../events/query-service.js';
import { newLeaseHolder } from '../jobs/lease.js';
import { RetentionJob } from '../jobs/retention-job.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { OnboardingService } from '../onboarding/onboarding-service.js';
import { RejectionRecorder } from '../rejections/rejection-recorder.js';
import { RejectionSearch } from '../rejections/rejection-search.js';
import { ConsoleSearchService } from '../search/console-search-service.js';
import { DashboardService } from '../dashboards/dashboard-service.js';
import { DocumentEvidenceChecker } from '../evidence/document-evidence.js';
import { SystemRegistry } from '../systems/system-registry.js';
import type { Stores } from './create-stores.js';
import type { EvidenceLog } from '../evidence/evidence-log.js';
import { EvidenceService } from '../evidence/evidence-service.js';
import { LogSealer } from '../evidence/log-sealer.js';
import type { SigningKey } from '../evidence/signing-key.js';
import type { StoredChainEntry } from '../evidence/chain-entry.js';

export type ServiceSettings = Pick<MLogConfig, 'registryCacheSeconds' | 'limits' | 'retention' | 'console'> & Partial<Pick<MLogConfig, 'oidc'>> & Partial<Pick<MLogConfig, 'notifications' | 'smtp' | 'alerts'>>;

/** Every service of MLog, each built on the stores it needs. */
export interface Services {
  registry: SystemRegistry;
  ingest: IngestService;
  queries: QueryService;
  idempotency: IdempotencyService;
  /** Calls in flight, per instance and per IS. */
  admission: AdmissionControl;
  /** Bytes of /register bodies in flight, per instance and per IS. */
  registerBytes: AdmissionControl;
  rejections: RejectionRecorder;
  rejectionSearch: RejectionSearch;
  onboarding: OnboardingService;
  personalData: PersonalDataService;
  retention: RetentionJob;
  /** The console's search, document view, correlation, export and audit trail, each reading recorded. */
  consoleSearch: ConsoleSearchService;
  /** The console's dashboards: definitions, rendering, export and import. */
  dashboards: DashboardService;
  /** The console's administrator accounts. */
  accounts: AdminAccounts;
  /** The console's sessions and sign-in (lockout, audit). */
  consoleSessions: ConsoleSessions;
  /** Sign-in to the console through OpenID Connect, when MLOG_OIDC_ISSUER is set. */
  oidc?: OidcSignIn;
  /** Alert rules as administrators manage them, their history and the alerts active now. */
  alertRules: AlertRulesService;
  /** Evaluates the alert rules while this instance holds the alerts lease (scheduled by scheduleJobs). */
  alertEngine: AlertEngine;
  /** Delivers alert notifications (webhook, e-mail) from the outbox, while started by the holder of the alerts lease. */
  alertNotifier: OutboxNotifier;
  /** Checkpoints, receipts, proofs and tombstones (docs/evidence.md); absent when built without a signing key. */
  evidence?: EvidenceService;
  /** The lease of this process's evidence log and the sealing of the logs of processes that are gone; present with the log. */
  evidenceSealer?: LogSealer;
}

/** What the evidence service is built with: MLog's key, and in the server this process's log (MLOG_EVIDENCE=on). */
export interface EvidenceSetup {
  key: SigningKey;
  log?: EvidenceLog;
  checkpointSeconds: number;
  /** MLOG_EVIDENCE_SEAL_AFTER_SECONDS (the server only): a log whose lease was not renewed for this long is sealed. */
  sealAfterSeconds?: number;
  /** Told about each new chain entry (the checkpoint webhook). */
  onEntry?: (entry: StoredChainEntry) => void;
}

/** Builds the services; `metrics` (the server's) are told about calls in flight and lost rejections. Starts nothing. */
export function createServices(settings: ServiceSettings, stores: Stores, logger: Logger, metrics?: Metrics, evidenceSetup?: EvidenceSetup): Services {
  const registry = new SystemRegistry(stores.systems, logger, settings.registryCacheSeconds);
  const evidence =
    evidenceSetup === undefined
      ? undefined
      : new EvidenceService({ ...evidenceSetup, store: stores.evidence, logger });
  const ingest = new IngestService(stores.events, logger, evidenceSetup?.log === undefined ? undefined : evidence);
  const queries = new QueryService(stores.events, logger);
  const accounts = new AdminAccounts(stores.admins, stores.audit);
  const lockMs = settings.console.lockoutSeconds * 1000;
  const consoleSessions = new ConsoleSessions(stores.sessions, stores.lockouts, accounts, stores.audit, {
    idleMs: settings.console.sessionIdleSeconds * 1000,
    absoluteMs: settings.console.sessionMaxSeconds * 1000,
    lockout: { ...DEFAULT_LOCKOUT_POLICY, lockMs },
  });
  const oidc = settings.oidc;
  const alertNotifier = createAlertNotifier(settings, stores, logger);
  const evidenceSealer =
    evidence?.log === undefined || evidenceSetup?.sealAfterSeconds === undefined
      ? undefined
      : new LogSealer({ evidence, store: stores.evidence, leases: stores.logLeases, logger, sealAfterSeconds: evidenceSetup.sealAfterSeconds });
  return {
    ...(evidence === undefined ? {} : { evidence }),
    ...(evidenceSealer === undefined ? {} : { evidenceSealer }),
    alertNotifier,
    accounts,
    consoleSessions,
    alertRules: new AlertRulesService(stores.alertRules, stores.alertStates, stores.alertHistory, stores.audit, logger, { smtp: settings.smtp ?? {} }),
    alertEngine: new AlertEngine(
      { rules: stores.alertRules, states: stores.alertStates, data: stores.alertData, audit: stores.audit, leases: stores.leases, systems: registry, notifier: alertNotifier, logger },
      { overlapMs: (settings.alerts?.overlapSeconds ?? 120) * 1000, holder: newLeaseHolder(), runBy: `alerts on ${hostname()}` },
    ),
    ...(oidc?.issuer !== undefined && oidc.clientId !== undefined && oidc.clientSecret !== undefined && oidc.redirectUrl !== undefined
      ? {
          oidc: new OidcSignIn(
            { issuer: oidc.issuer, clientId: oidc.clientId, clientSecret: oidc.clientSecret, redirectUrl: oidc.redirectUrl, roleClaim: oidc.roleClaim, ...(oidc.caPath === undefined ? {} : { caPath: oidc.caPath }) },
            accounts,
            consoleSessions,
            stores.audit,
          ),
        }
      : {}),
    registry,
    ingest,
    queries,
    idempotency: new IdempotencyService(ingest, stores.idempotency, logger),
    admission: new AdmissionControl(settings.limits, (system, systemInFlight, total) => {
      metrics?.inFlight.set(total);
      metrics?.inFlightBySystem.set({ system }, systemInFlight);
    }),
    registerBytes: new AdmissionControl({ maxInFlight: settings.limits.maxRegisterBytes, maxInFlightPerSystem: settings.limits.maxRegisterBytesPerSystem }),
    rejections: new RejectionRecorder(stores.rejections, logger, {}, metrics?.rejectionCounters()),
    rejectionSearch: new RejectionSearch(stores.rejections, stores.audit),
    onboarding: new OnboardingService(registry, stores.conformanceFacts, stores.audit, logger),
    personalData: new PersonalDataService(stores.personalData, registry, queries, logger),
    consoleSearch: new ConsoleSearchService(stores.consoleSearch, stores.audit, registry, logger, evidence === undefined ? undefined : new DocumentEvidenceChecker(evidence)),
    dashboards: new DashboardService(stores.dashboards, stores.dashboardData, stores.audit, registry, logger),
    retention: new RetentionJob({
      registry,
      ...(evidence === undefined ? {} : { tombstones: evidence }),
      catalog: stores.indexCatalog,
      leases: stores.leases,
      audit: stores.audit,
      logger,
      personalDataMonths: settings.retention.personalDataMonths,
      rejectionsMonths: settings.retention.rejectionsMonths,
    }),
  };
}

/** The alert notifier on the outbox, with the webhook and e-mail senders (declared defaults for settings left out, as in a command of `mlog`). */
function createAlertNotifier(settings: ServiceSettings, stores: Stores, logger: Logger): OutboxNotifier {
  const notifications = settings.notifications ?? loadDeclared({}, CONFIGURATION.notifications);
  const timeoutMs = notifications.attemptTimeoutSeconds * 1000;
  const consoleUrl = notifications.consoleUrl === undefined ? {} : { consoleUrl: notifications.consoleUrl };
  const smtp = settings.smtp ?? {};
  return new OutboxNotifier({
    store: stores.alertOutbox,
    audit: stores.audit,
    logger,
    senders: {
      webhook: new WebhookSender({ timeoutMs, ...consoleUrl }),
      email: new EmailSender({ timeoutMs, ...consoleUrl, ...(smtp.url === undefined ? {} : { smtpUrl: smtp.url }), ...(smtp.from === undefined ? {} : { from: smtp.from }) }),
    },
    settings: { retryMs: notifications.retryMinutes * 60_000, firstRetryDelayMs: notifications.firstRetryDelaySeconds * 1000, attemptTimeoutMs: timeoutMs },
  });
}
