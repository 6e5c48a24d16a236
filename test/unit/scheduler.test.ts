import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scheduleJob } from '../../src/jobs/scheduler.js';
import { ConfigurationError } from '../../src/errors/mlog-error.js';
import type { Logger } from '../../src/logging/logger.js';

interface Line {
  level: string;
  message: string;
  meta: Record<string, unknown>;
}

function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, meta: Record<string, unknown> = {}) => lines.push({ level, message, meta });
  return { logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger, lines };
}

/** A job whose runs last until released. */
function gatedJob() {
  let release: () => void = () => {};
  let runs = 0;
  let lastSignal: AbortSignal | undefined;
  return {
    get runs() {
      return runs;
    },
    get signal() {
      return lastSignal;
    },
    release: () => release(),
    run: (signal: AbortSignal) => {
      runs++;
      lastSignal = signal;
      return new Promise<void>((resolve) => {
        release = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
}

// A schedule that never fires during a test: 1 January at 00:00.
const NEVER_DURING_TESTS = '0 0 1 1 *';

describe('scheduleJob', () => {
  test('refuses a run over a run still going: skips it and logs', async () => {
    const { logger, lines } = recordingLogger();
    const job = gatedJob();
    const scheduled = scheduleJob({ name: 'retention', schedule: NEVER_DURING_TESTS, run: job.run }, logger);
    try {
      const first = scheduled.runNow();
      assert.equal(await scheduled.runNow(), 'skipped');
      assert.equal(job.runs, 1);
      assert.ok(lines.some((line) => line.level === 'warn' && /still going/.test(line.message) && line.meta.job === 'retention'));
      job.release();
      assert.equal(await first, 'ran');
      const finished = lines.find((line) => line.message === 'job finished');
      assert.equal(typeof finished?.meta.durationMs, 'number');
      const again = scheduled.runNow();
      job.release();
      assert.equal(await again, 'ran');
      assert.equal(job.runs, 2);
    } finally {
      await scheduled.stop();
    }
  });

  test('a failing run is logged with its duration, and the next one runs', async () => {
    const { logger, lines } = recordingLogger();
    let calls = 0;
    const scheduled = scheduleJob(
      {
        name: 'flaky',
        schedule: NEVER_DURING_TESTS,
        run: async () => {
          calls++;
          if (calls === 1) throw new Error('Elasticsearch does not answer');
        },
      },
      logger,
    );
    try {
      assert.equal(await scheduled.runNow(), 'failed');
      const failed = lines.find((line) => line.message === 'job failed');
      assert.equal(failed?.meta.error, 'Elasticsearch does not answer');
      assert.equal(typeof failed?.meta.durationMs, 'number');
      assert.equal(await scheduled.runNow(), 'ran');
    } finally {
      await scheduled.stop();
    }
  });

  test('stop aborts the run in progress, waits for it, and runs nothing after', async () => {
    const { logger } = recordingLogger();
    const job = gatedJob();
    const scheduled = scheduleJob({ name: 'retention', schedule: NEVER_DURING_TESTS, run: job.run }, logger);
    const running = scheduled.runNow();
    await sleep(5);
    await scheduled.stop();
    assert.equal(job.signal?.aborted, true);
    assert.equal(await running, 'ran');
    assert.equal(await scheduled.runNow(), 'skipped');
    assert.equal(job.runs, 1);
    await scheduled.stop();
  });

  test('runs on its cron schedule (every second), never two at once', async () => {
    const { logger, lines } = recordingLogger();
    let active = 0;
    let most = 0;
    let runs = 0;
    const scheduled = scheduleJob(
      {
        name: 'ticker',
        schedule: '* * * * * *',
        run: async () => {
          runs++;
          active++;
          most = Math.max(most, active);
          await sleep(1_500); // longer than the period: the next tick must be skipped
          active--;
        },
      },
      logger,
    );
    try {
      await sleep(3_300);
    } finally {
      await scheduled.stop();
    }
    assert.ok(runs >= 1, 'the schedule fired');
    assert.equal(most, 1);
    assert.ok(lines.some((line) => /still going/.test(line.message)), 'an overlapping tick was skipped and logged');
    assert.ok(lines.some((line) => line.message === 'job scheduled' && line.meta.timezone === 'UTC'));
  });

  test('an expression that is not cron is a configuration error', () => {
    const { logger } = recordingLogger();
    assert.throws(() => scheduleJob({ name: 'retention', schedule: '61 * * * *', run: async () => {} }, logger), ConfigurationError);
    assert.throws(() => scheduleJob({ name: 'retention', schedule: 'nightly', run: async () => {} }, logger), ConfigurationError);
  });
});
