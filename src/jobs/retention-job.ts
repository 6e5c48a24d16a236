import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../logging/logger.js';
import type { InformationSystem } from '../systems/information-system.js';
import type { IndexCatalog } from './index-catalog-type.js';
import { acquireLease, newLeaseHolder, type HeldLease } from './lease.js';
import type { LeaseStore } from './lease-store-type.js';
import { selectIndicesToDelete, type RetentionPlanEntry, type RetentionPolicy } from './retention-policy.js';

export const INDEX_DELETED_EVENT = 'MLog.Retention.IndexDeleted';
export const INDEX_DELETION_FAILED_EVENT = 'MLog.Retention.IndexDeletionFailed';
export const RETENTION_LEASE = 'retention';
/** Long enough for any run (renewed while it works), short enough that a crashed holder blocks the next run briefly. */
export const RETENTION_LEASE_TTL_MS = 10 * 60_000;

/** Who runs the scheduled job, as recorded in audit events and the lease. */
export function scheduledRunBy(host = hostname()): string {
  return `scheduler on ${host}`;
}

/** Appends a signed tombstone for an event index to the evidence chain (docs/evidence.md); throws when it cannot. */
export interface TombstoneWriter {
  tombstone(request: { index: string; is: string; month: string; reason: string }): Promise<unknown>;
}

export interface RetentionJobOptions {
  registry: { list(): Promise<InformationSystem[]> };
  /** With the evidence log: an event index is deleted only after its tombstone is in the chain. */
  tombstones?: TombstoneWriter;
  catalog: IndexCatalog;
  leases: LeaseStore;
  audit: AuditLog;
  logger: Logger;
  /** Retention of the shared indices (MLOG_PERSONALDATA_RETENTION_MONTHS, MLOG_REJECTIONS_RETENTION_MONTHS). */
  personalDataMonths: number;
  rejectionsMonths: number;
  clock?: () => Date;
  /** The lease every MLog instance of the cluster takes before deleting; RETENTION_LEASE. */
  leaseName?: string;
  leaseTtlMs?: number;
}

export interface RetentionPlan {
  at: Date;
  entries: RetentionPlanEntry[];
}

export type RetentionProgress =
  | { type: 'started'; total: number; docs: number; bytes: number }
  | { type: 'deleted'; entry: RetentionPlanEntry; done: number; total: number }
  | { type: 'failed'; entry: RetentionPlanEntry; error: string; done: number; total: number };

export interface RetentionRunRequest {
  /** False: a dry run, which plans and deletes nothing (and takes no lease). */
  execute: boolean;
  /** Who or what runs it: scheduledRunBy() or commandLineActor() (src/audit/command-line-actor.ts). */
  runBy: string;
  onProgress?: (progress: RetentionProgress) => void;
  /** Aborting stops the run before its next deletion (shutdown); the rest waits for the next run. */
  signal?: AbortSignal;
}

export interface RetentionReport {
  at: Date;
  runBy: string;
  executed: boolean;
  /** Why the run did nothing: another run holds the lease. */
  skipped?: string;
  /** Why the run stopped before the end of its plan: shutdown, or the lease was lost. */
  stopped?: string;
  plan: RetentionPlanEntry[];
  /** The indices the plan selects for deletion (deleted, failed or, in a dry run, left alone). */
  toDelete: RetentionPlanEntry[];
  deleted: RetentionPlanEntry[];
  kept: RetentionPlanEntry[];
  failures: { index: string; error: string }[];
  durationMs: number;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Deletes the monthly indices that are past retention (see selectIndicesToDelete), one MLog
 * instance of the cluster at a time, and records each deletion in the audit log.
 */
export class RetentionJob {
  private readonly clock: () => Date;
  private readonly leaseName: string;
  private readonly leaseTtlMs: number;

  constructor(private readonly options: RetentionJobOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.leaseName = options.leaseName ?? RETENTION_LEASE;
    this.leaseTtlMs = options.leaseTtlMs ?? RETENTION_LEASE_TTL_MS;
  }

  /** What a run would do now: reads the registry and the indices; changes nothing. */
  async plan(): Promise<RetentionPlan> {
    const [systems, indices] = await Promise.all([this.options.registry.list(), this.options.catalog.list()]);
    const at = this.clock();
    const policy: RetentionPolicy = {
      systemMonths: new Map(systems.map((system) => [system.code, system.retention_months])),
      personalDataMonths: this.options.personalDataMonths,
      rejectionsMonths: this.options.rejectionsMonths,
    };
    return { at, entries: selectIndicesToDelete(indices, policy, at) };
  }

  /**
   * Plans and, with `execute`, deletes. An executing run first takes the cluster-wide lease; when
   * another run holds it, this one is skipped (report.skipped says by whom) and deletes nothing.
   * Never throws for one index's failure: failures are in the report, and the other indices go on.
   */
  async run(request: RetentionRunRequest): Promise<RetentionReport> {
    const started = performance.now();
    const report = (plan: RetentionPlan, fields: Partial<RetentionReport> = {}): RetentionReport => {
      const toDelete = plan.entries.filter((entry) => entry.decision === 'delete');
      return {
        at: plan.at,
        runBy: request.runBy,
        executed: request.execute,
        plan: plan.entries,
        toDelete,
        deleted: [],
        kept: plan.entries.filter((entry) => entry.decision === 'keep'),
        failures: [],
        ...fields,
        durationMs: Math.round(performance.now() - started),
      };
    };

    if (!request.execute) return report(await this.plan());

    const acquisition = await acquireLease(
      this.options.leases,
      { name: this.leaseName, holder: newLeaseHolder(), run_by: request.runBy, ttlMs: this.leaseTtlMs },
      this.clock,
    );
    if (!acquisition.acquired) {
      const { current } = acquisition;
      const skipped = `another retention run holds the lease "${this.leaseName}" (${current.run_by}, since ${current.acquired_at}, until ${current.expires_at})`;
      this.options.logger.info('retention run skipped', { runBy: request.runBy, holder: current.holder, holderRunBy: current.run_by, expiresAt: current.expires_at });
      return report({ at: this.clock(), entries: [] }, { skipped });
    }

    const lease = acquisition.lease;
    try {
      const plan = await this.plan();
      const outcome = await this.deleteAll(plan.entries.filter((entry) => entry.decision === 'delete'), lease, request);
      const result = report(plan, outcome);
      this.options.logger.info('retention run finished', {
        runBy: request.runBy,
        deleted: result.deleted.length,
        documents: result.deleted.reduce((sum, entry) => sum + entry.docs, 0),
        kept: result.kept.length,
        failures: result.failures.length,
        ...(result.stopped === undefined ? {} : { stopped: result.stopped }),
        durationMs: result.durationMs,
      });
      return result;
    } finally {
      try {
        await lease.release();
      } catch (error) {
        this.options.logger.warn('retention lease not released; it expires by itself', { lease: this.leaseName, error: message(error) });
      }
    }
  }

  private async deleteAll(
    toDelete: RetentionPlanEntry[],
    lease: HeldLease,
    request: RetentionRunRequest,
  ): Promise<Pick<RetentionReport, 'deleted' | 'failures' | 'stopped'>> {
    const deleted: RetentionPlanEntry[] = [];
    const failures: { index: string; error: string }[] = [];
    const total = toDelete.length;
    request.onProgress?.({
      type: 'started',
      total,
      docs: toDelete.reduce((sum, entry) => sum + entry.docs, 0),
      bytes: toDelete.reduce((sum, entry) => sum + entry.bytes, 0),
    });
    for (const entry of toDelete) {
      if (request.signal?.aborted === true) return { deleted, failures, stopped: 'the run was stopped (shutdown); the rest waits for the next run' };
      if (!(await lease.renewIfDue())) {
        return { deleted, failures, stopped: `the lease "${this.leaseName}" was lost to another run; the rest is left to it` };
      }
      const error = await this.deleteOne(entry, request.runBy);
      if (error === undefined) {
        deleted.push(entry);
        request.onProgress?.({ type: 'deleted', entry, done: deleted.length + failures.length, total });
      } else {
        failures.push({ index: entry.index, error });
        request.onProgress?.({ type: 'failed', entry, error, done: deleted.length + failures.length, total });
      }
    }
    return { deleted, failures };
  }

  /**
   * Deletes one index, recording the deletion in the audit log FIRST. The promise is that the record
   * of what was deleted outlives what was deleted: if the order were reversed, a crash or an audit
   * write failing just after the deletion would leave data gone without a trace, which nothing can
   * repair. Recorded first, the worst case is a record of a deletion that did not happen: when the
   * deletion fails it is followed by MLog.Retention.IndexDeletionFailed, and after a crash the index
   * is still there, so the next run deletes it and records it again. When the audit write fails, the
   * index is not deleted. With the evidence log, an event index's signed tombstone goes to the
   * evidence chain before even the audit record; when it cannot be written the index is not deleted.
   * Resolves with an error message, or undefined on success.
   */
  private async deleteOne(entry: RetentionPlanEntry, runBy: string): Promise<string | undefined> {
    const { audit, catalog, logger } = this.options;
    const cutoff = entry.cutoff?.toISOString();
    const facts = {
      index: entry.index,
      index_kind: entry.kind,
      index_month: entry.month,
      ...(entry.code === undefined ? {} : { is_code: entry.code }),
      document_count: entry.docs,
      size_bytes: entry.bytes,
      ...(cutoff === undefined ? {} : { cutoff }),
      ...(entry.retentionMonths === undefined ? {} : { retention_months: entry.retentionMonths }),
    };
    const record: AuditEvent = {
      event_type: INDEX_DELETED_EVENT,
      event_message: `Retention deleted index ${entry.index} (${entry.docs} document${entry.docs === 1 ? '' : 's'}, ${entry.bytes} bytes): its month ${entry.month} ended at or before the cut-off ${cutoff ?? '?'} of ${entry.retentionMonths ?? '?'} months.`,
      user: runBy,
      ...facts,
    };
    // The evidence chain says "deleted by policy" first (a tombstone of an index still there is harmless), so the events' positions are never "missing".
    const tombstones = this.options.tombstones;
    if (tombstones !== undefined && entry.kind === 'events' && entry.code !== undefined) {
      try {
        await tombstones.tombstone({
          index: entry.index,
          is: entry.code,
          month: entry.month,
          reason: `retention of ${entry.retentionMonths ?? '?'} months for information system ${entry.code}: its month ${entry.month} ended at or before the cut-off ${cutoff ?? '?'} (run by ${runBy})`,
        });
      } catch (error) {
        logger.error('retention: the tombstone could not be written to the evidence chain; index kept', { index: entry.index, error: message(error) });
        return `not deleted: the tombstone could not be written to the evidence chain (${message(error)})`;
      }
    }

    try {
      await audit.record(record);
    } catch (error) {
      logger.error('retention: the deletion could not be recorded; index kept', { index: entry.index, error: message(error) });
      return `not deleted: the audit record could not be written (${message(error)})`;
    }

    let failure: string | undefined;
    try {
      if (!(await catalog.delete(entry.index))) failure = 'the index no longer existed';
    } catch (error) {
      failure = message(error);
    }
    if (failure === undefined) {
      logger.info('retention deleted an index', { index: entry.index, documents: entry.docs, bytes: entry.bytes, runBy });
      return undefined;
    }
    logger.error('retention could not delete an index', { index: entry.index, error: failure });
    try {
      await audit.record({
        event_type: INDEX_DELETION_FAILED_EVENT,
        event_message: `Retention could not delete index ${entry.index}: ${failure}. The ${INDEX_DELETED_EVENT} record written just before does not hold.`,
        user: runBy,
        ...facts,
        error: failure,
      });
    } catch (error) {
      logger.error('retention: the failed deletion could not be recorded', { index: entry.index, error: message(error) });
    }
    return failure;
  }
}
