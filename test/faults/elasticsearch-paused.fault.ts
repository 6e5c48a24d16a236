import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from './fault-harness.js';
import { runScenario } from './scenario.js';

test('Elasticsearch paused (SIGSTOP) then resumed (SIGCONT): bounded 503s, nothing lost, nothing half-stored', { timeout: 180_000 }, async () => {
  let readyWhilePaused: boolean | undefined;
  await runScenario({
    name: 'es-paused',
    firstPort: 9730,
    load: { concurrency: 8, maxCalls: 3_000, durationMs: 40_000, attemptsPerCall: 100 },
    faultAfterMs: 5_000,
    async fault(context) {
      context.es.signal('SIGSTOP');
      await sleep(5_000);
      readyWhilePaused = await context.mlog.ready();
      await sleep(10_000);
      context.es.signal('SIGCONT');
      context.faultEnded();
    },
    async check(_figures, context) {
      assert.equal(readyWhilePaused, false, '/readyz answers 503 while Elasticsearch is paused');
      const refused = context.answers.filter((answer) => answer.status === '503');
      assert.ok(refused.length > 0, 'calls were refused with 503 while paused');
      const slowest = Math.max(...refused.map((answer) => answer.latencyMs));
      // Each Elasticsearch request of a call is bounded by the write deadline (5 s here): the bulk write
      // (plus at most 2 s waiting for the first compensation delete), and around it the registry read
      // and the Idempotency-Key claim and release. Bound asserted: 3 deadlines + 2 s.
      assert.ok(slowest < 3 * 5_000 + 2_000, `503 answered within a bounded time (slowest ${slowest} ms)`);
      return { slowest503Ms: slowest };
    },
  });
});
