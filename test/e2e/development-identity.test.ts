/**
 * The development identity (MLOG_DEV_IDENTITY with MLOG_DEV_HTTP_PORT): for local development, the
 * public API over plain HTTP on 127.0.0.1, every call being one registered IS without a certificate,
 * every answer saying so. Off unless both are set; the public HTTPS listener is unchanged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { loadConfig } from '../../src/config/config.js';
import { ConfigurationError } from '../../src/errors/mlog-error.js';
import { closeInspectionClient, storedEvents } from '../helpers/elasticsearch-inspection.js';
import { collect, event, TestMLog, uniqueCode, type HttpAnswer } from '../helpers/test-mlog.js';

function plainCall(port: number, path: string, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const call = request({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', headers: body === undefined ? {} : { 'Content-Type': 'application/json' } }, (response) => collect(response, resolve, reject));
    call.on('error', reject);
    call.end(body);
  });
}

describe('the development identity over plain HTTP', () => {
  const code = uniqueCode('dev');
  let mlog: TestMLog;
  let port: number;

  before(async () => {
    mlog = await TestMLog.start({ MLOG_DEV_IDENTITY: code, MLOG_DEV_HTTP_PORT: '0' });
    port = mlog.mlog.developmentPort ?? 0;
    assert.ok(port > 0, 'the development listener is on');
  });
  after(async () => {
    await mlog?.stop();
    await closeInspectionClient();
  });

  test('before the IS is registered: 401 naming MLOG_DEV_IDENTITY', async () => {
    const answer = await plainCall(port, '/register', JSON.stringify(event()));
    assert.equal(answer.status, 401, answer.text);
    assert.equal(answer.json.message, `The development identity "${code}" (MLOG_DEV_IDENTITY) is not a registered information system; register it first (mlog systems add).`);
    assert.equal(answer.headers['mlog-development-identity'], code);
  });

  test('registered: a call without a certificate registers and queries as that IS, and every answer says so', async () => {
    const system = await mlog.addSystem({ code, allowed_addresses: ['192.0.2.1'] });
    const registered = await plainCall(port, '/register', JSON.stringify(event({ event_type: 'Dev.Tried', event_message: 'over plain HTTP' })));
    assert.equal(registered.status, 200, registered.text);
    assert.equal(registered.headers['mlog-development-identity'], code);
    const uid = String(registered.json.UID);
    assert.equal((await storedEvents(code, uid))[0]?.source['@is'], code);
    const found = await plainCall(port, `/query/${uid}`);
    assert.equal(found.status, 200, found.text);
    assert.equal(found.json.result[0].event_message, 'over plain HTTP');
    assert.equal(found.headers['mlog-development-identity'], code);
    // The HTTPS listener is unchanged: the same IS, by its certificate, from an address not allowed, is refused.
    const https = await system.call(`/query/${uid}`);
    assert.equal(https.status, 403, https.text);
    assert.equal(https.headers['mlog-development-identity'], undefined);
  });

  test('suspended: 403', async () => {
    const suspended = await mlog.callAdmin(`/admin/systems/${code}`, { method: 'PATCH', body: JSON.stringify({ status: 'suspended' }) });
    assert.equal(suspended.status, 200, suspended.text);
    const answer = await plainCall(port, '/register', JSON.stringify(event()));
    assert.equal(answer.status, 403, answer.text);
    assert.match(answer.json.message, /is suspended/);
  });
});

describe('the development listener is off unless both variables are set', () => {
  test('one without the other is refused at start, naming both', () => {
    const minimal = { MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9200', MLOG_TLS_CERT: 'c', MLOG_TLS_KEY: 'k', MLOG_TLS_CLIENT_CA: 'a' };
    assert.deepEqual(loadConfig(minimal).development, {});
    for (const one of [{ MLOG_DEV_IDENTITY: 'mpass' }, { MLOG_DEV_HTTP_PORT: '8080' }]) {
      assert.throws(() => loadConfig({ ...minimal, ...one }), (error: unknown) => error instanceof ConfigurationError && /MLOG_DEV_IDENTITY and MLOG_DEV_HTTP_PORT must be set together/.test(error.message));
    }
  });

  test('a default MLog has no development listener', async () => {
    const plain = await TestMLog.start();
    try {
      assert.equal(plain.mlog.developmentPort, undefined);
    } finally {
      await plain.stop();
    }
  });
});
