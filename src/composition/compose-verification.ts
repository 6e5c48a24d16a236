import type { MLogConfig } from '../config/config.js';
import { EvidenceVerification } from '../evidence/evidence-verification.js';
import { createLogger } from '../logging/logger.js';
import { ElasticsearchAuditLog } from '../storage/elasticsearch-audit-log.js';
import { createElasticsearchClient } from '../storage/elasticsearch-client.js';
import { ElasticsearchEvidenceReader } from '../storage/elasticsearch-evidence-reader.js';
import { ElasticsearchReadiness } from '../storage/elasticsearch-readiness.js';
import { ElasticsearchSystemStore } from '../storage/elasticsearch-system-store.js';
import { SystemRegistry } from '../systems/system-registry.js';

/**
 * `mlog verify`'s own composition, narrower than withCommandLineServices on purpose: a run needs only
 * the evidence reader, the registry (for the certificates of the IS whose signatures it checks again)
 * and the audit log (each run is recorded before it reads). Building MLog's every store and service
 * loads every module of MLog, about half a second of CPU per run; this loads only these. It is
 * imported on its own (not through index.ts, whose re-exports load the whole composition). The index
 * templates are installed first, as for every command, so that the run's audit records are mapped as
 * the server maps them.
 */
export async function withEvidenceVerification<T>(elasticsearch: MLogConfig['elasticsearch'], action: (verification: EvidenceVerification) => Promise<T>): Promise<T> {
  const logger = createLogger('error', true);
  const client = createElasticsearchClient(elasticsearch);
  try {
    await new ElasticsearchReadiness(client, logger).installTemplates();
    // Read afresh (no cache): a command sees the registry as it is now.
    const registry = new SystemRegistry(new ElasticsearchSystemStore(client), logger, 0);
    return await action(new EvidenceVerification(new ElasticsearchEvidenceReader(client), registry, new ElasticsearchAuditLog(client)));
  } finally {
    await client.close();
  }
}
