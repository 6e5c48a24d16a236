import { test } from 'node:test';
import { sleep } from './fault-harness.js';
import { runScenario } from './scenario.js';

test('MLog SIGKILLed under load and restarted: nothing it acknowledged is missing, and the restarted one seals the killed one\'s evidence log', { timeout: 180_000 }, async () => {
  await runScenario({
    name: 'mlog-sigkill',
    firstPort: 9740,
    load: { concurrency: 8, maxCalls: 3_000, durationMs: 30_000, attemptsPerCall: 100 },
    faultAfterMs: 6_000,
    everyEventCheckpointed: true,
    async fault(context) {
      context.mlog.kill('SIGKILL');
      await context.mlog.exited;
      await sleep(1_000);
      await context.startMLog();
      context.faultEnded();
    },
    // The killed MLog's lease lapses 6 s after its last renewal; the restarted one then seals its log and removes the lease.
    async check(_figures, context) {
      const started = Date.now();
      for (;;) {
        await context.es.es('POST', '/mlog_leases/_refresh');
        const leases = (await context.es.es('POST', '/mlog_leases/_count', { query: { prefix: { name: 'evidence-log:' } } })) as { count: number };
        if (leases.count <= 1) return { sealedAfterSeconds: (Date.now() - started) / 1000 };
        if (Date.now() - started > 60_000) throw new Error(`the killed MLog's evidence log was not sealed: ${leases.count} leases of evidence logs remain`);
        await sleep(500);
      }
    },
  });
});
