/**
 * Onboarding end to end: an IS in staging sends events over real mutual TLS, the administrators read
 * its conformance report through the admin API, and activation moves it to active (refused while the
 * report has findings, unless forced), recorded as an MLog.System.Activated audit event.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

const LOGIN = 'Onb.User.Login';
const ACCESS = 'Onb.PersonalData.Access';
const LOGOUT = 'Onb.User.Logout';
const DEBUG = 'Onb.Debug';

function ok(answer: HttpAnswer, status = 200): any {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.json.status, String(status));
  assert.match(String(answer.json.timestamp), /^\d{13}$/);
  return answer.json;
}

async function activationEvents(code: string): Promise<Record<string, any>[]> {
  const client = inspectionClient();
  await client.indices.refresh({ index: 'mlog_audit', ignore_unavailable: true });
  const found = await client.search<Record<string, any>>({
    index: 'mlog_audit',
    ignore_unavailable: true,
    allow_no_indices: true,
    query: { bool: { filter: [{ term: { event_type: 'MLog.System.Activated' } }, { term: { is: code } }] } },
  });
  return found.hits.hits.map((hit) => hit._source as Record<string, any>);
}

describe('onboarding: conformance report and activation (admin API)', () => {
  let mlog: TestMLog;
  let staging: TestSystem;
  let report: any;

  before(async () => {
    mlog = await TestMLog.start();
    staging = await mlog.addSystem({ status: 'staging', event_types: [LOGIN, ACCESS, LOGOUT] });
    // An IS whose code extends this one: its indices and fields must never reach the report.
    const extension = await mlog.addSystem({ code: `${staging.code}-ext`, status: 'staging', event_types: [LOGIN] });
    assert.equal((await extension.register(event({ event_type: 'Ext.Only', ext_field: 'x' }))).status, 200);

    const signed = await staging.sign(event({ event_type: LOGIN, user: '2000000000001', legal_basis: 'Law 1' }));
    const batch = [
      signed,
      JSON.stringify(event({ event_type: LOGIN, user: '2000000000002', colour: 'blue' })),
      JSON.stringify(event({ event_type: ACCESS, user: 2000000000003, legal_basis: 'Law 2', subject: '2000000000009' })),
      JSON.stringify(event({ event_type: ACCESS, user: '2000000000004', legal_basis: 'Law 2', order: { id: 'o-1', lines: 3 } })),
      JSON.stringify(event({ event_type: DEBUG, event_message: 'debugging' })),
    ].join('\n');
    const registered = await staging.register(batch);
    assert.equal(registered.status, 200, registered.text);
    // A query of the IS is registered as MLog.ClientQuery: counted apart, never "undeclared".
    assert.equal((await staging.call(`/query/${registered.json.UID}?legal_basis=Onboarding`)).status, 200);

    // Refused calls: two bad events (400) and one signature with a key that is not the IS's (401).
    assert.equal((await staging.register(event({ event_time: 'yesterday' }))).status, 400);
    assert.equal((await staging.register({ event_time: new Date().toISOString() })).status, 400);
    const stranger = await mlog.issueCertificate('onboarding-stranger');
    assert.equal((await staging.register(await staging.sign(event({ event_type: LOGIN }), { certificate: stranger }))).status, 401);

    // Rejections are written in bulk about once a second: wait until the three are in the report.
    for (let attempt = 0; attempt < 40; attempt++) {
      report = ok(await mlog.callAdmin(`/admin/systems/${staging.code}/conformance`)).report;
      if (report.refused_calls.total >= 3) break;
      await sleep(250);
    }
  });

  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  test('counts each declared type; a declared type never seen is a finding', () => {
    assert.deepEqual(report.system.declared_event_types, [LOGIN, ACCESS, LOGOUT]);
    assert.equal(report.system.status, 'staging');
    assert.deepEqual(report.event_types.declared, [
      { event_type: LOGIN, count: 2 },
      { event_type: ACCESS, count: 2 },
      { event_type: LOGOUT, count: 0 },
    ]);
    assert.ok(report.findings.some((f: any) => f.code === 'declared-not-seen' && f.event_type === LOGOUT));
    assert.equal(report.period.field, '@received');
    assert.equal(Date.parse(report.period.to) - Date.parse(report.period.from), 30 * 86_400_000, 'default period: the last 30 days');
  });

  test('lists types seen but not declared, leaving out MLog.ClientQuery records', () => {
    assert.deepEqual(report.event_types.undeclared, [{ event_type: DEBUG, count: 1 }]);
    assert.deepEqual(report.events, { total: 5, client_queries: 1 });
    assert.ok(report.findings.some((f: any) => f.code === 'undeclared-type' && f.event_type === DEBUG && f.count === 1));
  });

  test('lists fields outside the predefined list with counts and the shape of an example, only its own', () => {
    assert.deepEqual(report.non_standard_fields, [
      { field: 'colour', count: 1, example_shape: 'string', nested_fields: [] },
      { field: 'order', count: 1, example_shape: 'object', nested_fields: ['order.id', 'order.lines'] },
    ]);
    assert.deepEqual(
      report.findings.filter((f: any) => f.code === 'non-standard-field').map((f: any) => f.field),
      ['colour', 'order'],
    );
    assert.ok(!JSON.stringify(report).includes('ext_field'), 'an IS whose code extends this one stays out');
    assert.ok(!JSON.stringify(report).includes('blue'), 'values never reach the report');
  });

  test('finds a predefined field sent as a number, checked on every candidate', () => {
    const user = report.predefined_field_types.fields.find((entry: any) => entry.field === 'user');
    assert.deepEqual(user, { field: 'user', candidates: 4, inspected: 4, wrong: 1, wrong_shapes: ['number'], sampled: false });
    const finding = report.findings.find((f: any) => f.code === 'wrong-type');
    assert.equal(finding.field, 'user');
    assert.match(finding.message, /"user" must be a string, but 1 event sent it as number/);
    assert.equal(report.sampled, false);
  });

  test('finds PersonalData events lacking subject', () => {
    assert.deepEqual(report.personal_data.by_event_type, [
      { event_type: ACCESS, count: 2, missing_any: 1, missing: { subject: 1, legal_basis: 0, user: 0 } },
    ]);
    assert.ok(report.findings.some((f: any) => f.code === 'personaldata-missing-fields' && f.event_type === ACCESS && f.count === 1));
  });

  test('counts signed, unsigned and refused signatures; lists refused calls by reason', () => {
    assert.deepEqual(report.signatures, { require_signature: false, signed: 1, unsigned: 4, refused: 1 });
    assert.equal(report.refused_calls.total, 3);
    assert.deepEqual(report.refused_calls.by_status, [
      { status: 400, count: 2 },
      { status: 401, count: 1 },
    ]);
    const reasons = report.refused_calls.by_reason.map((entry: any) => entry.reason).join('\n');
    assert.match(reasons, /event_time "yesterday" is not in the form/);
    assert.match(reasons, /event_type is missing/);
    assert.deepEqual(report.refused_calls.by_path, [{ path: '/register', count: 3 }]);
    const refused = report.findings.find((f: any) => f.code === 'refused-calls');
    assert.equal(refused.count, 3);
    assert.ok(!report.findings.some((f: any) => /unsigned/i.test(f.message)), 'unsigned events are not a finding');
  });

  test('from and to select the registrations of a period; bad values are 400, an unknown IS 404', async () => {
    const future = ok(await mlog.callAdmin(`/admin/systems/${staging.code}/conformance?from=2099-01-01&to=2099-02-01T00:00:00Z`)).report;
    assert.deepEqual(future.period, { from: '2099-01-01T00:00:00.000Z', to: '2099-02-01T00:00:00.000Z', field: '@received' });
    assert.equal(future.events.total, 0);
    assert.equal(future.refused_calls.total, 0);
    assert.deepEqual(future.non_standard_fields, []);
    assert.deepEqual(future.findings.map((f: any) => f.code), ['declared-not-seen', 'declared-not-seen', 'declared-not-seen']);

    const cases: [string, RegExp][] = [
      ['from=yesterday', /from "yesterday" is not in the form YYYY-MM-dd/],
      ['to=2026-02-30', /to "2026-02-30" is not a real date/],
      ['from=2026-01-02&to=2026-01-01', /must be before to/],
      ['from=2026-01-01&from=2026-01-02', /from is given 2 times/],
      ['since=2026-01-01', /since is not known here/],
    ];
    for (const [query, pattern] of cases) {
      const answer = await mlog.callAdmin(`/admin/systems/${staging.code}/conformance?${query}`);
      assert.equal(answer.status, 400, `${query}: ${answer.text}`);
      assert.match(answer.json.message, pattern);
    }
    const unknown = await mlog.callAdmin('/admin/systems/no-such-system-x/conformance');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.message, /No information system has the code "no-such-system-x"/);
    assert.equal((await mlog.callAdmin('/admin/systems/no-such-system-x/activate', { method: 'POST' })).status, 404);
  });

  test('activation with findings: 409 listing them, the IS stays in staging; with force it is active and recorded', async () => {
    const refused = await mlog.callAdmin(`/admin/systems/${staging.code}/activate`, { method: 'POST' });
    const body = ok(refused, 409);
    assert.match(body.message, /stays in staging: .* has \d+ findings; send \{"force": true\}/);
    assert.deepEqual(
      [...new Set(body.findings.map((f: any) => f.code))],
      ['declared-not-seen', 'undeclared-type', 'non-standard-field', 'wrong-type', 'personaldata-missing-fields', 'refused-calls'],
    );
    assert.equal(ok(await mlog.callAdmin(`/admin/systems/${staging.code}`)).system.status, 'staging');
    assert.deepEqual(await activationEvents(staging.code), []);

    const badBody = await mlog.callAdmin(`/admin/systems/${staging.code}/activate`, { method: 'POST', body: JSON.stringify({ force: 'yes' }) });
    assert.equal(badBody.status, 400);
    assert.match(badBody.json.message, /force must be true or false/);

    const forced = ok(await mlog.callAdmin(`/admin/systems/${staging.code}/activate`, { method: 'POST', body: JSON.stringify({ force: true, by: 'Ion Popescu' }) }));
    assert.equal(forced.system.status, 'active');
    assert.equal(forced.previous_status, 'staging');
    assert.equal(forced.forced, true);
    assert.equal(forced.findings.length, body.findings.length);
    assert.equal(ok(await mlog.callAdmin(`/admin/systems/${staging.code}`)).system.status, 'active');

    const [recorded, ...more] = await activationEvents(staging.code);
    assert.equal(more.length, 0);
    assert.equal(recorded?.user, 'admin-api (Ion Popescu)');
    assert.equal(recorded?.previous_status, 'staging');
    assert.equal(recorded?.findings_count, body.findings.length);
    assert.equal(recorded?.forced, true);
    assert.ok((recorded?.finding_codes as string[]).includes('wrong-type'));
    assert.match(recorded?.event_message, /moved from staging to active with \d+ conformance findings, forced/);

    const again = await mlog.callAdmin(`/admin/systems/${staging.code}/activate`, { method: 'POST', body: JSON.stringify({ force: true }) });
    assert.equal(again.status, 409);
    assert.match(again.json.message, /already active/);
  });

  test('a clean IS (every declared type seen, nothing else) activates without force', async () => {
    const clean = await mlog.addSystem({ status: 'staging', event_types: ['Clean.A', 'Clean.PersonalData.Access'] });
    const batch = [
      await clean.sign(event({ event_type: 'Clean.A', user: '2000000000001', event_id: 'e-1' })),
      JSON.stringify(event({ event_type: 'Clean.PersonalData.Access', user: '2000000000001', subject: '2000000000002', legal_basis: 'Law 3', user_address: ['10.0.0.1', '10.0.0.2'] })),
      // IDNPs look like numbers: more of them than the type check inspects makes it a sample, which is no finding.
      ...Array.from({ length: 110 }, (_, index) => JSON.stringify(event({ event_type: 'Clean.A', user: String(2000000000100 + index) }))),
    ].join('\n');
    assert.equal((await clean.register(batch)).status, 200);
    const cleanReport = ok(await mlog.callAdmin(`/admin/systems/${clean.code}/conformance`));
    assert.equal(cleanReport.message, 'OK: no findings.');
    assert.deepEqual(cleanReport.report.findings, []);
    const user = cleanReport.report.predefined_field_types.fields.find((entry: any) => entry.field === 'user');
    assert.deepEqual(user, { field: 'user', candidates: 112, inspected: 100, wrong: 0, wrong_shapes: [], sampled: true });
    assert.equal(cleanReport.report.sampled, true);
    assert.match(cleanReport.report.notes.join(' '), /Value types of .*user.* were checked on a sample/);

    const activated = ok(await mlog.callAdmin(`/admin/systems/${clean.code}/activate`, { method: 'POST' }));
    assert.equal(activated.system.status, 'active');
    assert.equal(activated.forced, false);
    const [recorded] = await activationEvents(clean.code);
    assert.equal(recorded?.user, 'admin-api');
    assert.equal(recorded?.findings_count, 0);
    assert.equal(recorded?.forced, false);
  });

  test('a suspended IS is reinstated only with force', async () => {
    const suspended = await mlog.addSystem({ status: 'suspended', event_types: ['S.A'] });
    const refused = await mlog.callAdmin(`/admin/systems/${suspended.code}/activate`, { method: 'POST' });
    assert.equal(refused.status, 409);
    assert.match(refused.json.message, /is suspended, not in staging/);
    const forced = ok(await mlog.callAdmin(`/admin/systems/${suspended.code}/activate`, { method: 'POST', body: '{"force":true}' }));
    assert.equal(forced.system.status, 'active');
    assert.equal(forced.previous_status, 'suspended');
    assert.equal(forced.forced, true);
    assert.equal((await activationEvents(suspended.code))[0]?.previous_status, 'suspended');
  });
});
