import type { MLogConfig } from '../config/config.js';
import { scheduledRunBy } from '../jobs/retention-job.js';
import { scheduleJob, type ScheduledJob } from '../jobs/scheduler.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from './create-services.js';

/** Schedules the jobs whose schedule is not "off": retention (MLOG_RETENTION_SCHEDULE), the Idempotency-Key purge (MLOG_IDEMPOTENCY_PURGE_SCHEDULE) and the alerts tick (MLOG_ALERTS_SCHEDULE). */
export function scheduleJobs(config: Pick<MLogConfig, 'retention' | 'idempotency'> & Partial<Pick<MLogConfig, 'alerts'>>, services: Services, logger: Logger): ScheduledJob[] {
  const jobs: ScheduledJob[] = [];
  if (config.retention.schedule !== undefined) {
    const runBy = scheduledRunBy();
    jobs.push(
      scheduleJob(
        {
          name: 'retention',
          schedule: config.retention.schedule,
          // The job logs its outcome (deleted, failures, or skipped because another instance holds the lease).
          async run(signal) {
            await services.retention.run({ execute: true, runBy, signal });
          },
        },
        logger,
      ),
    );
  }
  // Records are purged once their 24 hours have passed.
  if (config.idempotency.purgeSchedule !== undefined) {
    jobs.push(
      scheduleJob(
        {
          name: 'idempotency-purge',
          schedule: config.idempotency.purgeSchedule,
          async run(signal) {
            const deleted = await services.idempotency.purgeExpired(new Date(), signal);
            if (deleted > 0) logger.info('expired idempotency keys deleted', { deleted });
          },
        },
        logger,
      ),
    );
  }
  // The tick evaluates the rules whose own schedule is due, only while this instance holds the alerts lease.
  if (config.alerts?.schedule !== undefined) {
    jobs.push(
      scheduleJob(
        {
          name: 'alerts',
          schedule: config.alerts.schedule,
          async run(signal) {
            const outcome = await services.alertEngine.tick(signal);
            if (outcome.leader && outcome.failed > 0) logger.warn('alert rules not evaluated', { failed: outcome.failed, evaluated: outcome.evaluated });
          },
        },
        logger,
      ),
    );
  }
  return jobs;
}
