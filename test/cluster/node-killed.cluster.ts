import { test } from 'node:test';
import { sleep } from '../faults/fault-harness.js';
import { dataNodeWithPrimary, runClusterScenario } from './cluster-scenario.js';

test('a data node SIGKILLed under load and restarted: its replicas take over, nothing acknowledged is lost, nothing stored twice', { timeout: 900_000 }, async () => {
  await runClusterScenario({
    name: 'cluster-node-killed',
    // Long enough to go on well past the restart (a node takes about a minute to start on a small shared machine).
    load: { concurrency: 8, maxCalls: 12_000, durationMs: 150_000, attemptsPerCall: 300 },
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
