import { performance } from 'node:perf_hooks';
import cron, { type ScheduledTask } from 'node-cron';
import { ConfigurationError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';

/** A job on a schedule, as the composition root keeps it. */
export interface ScheduledJob {
  readonly name: string;
  /** Runs the job now, unless it is already running: then resolves 'skipped' without running it. */
  runNow(): Promise<'ran' | 'failed' | 'skipped'>;
  /** Stops the schedule, asks a run in progress to stop (its AbortSignal) and waits for it to end. */
  stop(): Promise<void>;
}

export interface JobDefinition {
  name: string;
  /** A cron expression (5 or 6 fields), read in UTC. */
  schedule: string;
  /** The work; `signal` is aborted when the scheduler stops. */
  run(signal: AbortSignal): Promise<void>;
}

function cronLogger(logger: Logger, name: string) {
  const text = (value: string | Error) => (value instanceof Error ? value.message : value);
  return {
    info: (value: string) => logger.info(value, { job: name }),
    warn: (value: string) => logger.warn(value, { job: name }),
    error: (value: string | Error, error?: Error) => logger.error(text(value), { job: name, ...(error ? { error: error.message } : {}) }),
    debug: (value: string | Error) => logger.debug(text(value), { job: name }),
  };
}

/**
 * Schedules `job` with node-cron in UTC. A run never overlaps another run of the same job in this
 * process: a tick that comes while the previous run is still going is skipped, and logged. Each run
 * logs how long it took; a run that throws is logged and the schedule goes on. The timer does not
 * keep the process alive. Throws a ConfigurationError when the expression is not valid cron.
 */
export function scheduleJob(job: JobDefinition, logger: Logger): ScheduledJob {
  if (!cron.validate(job.schedule)) throw new ConfigurationError(`The schedule of job "${job.name}" ("${job.schedule}") is not a cron expression.`);
  const controller = new AbortController();
  let running: Promise<'ran' | 'failed'> | undefined;
  let stopped = false;

  const runGuarded = async (): Promise<'ran' | 'failed' | 'skipped'> => {
    if (stopped) return 'skipped';
    if (running !== undefined) {
      logger.warn('job skipped: its previous run is still going', { job: job.name });
      return 'skipped';
    }
    const started = performance.now();
    logger.info('job started', { job: job.name });
    running = job.run(controller.signal).then(
      () => {
        logger.info('job finished', { job: job.name, durationMs: Math.round(performance.now() - started) });
        return 'ran' as const;
      },
      (error: unknown) => {
        logger.error('job failed', { job: job.name, durationMs: Math.round(performance.now() - started), error: (error as Error).message });
        return 'failed' as const;
      },
    );
    try {
      return await running;
    } finally {
      running = undefined;
    }
  };

  const task: ScheduledTask = cron.schedule(job.schedule, () => runGuarded(), {
    name: job.name,
    timezone: 'UTC',
    unref: true,
    logger: cronLogger(logger, job.name),
  });
  logger.info('job scheduled', { job: job.name, schedule: job.schedule, timezone: 'UTC', nextRun: task.getNextRun()?.toISOString() ?? null });

  return {
    name: job.name,
    runNow: runGuarded,
    async stop() {
      if (stopped) return;
      stopped = true;
      await task.destroy();
      controller.abort();
      await running;
    },
  };
}
