import { test } from 'node:test';
import { sleep } from './fault-harness.js';
import { runScenario } from './scenario.js';

test('MLog SIGKILLed under load and restarted: nothing it acknowledged is missing', { timeout: 180_000 }, async () => {
  await runScenario({
    name: 'mlog-sigkill',
    firstPort: 9740,
    load: { concurrency: 8, maxCalls: 3_000, durationMs: 30_000, attemptsPerCall: 100 },
    faultAfterMs: 6_000,
    async fault(context) {
      context.mlog.kill('SIGKILL');
      await context.mlog.exited;
      await sleep(1_000);
      await context.startMLog();
      context.faultEnded();
    },
  });
});
