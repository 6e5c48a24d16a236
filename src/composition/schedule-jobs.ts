import type { MLogConfig } from '../config/config.js';
import { scheduledRunBy } from '../jobs/retention-job.js';
import { scheduleJob, type ScheduledJob } from '../jobs/scheduler.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from './create-services.js';

/** Schedules the jobs whose schedule is not "off": retention (MLOG_RETENTION_SCHEDULE), the Idempotency-Key purge (MLOG_IDEMPOTENCY_PURGE_SCHEDULE) and the alerts tick (MLOG_ALERTS_SCHEDULE). */
export function scheduleJobs(config: Pick<MLogConfig, 'retention' | 'idempotency'> & Partial<Pick<MLogConfig, 'alerts' | 'evidence'>>, services: Services, logger: Logger): ScheduledJob[] {
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
  // Checkpoints of this process's evidence log (MLOG_CHECKPOINT_SECONDS), off the ingest path: a failure is logged and the next one covers the same leaves.
  const evidence = services.evidence;
  if (config.evidence !== undefined && evidence?.log !== undefined) {
    jobs.push(
      scheduleJob(
        {
          name: 'evidence-checkpoint',
          schedule: everySecondsCron(config.evidence.checkpointSeconds),
          async run() {
            try {
              // Only while this process holds its log's lease: once another instance has sealed the log, its checkpoints stop.
              if (services.evidenceSealer !== undefined && !services.evidenceSealer.holdsLease()) return;
              await evidence.checkpoint();
            } catch (error) {
              logger.warn('evidence checkpoint not written; the next one covers the same leaves', { error: (error as Error).message });
            }
          },
        },
        logger,
      ),
    );
  }
  // The lease of this process's evidence log, renewed every third of MLOG_EVIDENCE_SEAL_AFTER_SECONDS; and the sealing of the
  // logs whose process is gone (their lease lapsed), in a job of its own so that a long sealing never delays a renewal.
  const sealer = services.evidenceSealer;
  if (config.evidence !== undefined && sealer !== undefined) {
    const period = everySecondsCron(Math.max(1, Math.floor(config.evidence.sealAfterSeconds / 3)));
    jobs.push(
      scheduleJob(
        {
          name: 'evidence-lease',
          schedule: period,
          async run() {
            await sealer.renew();
          },
        },
        logger,
      ),
      scheduleJob(
        {
          name: 'evidence-seal',
          schedule: period,
          async run() {
            try {
              await sealer.sealOrphans();
            } catch (error) {
              logger.warn('orphaned evidence logs not looked for now; the next run does', { error: (error as Error).message });
            }
          },
        },
        logger,
      ),
    );
  }
  return jobs;
}

/**
 * A six-field cron expression that fires about every `seconds`: under a minute, every n seconds of
 * each minute; under an hour, every round(n / 60) minutes; else every round(n / 3600) hours.
 */
export function everySecondsCron(seconds: number): string {
  const whole = Math.max(1, Math.round(seconds));
  if (whole < 60) return `*/${whole} * * * * *`;
  const minutes = Math.round(whole / 60);
  if (minutes < 60) return `0 */${minutes} * * * *`;
  return `0 0 */${Math.min(23, Math.round(minutes / 60))} * * *`;
}
