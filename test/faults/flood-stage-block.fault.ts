import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from './fault-harness.js';
import { runScenario } from './scenario.js';

test('flood-stage read-only block set then lifted: 503 while blocked, recovery without restart', { timeout: 180_000 }, async () => {
  let readyWhileBlocked: boolean | undefined;
  await runScenario({
    name: 'read-only-block',
    firstPort: 9720,
    load: { concurrency: 8, maxCalls: 3_000, durationMs: 30_000, attemptsPerCall: 100 },
    faultAfterMs: 5_000,
    async fault(context) {
      const indices = `mlog-${context.code}-*`;
      await context.es.es('PUT', `/${indices}/_settings`, { 'index.blocks.read_only_allow_delete': true });
      await sleep(2_000);
      readyWhileBlocked = await context.mlog.ready();
      await sleep(6_000);
      await context.es.es('PUT', `/${indices}/_settings`, { 'index.blocks.read_only_allow_delete': null });
      context.faultEnded();
    },
    async check(_figures, context) {
      assert.equal(readyWhileBlocked, false, '/readyz answers 503 while writes are blocked');
      assert.equal(await context.mlog.ready(), true, '/readyz answers 200 again');
      const during = context.answers.filter((answer) => answer.status === '503');
      assert.ok(during.length > 0, 'some calls were refused with 503 while blocked');
      const slowest = Math.max(...during.map((answer) => answer.latencyMs));
      assert.ok(slowest < 5_000 + 3_000, `503 answered within the deadline plus 3 s (slowest ${slowest} ms)`);
      return { slowest503Ms: slowest };
    },
  });
});
