/**
 * The console's reading of the record, service by service, on the real Elasticsearch: events
 * registered through the public door (mutual TLS) by two systems, read by ConsoleSearchService over
 * the Elasticsearch stores MLog uses, and every reading found in mlog_audit.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ConsoleActor } from '../../src/admins/administrator.js';
import { ForbiddenError, PreconditionRequiredError, QuerySyntaxError, StorageUnavailableError } from '../../src/errors/mlog-error.js';
import { createLogger } from '../../src/logging/logger.js';
import { ConsoleSearchService } from '../../src/search/console-search-service.js';
import { ElasticsearchAuditLog } from '../../src/storage/elasticsearch-audit-log.js';
import { ElasticsearchConsoleSearchStore } from '../../src/storage/elasticsearch-console-search-store.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type TestSystem } from '../helpers/test-mlog.js';
import { Client } from '@elastic/elasticsearch';

const correlation = `corr-${randomBytes(6).toString('hex')}`;
const purpose = { legal_basis: 'Law 133/2011 art. 5', reason: `case ${randomBytes(3).toString('hex')}` };

function actor(role: ConsoleActor['role'], withPurpose = true): ConsoleActor {
  return { username: `${role}-${randomBytes(3).toString('hex')}`, role, purpose: withPurpose ? purpose : null, sessionId: randomBytes(8).toString('hex'), address: '127.0.0.1' };
}

async function auditRecords(sessionId: string): Promise<Record<string, any>[]> {
  await inspectionClient().indices.refresh({ index: 'mlog_audit' });
  const answer = await inspectionClient().search<Record<string, any>>({ index: 'mlog_audit', size: 100, query: { term: { session_id: sessionId } }, sort: [{ event_time: 'asc' }] });
  return answer.hits.hits.map((hit) => hit._source!);
}

async function collect(body: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of body) text += chunk;
  return text;
}

describe('the console reading the record', () => {
  let mlog: TestMLog;
  let mpass: TestSystem;
  let mpay: TestSystem;
  let service: ConsoleSearchService;
  const base = Date.now() - 10 * 60_000;
  const at = (seconds: number): string => new Date(base + seconds * 1000).toISOString();
  const range = { from: new Date(base - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };

  before(async () => {
    mlog = await TestMLog.start();
    mpass = await mlog.addSystem({ code: `mpass-${randomBytes(3).toString('hex')}` });
    mpay = await mlog.addSystem({ code: `mpay-${randomBytes(3).toString('hex')}` });
    const signed = await mpass.sign({ event_time: at(0), event_type: 'MPass.Login', user: 'alice', event_correlation: correlation, event_message: 'Login succeeded for alice' });
    assert.equal((await mpass.register(signed)).status, 200);
    for (let i = 1; i <= 7; i++) {
      const answer = await mpass.register({ event_time: at(i * 10), event_type: 'MPass.Check', user: i % 2 === 0 ? 'bob' : 'carol', event_id: `p${i}`, event_message: `check ${i}` });
      assert.equal(answer.status, 200, answer.text);
    }
    const payment = await mpay.sign({ event_time: at(5), event_type: 'MPay.Payment', user: 'alice', event_correlation: correlation, event_message: 'Payment of 100 MDL' });
    assert.equal((await mpay.register(payment)).status, 200);
    await inspectionClient().indices.refresh({ index: 'mlog-*' });
    service = new ConsoleSearchService(new ElasticsearchConsoleSearchStore(inspectionClient()), new ElasticsearchAuditLog(inspectionClient()), mlog.mlog.registry, createLogger('error', true));
  });

  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  test('a search answers hits, a histogram and field tops, and is recorded with its purpose', async () => {
    const auditor = actor('auditor');
    const answer = await service.search(auditor, { scope: { kind: 'events', systems: [mpass.code, mpay.code] }, query: `event_correlation:${correlation}`, ...range });
    assert.equal(answer.total, 2);
    assert.deepEqual(answer.hits.map((hit) => hit.system), [mpay.code, mpass.code], 'newest first');
    assert.equal(answer.hits[0]!.systemName, `Test system ${mpay.code}`);
    assert.equal(answer.histogram!.buckets.reduce((sum, bucket) => sum + bucket.count, 0), 2);
    assert.ok(answer.histogram!.buckets.length >= 50 && answer.histogram!.buckets.length <= 100, `${answer.histogram!.buckets.length} buckets`);
    const top = answer.fields!.find((field) => field.name === 'event_correlation')!;
    assert.deepEqual(top.top, [{ value: correlation, count: 2, share: 1 }]);
    const users = answer.fields!.find((field) => field.name === 'user')!;
    assert.deepEqual(users.top, [{ value: 'alice', count: 2, share: 1 }]);

    const [record] = await auditRecords(auditor.sessionId);
    assert.equal(record!.event_type, 'MLog.Admin.Query');
    assert.equal(record!.user, auditor.username);
    assert.equal(record!.admin_role, 'auditor');
    assert.equal(record!.action, 'search');
    assert.equal(record!.purpose_legal_basis, purpose.legal_basis);
    assert.equal(record!.purpose_reason, purpose.reason);
    assert.equal(record!.query, `event_correlation:${correlation}`);
    assert.equal(record!.scope, 'events');
    assert.deepEqual(record!.scope_systems, [mpass.code, mpay.code]);
    assert.equal(record!.result_count, 2);
    assert.equal(record!.time_from, range.from);
    assert.equal(typeof record!.duration_ms, 'number');
  });

  test('pages follow one another with the cursor, each hit once, newest first', async () => {
    const auditor = actor('auditor');
    const seen: string[] = [];
    let cursor: string | undefined;
    let total = 0;
    do {
      const page = await service.search(auditor, { scope: { kind: 'events', systems: [mpass.code] }, query: '', ...range, size: 3, ...(cursor === undefined ? {} : { after: cursor }) });
      total = page.total;
      seen.push(...page.hits.map((hit) => hit.id));
      cursor = page.cursor;
    } while (cursor !== undefined);
    assert.equal(total, 8);
    assert.equal(seen.length, 8);
    assert.equal(new Set(seen).size, 8);
    assert.equal((await auditRecords(auditor.sessionId)).length, 3, 'each page is a reading');
  });

  test('an altered or foreign cursor is refused as bad input (400), never 500', async () => {
    const auditor = actor('auditor');
    const first = await service.search(auditor, { scope: { kind: 'events', systems: [mpass.code] }, query: '', ...range, size: 2 });
    const cursor = JSON.parse(Buffer.from(first.cursor!, 'base64url').toString('utf8'));
    const altered = [
      'not-a-cursor',
      Buffer.from(JSON.stringify({ pit: cursor.pit, sort: ['yesterday'] })).toString('base64url'),
      Buffer.from(JSON.stringify({ pit: cursor.pit, sort: [{}] })).toString('base64url'),
    ];
    for (const after of altered) {
      await assert.rejects(service.search(auditor, { scope: { kind: 'events', systems: [mpass.code] }, query: '', ...range, size: 2, after }), (error: unknown) => {
        assert.equal((error as { status?: number }).status, 400, `${after}: ${(error as Error).message}`);
        return true;
      });
    }
  });

  test('a cursor carried into another scope reads nothing outside that scope', async () => {
    const auditor = actor('auditor');
    const events = await service.search(auditor, { scope: { kind: 'events', systems: [] }, query: '', ...range, size: 1 });
    assert.ok(events.cursor !== undefined);
    const audit = await service.search(auditor, { scope: { kind: 'audit' }, query: '', ...range, size: 50, after: events.cursor });
    assert.deepEqual(audit.hits.filter((hit) => hit.index !== 'mlog_audit').map((hit) => hit.index), []);
    const chosen = await service.search(auditor, { scope: { kind: 'events', systems: [mpay.code] }, query: '', ...range, size: 50, after: events.cursor });
    assert.deepEqual(chosen.hits.filter((hit) => hit.system !== mpay.code).map((hit) => hit.system), []);
  });

  test('a malformed query is refused with its column; an unknown field names the closest known ones', async () => {
    await assert.rejects(service.search(actor('auditor'), { scope: { kind: 'events', systems: [] }, query: 'user:(alice or', ...range }), (error: unknown) => {
      assert.ok(error instanceof QuerySyntaxError);
      assert.equal(error.column, 15);
      return true;
    });
    await assert.rejects(service.search(actor('auditor'), { scope: { kind: 'events', systems: [mpass.code] }, query: 'usr:alice', ...range }), (error: unknown) => {
      assert.ok(error instanceof QuerySyntaxError);
      assert.ok(error.suggestions?.includes('user'), JSON.stringify(error.suggestions));
      return true;
    });
  });

  test('a viewer is refused and the attempt is recorded; a reading without a purpose is refused', async () => {
    const viewer = actor('viewer');
    await assert.rejects(service.search(viewer, { scope: { kind: 'events' }, query: '', ...range }), ForbiddenError);
    const [record] = await auditRecords(viewer.sessionId);
    assert.equal(record!.outcome, 'refused');
    assert.equal(record!.admin_role, 'viewer');
    const silent = actor('auditor', false);
    await assert.rejects(service.search(silent, { scope: { kind: 'events' }, query: '', ...range }), PreconditionRequiredError);
    await assert.rejects(service.correlate(silent, 'event_correlation', correlation), PreconditionRequiredError);
  });

  test('when the reading cannot be recorded, no result is given (503)', async () => {
    const unreachable = new Client({ node: 'http://127.0.0.1:1', maxRetries: 0, requestTimeout: 2_000 });
    const blind = new ConsoleSearchService(new ElasticsearchConsoleSearchStore(inspectionClient()), new ElasticsearchAuditLog(unreachable), mlog.mlog.registry, createLogger('error', true));
    await assert.rejects(blind.search(actor('auditor'), { scope: { kind: 'events' }, query: '', ...range }), StorageUnavailableError);
    await assert.rejects(blind.correlate(actor('auditor'), 'event_correlation', correlation), StorageUnavailableError);
    const file = await blind.export(actor('auditor'), { scope: { kind: 'events' }, query: '', ...range, format: 'csv' }).catch((error: unknown) => error);
    assert.ok(file instanceof StorageUnavailableError, 'the export is refused before its first row');
    await unreachable.close();
  });

  test('a document shows its signature verified now; an unsigned one says so', async () => {
    const auditor = actor('auditor');
    const page = await service.search(auditor, { scope: { kind: 'events', systems: [mpass.code] }, query: '', ...range, size: 50 });
    const signed = page.hits.find((hit) => hit.source['@signed'] === true)!;
    const unsigned = page.hits.find((hit) => hit.source['@signed'] === false)!;
    const shown = await service.document(auditor, signed.index, signed.id);
    assert.equal(shown.signature.status, 'valid');
    assert.equal(shown.signature.kid, mpass.certificate.serialHex.replace(/^0+/, '') || '0');
    assert.equal(typeof shown.jws, 'string');
    assert.equal((await service.document(auditor, unsigned.index, unsigned.id)).signature.status, 'unsigned');
    const records = await auditRecords(auditor.sessionId);
    assert.deepEqual(records.map((record) => record.action), ['search', 'document', 'document']);
    assert.equal(records[1]!.document_id, signed.id);
    assert.equal(records[1]!.signature, 'valid');
  });

  test('a document of an index the console does not read is not found', async () => {
    await assert.rejects(service.document(actor('auditor'), 'mlog_systems', mpass.code), /no document/);
  });

  test('surrounding events are the same system’s just before and after, by event_time', async () => {
    const auditor = actor('auditor');
    const page = await service.search(auditor, { scope: { kind: 'events', systems: [mpass.code] }, query: 'event_id:p4', ...range });
    const middle = page.hits[0]!;
    const around = await service.surrounding(auditor, middle.index, middle.id, '2');
    assert.deepEqual(around.before.map((hit) => hit.source.event_id), ['p2', 'p3']);
    assert.deepEqual(around.after.map((hit) => hit.source.event_id), ['p5', 'p6']);
    assert.ok([...around.before, ...around.after].every((hit) => hit.system === mpass.code));
  });

  test('a correlation follows the value across systems in event_time order, with the time between steps', async () => {
    const auditor = actor('auditor');
    const { steps } = await service.correlate(auditor, 'event_correlation', correlation);
    assert.deepEqual(steps.map((step) => step.hit.system), [mpass.code, mpay.code]);
    assert.deepEqual(steps.map((step) => step.gapMs), [null, 5_000]);
    assert.equal(steps[1]!.systemName, `Test system ${mpay.code}`);
    const [record] = await auditRecords(auditor.sessionId);
    assert.equal(record!.action, 'correlation');
    assert.equal(record!.correlation_value, correlation);
    assert.equal(record!.result_count, 2);
  });

  for (const format of ['csv', 'ndjson'] as const) {
    test(`an export as ${format} holds every row and ends with the statement of its query, count and SHA-256`, async () => {
      const auditor = actor('auditor');
      const file = await service.export(auditor, { scope: { kind: 'events', systems: [mpass.code, mpay.code] }, query: 'not event_type:MPass.Login', ...range, format });
      const text = await collect(file.body);
      const lines = text.split('\n');
      assert.equal(lines.pop(), '', 'the file ends with a newline');
      const last = lines.pop()!;
      const statement = JSON.parse(format === 'csv' ? last.replace(/^# /, '') : last).mlog_export;
      const rows = format === 'csv' ? lines.length - 1 : lines.length;
      assert.equal(rows, 8);
      assert.equal(statement.rows, 8);
      assert.equal(statement.query, 'not event_type:MPass.Login');
      assert.equal(statement.from, range.from);
      const body = `${lines.join('\n')}\n`;
      assert.equal(statement.sha256, createHash('sha256').update(body).digest('hex'));
      if (format === 'csv') assert.equal(lines[0], 'event_time,@is,event_type,event_id,event_correlation,user,subject,object,event_message');
      else assert.ok(lines.every((line) => JSON.parse(line).source.event_type !== 'MPass.Login'));
      const records = await auditRecords(auditor.sessionId);
      assert.deepEqual(records.map((record) => record.outcome), ['started', 'answered']);
      assert.equal(records[1]!.export_rows, 8);
      assert.equal(records[1]!.export_sha256, statement.sha256);
      assert.equal(records[1]!.export_format, format);
    });
  }

  test('the audit trail shows the readings, to an auditor', async () => {
    const auditor = actor('auditor');
    await service.search(auditor, { scope: { kind: 'events' }, query: `event_correlation:${correlation}`, ...range });
    await inspectionClient().indices.refresh({ index: 'mlog_audit' });
    const trail = await service.auditTrail(auditor, { query: `session_id:${auditor.sessionId}`, from: range.from, to: range.to });
    assert.deepEqual(trail.hits.map((hit) => hit.source.action), ['search']);
    assert.equal(trail.hits[0]!.source.purpose_reason, purpose.reason);
    await assert.rejects(service.auditTrail(actor('viewer'), {}), ForbiddenError);
  });

  test('the audit trail also shows the runs of mlog verify and the listings of refused calls, not the jobs\' records', async () => {
    const audit = new ElasticsearchAuditLog(inspectionClient());
    const user = `cli by operator-${randomBytes(3).toString('hex')} on host`;
    await audit.record({ event_type: 'MLog.Evidence.VerifyStarted', event_message: 'mlog verify started', user });
    await audit.record({ event_type: 'MLog.Rejection.Listed', event_message: 'refused calls listed', user });
    await audit.record({ event_type: 'MLog.Retention.IndexDeleted', event_message: 'index deleted by retention', user });
    const trail = await service.auditTrail(actor('auditor'), { query: `user:"${user}"`, from: range.from, to: range.to });
    assert.deepEqual(trail.hits.map((hit) => hit.source.event_type).sort(), ['MLog.Evidence.VerifyStarted', 'MLog.Rejection.Listed']);
  });

  test('paging and export go past 10,000 hits', async () => {
    const code = `big-${randomBytes(3).toString('hex')}`;
    const index = `mlog-${code}-2026.01`;
    const count = 10_050;
    const start = Date.parse('2026-01-10T00:00:00Z');
    try {
      for (let offset = 0; offset < count; offset += 5_000) {
        const operations = Array.from({ length: Math.min(5_000, count - offset) }, (_, i) => [
          { index: { _index: index, _id: `d${offset + i}` } },
          { event_time: new Date(start + (offset + i) * 1000).toISOString(), event_type: 'Bulk.Event', '@is': code, '@id': `d${offset + i}`, user: `u${(offset + i) % 7}` },
        ]).flat();
        const response = await inspectionClient().bulk({ operations, refresh: 'wait_for' });
        assert.equal(response.errors, false);
      }
      const auditor = actor('auditor');
      const scope = { kind: 'events', systems: [code] };
      const january = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' };
      const seen = new Set<string>();
      let cursor: string | undefined;
      do {
        const page = await service.search(auditor, { scope, query: '', ...january, size: 500, fields: false, histogram: false, ...(cursor === undefined ? {} : { after: cursor }) });
        assert.equal(page.total, count);
        for (const hit of page.hits) seen.add(hit.id);
        cursor = page.cursor;
      } while (cursor !== undefined);
      assert.equal(seen.size, count);
      const file = await service.export(auditor, { scope, query: 'user:u3 or user:u4', ...january, format: 'ndjson' });
      const lines = (await collect(file.body)).trimEnd().split('\n');
      const statement = JSON.parse(lines.pop()!).mlog_export;
      const expected = Array.from({ length: count }, (_, i) => i % 7).filter((user) => user === 3 || user === 4).length;
      assert.equal(lines.length, expected);
      assert.equal(statement.rows, expected);
      assert.equal(new Set(lines.map((line) => JSON.parse(line).id)).size, expected);
    } finally {
      await inspectionClient().indices.delete({ index, expand_wildcards: 'none' }, { ignore: [404] });
    }
  });

  test('a deleted system’s events stay searchable, shown with its code', async () => {
    assert.equal((await mlog.callAdmin(`/admin/systems/${mpay.code}`, { method: 'DELETE' })).status, 200);
    mlog.mlog.registry.invalidate();
    const auditor = actor('auditor');
    const answer = await service.search(auditor, { scope: { kind: 'events', systems: [mpay.code] }, query: '', ...range });
    assert.equal(answer.total, 1);
    assert.equal(answer.hits[0]!.system, mpay.code);
    assert.equal(answer.hits[0]!.systemName, undefined);
    const shown = await service.document(auditor, answer.hits[0]!.index, answer.hits[0]!.id);
    assert.equal(shown.signature.status, 'certificate-not-registered');
  });
});
