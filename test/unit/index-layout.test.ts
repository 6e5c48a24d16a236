import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/config.js';
import { ConfigurationError } from '../../src/errors/mlog-error.js';
import { layoutLabel, withLayout, type TemplateFile } from '../../src/storage/template-installer.js';

const minimal = {
  MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9200',
  MLOG_TLS_CERT: '/etc/mlog/server.pem',
  MLOG_TLS_KEY: '/etc/mlog/server.key',
  MLOG_TLS_CLIENT_CA: '/etc/mlog/clients-ca.pem',
};

function refuses(variable: string, value: string, words: string): void {
  assert.throws(
    () => loadConfig({ ...minimal, [variable]: value }),
    (error: unknown) => error instanceof ConfigurationError && error.message.includes(variable) && error.message.includes(words),
    `${variable}=${value} should be refused naming the variable and "${words}"`,
  );
}

describe('shards, replicas and active shards as settings', () => {
  test('unset: one shard, replicas left to auto-expansion, writes wait for the primary only', () => {
    const { indices } = loadConfig(minimal);
    assert.deepEqual(indices, { eventShards: 1, personalDataShards: 1, internalShards: 1, writeActiveShards: 1 });
  });

  test('set: each family takes its own shards and replicas, and the write setting takes "all"', () => {
    const { indices } = loadConfig({
      ...minimal,
      MLOG_EVENT_SHARDS: '3',
      MLOG_EVENT_REPLICAS: '1',
      MLOG_PERSONAL_DATA_SHARDS: '2',
      MLOG_PERSONAL_DATA_REPLICAS: '2',
      MLOG_INTERNAL_SHARDS: '1',
      MLOG_INTERNAL_REPLICAS: '0',
      MLOG_WRITE_ACTIVE_SHARDS: 'all',
    });
    assert.deepEqual(indices, {
      eventShards: 3,
      eventReplicas: 1,
      personalDataShards: 2,
      personalDataReplicas: 2,
      internalShards: 1,
      internalReplicas: 0,
      writeActiveShards: 'all',
    });
    assert.equal(loadConfig({ ...minimal, MLOG_WRITE_ACTIVE_SHARDS: '2' }).indices.writeActiveShards, 2);
  });

  test('out of range or not a number: refused with a message naming the variable and the limit', () => {
    refuses('MLOG_EVENT_SHARDS', '0', 'from 1 to 1024');
    refuses('MLOG_EVENT_SHARDS', '2000', 'from 1 to 1024');
    refuses('MLOG_PERSONAL_DATA_SHARDS', 'two', 'from 1 to 1024');
    refuses('MLOG_EVENT_REPLICAS', '-1', 'from 0 to 32');
    refuses('MLOG_INTERNAL_REPLICAS', '99', 'from 0 to 32');
    refuses('MLOG_WRITE_ACTIVE_SHARDS', '0', '"all"');
    refuses('MLOG_WRITE_ACTIVE_SHARDS', 'quorum', '"all"');
  });
});

describe('a template installed with a layout', () => {
  const file: TemplateFile['body'] = {
    index_patterns: ['mlog-*'],
    version: 3,
    _meta: { description: 'events' },
    template: { settings: { 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1', 'index.translog.durability': 'request' }, mappings: { dynamic: true } },
  };

  test('fixed replicas replace auto-expansion; the other settings, the mappings and the version stay', () => {
    const body = withLayout(file, { shards: 3, replicas: 2 });
    assert.deepEqual(body.template, {
      settings: { 'index.translog.durability': 'request', 'index.number_of_shards': 3, 'index.auto_expand_replicas': 'false', 'index.number_of_replicas': 2 },
      mappings: { dynamic: true },
    });
    assert.equal(body.version, 3);
    assert.deepEqual(body._meta, { description: 'events', mlog_layout: 'shards 3, replicas 2' });
  });

  test('replicas unset keep the auto-expansion from 0 to 1, and the label tells the two apart', () => {
    const body = withLayout(file, { shards: 1 });
    assert.deepEqual((body.template as { settings: unknown }).settings, { 'index.translog.durability': 'request', 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1' });
    assert.notEqual(layoutLabel({ shards: 1 }), layoutLabel({ shards: 1, replicas: 1 }));
    assert.notEqual(layoutLabel({ shards: 1, replicas: 0 }), layoutLabel({ shards: 1 }));
    assert.deepEqual(file.template, { settings: { 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1', 'index.translog.durability': 'request' }, mappings: { dynamic: true } }, 'the file body is not changed');
  });
});
