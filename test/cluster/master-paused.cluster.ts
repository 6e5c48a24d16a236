import { test } from 'node:test';
import { sleep } from '../faults/fault-harness.js';
import { runClusterScenario } from './cluster-scenario.js';

test('the elected master paused (SIGSTOP) for 20 s under load, then resumed: nothing lost, nothing stored twice, recovery by itself', { timeout: 900_000 }, async () => {
  await runClusterScenario({
    name: 'cluster-master-paused',
    load: { concurrency: 8, maxCalls: 6_000, durationMs: 60_000, attemptsPerCall: 300 },
    faultAfterMs: 8_000,
    async fault(context) {
      const master = await context.cluster.master();
      master.signal('SIGSTOP');
      await sleep(20_000);
      master.signal('SIGCONT');
      context.faultEnded();
    },
  });
});
