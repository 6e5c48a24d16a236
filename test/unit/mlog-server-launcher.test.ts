/**
 * bin/mlog-server, the one launcher of MLog's server process: node runs with MLog's memory flags
 * (V8 applies them: its heap limit is the old generation's 1536 MB plus three 8 MB semi-spaces) and
 * MALLOC_ARENA_MAX=2; MLOG_NODE_FLAGS and a MALLOC_ARENA_MAX already set replace them; npm run serve
 * and the Dockerfile start MLog through it. A node one-liner stands in for the entry point.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('../../bin/mlog-server', import.meta.url));
const REPORT = "const v8 = require('node:v8'); process.stdout.write(JSON.stringify({ execArgv: process.execArgv, arenas: process.env.MALLOC_ARENA_MAX ?? null, heapLimitMb: v8.getHeapStatistics().heap_size_limit / 1048576 }))";

interface Launched {
  execArgv: string[];
  arenas: string | null;
  heapLimitMb: number;
}

function launch(env: Record<string, string> = {}): Promise<Launched> {
  return new Promise((resolve, reject) => {
    execFile(LAUNCHER, ['-e', REPORT], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Launched);
    });
  });
}

test('node runs with the memory flags, and V8 sizes its heap by them', async () => {
  const launched = await launch();
  assert.deepEqual(launched.execArgv.slice(0, 2), ['--max-semi-space-size=8', '--max-old-space-size=1536']);
  assert.equal(launched.heapLimitMb, 1536 + 3 * 8);
  assert.equal(launched.arenas, '2');
});

test('MLOG_NODE_FLAGS replaces the flags; "" runs node with its own heap sizes', async () => {
  const replaced = await launch({ MLOG_NODE_FLAGS: '--max-old-space-size=1024' });
  assert.deepEqual(replaced.execArgv.slice(0, 1), ['--max-old-space-size=1024']);
  assert.equal(replaced.execArgv.includes('--max-semi-space-size=8'), false);
  const defaults = await launch({ MLOG_NODE_FLAGS: '' });
  assert.equal(defaults.execArgv[0], '-e');
  assert.notEqual(defaults.heapLimitMb, 1536 + 3 * 8);
});

test('a MALLOC_ARENA_MAX already set is kept, and "" leaves glibc its default', async () => {
  assert.equal((await launch({ MALLOC_ARENA_MAX: '4' })).arenas, '4');
  assert.equal((await launch({ MALLOC_ARENA_MAX: '' })).arenas, null);
});

test('npm run serve and the Dockerfile start MLog through bin/mlog-server', () => {
  const scripts = (JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.equal(scripts.serve, 'bin/mlog-server');
  const dockerfile = readFileSync(`${ROOT}/Dockerfile`, 'utf8');
  assert.match(dockerfile, /^CMD \["bin\/mlog-server"\]$/m);
  assert.match(dockerfile, /^COPY bin \.\/bin$/m);
});
