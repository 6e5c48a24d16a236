import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestMLog, uniqueCode } from '../helpers/test-mlog.js';

describe('administration API: /admin/systems', () => {
  let mlog: TestMLog;
  let certificatePem: string;
  before(async () => {
    mlog = await TestMLog.start();
    certificatePem = (await mlog.issueCertificate(uniqueCode('admin'))).certPem;
  });
  after(async () => {
    await mlog.stop();
  });

  const newSystem = (code: string, fields: Record<string, unknown> = {}) =>
    JSON.stringify({ code, name: 'MPass', idno: '1003600000000', certificates: [certificatePem], ...fields });

  test('refuses calls without the bearer token, or with a wrong one', async () => {
    const none = await mlog.callAdmin('/admin/systems', { token: null });
    assert.equal(none.status, 401);
    assert.equal(none.json.status, '401');
    assert.match(none.json.message, /Bearer/);
    const wrong = await mlog.callAdmin('/admin/systems', { token: 'x'.repeat(48) });
    assert.equal(wrong.status, 401);
  });

  test('adds, reads, lists, changes and removes an IS', async () => {
    const code = uniqueCode('mpass');
    const created = await mlog.callAdmin('/admin/systems', {
      method: 'POST',
      body: newSystem(code, { allowed_addresses: ['10.0.0.0/8'], event_types: ['MPass.User.Authenticated'], permissions: ['personaldata:read'], retention_months: 24 }),
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.status, '201');
    const system = created.json.system;
    assert.equal(system.code, code);
    assert.equal(system.status, 'staging', 'a new IS starts in staging');
    assert.equal(system.require_signature, false);
    assert.deepEqual(system.permissions, ['personaldata:read']);
    assert.equal(system.retention_months, 24);
    assert.match(system.certificates[0].serial, /^[0-9a-f]+$/);
    assert.equal(system.certificates[0].pem, undefined, 'answers carry no PEM bodies');

    const read = await mlog.callAdmin(`/admin/systems/${code}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.json.system, system);

    const list = await mlog.callAdmin('/admin/systems');
    assert.ok(list.json.systems.some((entry: { code: string }) => entry.code === code));

    const changed = await mlog.callAdmin(`/admin/systems/${code}`, { method: 'PATCH', body: JSON.stringify({ status: 'active', require_signature: true }) });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.system.status, 'active');
    assert.equal(changed.json.system.require_signature, true);
    assert.equal(changed.json.system.retention_months, 24, 'fields not named stay as they were');

    const removed = await mlog.callAdmin(`/admin/systems/${code}`, { method: 'DELETE' });
    assert.equal(removed.status, 200);
    assert.equal((await mlog.callAdmin(`/admin/systems/${code}`)).status, 404);
    assert.equal((await mlog.callAdmin(`/admin/systems/${code}`, { method: 'DELETE' })).status, 404);
  });

  test('refuses a duplicate code and a certificate already registered to another IS with 409', async () => {
    const code = uniqueCode('dup');
    assert.equal((await mlog.callAdmin('/admin/systems', { method: 'POST', body: newSystem(code) })).status, 201);
    const again = await mlog.callAdmin('/admin/systems', { method: 'POST', body: newSystem(code) });
    assert.equal(again.status, 409);
    assert.match(again.json.message, /already registered/);
    const otherCode = uniqueCode('dup');
    const sameCertificate = await mlog.callAdmin('/admin/systems', { method: 'POST', body: newSystem(otherCode) });
    assert.equal(sameCertificate.status, 409);
    assert.match(sameCertificate.json.message, new RegExp(`already registered to information system "${code}"`));
  });

  test('explains each invalid field with 400', async () => {
    const cases: [string, RegExp][] = [
      [newSystem('Bad_Code'), /code must match/],
      [newSystem(uniqueCode('v'), { status: 'live' }), /status must be one of staging, active, suspended/],
      [newSystem(uniqueCode('v'), { certificates: ['not a certificate'] }), /certificates\[0\] is not an X\.509 certificate/],
      [newSystem(uniqueCode('v'), { allowed_addresses: ['10.0.0.0/33'] }), /not an IP address or CIDR/],
      [newSystem(uniqueCode('v'), { permissions: ['everything'] }), /permissions\[0\] must be one of personaldata:read/],
      [newSystem(uniqueCode('v'), { name: '' }), /^The information system name must not be empty\.$/],
      [newSystem(uniqueCode('v'), { event_types: ['A', 7] }), /^The information system event_types\[1\] must be a string\.$/],
      [newSystem(uniqueCode('v'), { event_types: ['A', 'B', 'A'] }), /^The information system event_types holds the same value twice \(items 0 and 2\)\.$/],
      [newSystem(uniqueCode('v'), { retention_months: 1.5 }), /^The information system retention_months must be a whole number\.$/],
      [newSystem(uniqueCode('v'), { retention_months: 0 }), /^The information system retention_months must be at least 1\.$/],
      [newSystem(uniqueCode('v'), { certificates: [] }), /^The information system certificates must hold at least 1 item\.$/],
      [newSystem(uniqueCode('v'), { colour: 'blue' }), /"colour" is not a field/],
      [JSON.stringify({ code: uniqueCode('v') }), /name is missing/],
      ['{not json', /not valid JSON/],
    ];
    for (const [body, pattern] of cases) {
      const answer = await mlog.callAdmin('/admin/systems', { method: 'POST', body });
      assert.equal(answer.status, 400, `${body.slice(0, 60)} → ${answer.text}`);
      assert.equal(answer.json.status, '400');
      assert.match(answer.json.message, pattern);
    }
    const emptyChange = await mlog.callAdmin(`/admin/systems/${uniqueCode('v')}`, { method: 'PATCH', body: '{}' });
    assert.equal(emptyChange.status, 400);
  });

  test('refuses a code ending in "-" with 400 and registers nothing; codes with inner hyphens stay valid', async () => {
    const code = `${uniqueCode('trail')}-`;
    const answer = await mlog.callAdmin('/admin/systems', { method: 'POST', body: newSystem(code) });
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.json.status, '400');
    assert.match(answer.json.message, /code must match .*ending with a letter or digit/);
    assert.equal((await mlog.callAdmin(`/admin/systems/${code}`)).status, 404, 'nothing registered');
    const inner = `${uniqueCode('in')}--x`;
    const certificate = await mlog.issueCertificate(inner);
    const accepted = await mlog.callAdmin('/admin/systems', { method: 'POST', body: JSON.stringify({ code: inner, name: 'Inner', idno: '1003600000000', certificates: [certificate.certPem] }) });
    assert.equal(accepted.status, 201, accepted.text);
  });

  test('refuses a CA certificate (basicConstraints CA:TRUE) as a system certificate with 400 naming it, on POST and PATCH', async () => {
    const flagged = await mlog.issueCertificate(uniqueCode('ca-flagged'), { certificateAuthority: true });
    for (const [label, pem, subject] of [
      ['the test CA', mlog.ca.certPem, 'MLog Test CA'],
      ['a CA:TRUE certificate without keyCertSign', flagged.certPem, 'ca-flagged'],
    ] as const) {
      const code = uniqueCode('caroot');
      const answer = await mlog.callAdmin('/admin/systems', { method: 'POST', body: newSystem(code, { certificates: [certificatePem, pem] }) });
      assert.equal(answer.status, 400, `${label}: ${answer.text}`);
      assert.equal(answer.json.status, '400');
      assert.match(answer.json.message, /certificates\[1\]/);
      assert.match(answer.json.message, /CA certificate \(basicConstraints CA:TRUE\)/);
      assert.ok(answer.json.message.includes(subject), answer.json.message);
      assert.equal((await mlog.callAdmin(`/admin/systems/${code}`)).status, 404, `${label}: nothing registered`);
    }
    const code = uniqueCode('capatch');
    const own = await mlog.issueCertificate(code);
    const created = await mlog.callAdmin('/admin/systems', { method: 'POST', body: JSON.stringify({ code, name: 'Patch', idno: '1003600000000', certificates: [own.certPem] }) });
    assert.equal(created.status, 201, created.text);
    const patched = await mlog.callAdmin(`/admin/systems/${code}`, { method: 'PATCH', body: JSON.stringify({ certificates: [mlog.ca.certPem] }) });
    assert.equal(patched.status, 400, patched.text);
    assert.match(patched.json.message, /certificates\[0\].*CA:TRUE/);
    const read = await mlog.callAdmin(`/admin/systems/${code}`);
    assert.equal(read.json.system.certificates[0].fingerprint256, own.fingerprint256, 'the certificates stay as they were');
  });

  test('health, readiness and metrics', async () => {
    const health = await mlog.callAdmin('/healthz', { token: null });
    assert.equal(health.status, 200);
    const ready = await mlog.callAdmin('/readyz', { token: null });
    assert.equal(ready.status, 200, ready.text);
    const metrics = await mlog.callAdmin('/metrics', { token: null });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /mlog_http_requests_total/);
    assert.match(metrics.text, /mlog_process_resident_memory_bytes/);
  });
});
