/**
 * The console's reading of the record through its door: HTTP on the admin listener with a signed-in
 * session (cookie and CSRF token), over events that MPass and MPay registered through mutual TLS.
 * Each reading is then found in mlog_audit with its purpose.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { closeInspectionClient, inspectionClient, whileAuditRefusesWrites } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type ConsoleClient, type TestSystem } from '../helpers/test-mlog.js';

const correlation = `corr-${randomBytes(6).toString('hex')}`;
const purpose = { legal_basis: 'Law 133/2011 art. 5', reason: `case ${randomBytes(3).toString('hex')}` };

async function auditOf(username: string): Promise<Record<string, any>[]> {
  await inspectionClient().indices.refresh({ index: 'mlog_audit' });
  const answer = await inspectionClient().search<Record<string, any>>({
    index: 'mlog_audit',
    size: 100,
    query: { bool: { filter: [{ term: { user: username } }, { term: { event_type: 'MLog.Admin.Query' } }] } },
    sort: [{ event_time: 'asc' }],
  });
  return answer.hits.hits.map((hit) => hit._source!);
}

describe('the console reading the record through HTTP', () => {
  let mlog: TestMLog;
  let mpass: TestSystem;
  let mpay: TestSystem;
  let auditor: ConsoleClient;
  const base = Date.now() - 10 * 60_000;
  const at = (seconds: number): string => new Date(base + seconds * 1000).toISOString();
  const range = { from: new Date(base - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
  const bothSystems = (): { kind: string; systems: string[] } => ({ kind: 'events', systems: [mpass.code, mpay.code] });

  before(async () => {
    mlog = await TestMLog.start();
    mpass = await mlog.addSystem({ code: `mpass-${randomBytes(3).toString('hex')}` });
    mpay = await mlog.addSystem({ code: `mpay-${randomBytes(3).toString('hex')}` });
    const login = await mpass.sign({ event_time: at(0), event_type: 'MPass.Login', user: 'alice', event_correlation: correlation, event_message: 'Login succeeded for alice' });
    assert.equal((await mpass.register(login)).status, 200);
    for (let i = 1; i <= 6; i++) {
      const answer = await mpass.register({ event_time: at(i * 10), event_type: 'MPass.Check', user: 'bob', event_id: `p${i}`, event_message: `check ${i}` });
      assert.equal(answer.status, 200, answer.text);
    }
    const payment = { event_time: at(7), event_type: 'MPay.Payment', user: 'alice', event_correlation: correlation, event_message: 'Payment of 100 MDL' };
    assert.equal((await mpay.register(payment)).status, 200);
    await inspectionClient().indices.refresh({ index: 'mlog-*' });
    auditor = await mlog.signedInAs('auditor');
    await auditor.statePurpose(purpose);
  });

  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  test('a search answers hits, histogram and field tops, and is recorded with its purpose', async () => {
    const answer = await auditor.post('/search', { scope: bothSystems(), query: `event_correlation:${correlation}`, ...range });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.total, 2);
    assert.deepEqual(answer.json.hits.map((hit: any) => hit.system), [mpay.code, mpass.code]);
    assert.equal(answer.json.hits[1].systemName, `Test system ${mpass.code}`);
    assert.equal(answer.json.histogram.buckets.reduce((sum: number, bucket: any) => sum + bucket.count, 0), 2);
    assert.deepEqual(answer.json.fields.find((field: any) => field.name === 'user').top, [{ value: 'alice', count: 2, share: 1 }]);
    const record = (await auditOf(auditor.session.username)).find((each) => each.query === `event_correlation:${correlation}`);
    assert.ok(record, 'the search is in mlog_audit');
    assert.equal(record.action, 'search');
    assert.equal(record.event_message, `${auditor.session.username} (auditor) searched the record in the console`);
    assert.equal(record.admin_role, 'auditor');
    assert.equal(record.purpose_legal_basis, purpose.legal_basis);
    assert.equal(record.purpose_reason, purpose.reason);
    assert.equal(record.result_count, 2);
  });

  test('the histogram counts every hit when the range does not start on a bucket boundary', async () => {
    // 100 minutes ending just after the newest check: one-minute buckets, the range starting part way
    // into a minute, and the newest event in the last, partial bucket.
    const to = base + 60_001;
    const answer = await auditor.post('/search', { scope: { kind: 'events', systems: [mpass.code] }, query: '', from: new Date(to - 100 * 60_000).toISOString(), to: new Date(to).toISOString() });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.total, 7);
    assert.equal(answer.json.histogram.interval, '1m');
    assert.equal(answer.json.histogram.buckets.reduce((sum: number, bucket: any) => sum + bucket.count, 0), 7);
  });

  test('paging past the first page with the cursor', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await auditor.post('/search', { scope: { kind: 'events', systems: [mpass.code] }, query: '', ...range, size: 3, ...(cursor === undefined ? {} : { after: cursor }) });
      assert.equal(page.status, 200, page.text);
      ids.push(...page.json.hits.map((hit: any) => hit.id));
      cursor = page.json.cursor;
    } while (cursor !== undefined);
    assert.equal(ids.length, 7);
    assert.equal(new Set(ids).size, 7);
  });

  test('a signed document shows "valid", an unsigned one "unsigned"; surrounding events are its neighbours', async () => {
    const page = await auditor.post('/search', { scope: { kind: 'events', systems: [mpass.code] }, query: '', ...range });
    const signed = page.json.hits.find((hit: any) => hit.source['@signed'] === true);
    const middle = page.json.hits.find((hit: any) => hit.source.event_id === 'p3');
    const shown = await auditor.get(`/documents/${signed.index}/${signed.id}`);
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.json.signature.status, 'valid');
    assert.equal(typeof shown.json.jws, 'string');
    assert.equal((await auditor.get(`/documents/${middle.index}/${middle.id}`)).json.signature.status, 'unsigned');
    const around = await auditor.get(`/documents/${middle.index}/${middle.id}/surrounding?size=2`);
    assert.equal(around.status, 200, around.text);
    assert.deepEqual(around.json.before.map((hit: any) => hit.source.event_id), ['p1', 'p2']);
    assert.deepEqual(around.json.after.map((hit: any) => hit.source.event_id), ['p4', 'p5']);
    const actions = (await auditOf(auditor.session.username)).map((record) => record.action);
    assert.ok(actions.includes('document') && actions.includes('surrounding'), actions.join());
  });

  test('a correlation crosses the two systems with the time between steps', async () => {
    const answer = await auditor.get(`/correlation?field=event_correlation&value=${encodeURIComponent(correlation)}`);
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.steps.map((step: any) => step.hit.system), [mpass.code, mpay.code]);
    assert.deepEqual(answer.json.steps.map((step: any) => step.gapMs), [null, 7_000]);
    assert.equal(answer.json.steps[1].systemName, `Test system ${mpay.code}`);
  });

  for (const format of ['csv', 'ndjson'] as const) {
    test(`an export as ${format} streams every row and ends with its row count and SHA-256, recorded`, async () => {
      const answer = await auditor.post('/export', { scope: bothSystems(), query: '', ...range, format });
      assert.equal(answer.status, 200, answer.text);
      assert.match(String(answer.headers['content-type']), format === 'csv' ? /^text\/csv/ : /^application\/x-ndjson/);
      assert.match(String(answer.headers['content-disposition']), /attachment; filename="mlog-events-.*\.(csv|ndjson)"/);
      const lines = answer.text.split('\n');
      assert.equal(lines.pop(), '');
      const last = lines.pop()!;
      const statement = JSON.parse(format === 'csv' ? last.replace(/^# /, '') : last).mlog_export;
      assert.equal(format === 'csv' ? lines.length - 1 : lines.length, 8);
      assert.equal(statement.rows, 8);
      assert.equal(statement.sha256, createHash('sha256').update(`${lines.join('\n')}\n`).digest('hex'));
      const records = (await auditOf(auditor.session.username)).filter((record) => record.action === 'export' && record.export_format === format);
      assert.deepEqual(records.map((record) => record.outcome), ['started', 'answered']);
      assert.equal(records[1]!.export_sha256, statement.sha256);
      assert.equal(records[1]!.export_rows, 8);
    });
  }

  test('the auditor finds their own searches in the audit trail', async () => {
    await inspectionClient().indices.refresh({ index: 'mlog_audit' });
    const trail = await auditor.get(`/audit?query=${encodeURIComponent(`user:${auditor.session.username} and action:search`)}&from=${encodeURIComponent(range.from)}`);
    assert.equal(trail.status, 200, trail.text);
    assert.ok(trail.json.hits.length >= 2);
    assert.ok(trail.json.hits.every((hit: any) => hit.source.user === auditor.session.username && hit.source.purpose_reason === purpose.reason));
  });

  test('GET /systems lists every registered system for the pickers, without a record; a viewer is refused', async () => {
    const before = (await auditOf(auditor.session.username)).length;
    const listed = await auditor.get('/systems');
    assert.equal(listed.status, 200, listed.text);
    for (const system of [mpass, mpay]) {
      assert.deepEqual(listed.json.systems.find((each: { code: string }) => each.code === system.code), { code: system.code, name: `Test system ${system.code}`, status: 'active' });
    }
    const codes = listed.json.systems.map((each: { code: string }) => each.code);
    assert.deepEqual(codes, [...codes].sort((a: string, b: string) => a.localeCompare(b)), 'sorted by code');
    assert.equal((await auditOf(auditor.session.username)).length, before, 'configuration, not a reading of the record');
    const viewer = await mlog.signedInAs('viewer');
    assert.equal((await viewer.get('/systems')).status, 403);
  });

  test('a viewer is refused (403) and the attempt is recorded', async () => {
    const viewer = await mlog.signedInAs('viewer');
    await viewer.statePurpose(purpose).catch(() => undefined);
    const answer = await viewer.post('/search', { scope: bothSystems(), query: '', ...range });
    assert.equal(answer.status, 403, answer.text);
    assert.equal(answer.json.status, '403');
    assert.equal(answer.json.hits, undefined);
    const [record] = await auditOf(viewer.session.username);
    assert.equal(record?.outcome, 'refused');
    assert.equal(record?.event_message, `${viewer.session.username} (viewer) was refused searching the record in the console`);
    assert.equal(record?.admin_role, 'viewer');
  });

  test('without a purpose a reading is refused with 428', async () => {
    const silent = await mlog.signedInAs('auditor');
    const answer = await silent.post('/search', { scope: bothSystems(), query: '', ...range });
    assert.equal(answer.status, 428, answer.text);
    assert.match(answer.json.message, /State the purpose of your search first/);
    assert.equal((await silent.get(`/correlation?field=user&value=alice`)).status, 428);
  });

  test('a malformed query is 400 naming the column; an unknown field names the closest known ones', async () => {
    const malformed = await auditor.post('/search', { scope: bothSystems(), query: 'user:(alice or', ...range });
    assert.equal(malformed.status, 400, malformed.text);
    assert.equal(malformed.json.column, 15);
    assert.match(malformed.json.message, /column 15/);
    const unknown = await auditor.post('/search', { scope: bothSystems(), query: 'usr:alice', ...range });
    assert.equal(unknown.status, 400);
    assert.ok(unknown.json.suggestions.includes('user'), unknown.text);
    // @hash is kept in each document but neither indexed nor counted: a query naming it is bad input, never a 500.
    const byHash = await auditor.post('/search', { scope: bothSystems(), query: '@hash:abc', ...range });
    assert.equal(byHash.status, 400, byHash.text);
    assert.match(byHash.json.message, /@hash/);
  });

  test('with mlog_audit refusing writes, no reading is answered: 503 with the envelope, no event, nothing recorded; once it takes writes, the same reading is answered', async () => {
    const reader = await mlog.signedInAs('auditor');
    await reader.statePurpose(purpose);
    const page = await reader.post('/search', { scope: { kind: 'events', systems: [mpass.code] }, query: '', ...range });
    assert.equal(page.status, 200, page.text);
    const signed = page.json.hits.find((hit: any) => hit.source['@signed'] === true);
    const recordedBefore = (await auditOf(reader.session.username)).length;
    const refusals = await whileAuditRefusesWrites(async () => [
      await reader.post('/search', { scope: bothSystems(), query: `event_correlation:${correlation}`, ...range }),
      await reader.get(`/documents/${signed.index}/${signed.id}`),
      await reader.get(`/documents/${signed.index}/${signed.id}/surrounding?size=2`),
      await reader.get(`/correlation?field=event_correlation&value=${encodeURIComponent(correlation)}`),
      await reader.post('/export', { scope: bothSystems(), query: '', ...range, format: 'csv' }),
      await reader.get(`/audit?from=${encodeURIComponent(range.from)}`),
    ]);
    for (const refused of refusals) {
      assert.equal(refused.status, 503, refused.text);
      assert.deepEqual(Object.keys(refused.json).sort(), ['message', 'status', 'timestamp'], 'the error envelope and nothing else');
      assert.equal(refused.json.message, 'The reading could not be recorded in the audit trail, so its result is not shown; try again later.');
      assert.ok(!refused.text.includes(correlation) && !refused.text.includes('alice'), `no event in the refusal: ${refused.text}`);
    }
    assert.equal((await auditOf(reader.session.username)).length, recordedBefore, 'nothing was recorded while the audit refused writes');
    const again = await reader.post('/search', { scope: bothSystems(), query: `event_correlation:${correlation}`, ...range });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.total, 2);
    const records = await auditOf(reader.session.username);
    assert.equal(records.length, recordedBefore + 1, 'the search after the block is recorded');
    assert.equal(records.at(-1)?.query, `event_correlation:${correlation}`);
  });

  test('without the CSRF token a search is refused, without a session it is 401', async () => {
    assert.equal((await auditor.post('/search', { scope: bothSystems(), query: '', ...range }, { headers: { 'X-CSRF-Token': 'wrong' } })).status, 403);
    assert.equal((await mlog.callConsole('/search', { method: 'POST', body: { scope: bothSystems(), query: '' } })).status, 401);
  });
});
