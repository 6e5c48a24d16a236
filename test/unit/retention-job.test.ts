import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent, AuditLog } from '../../src/audit/audit-log.js';
import type { IndexCatalog } from '../../src/jobs/index-catalog-type.js';
import { commandLineActor } from '../../src/audit/command-line-actor.js';
import { INDEX_DELETED_EVENT, INDEX_DELETION_FAILED_EVENT, RetentionJob, scheduledRunBy } from '../../src/jobs/retention-job.js';
import type { IndexSize } from '../../src/jobs/retention-policy.js';
import { parseManagedIndexName } from '../../src/storage/index-names.js';
import { createLogger } from '../../src/logging/logger.js';
import type { InformationSystem } from '../../src/systems/information-system.js';
import { MemoryLeaseStore } from '../helpers/memory-lease-store.js';

const NOW = new Date('2026-11-22T05:00:00Z');

/** One journal of what happened, in order, across the fakes. */
function fakes(options: { indices: string[]; failAuditFor?: string[]; failDeleteFor?: string[] }) {
  const journal: string[] = [];
  const records: AuditEvent[] = [];
  const existing = new Map<string, IndexSize>(options.indices.map((name, n) => [name, { name, docs: n + 1, bytes: 1000 * (n + 1), holds: parseManagedIndexName(name) }]));
  const catalog: IndexCatalog = {
    list: async () => [...existing.values()],
    async delete(name) {
      journal.push(`delete ${name}`);
      if (options.failDeleteFor?.includes(name)) throw new Error('cluster_block_exception');
      return existing.delete(name);
    },
  };
  const audit: AuditLog = {
    async record(event) {
      journal.push(`record ${event.event_type} ${String(event.index)}`);
      if (options.failAuditFor?.includes(String(event.index)) && event.event_type === INDEX_DELETED_EVENT) throw new Error('audit index read-only');
      records.push(event);
    },
    list: async () => [],
  };
  const registry = { list: async () => [{ code: 'mpass', retention_months: 12 }, { code: 'mpass-test', retention_months: 1200 }] as InformationSystem[] };
  const leases = new MemoryLeaseStore();
  const job = new RetentionJob({ registry, catalog, leases, audit, logger: createLogger('error', true), personalDataMonths: 120, rejectionsMonths: 12, clock: () => NOW });
  return { job, journal, records, existing, leases };
}

describe('RetentionJob (with in-memory fakes)', () => {
  test('records each deletion in the audit log before deleting, with the facts of the index', async () => {
    const { job, journal, records } = fakes({ indices: ['mlog-mpass-2019.01', 'mlog-mpass-test-2019.01', 'personaldata-2009.01', 'mlog-mpass-2026.11'] });
    const report = await job.run({ execute: true, runBy: 'cli by tester' });
    assert.deepEqual(journal, [
      `record ${INDEX_DELETED_EVENT} mlog-mpass-2019.01`,
      'delete mlog-mpass-2019.01',
      `record ${INDEX_DELETED_EVENT} personaldata-2009.01`,
      'delete personaldata-2009.01',
    ]);
    assert.deepEqual(report.deleted.map((entry) => entry.index), ['mlog-mpass-2019.01', 'personaldata-2009.01']);
    assert.deepEqual(report.kept.map((entry) => entry.index), ['mlog-mpass-2026.11', 'mlog-mpass-test-2019.01']);
    const { event_message: message, ...fields } = records[0] as AuditEvent;
    assert.deepEqual(fields, {
      event_type: INDEX_DELETED_EVENT,
      user: 'cli by tester',
      index: 'mlog-mpass-2019.01',
      index_kind: 'events',
      index_month: '2019.01',
      is_code: 'mpass',
      document_count: 1,
      size_bytes: 1000,
      cutoff: '2025-11-22T05:00:00.000Z',
      retention_months: 12,
    });
    assert.match(message, /mlog-mpass-2019\.01 \(1 document, 1000 bytes\)/);
    assert.equal(records[1]?.retention_months, 120);
    assert.equal(records[1]?.is_code, undefined);
  });

  test('when the audit record cannot be written, the index is kept and the others go on', async () => {
    const { job, existing, journal } = fakes({ indices: ['mlog-mpass-2019.01', 'mlog-mpass-2019.02'], failAuditFor: ['mlog-mpass-2019.01'] });
    const report = await job.run({ execute: true, runBy: 'scheduler on a' });
    assert.ok(existing.has('mlog-mpass-2019.01'));
    assert.ok(!existing.has('mlog-mpass-2019.02'));
    assert.ok(!journal.includes('delete mlog-mpass-2019.01'));
    assert.deepEqual(report.failures, [{ index: 'mlog-mpass-2019.01', error: 'not deleted: the audit record could not be written (audit index read-only)' }]);
    assert.deepEqual(report.deleted.map((entry) => entry.index), ['mlog-mpass-2019.02']);
  });

  test('a deletion that fails after its record is followed by an IndexDeletionFailed record', async () => {
    const { job, records } = fakes({ indices: ['mlog-mpass-2019.01'], failDeleteFor: ['mlog-mpass-2019.01'] });
    const report = await job.run({ execute: true, runBy: 'scheduler on a' });
    assert.deepEqual(records.map((record) => record.event_type), [INDEX_DELETED_EVENT, INDEX_DELETION_FAILED_EVENT]);
    assert.equal(records[1]?.error, 'cluster_block_exception');
    assert.deepEqual(report.failures, [{ index: 'mlog-mpass-2019.01', error: 'cluster_block_exception' }]);
  });

  test('progress: started, then one event per index', async () => {
    const { job } = fakes({ indices: ['mlog-mpass-2019.01', 'mlog-mpass-2019.02'], failDeleteFor: ['mlog-mpass-2019.02'] });
    const progress: string[] = [];
    await job.run({
      execute: true,
      runBy: 'x',
      onProgress: (event) => progress.push(event.type === 'started' ? `started ${event.total} ${event.docs} ${event.bytes}` : `${event.type} ${event.entry.index} ${event.done}/${event.total}`),
    });
    assert.deepEqual(progress, ['started 2 3 3000', 'deleted mlog-mpass-2019.01 1/2', 'failed mlog-mpass-2019.02 2/2']);
  });

  test('a dry run deletes nothing, records nothing, takes no lease', async () => {
    const { job, journal, leases } = fakes({ indices: ['mlog-mpass-2019.01'] });
    const report = await job.run({ execute: false, runBy: 'x' });
    assert.equal(report.executed, false);
    assert.deepEqual(report.toDelete.map((entry) => entry.index), ['mlog-mpass-2019.01']);
    assert.deepEqual(journal, []);
    assert.equal(leases.current(), undefined);
  });

  test('an executing run releases its lease at the end; one that finds the lease held is skipped', async () => {
    const { job, leases, journal } = fakes({ indices: ['mlog-mpass-2019.01'] });
    leases.put({ name: 'retention', holder: 'h', run_by: 'scheduler on b', acquired_at: '2026-11-22T04:59:00.000Z', expires_at: '2026-11-22T05:09:00.000Z' });
    const skipped = await job.run({ execute: true, runBy: 'x' });
    assert.equal(skipped.skipped, 'another retention run holds the lease "retention" (scheduler on b, since 2026-11-22T04:59:00.000Z, until 2026-11-22T05:09:00.000Z)');
    assert.deepEqual(journal, []);
    leases.put({ name: 'retention', holder: 'h', run_by: 'scheduler on b', acquired_at: '2026-11-22T04:49:00.000Z', expires_at: '2026-11-22T04:59:00.000Z' });
    const ran = await job.run({ execute: true, runBy: 'x' });
    assert.equal(ran.skipped, undefined);
    assert.equal(ran.deleted.length, 1);
    assert.equal(leases.current(), undefined);
  });

  test('an aborted run stops before its next deletion and says so', async () => {
    const { job, journal } = fakes({ indices: ['mlog-mpass-2019.01', 'mlog-mpass-2019.02'] });
    const controller = new AbortController();
    const report = await job.run({ execute: true, runBy: 'x', signal: controller.signal, onProgress: (event) => event.type === 'deleted' && controller.abort() });
    assert.deepEqual(report.deleted.map((entry) => entry.index), ['mlog-mpass-2019.01']);
    assert.match(report.stopped ?? '', /stopped/);
    assert.ok(!journal.includes('delete mlog-mpass-2019.02'));
  });

  test('who ran it', () => {
    assert.equal(scheduledRunBy('mlog-1'), 'scheduler on mlog-1');
    assert.match(commandLineActor(), /^cli by \S+ on \S+$/);
    assert.match(commandLineActor({}, 'mlog-2'), /^cli by \S+ on mlog-2$/);
  });
});
