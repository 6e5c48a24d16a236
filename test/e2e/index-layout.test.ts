/**
 * Shards and replicas as settings, on the real Elasticsearch: the installer gives each template the
 * layout of its family, replaces a template installed with another layout, and gives the indices
 * that exist the new replicas (their shards stay: only new indices take a new number of shards).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createLogger } from '../../src/logging/logger.js';
import { installIndexTemplates, SINGLE_NODE_LAYOUTS, type IndexLayouts } from '../../src/storage/template-installer.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';

const silent = createLogger('error', true);

describe('index layouts applied at start', () => {
  const suffix = randomBytes(4).toString('hex');
  const name = `mlogtest-layout-${suffix}`;
  const single = `mlogtest_layout_${suffix}`;
  const monthly = `mlogtest_layout_${suffix}-2026.01`;
  const dir = mkdtempSync(join(tmpdir(), 'mlog-templates-'));
  writeFileSync(
    join(dir, `${name}.json`),
    JSON.stringify({
      index_patterns: [single, `mlogtest_layout_${suffix}-*`],
      priority: 500,
      version: 1,
      template: { settings: { 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1' }, mappings: { properties: { name: { type: 'keyword' } } } },
    }),
  );
  const internal = (shards: number, replicas?: number): IndexLayouts => ({ ...SINGLE_NODE_LAYOUTS, internal: replicas === undefined ? { shards } : { shards, replicas } });

  after(async () => {
    const client = inspectionClient();
    await client.indices.delete({ index: `${single}*`, expand_wildcards: 'all' }, { ignore: [404] });
    await client.indices.deleteIndexTemplate({ name }, { ignore: [404] });
    rmSync(dir, { recursive: true, force: true });
    await closeInspectionClient();
  });

  async function indexSettings(index: string): Promise<{ shards: string; replicas: string; autoExpand: string }> {
    const answer = await inspectionClient().indices.getSettings({ index, flat_settings: true, include_defaults: true });
    const all = { ...(answer[index]?.defaults ?? {}), ...(answer[index]?.settings ?? {}) } as Record<string, string>;
    return { shards: all['index.number_of_shards'] ?? '', replicas: all['index.number_of_replicas'] ?? '', autoExpand: all['index.auto_expand_replicas'] ?? '' };
  }

  async function templateSettings(): Promise<Record<string, unknown>> {
    const answer = await inspectionClient().indices.getIndexTemplate({ name });
    const template = answer.index_templates[0]?.index_template;
    return { ...(template?.template?.settings as Record<string, unknown>), meta: template?._meta?.mlog_layout };
  }

  test('the template takes the configured shards and replicas, and new indices have them', async () => {
    await installIndexTemplates(inspectionClient(), silent, dir, internal(2, 0));
    const settings = await templateSettings();
    assert.equal(settings.meta, 'shards 2, replicas 0');
    assert.deepEqual(await indexSettings(single), { shards: '2', replicas: '0', autoExpand: 'false' });
    await inspectionClient().index({ index: monthly, document: { name: 'a' }, refresh: true });
    assert.deepEqual(await indexSettings(monthly), { shards: '2', replicas: '0', autoExpand: 'false' });
  });

  test('another number of replicas replaces the template and reaches the indices that exist; their shards stay', async () => {
    await installIndexTemplates(inspectionClient(), silent, dir, internal(3, 1));
    assert.equal((await templateSettings()).meta, 'shards 3, replicas 1');
    assert.deepEqual(await indexSettings(single), { shards: '2', replicas: '1', autoExpand: 'false' });
    assert.deepEqual(await indexSettings(monthly), { shards: '2', replicas: '1', autoExpand: 'false' });
  });

  test('a command (no layout) leaves the installed layout alone', async () => {
    await installIndexTemplates(inspectionClient(), silent, dir);
    assert.equal((await templateSettings()).meta, 'shards 3, replicas 1');
    assert.deepEqual(await indexSettings(monthly), { shards: '2', replicas: '1', autoExpand: 'false' });
  });

  test('replicas unset again: back to 0 on one node, expanding to 1 with a second', async () => {
    await installIndexTemplates(inspectionClient(), silent, dir, internal(1));
    assert.equal((await templateSettings()).meta, 'shards 1, replicas 0-1');
    assert.deepEqual(await indexSettings(monthly), { shards: '2', replicas: '0', autoExpand: '0-1' });
  });
});
