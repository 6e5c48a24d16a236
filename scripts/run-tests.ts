/**
 * `npm test`: starts a real Elasticsearch for the run (unless MLOG_TEST_ELASTICSEARCH_URL names one),
 * then runs every test file under test/ with node's test runner, and stops Elasticsearch.
 * `--unit` runs only test/unit, which needs no server. Files named `*.slow.test.ts` (minutes of
 * waiting for timers, or a contract suite repeated through another door) are left out; `--slow`
 * (`npm run test:slow`, also run by CI) runs just them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalElasticsearch, type LocalElasticsearch } from './local-elasticsearch.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const SLOW_SUFFIX = '.slow.test.ts';

function testFiles(dir: string, slow: boolean): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return testFiles(path, slow);
      return name.endsWith('.test.ts') && name.endsWith(SLOW_SUFFIX) === slow ? [path] : [];
    });
}

async function main(): Promise<number> {
  const unitOnly = process.argv.includes('--unit');
  const slow = process.argv.includes('--slow');
  const files = testFiles(join(ROOT, 'test', unitOnly ? 'unit' : ''), slow);
  const env = { ...process.env };
  let elasticsearch: LocalElasticsearch | undefined;
  let dataDir: string | undefined;
  if (!unitOnly && env.MLOG_TEST_ELASTICSEARCH_URL === undefined) {
    dataDir = mkdtempSync(join(tmpdir(), 'mlog-test-es-'));
    process.stdout.write('Starting Elasticsearch for the tests…\n');
    elasticsearch = await startLocalElasticsearch({ port: 9401, dataDir, heap: '1g' });
    env.MLOG_TEST_ELASTICSEARCH_URL = elasticsearch.url;
    process.stdout.write(`Elasticsearch is running at ${elasticsearch.url}\n`);
  }
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { cwd: ROOT, env, stdio: 'inherit' });
    return await new Promise<number>((resolveExit) => child.on('exit', (code) => resolveExit(code ?? 1)));
  } finally {
    await elasticsearch?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`The tests could not run: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
