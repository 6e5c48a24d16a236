/**
 * Index templates and MLog's single indices, on the real Elasticsearch: the indices MLog reads by an
 * exact name (mlog_systems, …) are created and serving before the first request, so a read can never
 * meet a shard that is still starting.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InternalError } from '../../src/errors/mlog-error.js';
import { createLogger } from '../../src/logging/logger.js';
import { AUDIT_INDEX, IDEMPOTENCY_INDEX, LEASES_INDEX, SYSTEMS_INDEX } from '../../src/storage/index-names.js';
import { installIndexTemplates, singleIndexNames } from '../../src/storage/template-installer.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { TestMLog } from '../helpers/test-mlog.js';

const silent = createLogger('error', true);

describe('index templates and single indices', () => {
  const dirs: string[] = [];
  const templates: string[] = [];
  const indices: string[] = [];

  after(async () => {
    const client = inspectionClient();
    for (const index of indices) await client.indices.delete({ index, expand_wildcards: 'none' }, { ignore: [404] });
    for (const name of templates) await client.indices.deleteIndexTemplate({ name }, { ignore: [404] });
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await closeInspectionClient();
  });

  /** A folder holding one template file, as index-templates/ holds MLog's. */
  function templateDir(name: string, body: Record<string, unknown>): string {
    const dir = mkdtempSync(join(tmpdir(), 'mlog-templates-'));
    dirs.push(dir);
    templates.push(name);
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(body));
    return dir;
  }

  test('only exact names are single indices', () => {
    assert.deepEqual(singleIndexNames(['mlog_systems']), ['mlog_systems']);
    assert.deepEqual(singleIndexNames('mlog_audit'), ['mlog_audit']);
    assert.deepEqual(singleIndexNames(['mlog-*', 'personaldata-*']), []);
  });

  test('a started MLog has created its single indices, each with a started primary shard', async () => {
    const mlog = await TestMLog.start();
    try {
      const health = await inspectionClient().cluster.health({ index: [SYSTEMS_INDEX, AUDIT_INDEX, LEASES_INDEX, IDEMPOTENCY_INDEX], level: 'indices' });
      for (const index of [SYSTEMS_INDEX, AUDIT_INDEX, LEASES_INDEX, IDEMPOTENCY_INDEX]) {
        const state = health.indices?.[index];
        assert.ok(state !== undefined, `${index} exists`);
        assert.notEqual(state.status, 'red', `${index} has a started primary shard`);
      }
    } finally {
      await mlog.stop();
    }
  });

  test('instances installing at once create the index once, from its template, ready to be searched', async () => {
    const suffix = randomBytes(4).toString('hex');
    const index = `mlogtest_single_${suffix}`;
    indices.push(index);
    const dir = templateDir(`mlogtest-single-${suffix}`, {
      index_patterns: [index],
      priority: 500,
      version: 1,
      template: { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0 }, mappings: { dynamic: false, properties: { code: { type: 'keyword' } } } },
    });
    await Promise.all([1, 2, 3].map(() => installIndexTemplates(inspectionClient(), silent, dir)));

    const client = inspectionClient();
    const mapping = await client.indices.getMapping({ index });
    assert.deepEqual(mapping[index]?.mappings.properties, { code: { type: 'keyword' } }, 'the template applied');
    const found = await client.search({ index, query: { match_all: {} }, sort: [{ code: 'asc' }] });
    assert.equal(found._shards.failed, 0);
    assert.equal(found.hits.hits.length, 0);
  });

  test('an index Elasticsearch refuses to create fails the installation with its reason', async () => {
    const suffix = randomBytes(4).toString('hex');
    // Elasticsearch accepts an upper-case pattern in a template but no index of that name.
    const index = `MLOGTEST_REFUSED_${suffix}`;
    const dir = templateDir(`mlogtest-refused-${suffix}`, { index_patterns: [index], priority: 500, version: 1 });
    // Storage is the error boundary: a refusal that is not transient is a defect of MLog's request, named by status and type.
    await assert.rejects(installIndexTemplates(inspectionClient(), silent, dir), (error: Error & { cause?: { meta?: { body?: { error?: { type?: string } } } } }) => {
      assert.ok(error instanceof InternalError);
      assert.match(error.message, /Elasticsearch refused a request of MLog \(ResponseError 400 invalid_index_name_exception\); the index templates cannot be installed now/);
      assert.equal(error.cause?.meta?.body?.error?.type, 'invalid_index_name_exception');
      return true;
    });
  });

  test('a new version of a template reaches the indices that exist: a new field, a new ignore_above', async () => {
    const suffix = randomBytes(4).toString('hex');
    const index = `mlogtest_upgraded_${suffix}-2001.01`;
    indices.push(index);
    const name = `mlogtest-upgraded-${suffix}`;
    const body = (version: number, properties: Record<string, unknown>) => ({
      index_patterns: [`mlogtest_upgraded_${suffix}-*`],
      priority: 500,
      version,
      template: { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0 }, mappings: { dynamic: 'strict', properties } },
    });
    await installIndexTemplates(inspectionClient(), silent, templateDir(name, body(1, { path: { type: 'keyword' } })));
    await inspectionClient().indices.create({ index });
    await installIndexTemplates(inspectionClient(), silent, templateDir(name, body(2, { path: { type: 'keyword', ignore_above: 1024 }, reduced: { type: 'boolean' } })));
    const mapping = await inspectionClient().indices.getMapping({ index });
    assert.deepEqual(mapping[index]?.mappings.properties, { path: { type: 'keyword', ignore_above: 1024 }, reduced: { type: 'boolean' } });
  });
});
