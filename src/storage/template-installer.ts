import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../logging/logger.js';
import { StorageUnavailableError } from '../errors/mlog-error.js';
import { describeStorageFailure, errorType, storageFailure } from './elasticsearch-errors.js';

export const INDEX_TEMPLATES_DIR = fileURLToPath(new URL('../../index-templates/', import.meta.url));

interface TemplateFile {
  name: string;
  body: { version: number; index_patterns: string | string[] } & Record<string, unknown>;
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
 * Installs every index template of `index-templates/`, each under its file name, then creates the
 * single indices they describe (see createSingleIndices). Idempotent, and safe for several MLog
 * instances at once: a template already installed with the same version is left alone, another
 * version is replaced and its mappings applied to the indices that exist; an index that exists is kept.
 */
export async function installIndexTemplates(client: Client, logger: Logger, dir = INDEX_TEMPLATES_DIR): Promise<void> {
  const templates = await readTemplates(dir);
  try {
    await installTemplates(client, logger, templates);
  } catch (error) {
    throw storageFailure(error, 'the index templates cannot be installed now');
  }
}

async function installTemplates(client: Client, logger: Logger, templates: TemplateFile[]): Promise<void> {
  // One request for every installed template (names cannot be listed with commas).
  const installed = await client.indices.getIndexTemplate();
  const installedVersions = new Map((installed.index_templates ?? []).map((entry) => [entry.name, entry.index_template.version]));
  for (const template of templates) {
    const installedVersion = installedVersions.get(template.name);
    if (installedVersion === template.body.version) continue;
    await client.indices.putIndexTemplate({ name: template.name, ...template.body } as Parameters<Client['indices']['putIndexTemplate']>[0]);
    logger.info('index template installed', { template: template.name, version: template.body.version, previous: installedVersion ?? null });
    if (installedVersion !== undefined) await applyMappingsToExistingIndices(client, logger, template);
  }
  await createSingleIndices(client, logger, templates.flatMap((template) => singleIndexNames(template.body.index_patterns)));
}
