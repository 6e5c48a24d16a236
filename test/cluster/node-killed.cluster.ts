import { test } from 'node:test';
import { sleep } from '../faults/fault-harness.js';
import { dataNodeWithPrimary, runClusterScenario } from './cluster-scenario.js';

test('a data node SIGKILLed under load and restarted: its replicas take over, nothing acknowledged is lost, nothing stored twice', { timeout: 900_000 }, async () => {
  await runClusterScenario({
    name: 'cluster-node-killed',
    load: { concurrency: 8, maxCalls: 6_000, durationMs: 75_000, attemptsPerCall: 300 },
    faultAfterMs: 8_000,
    async fault(context) {
      const victim = await dataNodeWithPrimary(context);
      await victim.kill();
      await sleep(10_000);
      await victim.restart();
      context.faultEnded();
    },
  });
});
