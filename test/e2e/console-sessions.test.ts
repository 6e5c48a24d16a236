/**
 * The console's sessions and administrators, through the door a person uses: HTTP on the admin
 * listener (HTTPS where it says so), cookies and the CSRF header, over the real Elasticsearch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import argon2 from 'argon2';
import winston from 'winston';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import { startMLog } from '../../src/main.js';
import { closeInspectionClient, inspectionClient, auditRecords as auditRecordsWhere } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, uniqueLoopbackAddress, type HttpAnswer } from '../helpers/test-mlog.js';
import { argon2Parameters } from '../helpers/argon2-parameters.js';

/** The audit records of `eventType` about `user`, newest first. */
function auditRecords(eventType: string, user: string): Promise<Record<string, unknown>[]> {
  return auditRecordsWhere(eventType, { user });
}

function cookieLine(answer: HttpAnswer): string {
  const lines = ([] as string[]).concat(answer.headers['set-cookie'] ?? []);
  const line = lines.find((candidate) => candidate.startsWith('mlog_console='));
  assert.ok(line, `no mlog_console cookie in ${JSON.stringify(lines)}`);
  return line;
}

function assertEnvelope(answer: HttpAnswer, status: number, message: RegExp): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.json?.status, String(status), answer.text);
  assert.match(answer.json.message, message);
  assert.match(answer.json.timestamp, /^\d+$/);
}

describe('console sessions', () => {
  let mlog: TestMLog;
  before(async () => {
    mlog = await TestMLog.start();
  });
  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  test('GET /config needs no session and says OIDC is not configured', async () => {
    const answer = await mlog.callConsole('/config');
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json, { oidc: false });
  });

  test('signing in answers the Session and sets an HttpOnly, SameSite=Strict cookie on /console (not Secure over plain HTTP), recorded in the audit trail', async () => {
    const { username, password } = await mlog.addAdministrator('auditor');
    const answer = await mlog.callConsole('/session', { method: 'POST', body: { username, password } });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.username, username);
    assert.equal(answer.json.role, 'auditor');
    assert.equal(answer.json.purpose, null);
    assert.match(answer.json.csrfToken, /^[A-Za-z0-9_-]{40,}$/);
    const expires = Date.parse(answer.json.expiresAt);
    assert.ok(expires > Date.now() + 25 * 60_000 && expires <= Date.now() + 30 * 60_000 + 5_000, answer.json.expiresAt);
    const cookie = cookieLine(answer);
    assert.match(cookie, /^mlog_console=[A-Za-z0-9_-]{40,};/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\/console(;|$)/);
    assert.doesNotMatch(cookie, /Secure/);

    const pair = cookie.split(';')[0] as string;
    const current = await mlog.callConsole('/session', { headers: { Cookie: pair } });
    assert.equal(current.status, 200, current.text);
    assert.equal(current.json.username, username);

    const [record] = await auditRecords('MLog.Admin.SignIn', username);
    assert.equal(record?.outcome, 'success');
    assert.equal(record?.role, 'auditor');
    assert.equal(record?.address, '127.0.0.1');
    assert.equal(record?.method, 'password');
    // The store holds the SHA-256 of the cookie secret, never the secret.
    const secret = pair.slice('mlog_console='.length);
    const stored = await inspectionClient().search({ index: 'mlog_sessions', q: `"${secret}"` });
    assert.equal((stored.hits.total as { value: number }).value, 0);
    assert.ok(!JSON.stringify(await auditRecords('MLog.Admin.SignIn', username)).includes(secret));
  });

  test('a wrong password or an unknown name is 401 in the envelope, recorded without the password; a missing field is 400; a form post is 415', async () => {
    const { username } = await mlog.addAdministrator('viewer');
    const localAddress = uniqueLoopbackAddress();
    const wrong = await mlog.callConsole('/session', { method: 'POST', body: { username, password: 'not-the-password-at-all' }, localAddress });
    assertEnvelope(wrong, 401, /username or the password is wrong/);
    assert.equal(wrong.headers['set-cookie'], undefined);
    const unknown = await mlog.callConsole('/session', { method: 'POST', body: { username: 'nobody-by-this-name', password: 'whatever-password' }, localAddress });
    assertEnvelope(unknown, 401, /username or the password is wrong/);
    assertEnvelope(await mlog.callConsole('/session', { method: 'POST', body: { username } }), 400, /"password" is required/);
    assertEnvelope(await mlog.callConsole('/session', { method: 'POST', body: 'username=a&password=b', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415, /application\/json/);

    const [record] = await auditRecords('MLog.Admin.SignIn', username);
    assert.equal(record?.outcome, 'failure');
    assert.equal(record?.address, localAddress);
    assert.ok(!JSON.stringify(record).includes('not-the-password-at-all'));
  });

  test('without a session every call but sign-in and config is 401', async () => {
    assertEnvelope(await mlog.callConsole('/session'), 401, /not signed in/);
    assertEnvelope(await mlog.callConsole('/admins'), 401, /not signed in/);
    assertEnvelope(await mlog.callConsole('/session', { headers: { Cookie: 'mlog_console=forged-secret-value' } }), 401, /not signed in/);
  });

  test('a call that changes state without the session\'s CSRF token is refused with 403 and changes nothing', async () => {
    const client = await mlog.signedInAs('auditor');
    const purpose = { legal_basis: 'Law 133/2011 art. 5', reason: 'Complaint 42' };
    assertEnvelope(await client.call('/session/purpose', { method: 'PUT', body: purpose, csrf: false }), 403, /X-CSRF-Token/);
    assertEnvelope(await client.call('/session/purpose', { method: 'PUT', body: purpose, csrf: false, headers: { 'X-CSRF-Token': 'x'.repeat(43) } }), 403, /X-CSRF-Token/);
    assertEnvelope(await client.call('/session', { method: 'DELETE', csrf: false }), 403, /X-CSRF-Token/);
    const still = await client.get('/session');
    assert.equal(still.status, 200, still.text);
    assert.equal(still.json.purpose, null);
  });

  test('the purpose needs a legal basis and a reason, both non-blank; once stated it is in the Session', async () => {
    const client = await mlog.signedInAs('auditor');
    assertEnvelope(await client.put('/session/purpose', { legal_basis: 'Law 133/2011' }), 400, /"reason" is required/);
    assertEnvelope(await client.put('/session/purpose', { legal_basis: '   ', reason: 'Complaint 42' }), 400, /"legal_basis" is required/);
    assertEnvelope(await client.put('/session/purpose', ['x']), 400, /JSON object/);
    const stated = await client.put('/session/purpose', { legal_basis: 'Law 133/2011', reason: 'Complaint 42' });
    assert.equal(stated.status, 200, stated.text);
    assert.deepEqual(stated.json.purpose, { legal_basis: 'Law 133/2011', reason: 'Complaint 42' });
    assert.deepEqual((await client.get('/session')).json.purpose, { legal_basis: 'Law 133/2011', reason: 'Complaint 42' });
  });

  test('signing out ends the session: 204, the cookie cleared, the old cookie 401, recorded', async () => {
    const client = await mlog.signedInAs('viewer');
    const out = await client.delete('/session');
    assert.equal(out.status, 204, out.text);
    assert.match(cookieLine(out), /^mlog_console=;.*Max-Age=0/);
    assertEnvelope(await client.get('/session'), 401, /not signed in/);
    const [record] = await auditRecords('MLog.Admin.SignOut', client.session.username);
    assert.equal(record?.outcome, 'signed-out');
    assert.equal(record?.address, '127.0.0.1');
  });

  test('administrators: only the administrator role manages them; accounts are created, listed, changed and disabled', async () => {
    const viewer = await mlog.signedInAs('viewer');
    const auditor = await mlog.signedInAs('auditor');
    const admin = await mlog.signedInAs('administrator');
    assertEnvelope(await viewer.get('/admins'), 403, /role "viewer" may not manage administrators/);
    assertEnvelope(await auditor.get('/admins'), 403, /role "auditor" may not manage administrators/);
    assertEnvelope(await auditor.post('/admins', { username: 'sneaky-admin', role: 'administrator', password: 'a-long-enough-password' }), 403, /may not manage administrators/);

    const username = `new-${Date.now()}`;
    assertEnvelope(await admin.post('/admins', { username, role: 'auditor', password: 'short' }), 400, /at least 12 characters/);
    assertEnvelope(await admin.post('/admins', { username, role: 'superuser', password: 'a-long-enough-password' }), 400, /"role" must be one of viewer, auditor, administrator/);
    assertEnvelope(await admin.post('/admins', { username: 'Has Spaces', role: 'auditor', password: 'a-long-enough-password' }), 400, /"username" must be/);
    const created = await admin.post('/admins', { username, role: 'auditor', password: 'a-long-enough-password' });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.admin.username, username);
    assert.equal(created.json.admin.password_hash, undefined);
    assertEnvelope(await admin.post('/admins', { username, role: 'auditor', password: 'a-long-enough-password' }), 409, /already exists/);

    const listed = await admin.get('/admins');
    assert.equal(listed.status, 200, listed.text);
    const entry = listed.json.admins.find((candidate: { username: string }) => candidate.username === username);
    assert.deepEqual(Object.keys(entry).sort(), ['createdAt', 'disabled', 'role', 'source', 'username']);
    assert.deepEqual({ role: entry.role, disabled: entry.disabled, source: entry.source }, { role: 'auditor', disabled: false, source: 'local' });
    assert.ok(!listed.text.includes('argon2'));

    const person = await mlog.consoleSignIn(username, 'a-long-enough-password');
    assertEnvelope(await admin.patch(`/admins/${username}`, { role: 'overlord' }), 400, /"role" must be one of/);
    assertEnvelope(await admin.patch(`/admins/${username}`, { colour: 'blue' }), 400, /Unknown field "colour"/);
    assertEnvelope(await admin.patch('/admins/nobody-here', { disabled: true }), 404, /no administrator "nobody-here"/);
    const demoted = await admin.patch(`/admins/${username}`, { role: 'viewer' });
    assert.equal(demoted.status, 200, demoted.text);
    assert.equal((await person.get('/session')).json.role, 'viewer', 'a role change takes effect in live sessions');

    const disabled = await admin.patch(`/admins/${username}`, { disabled: true });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal(disabled.json.admin.disabled, true);
    assertEnvelope(await person.get('/session'), 401, /not signed in/);
    assertEnvelope(await mlog.callConsole('/session', { method: 'POST', body: { username, password: 'a-long-enough-password' }, localAddress: uniqueLoopbackAddress() }), 401, /wrong/);

    const reset = await admin.patch(`/admins/${username}`, { disabled: false, password: 'another-long-password' });
    assert.equal(reset.status, 200, reset.text);
    await mlog.consoleSignIn(username, 'another-long-password');
    const changes = await auditRecords('MLog.Admin.AccountChanged', `console by ${admin.session.username}`);
    assert.ok(changes.some((record) => record.admin_username === username && record.password_reset === true));
    assert.ok(!JSON.stringify(changes).includes('another-long-password'));
  });
});

const LOCK_SECONDS = 8;
/** A loopback network of this run (127.<random>.x.y), so that locks of earlier runs cannot be counted. */
const RUN_NETWORK = `127.${10 + Math.floor(Math.random() * 240)}`;

describe('console sessions: timeouts and lockout', () => {
  let mlog: TestMLog;
  before(async () => {
    mlog = await TestMLog.start({ MLOG_CONSOLE_SESSION_IDLE_SECONDS: '3', MLOG_CONSOLE_SESSION_MAX_SECONDS: '8', MLOG_CONSOLE_LOCKOUT_SECONDS: String(LOCK_SECONDS) });
  });
  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  test('a session not used for the idle timeout ends; a session in use ends at the absolute timeout', async () => {
    const idle = await mlog.signedInAs('viewer');
    const idleLastUsed = Date.now();
    const signingIn = Date.now();
    const busy = await mlog.signedInAs('viewer');
    const signedIn = Date.now();
    // Used every second (under the 3 s idle timeout): live until 8 s after it was created, which is after `signingIn`.
    while (Date.now() - signingIn < 6_500) {
      await sleep(1_000);
      assert.equal((await busy.get('/session')).status, 200, `in use ${Date.now() - signedIn} ms after sign-in`);
    }
    assert.ok(Date.now() - idleLastUsed > 3_000);
    assertEnvelope(await idle.get('/session'), 401, /not signed in/);
    // Created before `signedIn`: ended by then + 8 s.
    while (Date.now() - signedIn < 8_500) {
      await sleep(1_000);
      await busy.get('/session');
    }
    assertEnvelope(await busy.get('/session'), 401, /not signed in/);
  });

  test("a password is stored as an argon2id hash at OWASP's minimum, and a hash made with the former parameters still signs in", async () => {
    const { username, password } = await mlog.addAdministrator('viewer');
    const stored = await inspectionClient().get<{ password_hash: string }>({ index: 'mlog_admins', id: username });
    assert.deepEqual(argon2Parameters(stored._source!.password_hash), { m: '19456', p: '1', t: '2' });
    const former = await argon2.hash(password, { type: argon2.argon2id });
    assert.deepEqual(argon2Parameters(former), { m: '65536', p: '4', t: '3' });
    await inspectionClient().update({ index: 'mlog_admins', id: username, doc: { password_hash: former }, refresh: true });
    const answer = await mlog.callConsole('/session', { method: 'POST', body: { username, password } });
    assert.equal(answer.status, 200, answer.text);
    assert.equal((await mlog.callConsole('/session', { method: 'POST', body: { username, password: `${password}-not` } })).status, 401);
  });

  test('5 failed sign-ins lock the account, from any address, with 429 and Retry-After; the lock ends', async () => {
    const { username, password } = await mlog.addAdministrator('auditor');
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      assert.equal((await mlog.callConsole('/session', { method: 'POST', body: { username, password: `wrong-password-${attempt}` }, localAddress: `${RUN_NETWORK}.1.${attempt}` })).status, 401);
    }
    const fifth = await mlog.callConsole('/session', { method: 'POST', body: { username, password: 'wrong-password-5' }, localAddress: `${RUN_NETWORK}.1.5` });
    const lockedAt = Date.now();
    assertEnvelope(fifth, 429, /locked for \d+ more seconds/);
    assert.equal(fifth.headers['retry-after'], String(LOCK_SECONDS));
    const right = await mlog.callConsole('/session', { method: 'POST', body: { username, password }, localAddress: `${RUN_NETWORK}.1.6` });
    assertEnvelope(right, 429, /locked/);
    assert.equal(right.headers['set-cookie'], undefined);

    const lockouts = await auditRecords('MLog.Admin.Lockout', username);
    assert.ok(lockouts.some((record) => record.locked === 'account'), JSON.stringify(lockouts));
    const refused = await auditRecords('MLog.Admin.SignIn', username);
    assert.equal(refused[0]?.outcome, 'locked');
    assert.equal(refused[0]?.address, `${RUN_NETWORK}.1.6`);

    await sleep(lockedAt + LOCK_SECONDS * 1000 + 200 - Date.now());
    const client = await mlog.consoleSignIn(username, password, { localAddress: `${RUN_NETWORK}.1.7` });
    assert.equal(client.session.username, username);
  });

  test('5 failed sign-ins from one address lock that address for every account; other addresses are not locked', async () => {
    const { username, password } = await mlog.addAdministrator('auditor');
    let lockedAt = 0;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const answer = await mlog.callConsole('/session', { method: 'POST', body: { username: `guess-${attempt}-${Date.now()}`, password: 'a-guessed-password' }, localAddress: `${RUN_NETWORK}.2.1` });
      assert.equal(answer.status, attempt < 5 ? 401 : 429, answer.text);
      lockedAt = Date.now();
    }
    assertEnvelope(await mlog.callConsole('/session', { method: 'POST', body: { username, password }, localAddress: `${RUN_NETWORK}.2.1` }), 429, /locked/);
    await mlog.consoleSignIn(username, password, { localAddress: `${RUN_NETWORK}.2.2` });
    const client = inspectionClient();
    await client.indices.refresh({ index: 'mlog_audit' });
    const addressLocks = await client.search<Record<string, unknown>>({
      index: 'mlog_audit',
      query: { bool: { filter: [{ term: { event_type: 'MLog.Admin.Lockout' } }, { term: { locked: 'address' } }, { term: { address: `${RUN_NETWORK}.2.1` } }] } },
    });
    assert.equal((addressLocks.hits.total as { value: number }).value, 1);
    await sleep(lockedAt + LOCK_SECONDS * 1000 + 200 - Date.now());
    await mlog.consoleSignIn(username, password, { localAddress: `${RUN_NETWORK}.2.1` });
  });
});

describe('console over HTTPS', () => {
  let mlog: TestMLog;
  before(async () => {
    mlog = await TestMLog.start({}, { adminTls: true });
  });
  after(() => mlog.stop());

  test('with MLOG_ADMIN_TLS_CERT and MLOG_ADMIN_TLS_KEY the admin listener serves HTTPS and the cookie is Secure', async () => {
    const { username, password } = await mlog.addAdministrator('viewer');
    const answer = await mlog.callConsole('/session', { method: 'POST', body: { username, password } });
    assert.equal(answer.status, 200, answer.text);
    assert.match(cookieLine(answer), /; Secure/);
    assert.equal((await mlog.callConsole('/config')).status, 200);
  });
});

describe('admin listener address', () => {
  test('bound to a non-loopback address without TLS, MLog warns at start; on loopback it does not', async () => {
    for (const [host, warns] of [['0.0.0.0', true], ['127.0.0.1', false]] as const) {
      const warnings: string[] = [];
      const logger = createLogger('warn');
      logger.clear();
      const lines = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          warnings.push(String(JSON.parse(chunk.toString('utf8')).message));
          callback();
        },
      });
      logger.add(new winston.transports.Stream({ stream: lines }));
      const started = await TestMLog.start();
      const config = loadConfig({
        MLOG_ELASTICSEARCH_URL: process.env.MLOG_TEST_ELASTICSEARCH_URL,
        MLOG_HOST: '127.0.0.1',
        MLOG_PORT: '0',
        MLOG_ADMIN_HOST: host,
        MLOG_ADMIN_PORT: '0',
        MLOG_TLS_CERT: started.server.certPath,
        MLOG_TLS_KEY: started.server.keyPath,
        MLOG_TLS_CLIENT_CA: started.ca.certPath,
        MLOG_ADMIN_TOKEN: 'a-token-of-sixteen-chars',
        MLOG_RETENTION_SCHEDULE: 'off',
      });
      const other = await startMLog(config, { logger });
      await other.stop();
      await started.stop();
      assert.equal(warnings.some((message) => /plain HTTP on a non-loopback address/.test(message)), warns, `${host}: ${JSON.stringify(warnings)}`);
    }
  });
});
