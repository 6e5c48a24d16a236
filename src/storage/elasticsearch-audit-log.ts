import type { Client } from '@elastic/elasticsearch';
import type { AuditEvent, AuditLog, RecordOptions } from '../audit/audit-log.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { AUDIT_INDEX } from './index-names.js';

export class ElasticsearchAuditLog implements AuditLog {
  constructor(private readonly client: Client) {}

  async record(event: AuditEvent, at = new Date(), options: RecordOptions = {}): Promise<void> {
    const document = { event_time: at.toISOString(), event_source: 'MLog', ...event, '@received': new Date().toISOString() };
    // The index's translog is fsynced on every request, so the event is durable either way.
    const refresh = options.waitForSearch === false ? false : 'wait_for';
    try {
      if (options.id === undefined) await this.client.index({ index: AUDIT_INDEX, document, refresh });
      else await this.client.create({ index: AUDIT_INDEX, id: options.id, document, refresh });
    } catch (error) {
      // Recorded already under this id.
      if (options.id !== undefined && statusOf(error) === 409) return;
      throw storageFailure(error, 'the audit log cannot be written now');
    }
  }

  async list(eventType: string, filter: Record<string, string> = {}, size = 100): Promise<(AuditEvent & { event_time: string })[]> {
    let response;
    try {
      response = await this.client.search<AuditEvent & { event_time: string }>({
        index: AUDIT_INDEX,
        ignore_unavailable: true,
        allow_no_indices: true,
        size,
        sort: [{ event_time: 'desc' }],
        query: { bool: { filter: [{ term: { event_type: eventType } }, ...Object.entries(filter).map(([field, value]) => ({ term: { [field]: value } }))] } },
      });
    } catch (error) {
      throw storageFailure(error, 'the audit log cannot be read now');
    }
    return response.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [hit._source]));
  }
}
