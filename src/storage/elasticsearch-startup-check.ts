import type { Client } from '@elastic/elasticsearch';
import { storageFailure } from './elasticsearch-errors.js';
import { EVENT_INDEX_PREFIX, monthSuffix, PERSONAL_DATA_INDEX_PATTERN, PERSONAL_DATA_INDEX_PREFIX } from './index-names.js';

/** Every index that holds acknowledged events: per-IS event indices and the shared PersonalData projections. */
const EVENT_INDICES = `${EVENT_INDEX_PREFIX}*,${PERSONAL_DATA_INDEX_PATTERN}`;

/**
 * Names no real index has, whose would-be settings Elasticsearch computes from the installed
 * templates (priorities and component templates included): what the next month's indices will get.
 * The IS code part holds an underscore, which no IS code can.
 */
const PROBE_INDEX_NAMES = [`${EVENT_INDEX_PREFIX}durability_probe-2000.01`, `${PERSONAL_DATA_INDEX_PREFIX}2000.01`];

const CHECK_TIMEOUT_MS = 5_000;

type Settings = Record<string, unknown>;

/** A setting from Elasticsearch's answer, whether it came flat ("index.translog.durability") or nested. */
export function settingValue(settings: Settings | undefined, dotted: string): unknown {
  if (settings === undefined) return undefined;
  if (dotted in settings) return settings[dotted];
  const [head, ...rest] = dotted.split('.');
  if (head === undefined) return undefined;
  const nested = settings[head];
  if (rest.length === 0) return nested;
  if (typeof nested === 'object' && nested !== null) return settingValue(nested as Settings, rest.join('.'));
  // Elasticsearch may also answer with a partly flat key under a nested prefix ("index": {"translog.durability": …}).
  return undefined;
}

/**
 * The durability conditions MLog's promise rests on ("a 200 means durably stored"), checked against
 * the cluster rather than assumed from MLog's own template files.
 */
export class ElasticsearchStartupCheck {
  constructor(private readonly client: Client) {}

  /**
   * One line naming the problem when new or existing event indices would acknowledge writes before
   * they are fsynced (`index.translog.durability: async`); undefined when every one is `request`.
   */
  async translogDurabilityProblem(): Promise<string | undefined> {
    try {
      return await this.findAsyncTranslogs();
    } catch (error) {
      throw storageFailure(error, 'the durability of the event indices cannot be checked now');
    }
  }

  private async findAsyncTranslogs(): Promise<string | undefined> {
    const found: string[] = [];
    for (const name of PROBE_INDEX_NAMES) {
      const simulated = await this.client.indices.simulateIndexTemplate({ name }, { requestTimeout: CHECK_TIMEOUT_MS });
      const settings = simulated.template?.settings as Settings | undefined;
      if (String(settingValue(settings, 'index.translog.durability') ?? 'request').toLowerCase() === 'async') {
        found.push(`new indices such as ${name} (from the installed index templates)`);
      }
    }
    const existing = await this.client.indices.getSettings(
      { index: EVENT_INDICES, name: 'index.translog.durability', flat_settings: true, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'all' },
      { requestTimeout: CHECK_TIMEOUT_MS },
    );
    for (const [index, state] of Object.entries(existing)) {
      if (String(settingValue(state.settings as Settings | undefined, 'index.translog.durability') ?? 'request').toLowerCase() === 'async') found.push(index);
    }
    if (found.length === 0) return undefined;
    return (
      `index.translog.durability is "async" for ${found.slice(0, 5).join(', ')}${found.length > 5 ? ` and ${found.length - 5} more` : ''}; ` +
      'MLog acknowledges events only when Elasticsearch has fsynced them, so set it to "request" on those indices and templates.'
    );
  }

  /**
   * One line naming the block when Elasticsearch refuses writes to MLog's event indices (the
   * flood-stage disk watermark sets `index.blocks.read_only_allow_delete`) or to the whole cluster;
   * undefined when writes are allowed.
   */
  async writeBlockProblem(): Promise<string | undefined> {
    try {
      return await this.findWriteBlock();
    } catch (error) {
      throw storageFailure(error, 'the write blocks of the event indices cannot be checked now');
    }
  }

  private async findWriteBlock(): Promise<string | undefined> {
    const cluster = await this.client.cluster.getSettings({ flat_settings: true }, { requestTimeout: CHECK_TIMEOUT_MS });
    for (const scope of [cluster.transient, cluster.persistent]) {
      for (const name of ['cluster.blocks.read_only', 'cluster.blocks.read_only_allow_delete']) {
        if (String(settingValue(scope as Settings, name)) === 'true') return `Elasticsearch refuses writes: the cluster has ${name} set.`;
      }
    }
    // This month's indices, where writes go; an older month made read-only on purpose is not a problem.
    const month = monthSuffix(new Date());
    const indices = await this.client.indices.getSettings(
      { index: `${EVENT_INDEX_PREFIX}*-${month},${PERSONAL_DATA_INDEX_PREFIX}${month}`, name: 'index.blocks.*', flat_settings: true, ignore_unavailable: true, allow_no_indices: true },
      { requestTimeout: CHECK_TIMEOUT_MS },
    );
    for (const [index, state] of Object.entries(indices)) {
      const settings = state.settings as Settings | undefined;
      for (const name of ['index.blocks.read_only_allow_delete', 'index.blocks.read_only', 'index.blocks.write']) {
        if (String(settingValue(settings, name)) === 'true') {
          return `Elasticsearch refuses writes to ${index} (${name}${name.endsWith('allow_delete') ? ': the flood-stage disk watermark was passed' : ''}).`;
        }
      }
    }
    return undefined;
  }
}
