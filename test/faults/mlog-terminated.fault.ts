import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from './scenario.js';

test('MLog SIGTERMed under load: stops accepting, finishes calls in flight, exits 0; nothing acknowledged is lost', { timeout: 180_000 }, async () => {
  let exit: { code: number | null; seconds: number } | undefined;
  await runScenario({
    name: 'mlog-sigterm',
    firstPort: 9750,
    load: { concurrency: 8, maxCalls: 3_000, durationMs: 25_000, attemptsPerCall: 100 },
    faultAfterMs: 6_000,
    async fault(context) {
      const sent = Date.now();
      context.mlog.kill('SIGTERM');
      const exited = await context.mlog.exited;
      exit = { code: exited.code, seconds: (Date.now() - sent) / 1000 };
      await context.startMLog();
      context.faultEnded();
    },
    async check() {
      assert.equal(exit?.code, 0, 'MLog exits 0 after SIGTERM');
      assert.ok((exit?.seconds ?? 99) < 8 + 5, `MLog exited within the grace (${exit?.seconds} s)`);
      return { exitSeconds: exit?.seconds };
    },
  });
});
