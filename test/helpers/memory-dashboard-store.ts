import type { DashboardStore, StoredDashboard } from '../../src/dashboards/dashboard-store-type.js';

/**
 * A DashboardStore in memory with the Elasticsearch store's semantics: an opaque version per write
 * (a counter, never reused, so a dashboard removed and created again has a new one), conditional
 * replace, copies in and out; each call yields first, so concurrent calls interleave.
 */
export class MemoryDashboardStore implements DashboardStore {
  private readonly records = new Map<string, { dashboard: StoredDashboard; version: string }>();
  private written = 0;

  private async tick(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  private write(dashboard: StoredDashboard): void {
    this.written += 1;
    this.records.set(dashboard.id, { dashboard: structuredClone(dashboard), version: `m${this.written}` });
  }

  private copyOf(stored: { dashboard: StoredDashboard; version: string }): { dashboard: StoredDashboard; version: string } {
    return { dashboard: structuredClone(stored.dashboard), version: stored.version };
  }

  async create(dashboard: StoredDashboard): Promise<boolean> {
    await this.tick();
    if (this.records.has(dashboard.id)) return false;
    this.write(dashboard);
    return true;
  }

  async get(id: string): Promise<{ dashboard: StoredDashboard; version: string } | undefined> {
    await this.tick();
    const stored = this.records.get(id);
    return stored === undefined ? undefined : this.copyOf(stored);
  }

  async replace(dashboard: StoredDashboard, version: string): Promise<'replaced' | 'stale' | 'missing'> {
    await this.tick();
    const stored = this.records.get(dashboard.id);
    if (stored === undefined) return 'missing';
    if (stored.version !== version) return 'stale';
    this.write(dashboard);
    return 'replaced';
  }

  async put(dashboard: StoredDashboard): Promise<void> {
    await this.tick();
    this.write(dashboard);
  }

  async remove(id: string): Promise<boolean> {
    await this.tick();
    return this.records.delete(id);
  }

  async list(): Promise<{ dashboard: StoredDashboard; version: string }[]> {
    await this.tick();
    return [...this.records.values()].sort((a, b) => a.dashboard.id.localeCompare(b.dashboard.id)).map((stored) => this.copyOf(stored));
  }
}
