import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../logging/logger.js';
import { StorageUnavailableError } from '../errors/mlog-error.js';
import { describeStorageFailure, errorType, storageFailure } from './elasticsearch-errors.js';

export const INDEX_TEMPLATES_DIR = fileURLToPath(new URL('../../index-templates/', import.meta.url));

/** One file of `index-templates/`: its name and the template it holds. */
export interface TemplateFile {
  name: string;
  body: { version: number; index_patterns: string | string[] } & Record<string, unknown>;
}

/** Shards and replicas of one family of indices; replicas unset: 0 on one node, 1 once there are two (`auto_expand_replicas` 0-1, the shipped templates' setting). */
export interface IndexLayout {
  shards: number;
  replicas?: number;
}

/** The layout of each family: event indices (`mlog-*`), PersonalData projections (`personaldata-*`), MLog's own indices (every other template, `mlog_*`). */
export interface IndexLayouts {
  events: IndexLayout;
  personalData: IndexLayout;
  internal: IndexLayout;
}

/** The layout of the shipped templates: one shard, replicas expanding from 0 to 1 with the nodes. */
export const SINGLE_NODE_LAYOUTS: IndexLayouts = { events: { shards: 1 }, personalData: { shards: 1 }, internal: { shards: 1 } };

function layoutOf(templateName: string, layouts: IndexLayouts): IndexLayout {
  if (templateName === 'mlog-events') return layouts.events;
  if (templateName === 'personaldata') return layouts.personalData;
  return layouts.internal;
}

/** The replica settings of a layout, as Elasticsearch takes them for a template and for indices that exist. */
function replicaSettings(layout: IndexLayout): Record<string, string | number> {
  return layout.replicas === undefined ? { 'index.auto_expand_replicas': '0-1' } : { 'index.auto_expand_replicas': 'false', 'index.number_of_replicas': layout.replicas };
}

/** How a layout is recorded in the installed template's `_meta.mlog_layout`, to see at the next start whether it changed. */
export function layoutLabel(layout: IndexLayout): string {
  return `shards ${layout.shards}, replicas ${layout.replicas ?? '0-1'}`;
}

/** The template file's body with the layout's shards and replicas in place of its own, and the layout recorded in `_meta`. */
export function withLayout(body: TemplateFile['body'], layout: IndexLayout): TemplateFile['body'] {
  const template = (body.template ?? {}) as { settings?: Record<string, unknown> } & Record<string, unknown>;
  const settings = { ...(template.settings ?? {}) };
  delete settings['index.auto_expand_replicas'];
  delete settings['index.number_of_replicas'];
  return {
    ...body,
    _meta: { ...((body._meta as Record<string, unknown> | undefined) ?? {}), mlog_layout: layoutLabel(layout) },
    template: { ...template, settings: { ...settings, 'index.number_of_shards': layout.shards, ...replicaSettings(layout) } },
  };
}

async function readTemplates(dir: string): Promise<TemplateFile[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      name: basename(file, '.json'),
      body: JSON.parse(await readFile(join(dir, file), 'utf8')) as TemplateFile['body'],
    })),
  );
}

/** The index names a template matches exactly (a pattern without "*"): MLog's single indices, such as mlog_systems. */
export function singleIndexNames(indexPatterns: string | string[]): string[] {
  return (Array.isArray(indexPatterns) ? indexPatterns : [indexPatterns]).filter((pattern) => !pattern.includes('*'));
}

/**
 * Creates the single indices that do not exist, then waits until their primary shards can serve.
 * Left to automatic creation by the first write, a read arriving while the shard is still starting
 * fails ("all shards failed", 503) — two administrators adding the first systems at once would see that.
 */
async function createSingleIndices(client: Client, logger: Logger, indices: string[]): Promise<void> {
  if (indices.length === 0) return;
  for (const index of indices) {
    if (await client.indices.exists({ index })) continue;
    try {
      await client.indices.create({ index });
      logger.info('index created', { index });
    } catch (error) {
      // Another MLog instance created it meanwhile.
      if (errorType(error) !== 'resource_already_exists_exception') throw error;
    }
  }
  const health = await client.cluster.health({ index: indices, wait_for_status: 'yellow', timeout: '30s' }, { requestTimeout: 35_000 });
  if (health.timed_out) throw new StorageUnavailableError(`The indices ${indices.join(', ')} did not all become available within 30 s (cluster health ${health.status}).`);
}

/**
 * Gives the indices that already exist the mappings of a template just installed (new fields, a new
 * ignore_above), so that this month's index takes what MLog now writes. Elasticsearch refuses a change
 * it cannot apply (another type for a field): that is logged, and the index keeps its mapping.
 */
async function applyMappingsToExistingIndices(client: Client, logger: Logger, template: TemplateFile): Promise<void> {
  const mappings = (template.body.template as { mappings?: Record<string, unknown> } | undefined)?.mappings;
  if (mappings === undefined) return;
  try {
    await client.indices.putMapping({ index: template.body.index_patterns, allow_no_indices: true, ignore_unavailable: true, ...mappings });
  } catch (error) {
    logger.warn('index template not applied to the indices that exist', { template: template.name, error: describeStorageFailure(error) });
  }
}

/**
 * Gives the indices that already exist the replicas of a layout just installed (their shards cannot
 * change: only new indices take a new number of shards).
 */
async function applyReplicasToExistingIndices(client: Client, logger: Logger, template: TemplateFile, layout: IndexLayout): Promise<void> {
  try {
    await client.indices.putSettings({ index: template.body.index_patterns, allow_no_indices: true, ignore_unavailable: true, settings: replicaSettings(layout) });
    logger.info('replicas applied to the indices that exist', { template: template.name, layout: layoutLabel(layout) });
  } catch (error) {
    logger.warn('replicas not applied to the indices that exist', { template: template.name, error: describeStorageFailure(error) });
  }
}

/**
 * Installs every index template of `index-templates/`, each under its file name, then creates the
 * single indices they describe (see createSingleIndices). Idempotent, and safe for several MLog
 * instances at once: a template already installed with the same version is left alone, another
 * version is replaced and its mappings applied to the indices that exist; an index that exists is kept.
 *
 * With `layouts` (the server: MLOG_*_SHARDS and MLOG_*_REPLICAS), each template is installed with
 * its family's shards and replicas instead of the file's, and a template installed with another
 * layout is replaced too, its replicas applied to the indices that exist. Without (the `mlog`
 * command, tests), a template already installed keeps the layout it has.
 */
export async function installIndexTemplates(client: Client, logger: Logger, dir = INDEX_TEMPLATES_DIR, layouts?: IndexLayouts): Promise<void> {
  const templates = await readTemplates(dir);
  try {
    await installTemplates(client, logger, templates, layouts);
  } catch (error) {
    throw storageFailure(error, 'the index templates cannot be installed now');
  }
}

async function installTemplates(client: Client, logger: Logger, templates: TemplateFile[], layouts: IndexLayouts | undefined): Promise<void> {
  // One request for every installed template (names cannot be listed with commas).
  const installed = await client.indices.getIndexTemplate();
  const installedTemplates = new Map(
    (installed.index_templates ?? []).map((entry) => [entry.name, { version: entry.index_template.version, layout: (entry.index_template._meta as { mlog_layout?: unknown } | undefined)?.mlog_layout }]),
  );
  for (const template of templates) {
    const current = installedTemplates.get(template.name);
    const layout = layouts === undefined ? undefined : layoutOf(template.name, layouts);
    const sameVersion = current?.version === template.body.version;
    const sameLayout = layout === undefined || current?.layout === layoutLabel(layout);
    if (sameVersion && sameLayout) continue;
    const body = layout === undefined ? template.body : withLayout(template.body, layout);
    await client.indices.putIndexTemplate({ name: template.name, ...body } as Parameters<Client['indices']['putIndexTemplate']>[0]);
    logger.info('index template installed', { template: template.name, version: template.body.version, previous: current?.version ?? null, ...(layout === undefined ? {} : { layout: layoutLabel(layout) }) });
    if (current !== undefined && !sameVersion) await applyMappingsToExistingIndices(client, logger, template);
    if (current !== undefined && layout !== undefined && !sameLayout) await applyReplicasToExistingIndices(client, logger, template, layout);
  }
  await createSingleIndices(client, logger, templates.flatMap((template) => singleIndexNames(template.body.index_patterns)));
}
