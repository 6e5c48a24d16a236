import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createCertificateAuthority } from '../../scripts/dev-pki.js';
import { event, TestMLog, uniqueCode, type HttpAnswer } from '../helpers/test-mlog.js';

function assertEnvelope(answer: HttpAnswer, status: number, messagePattern: RegExp): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.json.status, String(status));
  assert.match(answer.json.message, messagePattern);
  assert.match(answer.json.timestamp, /^\d{13}$/);
}

describe('identifying the caller by its client certificate', () => {
  let mlog: TestMLog;
  before(async () => {
    mlog = await TestMLog.start();
  });
  after(async () => {
    await mlog.stop();
  });

  test('a registered certificate identifies its IS', async () => {
    const system = await mlog.addSystem();
    const answer = await system.register(event());
    assert.equal(answer.status, 200, answer.text);
  });

  test('no client certificate → 401', async () => {
    const answer = await mlog.callPublic('/register', { method: 'POST', body: JSON.stringify(event()) });
    assertEnvelope(answer, 401, /No client certificate/);
  });

  test('a certificate of the accepted CA that no IS registered → 401', async () => {
    const stranger = await mlog.issueCertificate(uniqueCode('stranger'));
    const answer = await mlog.callPublic('/register', { method: 'POST', body: JSON.stringify(event()), certificate: stranger });
    assertEnvelope(answer, 401, /not registered to any information system/);
  });

  test('an expired registered certificate → 401, and one not yet valid → 401', async () => {
    const system = await mlog.addSystem();
    const expired = await mlog.issueCertificate(uniqueCode('expired'), { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const future = await mlog.issueCertificate(uniqueCode('future'), { notBefore: new Date(Date.now() + 86_400_000), notAfter: new Date(Date.now() + 10 * 86_400_000) });
    const patch = await mlog.callAdmin(`/admin/systems/${system.code}`, {
      method: 'PATCH',
      body: JSON.stringify({ certificates: [system.certificate.certPem, expired.certPem, future.certPem] }),
    });
    assert.equal(patch.status, 200, patch.text);
    assertEnvelope(await system.register(event(), { certificate: expired }), 401, /expired/);
    assertEnvelope(await system.register(event(), { certificate: future }), 401, /not valid before/);
    assert.equal((await system.register(event())).status, 200);
  });

  test('a registered certificate issued by a CA that MLog does not accept → 401', async () => {
    const otherCa = await createCertificateAuthority(`${mlog.dir}/other-ca`, 'Another CA');
    const foreign = await mlog.issueCertificate(uniqueCode('foreign'), { ca: otherCa });
    const code = uniqueCode('foreign');
    const added = await mlog.callAdmin('/admin/systems', {
      method: 'POST',
      body: JSON.stringify({ code, name: 'Foreign', idno: '1', certificates: [foreign.certPem], status: 'active' }),
    });
    assert.equal(added.status, 201, added.text);
    assertEnvelope(await mlog.callPublic('/register', { method: 'POST', body: JSON.stringify(event()), certificate: foreign }), 401, /not issued by a CA that MLog accepts/);
  });

  test('a suspended IS → 403; made active again → 200', async () => {
    const system = await mlog.addSystem({ status: 'suspended' });
    assertEnvelope(await system.register(event()), 403, /suspended/);
    assertEnvelope(await system.call('/query?event_time_from=2020-01-01&event_time_to=2030-01-01&legal_basis=x'), 403, /suspended/);
    const patch = await mlog.callAdmin(`/admin/systems/${system.code}`, { method: 'PATCH', body: JSON.stringify({ status: 'active' }) });
    assert.equal(patch.status, 200);
    assert.equal((await system.register(event())).status, 200);
  });

  test('a source address outside the allowed list → 403; inside → 200', async () => {
    const system = await mlog.addSystem({ allowed_addresses: ['10.0.0.0/8', '127.0.0.2'] });
    assertEnvelope(await system.register(event()), 403, /may not call MLog from 127\.0\.0\.1/);
    const answer = await system.register(event(), { localAddress: '127.0.0.2' });
    assert.equal(answer.status, 200, answer.text);
  });

  test('a certificate registered in DER form (.cer) identifies its IS', async () => {
    const certificate = await mlog.issueCertificate(uniqueCode('der'), { der: true });
    const der = readFileSync(certificate.derPath as string);
    const code = uniqueCode('der');
    const added = await mlog.callAdmin('/admin/systems', {
      method: 'POST',
      body: JSON.stringify({ code, name: 'DER', idno: '1', certificates: [der.toString('base64')], status: 'active' }),
    });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.json.system.certificates[0].fingerprint256, certificate.fingerprint256);
    const answer = await mlog.callPublic('/register', { method: 'POST', body: JSON.stringify(event()), certificate });
    assert.equal(answer.status, 200, answer.text);
  });
});
