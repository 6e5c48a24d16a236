import type { Client } from '@elastic/elasticsearch';
import type { DashboardStore, StoredDashboard } from '../dashboards/dashboard-store-type.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { DASHBOARDS_INDEX } from './index-names.js';

const DASHBOARDS_UNAVAILABLE = 'the dashboards cannot be read or changed now';
/** More dashboards than anyone keeps; list() reads them all in one search. */
const MAX_DASHBOARDS = 10_000;

/** The opaque version of a stored dashboard: its sequence number and primary term. */
function versionOf(response: { _seq_no?: number; _primary_term?: number }): string {
  return `${response._seq_no ?? 0}.${response._primary_term ?? 0}`;
}

function parseVersion(version: string): { if_seq_no: number; if_primary_term: number } | undefined {
  const match = /^(\d{1,15})\.(\d{1,15})$/.exec(version);
  if (match === null) return undefined;
  return { if_seq_no: Number(match[1]), if_primary_term: Number(match[2]) };
}

/** Dashboards in DASHBOARDS_INDEX, one document per id; changes are conditional on if_seq_no/if_primary_term. */
export class ElasticsearchDashboardStore implements DashboardStore {
  constructor(private readonly client: Client) {}

  async create(dashboard: StoredDashboard): Promise<boolean> {
    try {
      await this.client.create({ index: DASHBOARDS_INDEX, id: dashboard.id, document: dashboard, refresh: true });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw storageFailure(error, DASHBOARDS_UNAVAILABLE);
    }
  }

  async get(id: string): Promise<{ dashboard: StoredDashboard; version: string } | undefined> {
    try {
      const response = await this.client.get<StoredDashboard>({ index: DASHBOARDS_INDEX, id }, { ignore: [404] });
      if (!response.found || response._source === undefined) return undefined;
      return { dashboard: response._source, version: versionOf(response) };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageFailure(error, DASHBOARDS_UNAVAILABLE);
    }
  }

  async replace(dashboard: StoredDashboard, version: string): Promise<'replaced' | 'stale' | 'missing'> {
    const condition = parseVersion(version);
    if (condition === undefined) return 'stale';
    try {
      await this.client.index({ index: DASHBOARDS_INDEX, id: dashboard.id, document: dashboard, ...condition, refresh: true });
      return 'replaced';
    } catch (error) {
      if (statusOf(error) === 409) return (await this.get(dashboard.id)) === undefined ? 'missing' : 'stale';
      if (statusOf(error) === 404) return 'missing';
      throw storageFailure(error, DASHBOARDS_UNAVAILABLE);
    }
  }

  async put(dashboard: StoredDashboard): Promise<void> {
    try {
      await this.client.index({ index: DASHBOARDS_INDEX, id: dashboard.id, document: dashboard, refresh: true });
    } catch (error) {
      throw storageFailure(error, DASHBOARDS_UNAVAILABLE);
    }
  }

  async remove(id: string): Promise<boolean> {
    try {
      const response = await this.client.delete({ index: DASHBOARDS_INDEX, id, refresh: true }, { ignore: [404] });
      return response.result === 'deleted';
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw storageFailure(error, DASHBOARDS_UNAVAILABLE);
    }
  }

  async list(): Promise<{ dashboard: StoredDashboard; version: string }[]> {
    try {
      const response = await this.client.search<StoredDashboard>({
        index: DASHBOARDS_INDEX,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: MAX_DASHBOARDS,
        seq_no_primary_term: true,
        sort: [{ id: 'asc' }],
        query: { match_all: {} },
      });
      return response.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [{ dashboard: hit._source, version: versionOf(hit) }]));
    } catch (error) {
      throw storageFailure(error, DASHBOARDS_UNAVAILABLE);
    }
  }
}
