import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../logging/logger.js';

export const INDEX_TEMPLATES_DIR = fileURLToPath(new URL('../../index-templates/', import.meta.url));

interface TemplateFile {
  name: string;
  body: { version: number } & Record<string, unknown>;
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

/**
 * Installs every index template of `index-templates/`, each under its file name. Idempotent: a
 * template already installed with the same version is left alone; another version is replaced.
 */
export async function installIndexTemplates(client: Client, logger: Logger, dir = INDEX_TEMPLATES_DIR): Promise<void> {
  for (const template of await readTemplates(dir)) {
    const existing = await client.indices.getIndexTemplate({ name: template.name }, { ignore: [404] });
    const installedVersion = existing.index_templates?.[0]?.index_template.version;
    if (installedVersion === template.body.version) continue;
    await client.indices.putIndexTemplate({ name: template.name, ...template.body } as Parameters<Client['indices']['putIndexTemplate']>[0]);
    logger.info('index template installed', { template: template.name, version: template.body.version, previous: installedVersion ?? null });
  }
}
