import { test } from 'node:test';
import { sleep } from '../faults/fault-harness.js';
import { dataNodeWithPrimary, runClusterScenario } from './cluster-scenario.js';

/**
 * A partition without privileges: the node is stopped (SIGSTOP) for 45 s, longer than the cluster's
 * fault detection (the master's follower checks: 3 failures of 10 s), so the others stop hearing it,
 * remove it and promote its shards' replicas, as they would for a node cut off the network; its TCP
 * connections stay open, unlike a crash. SIGCONT then lets it rejoin as a stale node.
 */
test('a data node cut off (SIGSTOP past the fault detection) under load, then back: removed, replicas promoted, nothing lost, nothing stored twice', { timeout: 900_000 }, async () => {
  await runClusterScenario({
    name: 'cluster-node-partitioned',
    load: { concurrency: 8, maxCalls: 8_000, durationMs: 90_000, attemptsPerCall: 300 },
    faultAfterMs: 8_000,
    async fault(context) {
      const victim = await dataNodeWithPrimary(context);
      victim.signal('SIGSTOP');
      await sleep(45_000);
      victim.signal('SIGCONT');
      context.faultEnded();
    },
  });
});
