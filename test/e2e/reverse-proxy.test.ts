/**
 * MLog behind a reverse proxy that ends mutual TLS (MLOG_TRUSTED_PROXIES): Debian's nginx in front
 * of a real MLog forwards the client certificate and address, and MLog identifies the IS by them, as
 * it would on its own TLS: the same answers, refusals and records. A caller that is not a trusted
 * proxy cannot forge those headers: MLog identifies it by its own connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createCertificateAuthority } from '../../scripts/dev-pki.js';
import { closeInspectionClient, findRejection, storedEvents } from '../helpers/elasticsearch-inspection.js';
import { NGINX, startNginx, type ReverseProxy } from '../helpers/reverse-proxy.js';
import { event, TestMLog, uniqueCode, type TestSystem } from '../helpers/test-mlog.js';

describe('MLog behind a reverse proxy that ends TLS', { skip: existsSync(NGINX) ? false : `${NGINX} is not installed (apt-get install nginx)` }, () => {
  let mlog: TestMLog;
  let proxy: ReverseProxy;
  let open: TestSystem;
  let fenced: TestSystem;

  before(async () => {
    // nginx calls MLog from 127.0.0.1; the tests' direct callers use other loopback addresses.
    mlog = await TestMLog.start({ MLOG_TRUSTED_PROXIES: '127.0.0.1/32' });
    proxy = await startNginx({ dir: mlog.dir, mlogPort: mlog.ports.publicPort, caPath: mlog.ca.certPath, serverCertPath: mlog.server.certPath, serverKeyPath: mlog.server.keyPath });
    [open, fenced] = await Promise.all([mlog.addSystem(), mlog.addSystem({ allowed_addresses: ['127.0.0.2'] })]);
  });
  after(async () => {
    await proxy?.stop();
    await mlog?.stop();
    await closeInspectionClient();
  });

  test('an IS calling through the proxy registers and queries as itself', async () => {
    const registered = await open.register(event({ event_type: 'Proxy.Passed', event_message: 'through nginx' }), { port: proxy.port, localAddress: '127.0.0.4' });
    assert.equal(registered.status, 200, registered.text);
    assert.ok(registered.headers['mlog-receipt'], 'the receipt passes the proxy');
    const uid = String(registered.json.UID);
    const stored = await storedEvents(open.code, uid);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.source['@is'], open.code);
    const found = await open.call(`/query/${uid}`, { port: proxy.port, localAddress: '127.0.0.4' });
    assert.equal(found.status, 200, found.text);
    assert.equal(found.json.result[0].event_message, 'through nginx');
    // Another IS's UID through the same proxy is as unknown as anywhere else.
    const foreign = await fenced.call(`/query/${uid}`, { port: proxy.port, localAddress: '127.0.0.2' });
    assert.equal(foreign.status, 404, foreign.text);
  });

  test("allowed_addresses are judged on the client's address the proxy forwards, not the proxy's", async () => {
    const allowed = await fenced.register(event(), { port: proxy.port, localAddress: '127.0.0.2' });
    assert.equal(allowed.status, 200, allowed.text);
    const refused = await fenced.register(event(), { port: proxy.port, localAddress: '127.0.0.3' });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.message, `Information system "${fenced.code}" may not call MLog from 127.0.0.3.`);
    const record = await findRejection(String(refused.headers['x-request-id']));
    assert.equal(record.is, fenced.code);
    assert.equal(record.source_address, '127.0.0.3');
    assert.equal(record.status, 403);
  });

  test('through the proxy: no certificate, or one from a CA MLog does not accept → 401 in the envelope, recorded', async () => {
    const none = await open.register(event(), { port: proxy.port, certificate: null });
    assert.equal(none.status, 401, none.text);
    assert.match(none.json.message, /No client certificate was presented/);
    // A certificate registered to an IS, but issued by a CA that MLOG_TLS_CLIENT_CA does not hold: nginx passes it on (optional_no_ca), MLog refuses it.
    const otherCa = await createCertificateAuthority(`${mlog.dir}/other-ca`, 'Another CA');
    const code = uniqueCode('foreign');
    const foreign = await mlog.issueCertificate(code, { ca: otherCa });
    const added = await mlog.callAdmin('/admin/systems', { method: 'POST', body: JSON.stringify({ code, name: 'Foreign', idno: '1', certificates: [foreign.certPem], status: 'active' }) });
    assert.equal(added.status, 201, added.text);
    const refused = await open.register(event(), { port: proxy.port, certificate: foreign });
    assert.equal(refused.status, 401, refused.text);
    assert.match(refused.json.message, /^The client certificate is not issued by a CA that MLog accepts/);
    const record = await findRejection(String(refused.headers['x-request-id']));
    assert.equal(record.status, 401);
    assert.equal(record.is, code);
  });

  test('a caller that is not a trusted proxy cannot forge the headers: it is identified by its own connection', async () => {
    const forged = { 'X-SSL-Client-Cert': encodeURIComponent(open.certificate.certPem), 'X-Forwarded-For': '127.0.0.2' };
    // Without a certificate of its own: unidentified, whatever the headers say.
    const anonymous = await open.register(event(), { certificate: null, localAddress: '127.0.0.5', headers: forged });
    assert.equal(anonymous.status, 401, anonymous.text);
    assert.match(anonymous.json.message, /No client certificate was presented/);
    // With the fenced IS's certificate: it is that IS, calling from its real address, refused there.
    const itself = await fenced.register(event(), { localAddress: '127.0.0.5', headers: forged });
    assert.equal(itself.status, 403, itself.text);
    assert.equal(itself.json.message, `Information system "${fenced.code}" may not call MLog from 127.0.0.5.`);
  });
});
