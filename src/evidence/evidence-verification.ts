import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import { recordBeforeReading } from '../audit/record-before-reading.js';
import { verifyCompactJws } from '../auth/jws-verifier.js';
import { MLogError } from '../errors/mlog-error.js';
import type { KnownSystem, SystemRegistry } from '../systems/system-registry.js';
import type { CheckedEvent } from './event-check.js';
import { EventCheckPool } from './event-check-pool.js';
import type { EventScan, EvidenceReader } from './evidence-reader-type.js';
import { trustedKeyMap, type TrustedKey } from './trusted-key.js';
import type { ColumnLeafChunk } from './leaf-columns.js';
import { FINDING_KINDS, verifyEvidence, type VerifyReport, type VerifyScope } from './verifier.js';

/** Recorded in mlog_audit before a run reads any event: who runs it, and its scope. */
export const VERIFY_STARTED_EVENT = 'MLog.Evidence.VerifyStarted';
/** Recorded in mlog_audit when a run ends: its outcome, the events scanned and the count of each finding kind. */
export const VERIFY_FINISHED_EVENT = 'MLog.Evidence.VerifyFinished';

export interface VerificationRun {
  /** Who runs it, as the audit records it: "cli by <user> on <host>". */
  by: string;
  /** MLog's keys to trust (the current one, and any retired one whose entries are still in the chain). */
  keys: readonly TrustedKey[];
  scope: VerifyScope;
  /** Worker threads that parse and hash the events; 0 checks them in this thread. Default: one per core. */
  workers?: number;
  /** Called once the run is recorded, before any event is read, with the number of events in scope. */
  onTotal?: (total: number) => void;
  /** Called after each page of events with the number scanned so far. */
  onEvents?: (scanned: number) => void;
}

export interface VerificationResult {
  report: VerifyReport;
  /** False when the run's outcome could not be recorded in the audit (its start was). */
  outcomeRecorded: boolean;
}

/** The default of VerificationRun.workers: one per core the process may use. */
export function defaultVerifyWorkers(): number {
  return availableParallelism();
}

/**
 * `mlog verify`: the evidence read from the store and checked with src/evidence/verifier.ts; the
 * events read in slices at once, each page parsed and hashed in a worker thread; client signatures
 * verified again against the registry. Each run is a reading of the record by a person: it is recorded
 * in mlog_audit before it reads any event, and its outcome when it ends.
 */
export class EvidenceVerification {
  constructor(
    private readonly reader: EvidenceReader,
    private readonly registry: SystemRegistry,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Records the run (who, which scope), then checks the chain, every log, and every stored event in
   * scope, then records the outcome. When the start cannot be recorded, nothing is read: it throws
   * StorageUnavailableError.
   */
  async verify(run: VerificationRun): Promise<VerificationResult> {
    const runId = randomUUID();
    const startedAt = Date.now();
    await recordBeforeReading(this.audit, verifyStarted(run, runId), {
      refusal: 'mlog verify cannot record its run in the audit index (mlog_audit), so it reads no event of the record; try again once Elasticsearch accepts writes to mlog_audit.',
      // Elasticsearch not answering at all is said as such.
      unreachableAsIs: true,
    });
    let report: VerifyReport;
    try {
      run.onTotal?.(await this.reader.countEvents(run.scope));
      report = await this.check(run);
    } catch (error) {
      await this.recordFinished(verifyFailed(run, runId, error, Date.now() - startedAt));
      throw error;
    }
    const outcomeRecorded = await this.recordFinished(verifyFinished(run, runId, report, Date.now() - startedAt));
    return { report, outcomeRecorded };
  }

  private async recordFinished(event: AuditEvent): Promise<boolean> {
    try {
      await this.audit.record(event, new Date(), { waitForSearch: false });
      return true;
    } catch {
      return false;
    }
  }

  /** Checks the chain, every log, and every stored event in scope; the report lists each finding. */
  private async check(run: VerificationRun): Promise<VerifyReport> {
    // Each IS's certificates are read and parsed once per run, not once per signed event.
    const systems = new Map<string, Promise<KnownSystem | undefined>>();
    const known = (code: string): Promise<KnownSystem | undefined> => {
      let found = systems.get(code);
      if (found === undefined) {
        found = this.registry.findByCode(code);
        systems.set(code, found);
      }
      return found;
    };
    const workers = run.workers ?? defaultVerifyWorkers();
    const pool = new EventCheckPool(workers);
    // Two slices per worker: while one slice's page is checked, the other's is read.
    const events = this.startEvents(run.scope, pool, Math.max(1, workers) * 2);
    try {
      return await verifyEvidence({
        chain: this.reader.chain(),
        leafChunks: this.hashedLeafChunks(pool),
        events: events.pages,
        keys: trustedKeyMap(run.keys),
        scope: run.scope,
        checkSignature: (signed) => checkClientSignature(signed, known),
        ...(run.onEvents === undefined ? {} : { onEvents: run.onEvents }),
      });
    } finally {
      await events.stop();
      await pool.close();
    }
  }

  /**
   * Every leaf chunk, parsed and hashed by the pool (the pages at once, over the workers): each page
   * goes to a worker as the text of its answer, parsed there only, and its chunks come back with
   * their leaves as columns (leaf-columns.ts), never as one object per leaf.
   */
  private async *hashedLeafChunks(pool: EventCheckPool): AsyncIterable<ColumnLeafChunk> {
    const pending: Promise<ColumnLeafChunk[]>[] = [];
    for await (const text of this.reader.leafChunkPages()) pending.push(pool.leafColumnsPage(text));
    for (const chunks of await Promise.all(pending)) yield* chunks;
  }

  /**
   * The events in scope as checked pages, read from now on (while the chain and the logs are
   * checked): `slices` slices read at once, each page parsed and hashed by the pool while the other
   * slices wait on Elasticsearch; pages come out as they are ready. `stop` ends the reading and
   * closes the scan, whether or not every page was taken.
   */
  private startEvents(scope: VerifyScope, pool: EventCheckPool, slices: number): { pages: AsyncIterable<CheckedEvent[]>; stop(): Promise<void> } {
    const ready: CheckedEvent[][] = [];
    let failure: unknown;
    let running = slices;
    let wake: (() => void) | undefined;
    const signal = () => {
      wake?.();
      wake = undefined;
    };
    const readSlice = async (scan: EventScan, slice: number): Promise<void> => {
      try {
        let after: unknown[] | undefined;
        for (;;) {
          const page = await pool.check(await scan.page(slice, after));
          if (page.events.length > 0) ready.push(page.events);
          signal();
          if (page.count < scan.pageSize || page.lastSort === undefined) return;
          after = page.lastSort;
          // Holds this slice back while the verifier is behind, so pages do not pile up in memory.
          while (ready.length >= slices * 2 && failure === undefined) await new Promise<void>((resolve) => setTimeout(resolve, 5));
        }
      } catch (error) {
        failure ??= error;
      } finally {
        running -= 1;
        signal();
      }
    };
    const opened = this.reader.openEventScan(scope, slices);
    const reading = opened.then(
      (scan) => Promise.allSettled(Array.from({ length: slices }, (_, slice) => readSlice(scan, slice))),
      (error: unknown) => {
        failure ??= error;
        running = 0;
        signal();
      },
    );
    async function* pages(): AsyncIterable<CheckedEvent[]> {
      for (;;) {
        const page = ready.shift();
        if (page !== undefined) {
          yield page;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (running === 0) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (failure !== undefined) throw failure;
    }
    return {
      pages: pages(),
      async stop() {
        failure ??= new Error('the scan was stopped');
        await reading;
        const scan = await opened.catch(() => undefined);
        await scan?.close();
      },
    };
  }
}

/**
 * A stored `@jws`, verified again against the certificates its IS has registered now, each judged
 * valid or not at the event's `@received` (as at registration).
 */
async function checkClientSignature(signed: NonNullable<CheckedEvent['signed']>, systemOf: (code: string) => Promise<KnownSystem | undefined>): Promise<string | undefined> {
  const known = await systemOf(signed.is);
  if (known === undefined) return `its system "${signed.is}" is no longer registered.`;
  const received = new Date(signed.received);
  try {
    await verifyCompactJws(signed.jws, known.certificatesBySerial, 'the JWS', Number.isNaN(received.getTime()) ? new Date() : received);
    return undefined;
  } catch (error) {
    if (error instanceof MLogError) return error.message;
    throw error;
  }
}

/** Whether a run's scope is the whole record: no IS named, no month bound. */
function isWholeRecord(scope: VerifyScope): boolean {
  return scope.system === undefined && scope.fromMonth === undefined && scope.toMonth === undefined;
}

/** The scope as people read it: "every event", "the events of IS mpass received in 2026.01 to 2026.03". */
function describeScope(scope: VerifyScope): string {
  if (isWholeRecord(scope)) return 'every event';
  const months =
    scope.fromMonth === undefined && scope.toMonth === undefined ? '' : ` received in ${scope.fromMonth ?? 'the first month'} to ${scope.toMonth ?? 'the last month'}`;
  return `the events${scope.system === undefined ? '' : ` of IS ${scope.system}`}${months}`;
}

/** The scope as the audit records it: scope_all (whether it is the whole record), and the IS and the months it names. */
function scopeFields(scope: VerifyScope): Record<string, string | boolean> {
  return {
    scope_all: isWholeRecord(scope),
    ...(scope.system === undefined ? {} : { scope_system: scope.system }),
    ...(scope.fromMonth === undefined ? {} : { scope_from_month: scope.fromMonth }),
    ...(scope.toMonth === undefined ? {} : { scope_to_month: scope.toMonth }),
  };
}

function verifyStarted(run: VerificationRun, runId: string): AuditEvent {
  return {
    event_type: VERIFY_STARTED_EVENT,
    event_message: `${run.by} started mlog verify of ${describeScope(run.scope)}`,
    user: run.by,
    run_id: runId,
    ...scopeFields(run.scope),
    trusted_kids: run.keys.map((key) => key.kid),
  };
}

/** The outcome: counts only, never an event's content. */
function verifyFinished(run: VerificationRun, runId: string, report: VerifyReport, durationMs: number): AuditEvent {
  const findings = FINDING_KINDS.reduce((sum, kind) => sum + report.counts[kind], 0);
  return {
    event_type: VERIFY_FINISHED_EVENT,
    event_message: `mlog verify of ${describeScope(run.scope)} by ${run.by}: ${report.ok ? 'everything verifies' : `${findings} finding${findings === 1 ? '' : 's'}`}`,
    user: run.by,
    run_id: runId,
    ...scopeFields(run.scope),
    outcome: report.ok ? 'ok' : 'findings',
    ok: report.ok,
    events_scanned: report.events.scanned,
    events_verified: report.events.verified,
    events_not_yet_checkpointed: report.events.not_yet_checkpointed,
    chain_entries: report.chain.entries,
    ...Object.fromEntries(FINDING_KINDS.map((kind) => [`findings_${kind}`, report.counts[kind]])),
    duration_ms: durationMs,
  };
}

function verifyFailed(run: VerificationRun, runId: string, error: unknown, durationMs: number): AuditEvent {
  return {
    event_type: VERIFY_FINISHED_EVENT,
    event_message: `mlog verify of ${describeScope(run.scope)} by ${run.by} stopped before its end`,
    user: run.by,
    run_id: runId,
    ...scopeFields(run.scope),
    outcome: 'error',
    ok: false,
    error: error instanceof Error ? error.name : 'Error',
    duration_ms: durationMs,
  };
}
