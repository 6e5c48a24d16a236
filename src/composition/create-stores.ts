import type { MLogConfig } from '../config/config.js';
import type { AlertDataSource, AlertHistoryReader, AlertRuleStore, AlertStateStore } from '../alerts/alert-store-type.js';
import type { AccountStore } from '../admins/account-store-type.js';
import type { AlertOutboxStore } from '../alerts/alert-outbox-store-type.js';
import type { LockoutStore } from '../admins/lockout-store-type.js';
import type { SessionStore } from '../admins/session-store-type.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { EventStore } from '../events/event-store-type.js';
import type { IdempotencyStore } from '../events/idempotency-store-type.js';
import type { PersonalDataStore } from '../events/personal-data-store-type.js';
import type { IndexCatalog } from '../jobs/index-catalog-type.js';
import type { LeaseStore } from '../jobs/lease-store-type.js';
import type { Logger } from '../logging/logger.js';
import type { ConformanceFactsSource } from '../onboarding/conformance-facts-type.js';
import type { RejectionStore } from '../rejections/rejection-recorder.js';
import type { RejectionReader } from '../rejections/rejection-search.js';
import { ElasticsearchAccountStore } from '../storage/elasticsearch-account-store.js';
import { ElasticsearchAlertDataSource, ElasticsearchAlertHistoryReader, ElasticsearchAlertRuleStore, ElasticsearchAlertStateStore } from '../storage/elasticsearch-alert-stores.js';
import { ElasticsearchAlertOutboxStore } from '../storage/elasticsearch-alert-outbox-store.js';
import { ElasticsearchAuditLog } from '../storage/elasticsearch-audit-log.js';
import { createElasticsearchClient } from '../storage/elasticsearch-client.js';
import { ElasticsearchConsoleSearchStore } from '../storage/elasticsearch-console-search-store.js';
import { ElasticsearchConformanceFacts } from '../storage/elasticsearch-conformance-facts.js';
import { ElasticsearchEventStore } from '../storage/elasticsearch-event-store.js';
import { ElasticsearchIdempotencyStore } from '../storage/elasticsearch-idempotency-store.js';
import { ElasticsearchIndexCatalog } from '../storage/elasticsearch-index-catalog.js';
import { ElasticsearchLeaseStore } from '../storage/elasticsearch-lease-store.js';
import { ElasticsearchLockoutStore } from '../storage/elasticsearch-lockout-store.js';
import { ElasticsearchPersonalDataStore } from '../storage/elasticsearch-personal-data-store.js';
import { ElasticsearchReadiness } from '../storage/elasticsearch-readiness.js';
import type { IndexLayouts } from '../storage/template-installer.js';
import { ElasticsearchRejectionStore } from '../storage/elasticsearch-rejection-store.js';
import { ElasticsearchSessionStore } from '../storage/elasticsearch-session-store.js';
import { ElasticsearchSystemStore } from '../storage/elasticsearch-system-store.js';
import type { ConsoleSearchStore } from '../search/console-search-store-type.js';
import type { DashboardDataStore, DashboardStore } from '../dashboards/dashboard-store-type.js';
import { ElasticsearchDashboardData } from '../storage/elasticsearch-dashboard-data.js';
import { ElasticsearchDashboardStore } from '../storage/elasticsearch-dashboard-store.js';
import type { SystemStore } from '../systems/system-store-type.js';
import type { EvidenceStore } from '../evidence/evidence-store-type.js';
import { ElasticsearchEvidenceStore } from '../storage/elasticsearch-evidence-store.js';
import type { LogLeaseStore } from '../evidence/log-lease-store-type.js';
import { ElasticsearchLogLeaseStore } from '../storage/elasticsearch-log-lease-store.js';

export interface StoreSettings extends Pick<MLogConfig, 'elasticsearch' | 'groupCommit'> {
  writeDeadlineSeconds: number;
  /** Bounds every Elasticsearch request that sets none of its own: the server gives its write deadline; unset, the client's default. */
  requestTimeoutMs?: number;
  /** Shards, replicas and the write's active shards (the server's MLOG_*_SHARDS, MLOG_*_REPLICAS, MLOG_WRITE_ACTIVE_SHARDS); unset (a command), installed templates keep their layout and writes wait for the primary only. */
  indices?: MLogConfig['indices'];
  /** The indices retention lists (an operator's `--index`); every index MLog manages when unset. */
  retentionIndices?: readonly string[];
}

/** Every store of MLog, each behind the interface its service declares. */
export interface Stores {
  events: EventStore & { close(graceMs: number): Promise<void> };
  systems: SystemStore;
  rejections: RejectionStore & RejectionReader;
  audit: AuditLog;
  idempotency: IdempotencyStore;
  leases: LeaseStore;
  indexCatalog: IndexCatalog;
  conformanceFacts: ConformanceFactsSource;
  personalData: PersonalDataStore;
  /** The console's reads of the record. */
  consoleSearch: ConsoleSearchStore;
  /** The console's administrator accounts, sessions and sign-in failures. */
  admins: AccountStore;
  sessions: SessionStore;
  lockouts: LockoutStore;
  /** The console's dashboards and the aggregations of their panels. */
  dashboards: DashboardStore;
  dashboardData: DashboardDataStore;
  /** Alert rules, their evaluation state, the readings their evaluation makes, and their history. */
  alertRules: AlertRuleStore;
  alertStates: AlertStateStore;
  alertData: AlertDataSource;
  alertHistory: AlertHistoryReader;
  /** Alert notifications waiting for delivery. */
  alertOutbox: AlertOutboxStore;
  /** The evidence chain and the leaves of the evidence logs. */
  evidence: EvidenceStore;
  /** The leases of the evidence logs, and a log's events read back when it is sealed. */
  logLeases: LogLeaseStore;
  /** Index templates, the durability check and the readiness probe. */
  readiness: ElasticsearchReadiness;
  /** Closes the connection to Elasticsearch (after events.close). */
  close(): Promise<void>;
}

/** One Elasticsearch client and every store on it. Connects nothing yet. */
export function createStores(settings: StoreSettings, logger: Logger): Stores {
  const client = createElasticsearchClient(settings.elasticsearch, settings.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: settings.requestTimeoutMs });
  const { groupCommit } = settings;
  const { indices } = settings;
  const layouts: IndexLayouts | undefined =
    indices === undefined
      ? undefined
      : {
          events: { shards: indices.eventShards, ...(indices.eventReplicas === undefined ? {} : { replicas: indices.eventReplicas }) },
          personalData: { shards: indices.personalDataShards, ...(indices.personalDataReplicas === undefined ? {} : { replicas: indices.personalDataReplicas }) },
          internal: { shards: indices.internalShards, ...(indices.internalReplicas === undefined ? {} : { replicas: indices.internalReplicas }) },
        };
  const readiness = new ElasticsearchReadiness(client, logger, layouts);
  const consoleSearch = new ElasticsearchConsoleSearchStore(client);
  return {
    // Group commit (see src/storage/bulk-batcher.ts): concurrent /register calls share bulks.
    events: new ElasticsearchEventStore(
      client,
      logger,
      { deadlineMs: settings.writeDeadlineSeconds * 1000 },
      {
        batching: {
          maxWaitMs: groupCommit.waitMs,
          maxOperations: groupCommit.maxOperations,
          maxChars: groupCommit.maxBytes,
          maxInFlight: groupCommit.maxInFlight,
          maxQueuedOperationsPerLane: groupCommit.maxWaitingEventsPerSystem,
          maxQueuedCharsPerLane: groupCommit.maxWaitingBytesPerSystem,
          maxQueuedChars: groupCommit.maxWaitingBytes,
        },
        ...(indices === undefined ? {} : { waitForActiveShards: indices.writeActiveShards }),
      },
    ),
    evidence: new ElasticsearchEvidenceStore(client),
    logLeases: new ElasticsearchLogLeaseStore(client),
    systems: new ElasticsearchSystemStore(client),
    rejections: new ElasticsearchRejectionStore(client),
    audit: new ElasticsearchAuditLog(client),
    idempotency: new ElasticsearchIdempotencyStore(client),
    leases: new ElasticsearchLeaseStore(client),
    indexCatalog: settings.retentionIndices === undefined ? new ElasticsearchIndexCatalog(client) : new ElasticsearchIndexCatalog(client, settings.retentionIndices),
    conformanceFacts: new ElasticsearchConformanceFacts(client),
    personalData: new ElasticsearchPersonalDataStore(client),
    consoleSearch,
    admins: new ElasticsearchAccountStore(client),
    sessions: new ElasticsearchSessionStore(client),
    lockouts: new ElasticsearchLockoutStore(client),
    dashboards: new ElasticsearchDashboardStore(client),
    dashboardData: new ElasticsearchDashboardData(client, consoleSearch),
    alertRules: new ElasticsearchAlertRuleStore(client),
    alertStates: new ElasticsearchAlertStateStore(client),
    alertData: new ElasticsearchAlertDataSource(client),
    alertHistory: new ElasticsearchAlertHistoryReader(client),
    alertOutbox: new ElasticsearchAlertOutboxStore(client),
    readiness,
    async close() {
      readiness.stop();
      await client.close();
    },
  };
}

