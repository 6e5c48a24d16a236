import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../logging/logger.js';
import { ElasticsearchStartupCheck } from './elasticsearch-startup-check.js';
import { INDEX_TEMPLATES_DIR, installIndexTemplates, type IndexLayouts } from './template-installer.js';

/** Between two attempts to install the index templates while Elasticsearch does not answer. */
const TEMPLATE_RETRY_MS = 5_000;

/**
 * Storage at start and while MLog runs: the index templates installed (again every 5 s, in the
 * background, until Elasticsearch answers), the durability of acknowledged writes checked, and the
 * readiness probe behind /readyz.
 */
export class ElasticsearchReadiness {
  private readonly check: ElasticsearchStartupCheck;
  private templatesInstalled = false;
  private durabilityProblem: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly logger: Logger,
    /** The shards and replicas the server installs the templates with; unset (a command), installed templates keep theirs. */
    private readonly layouts?: IndexLayouts,
  ) {
    this.check = new ElasticsearchStartupCheck(client);
  }

  /** For a command: installs the index templates once; throws when Elasticsearch does not answer. */
  async installTemplates(): Promise<void> {
    await installIndexTemplates(this.client, this.logger, INDEX_TEMPLATES_DIR, this.layouts);
  }

  /**
   * For the server: one attempt now, then again every 5 s in the background until one succeeds.
   * Resolves with the durability problem found by the first attempt (MLog must not start then), or
   * undefined; a problem found by a later attempt is logged and reported by problem().
   */
  async start(): Promise<string | undefined> {
    await this.attempt();
    return this.durabilityProblem;
  }

  private async attempt(): Promise<void> {
    try {
      await installIndexTemplates(this.client, this.logger, INDEX_TEMPLATES_DIR, this.layouts);
      this.durabilityProblem = await this.check.translogDurabilityProblem();
      if (this.durabilityProblem !== undefined && this.retryTimer !== undefined) this.logger.error('MLog cannot acknowledge events durably', { problem: this.durabilityProblem });
      this.templatesInstalled = true;
    } catch (error) {
      if (this.stopped) return;
      this.logger.warn(`index templates not installed yet; retrying in ${TEMPLATE_RETRY_MS / 1000} s`, { error: (error as Error).message });
      this.retryTimer = setTimeout(() => void this.attempt(), TEMPLATE_RETRY_MS);
      this.retryTimer.unref();
    }
  }

  /** Why the instance cannot serve now (one line), or undefined when it can. */
  async problem(): Promise<string | undefined> {
    if (!this.templatesInstalled) return 'The index templates are not installed yet (is Elasticsearch reachable?).';
    try {
      await this.client.cluster.health({ timeout: '2s' }, { requestTimeout: 3_000 });
    } catch {
      return 'Elasticsearch does not answer.';
    }
    if (this.durabilityProblem !== undefined) return this.durabilityProblem;
    try {
      return await this.check.writeBlockProblem();
    } catch {
      return 'Elasticsearch does not answer.';
    }
  }

  /** No further install attempts. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
  }
}
