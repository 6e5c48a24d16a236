import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ICruiseResult, IConfiguration } from 'dependency-cruiser';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/architecture', import.meta.url));
const configuration = createRequire(import.meta.url)(`${ROOT}/.dependency-cruiser.cjs`) as IConfiguration;

/**
 * The rule violations of `src/` under `baseDir`, as "rule: from → to" lines, sorted: the same command
 * as `npm run check:architecture`, run in `baseDir` (it exits non-zero when it finds any).
 */
async function violations(baseDir: string): Promise<string[]> {
  const command = [`${ROOT}/node_modules/dependency-cruiser/bin/dependency-cruise.mjs`, '--config', `${ROOT}/.dependency-cruiser.cjs`, '--output-type', 'json', 'src'];
  const stdout = await promisify(execFile)(process.execPath, command, { cwd: baseDir, maxBuffer: 64 * 1024 * 1024 }).then(
    (done) => done.stdout,
    (failed: { stdout?: string }) => failed.stdout ?? '',
  );
  const output = JSON.parse(stdout) as ICruiseResult;
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe('the architecture rules (.dependency-cruiser.cjs)', () => {
  test('find every break in a tree made to break each rule once', async () => {
    const found = await violations(FIXTURE);
    const rules = new Set(found.map((line) => line.slice(0, line.indexOf(':'))));
    for (const rule of configuration.forbidden?.map((r) => r.name) ?? []) assert.ok(rules.has(rule as string), `rule ${rule} found nothing in the fixture: ${found.join('; ')}`);
    assert.ok(found.some((line) => /^express-only-in-http: src\/events\/uses-express\.ts → .*node_modules\/express\//.test(line)), found.join('\n'));
    assert.ok(found.some((line) => line.startsWith('elasticsearch-only-in-storage: src/systems/model.ts → ')), found.join('\n'));
    assert.ok(found.includes('services-never-import-storage: src/events/uses-express.ts → src/storage/names.ts'), found.join('\n'));
    assert.ok(found.includes('shared-ground-imports-no-service: src/json/parse.ts → src/systems/model.ts'), found.join('\n'));
    assert.ok(found.includes('nothing-imports-the-entry: src/composition/stores.ts → src/main.ts'), found.join('\n'));
    assert.ok(found.some((line) => line.startsWith('no-folder-cycles: src/s')), found.join('\n'));
    assert.ok(!found.some((line) => line.includes('src/http/app.ts')), 'the HTTP door may import express and a service');
  });

  test("MLog's own src/ keeps every rule", async () => {
    assert.deepEqual(await violations(ROOT), []);
  });
});
