import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from '@elastic/elasticsearch';
import { ElasticsearchStartupCheck, settingValue } from '../../src/storage/elasticsearch-startup-check.js';

/** A client answering the three calls the check makes, from fixed settings. */
function fakeClient(options: { simulated?: Record<string, unknown>; indices?: Record<string, Record<string, unknown>>; cluster?: Record<string, unknown> }): Client {
  return {
    indices: {
      simulateIndexTemplate: async () => ({ template: { settings: options.simulated ?? {} } }),
      getSettings: async () => Object.fromEntries(Object.entries(options.indices ?? {}).map(([index, settings]) => [index, { settings }])),
    },
    cluster: { getSettings: async () => ({ persistent: options.cluster ?? {}, transient: {} }) },
  } as unknown as Client;
}

describe('ElasticsearchStartupCheck', () => {
  test('reads a setting whether Elasticsearch answers it flat or nested', () => {
    assert.equal(settingValue({ 'index.translog.durability': 'async' }, 'index.translog.durability'), 'async');
    assert.equal(settingValue({ index: { translog: { durability: 'request' } } }, 'index.translog.durability'), 'request');
    assert.equal(settingValue({ index: {} }, 'index.translog.durability'), undefined);
  });

  test('no problem when templates and indices use request durability (or the default)', async () => {
    const check = new ElasticsearchStartupCheck(fakeClient({ simulated: { index: { translog: { durability: 'request' } } }, indices: { 'mlog-a-2026.01': {} } }));
    assert.equal(await check.translogDurabilityProblem(), undefined);
  });

  test('one line naming the templates when new indices would be async', async () => {
    const check = new ElasticsearchStartupCheck(fakeClient({ simulated: { index: { translog: { durability: 'async' } } } }));
    const problem = await check.translogDurabilityProblem();
    assert.match(problem ?? '', /index\.translog\.durability is "async" for new indices such as mlog-durability_probe-2000\.01/);
    assert.match(problem ?? '', /set it to "request"/);
    assert.equal(problem?.split('\n').length, 1);
  });

  test('names existing indices set to async', async () => {
    const check = new ElasticsearchStartupCheck(fakeClient({ indices: { 'mlog-mpass-2026.01': { 'index.translog.durability': 'ASYNC' }, 'personaldata-2026.01': {} } }));
    assert.match((await check.translogDurabilityProblem()) ?? '', /for mlog-mpass-2026\.01;/);
  });

  test('reports the flood-stage block of an index and a cluster-wide block', async () => {
    const blocked = new ElasticsearchStartupCheck(fakeClient({ indices: { 'mlog-mpass-2026.01': { 'index.blocks.read_only_allow_delete': 'true' } } }));
    assert.match((await blocked.writeBlockProblem()) ?? '', /refuses writes to mlog-mpass-2026\.01 .*flood-stage/);
    const cluster = new ElasticsearchStartupCheck(fakeClient({ cluster: { 'cluster.blocks.read_only': 'true' } }));
    assert.match((await cluster.writeBlockProblem()) ?? '', /cluster has cluster\.blocks\.read_only/);
    assert.equal(await new ElasticsearchStartupCheck(fakeClient({})).writeBlockProblem(), undefined);
  });
});
