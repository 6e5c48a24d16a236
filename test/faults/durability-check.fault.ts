import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makePki, ScenarioElasticsearch } from './fault-harness.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

function runMLog(url: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', MLOG_ELASTICSEARCH_URL: url, MLOG_HOST: '127.0.0.1', MLOG_PORT: '0', MLOG_ADMIN_PORT: '0', MLOG_RETENTION_SCHEDULE: 'off', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), 60_000);
  return new Promise((resolve) => child.on('exit', (code) => (clearTimeout(timer), resolve({ code, stderr }))));
}

test('MLog refuses to start, with one line, when its event indices would use async translog durability', { timeout: 240_000 }, async () => {
  const es = await ScenarioElasticsearch.start(9760);
  const pki = await makePki();
  try {
    // A template of higher priority than MLog's makes new event indices async.
    await es.es('PUT', '/_index_template/site-override', { index_patterns: ['mlog-*'], priority: 500, template: { settings: { 'index.translog.durability': 'async' } } });
    let run = await runMLog(es.url, pki.env);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^MLog cannot start: index\.translog\.durability is "async" for new indices such as mlog-/);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);

    // An existing index set to async.
    await es.es('DELETE', '/_index_template/site-override');
    await es.es('PUT', '/mlog-legacy-2000.01', { settings: { 'index.translog.durability': 'async' } });
    run = await runMLog(es.url, pki.env);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^MLog cannot start: index\.translog\.durability is "async" for mlog-legacy-2000\.01;/);
  } finally {
    await es.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  }
});
