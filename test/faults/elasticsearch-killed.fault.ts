import { test } from 'node:test';
import { sleep } from './fault-harness.js';
import { runScenario } from './scenario.js';

test('Elasticsearch SIGKILLed mid-ingest and restarted: nothing acknowledged is lost', { timeout: 240_000 }, async () => {
  await runScenario({
    name: 'es-killed',
    firstPort: 9710,
    load: { concurrency: 8, maxCalls: 4_000, durationMs: 70_000, attemptsPerCall: 200 },
    faultAfterMs: 6_000,
    async fault(context) {
      await context.es.kill();
      await sleep(3_000);
      await context.es.restart();
      context.faultEnded();
    },
  });
});
