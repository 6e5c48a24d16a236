import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONFIGURATION, configurationTable, loadConfig } from '../../src/config/config.js';
import { settingsOf } from '../../src/config/settings.js';
import { README, TABLE_END, TABLE_START, withConfigurationTable } from '../../scripts/write-config-table.js';

/** The variables the README's configuration table names, in order. */
function documentedVariables(readme: string): string[] {
  const table = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END));
  return [...table.matchAll(/^\| `(MLOG_[A-Z0-9_]+)` \|/gm)].map((match) => match[1] ?? '');
}

describe('the configuration declaration', () => {
  test("README.md's configuration table is the one the declaration makes (run `npm run docs:config` after changing src/config/config.ts)", () => {
    const readme = readFileSync(README, 'utf8');
    assert.equal(readme, withConfigurationTable(readme));
    assert.deepEqual(
      documentedVariables(readme),
      settingsOf(CONFIGURATION).map((setting) => setting.variable),
    );
  });

  test('every variable MLog has ever documented is still declared, each once', () => {
    const variables = settingsOf(CONFIGURATION).map((setting) => setting.variable);
    assert.equal(new Set(variables).size, variables.length, 'a variable is declared twice');
    for (const name of [
      'MLOG_ELASTICSEARCH_URL', 'MLOG_ELASTICSEARCH_API_KEY', 'MLOG_ELASTICSEARCH_USERNAME', 'MLOG_ELASTICSEARCH_PASSWORD', 'MLOG_ELASTICSEARCH_CA',
      'MLOG_HOST', 'MLOG_PORT', 'MLOG_TLS_CERT', 'MLOG_TLS_KEY', 'MLOG_TLS_CLIENT_CA', 'MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS',
      'MLOG_ADMIN_HOST', 'MLOG_ADMIN_PORT', 'MLOG_ADMIN_TOKEN', 'MLOG_WORKERS', 'MLOG_LOG_LEVEL', 'MLOG_REGISTRY_CACHE_SECONDS',
      'MLOG_MAX_IN_FLIGHT', 'MLOG_MAX_IN_FLIGHT_PER_IS', 'MLOG_MAX_REGISTER_BYTES', 'MLOG_MAX_REGISTER_BYTES_PER_IS', 'MLOG_WRITE_DEADLINE_SECONDS', 'MLOG_SHUTDOWN_GRACE_SECONDS',
      'MLOG_GROUP_COMMIT_WAIT_MS', 'MLOG_GROUP_COMMIT_MAX_OPERATIONS', 'MLOG_GROUP_COMMIT_MAX_BYTES', 'MLOG_GROUP_COMMIT_MAX_IN_FLIGHT',
      'MLOG_GROUP_COMMIT_MAX_WAITING_EVENTS_PER_IS', 'MLOG_GROUP_COMMIT_MAX_WAITING_BYTES_PER_IS', 'MLOG_GROUP_COMMIT_MAX_WAITING_BYTES',
      'MLOG_RETENTION_SCHEDULE', 'MLOG_PERSONALDATA_RETENTION_MONTHS', 'MLOG_REJECTIONS_RETENTION_MONTHS', 'MLOG_IDEMPOTENCY_PURGE_SCHEDULE',
    ]) {
      assert.ok(variables.includes(name), `${name} is not declared`);
    }
  });

  test('each default is valid for its own parser, and the README shows it as written', () => {
    const table = configurationTable();
    for (const setting of settingsOf(CONFIGURATION)) {
      if (setting.default === undefined) continue;
      assert.doesNotThrow(() => setting.parse(setting.default ?? '', setting.variable), `${setting.variable}'s default`);
      if (setting.defaultNote === undefined) assert.ok(table.includes(`| \`${setting.variable}\` | ${setting.doc} | \`${setting.default}\` |`), setting.variable);
    }
  });

  test('a variable set to its declared default gives the same configuration as leaving it unset', () => {
    const minimal = { MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9200', MLOG_TLS_CERT: '/c.pem', MLOG_TLS_KEY: '/k.pem', MLOG_TLS_CLIENT_CA: '/ca.pem' };
    const explicit: Record<string, string> = { ...minimal };
    for (const setting of settingsOf(CONFIGURATION)) if (setting.default !== undefined) explicit[setting.variable] = setting.default;
    assert.deepEqual(loadConfig(explicit), loadConfig(minimal));
  });
});
