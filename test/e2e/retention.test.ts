/**
 * Retention against the real Elasticsearch, which other test runs share: every index this file
 * creates has a unique IS code, or a very old month claimed with create (so never another's), and
 * each job that executes sees only the indices created here (its catalog is built on their exact
 * names) and is checked to plan nothing else before it runs. Whatever is left is deleted at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import winston from 'winston';
import { loadConfig } from '../../src/config/config.js';
import type { IndexCatalog } from '../../src/jobs/index-catalog-type.js';
import { INDEX_DELETED_EVENT, RetentionJob, type RetentionReport } from '../../src/jobs/retention-job.js';
import { createLogger } from '../../src/logging/logger.js';
import { startMLog } from '../../src/main.js';
import { ElasticsearchAuditLog } from '../../src/storage/elasticsearch-audit-log.js';
import { ElasticsearchIndexCatalog } from '../../src/storage/elasticsearch-index-catalog.js';
import { ElasticsearchLeaseStore } from '../../src/storage/elasticsearch-lease-store.js';
import { LEASES_INDEX, monthSuffix } from '../../src/storage/index-names.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { elasticsearchUrl, TestMLog, uniqueCode } from '../helpers/test-mlog.js';

const silent = createLogger('error', true);

function monthsFromNow(offset: number): string {
  const now = new Date();
  return monthSuffix(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 15)));
}

describe('retention (index lifecycle) against Elasticsearch', () => {
  let harness: TestMLog;
  const created = new Set<string>();
  const systems: string[] = [];
  const leaseName = `retention-test-${randomBytes(4).toString('hex')}`;
  let codeA: string; // retention 24 months
  let codePrefixed: string; // `${codeA}-test`, retention 1200 months
  let codeUnknown: string; // never registered
  let personalData: string;
  let rejections: string;

  /** Creates `name` (failing if it exists) with `docs` documents, refreshed. */
  async function createIndex(name: string, docs: Record<string, unknown>[]): Promise<void> {
    const client = inspectionClient();
    await client.indices.create({ index: name });
    created.add(name);
    if (docs.length > 0) {
      const response = await client.bulk({ refresh: true, operations: docs.flatMap((doc) => [{ index: { _index: name } }, doc]) });
      assert.equal(response.errors, false, JSON.stringify(response.items.find((item) => item.index?.error)));
    }
  }

  function events(code: string, count: number): Record<string, unknown>[] {
    return Array.from({ length: count }, (_, n) => ({ event_time: '2019-03-10T10:00:00Z', event_type: 'Test.Event', event_id: `e${n}`, '@is': code }));
  }

  /** Claims a free month of 2001–2009 for `prefix` by creating it: never another test's index. */
  async function claimOldIndex(prefix: string, docs: Record<string, unknown>[]): Promise<string> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const name = `${prefix}${2001 + Math.floor(Math.random() * 9)}.${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}`;
      try {
        await createIndex(name, docs);
        return name;
      } catch (error) {
        if ((error as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type !== 'resource_already_exists_exception') throw error;
      }
    }
    throw new Error(`no free month for ${prefix}`);
  }

  async function addSystem(code: string, retentionMonths: number): Promise<void> {
    const certificate = await harness.issueCertificate(code);
    const answer = await harness.callAdmin('/admin/systems', {
      method: 'POST',
      body: JSON.stringify({ code, name: `Retention ${code}`, idno: '1003600000000', certificates: [certificate.certPem], retention_months: retentionMonths, status: 'active' }),
    });
    assert.equal(answer.status, 201, answer.text);
    systems.push(code);
  }

  async function exists(name: string): Promise<boolean> {
    return inspectionClient().indices.exists({ index: name });
  }

  /** Whether this file's lease document is stored (the leases index may not exist yet). */
  async function leaseStored(): Promise<boolean> {
    const response = await inspectionClient().get({ index: LEASES_INDEX, id: leaseName }, { ignore: [404] });
    return response.found === true;
  }

  function job(options: { names?: string[]; catalog?: IndexCatalog } = {}): RetentionJob {
    const client = inspectionClient();
    return new RetentionJob({
      registry: harness.mlog.registry,
      catalog: options.catalog ?? new ElasticsearchIndexCatalog(client, options.names ?? [...created]),
      leases: new ElasticsearchLeaseStore(client),
      audit: new ElasticsearchAuditLog(client),
      logger: silent,
      personalDataMonths: 120,
      rejectionsMonths: 12,
      leaseName,
    });
  }

  /** Executes only after a dry run of the same job proved it would delete nothing this file did not create. */
  async function executeSafely(retention: RetentionJob, runBy: string): Promise<RetentionReport> {
    const dry = await retention.run({ execute: false, runBy });
    for (const entry of dry.toDelete) assert.ok(created.has(entry.index), `the test job would delete ${entry.index}, which this test did not create`);
    return retention.run({ execute: true, runBy });
  }

  before(async () => {
    harness = await TestMLog.start();
    codeA = uniqueCode('rt');
    codePrefixed = `${codeA}-test`;
    codeUnknown = uniqueCode('rtx');
    await addSystem(codeA, 24);
    await addSystem(codePrefixed, 1200);

    await createIndex(`mlog-${codeA}-2019.03`, events(codeA, 3));
    await createIndex(`mlog-${codeA}-2019.04`, events(codeA, 2));
    await createIndex(`mlog-${codeA}-${monthsFromNow(-1)}`, events(codeA, 1));
    await createIndex(`mlog-${codeA}-${monthsFromNow(0)}`, events(codeA, 1));
    await createIndex(`mlog-${codeA}-${monthsFromNow(1)}`, []);
    await createIndex(`mlog-${codePrefixed}-2019.03`, events(codePrefixed, 2));
    await createIndex(`mlog-${codeUnknown}-2019.03`, events(codeUnknown, 1));
    personalData = await claimOldIndex('personaldata-', [
      { event_time: '2005-01-10T10:00:00Z', event_type: 'Test.PersonalData', subject: '2000000000001', '@is': codeA },
      { event_time: '2005-01-11T10:00:00Z', event_type: 'Test.PersonalData', subject: '2000000000002', '@is': codeA },
    ]);
    rejections = await claimOldIndex('mlog_rejections-', [{ '@received': '2005-01-10T10:00:00Z', status: 400, reason: `retention test ${codeA}`, is: codeA }]);
  });

  after(async () => {
    const client = inspectionClient();
    for (const name of created) {
      await client.indices.delete({ index: name, expand_wildcards: 'none' }, { ignore: [404] });
    }
    await client.delete({ index: LEASES_INDEX, id: leaseName, refresh: true }, { ignore: [404] });
    for (const code of systems) await harness.callAdmin(`/admin/systems/${code}`, { method: 'DELETE' });
    await harness.stop();
    await closeInspectionClient();
  });

  test('plan: every index of the test with its IS, month, counts, size and decision', async () => {
    const started = performance.now();
    const plan = await job().plan();
    const planMs = performance.now() - started;
    const byName = new Map(plan.entries.map((entry) => [entry.index, entry]));
    const expected: Record<string, [string, number, RegExp]> = {
      [`mlog-${codeA}-2019.03`]: ['delete', 3, /^past retention \(24 months; cut-off /],
      [`mlog-${codeA}-2019.04`]: ['delete', 2, /^past retention \(24 months/],
      [`mlog-${codeA}-${monthsFromNow(-1)}`]: ['keep', 1, /^within retention \(24 months; deletable from /],
      [`mlog-${codeA}-${monthsFromNow(0)}`]: ['keep', 1, /^current month/],
      [`mlog-${codeA}-${monthsFromNow(1)}`]: ['keep', 0, /^future month$/],
      [`mlog-${codePrefixed}-2019.03`]: ['keep', 2, /^within retention \(1200 months/],
      [`mlog-${codeUnknown}-2019.03`]: ['keep', 1, /^no registered IS$/],
      [personalData]: ['delete', 2, /^past retention \(120 months/],
      [rejections]: ['delete', 1, /^past retention \(12 months/],
    };
    assert.deepEqual([...byName.keys()].sort(), Object.keys(expected).sort());
    for (const [name, [decision, docs, reason]] of Object.entries(expected)) {
      const entry = byName.get(name);
      assert.equal(entry?.decision, decision, name);
      assert.equal(entry?.docs, docs, name);
      assert.match(entry?.reason ?? '', reason, name);
      assert.ok((entry?.bytes ?? 0) > 0, `${name} has a size`);
    }
    assert.equal(byName.get(`mlog-${codePrefixed}-2019.03`)?.code, codePrefixed, 'the prefix-sharing IS owns its index');

    // The unrestricted catalog (every managed pattern of the cluster) reaches the same decisions, and
    // never lists MLog's own indices. Read only.
    const wideStarted = performance.now();
    const everything = await job({ catalog: new ElasticsearchIndexCatalog(inspectionClient()) }).plan();
    const wideMs = performance.now() - wideStarted;
    const wide = new Map(everything.entries.map((entry) => [entry.index, entry.decision]));
    for (const [name, [decision]] of Object.entries(expected)) assert.equal(wide.get(name), decision, name);
    for (const own of ['mlog_systems', 'mlog_audit', 'mlog_leases']) assert.equal(wide.has(own), false, own);
    process.stdout.write(`# plan of the ${plan.entries.length} test indices: ${planMs.toFixed(0)} ms; of the whole cluster (${everything.entries.length} managed indices): ${wideMs.toFixed(0)} ms\n`);
  });

  test('a dry run deletes nothing, records nothing and takes no lease', async () => {
    const report = await job().run({ execute: false, runBy: 'test dry run' });
    assert.equal(report.executed, false);
    assert.deepEqual(report.toDelete.map((entry) => entry.index).sort(), [`mlog-${codeA}-2019.03`, `mlog-${codeA}-2019.04`, personalData, rejections].sort());
    assert.deepEqual(report.deleted, []);
    for (const name of created) assert.equal(await exists(name), true, name);
    const audit = new ElasticsearchAuditLog(inspectionClient());
    assert.deepEqual(await audit.list(INDEX_DELETED_EVENT, { index: `mlog-${codeA}-2019.03` }), []);
    assert.equal(await leaseStored(), false);
  });

  test('an executing run deletes exactly the indices past retention, records each deletion first, and releases the lease', async () => {
    const progress: string[] = [];
    const retention = job();
    const dry = await retention.run({ execute: false, runBy: 'test' });
    for (const entry of dry.toDelete) assert.ok(created.has(entry.index));
    const started = performance.now();
    const report = await retention.run({
      execute: true,
      runBy: 'cli by retention-test',
      onProgress: (event) => progress.push(event.type === 'started' ? `started ${event.total}` : `${event.type} ${event.entry.index} ${event.done}/${event.total}`),
    });
    const runMs = performance.now() - started;
    assert.equal(report.skipped, undefined);
    assert.deepEqual(report.failures, []);
    const deleted = [`mlog-${codeA}-2019.03`, `mlog-${codeA}-2019.04`, personalData, rejections].sort();
    assert.deepEqual(report.deleted.map((entry) => entry.index).sort(), deleted);
    assert.equal(progress[0], 'started 4');
    assert.equal(progress.length, 5);
    assert.ok(progress.at(-1)?.endsWith('4/4'));
    for (const name of created) assert.equal(await exists(name), !deleted.includes(name), name);
    assert.equal(await exists(`mlog-${codeA}-${monthsFromNow(0)}`), true, 'the current month is kept');
    assert.equal(await exists(`mlog-${codePrefixed}-2019.03`), true, 'the prefix-sharing IS keeps its index');
    assert.equal(await exists(`mlog-${codeUnknown}-2019.03`), true, 'an unregistered code is kept');

    const audit = new ElasticsearchAuditLog(inspectionClient());
    const [record] = await audit.list(INDEX_DELETED_EVENT, { index: `mlog-${codeA}-2019.03` });
    assert.ok(record !== undefined, 'the deletion is recorded');
    assert.equal(record.user, 'cli by retention-test');
    assert.equal(record.document_count, 3);
    assert.ok(typeof record.size_bytes === 'number' && record.size_bytes > 0);
    assert.equal(record.retention_months, 24);
    assert.equal(record.is_code, codeA);
    assert.equal(record.cutoff, report.deleted.find((entry) => entry.index === `mlog-${codeA}-2019.03`)?.cutoff?.toISOString());
    assert.ok(Date.parse(record.event_time) <= Date.now());
    const [personal] = await audit.list(INDEX_DELETED_EVENT, { index: personalData });
    assert.equal(personal?.retention_months, 120);
    assert.equal(personal?.document_count, 2);
    const [rejected] = await audit.list(INDEX_DELETED_EVENT, { index: rejections });
    assert.equal(rejected?.retention_months, 12);

    assert.equal(await leaseStored(), false, 'the lease is released at the end');

    const again = await executeSafely(job(), 'test');
    assert.deepEqual(again.toDelete, [], 'a second run finds nothing more to delete');
    process.stdout.write(`# executing run: 4 deletions with their audit records in ${runMs.toFixed(0)} ms (report: ${report.durationMs} ms)\n`);
  });

  test('two runs started at once: exactly one runs, the other is skipped and says so', async () => {
    await createIndex(`mlog-${codeA}-2018.01`, events(codeA, 1));
    await createIndex(`mlog-${codeA}-2018.02`, events(codeA, 1));
    const base = new ElasticsearchIndexCatalog(inspectionClient(), [...created]);
    // Deletions slowed down so that the runs surely overlap.
    const slow: IndexCatalog = {
      list: () => base.list(),
      async delete(name) {
        await sleep(300);
        return base.delete(name);
      },
    };
    const dry = await job({ catalog: slow }).run({ execute: false, runBy: 'test' });
    assert.deepEqual(dry.toDelete.map((entry) => entry.index).sort(), [`mlog-${codeA}-2018.01`, `mlog-${codeA}-2018.02`]);

    const reports = await Promise.all([
      job({ catalog: slow }).run({ execute: true, runBy: 'scheduler on instance-1' }),
      job({ catalog: slow }).run({ execute: true, runBy: 'scheduler on instance-2' }),
    ]);
    const ran = reports.filter((report) => report.skipped === undefined);
    const skipped = reports.filter((report) => report.skipped !== undefined);
    assert.equal(ran.length, 1);
    assert.equal(skipped.length, 1);
    assert.match(skipped[0]?.skipped ?? '', new RegExp(`another retention run holds the lease "${leaseName}" \\(${ran[0]?.runBy}, since .*, until .*\\)`));
    assert.deepEqual(skipped[0]?.deleted, []);
    assert.equal(ran[0]?.deleted.length, 2);
    assert.equal(await exists(`mlog-${codeA}-2018.01`), false);
    assert.equal(await exists(`mlog-${codeA}-2018.02`), false);
  });

  test('MLog schedules the job when MLOG_RETENTION_SCHEDULE is set, in UTC, and stops it cleanly', async (t) => {
    // 00:00 UTC on 1 January: never while this runs (and skipped near it, since a scheduled run is not narrowed to this test's indices).
    const now = new Date();
    if (now.getUTCMonth() === 0 && now.getUTCDate() === 1 && now.getUTCHours() === 0) return t.skip('too close to the schedule');
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
    const config = loadConfig({
      MLOG_ELASTICSEARCH_URL: elasticsearchUrl(),
      MLOG_HOST: '127.0.0.1',
      MLOG_PORT: '0',
      MLOG_ADMIN_PORT: '0',
      MLOG_TLS_CERT: harness.server.certPath,
      MLOG_TLS_KEY: harness.server.keyPath,
      MLOG_TLS_CLIENT_CA: harness.ca.certPath,
      MLOG_RETENTION_SCHEDULE: '0 0 1 1 *',
    });
    const mlog = await startMLog(config, { logger });
    await mlog.stop();
    const scheduled = lines.find((line) => line.message === 'job scheduled');
    assert.equal(scheduled?.job, 'retention');
    assert.equal(scheduled?.timezone, 'UTC');
    assert.equal(scheduled?.nextRun, `${now.getUTCFullYear() + 1}-01-01T00:00:00.000Z`);
    assert.ok(lines.some((line) => line.message === 'MLog stopped'));
  });

  test("a crashed holder's lease blocks runs until it expires, then is taken over", async () => {
    await createIndex(`mlog-${codeA}-2017.06`, events(codeA, 1));
    const client = inspectionClient();
    const crashed = (expiresAt: Date) => ({
      name: leaseName,
      holder: 'crashed-host/4242/00000000',
      run_by: 'scheduler on crashed-host',
      acquired_at: new Date(Date.now() - 3_600_000).toISOString(),
      expires_at: expiresAt.toISOString(),
    });
    await client.index({ index: LEASES_INDEX, id: leaseName, document: crashed(new Date(Date.now() + 60_000)), refresh: true });
    const blocked = await executeSafely(job(), 'scheduler on instance-3');
    assert.match(blocked.skipped ?? '', /scheduler on crashed-host/);
    const untouched = await client.get<{ holder: string }>({ index: LEASES_INDEX, id: leaseName });
    assert.equal(untouched._source?.holder, 'crashed-host/4242/00000000', 'a skipped run leaves the lease alone');
    assert.equal(await exists(`mlog-${codeA}-2017.06`), true);

    await client.index({ index: LEASES_INDEX, id: leaseName, document: crashed(new Date(Date.now() - 1_000)), refresh: true });
    const takenOver = await executeSafely(job(), 'scheduler on instance-3');
    assert.equal(takenOver.skipped, undefined);
    assert.deepEqual(takenOver.deleted.map((entry) => entry.index), [`mlog-${codeA}-2017.06`]);
    assert.equal(await exists(`mlog-${codeA}-2017.06`), false);
    assert.equal(await leaseStored(), false, 'released after the run');
  });
});
