import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMlogCli } from '../helpers/run-mlog-cli.js';
import { TestMLog, uniqueCode, uniqueLoopbackAddress } from '../helpers/test-mlog.js';

const mlog = runMlogCli;

describe('mlog admins (command line)', () => {
  let server: TestMLog;
  before(async () => {
    server = await TestMLog.start();
  });
  after(() => server.stop());

  test('add with --password-stdin, list, sign in to the console, reset the password, disable', async () => {
    const username = uniqueCode('ops');
    const added = await mlog(['admins', 'add', '--username', username, '--role', 'auditor', '--password-stdin'], {}, 'first-long-password\n');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`Administrator "${username}" \\(auditor\\) is created`));
    assert.ok(!added.stdout.includes('first-long-password'));

    const listed = await mlog(['admins', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${username}\\s+auditor\\s+enabled\\s+local`));
    assert.ok(!listed.stdout.includes('argon2'));
    const json = JSON.parse((await mlog(['admins', 'list', '--json'])).stdout);
    assert.equal(json.find((account: { username: string }) => account.username === username).role, 'auditor');

    const client = await server.consoleSignIn(username, 'first-long-password');
    assert.equal(client.session.role, 'auditor');

    const reset = await mlog(['admins', 'reset-password', username, '--password-stdin'], {}, 'second-long-password\n');
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal((await server.callConsole('/session', { method: 'POST', body: { username, password: 'first-long-password' }, localAddress: uniqueLoopbackAddress() })).status, 401);
    await server.consoleSignIn(username, 'second-long-password');

    const disabled = await mlog(['admins', 'disable', username]);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match((await mlog(['admins', 'list'])).stdout, new RegExp(`${username}\\s+auditor\\s+disabled`));
    assert.equal((await client.get('/session')).status, 401, 'the sessions of a disabled administrator end');
    assert.equal((await server.callConsole('/session', { method: 'POST', body: { username, password: 'second-long-password' }, localAddress: uniqueLoopbackAddress() })).status, 401);
  });

  test('plain errors: a short password, an unknown role, a taken name, an unknown administrator, no terminal to prompt on', async () => {
    const username = uniqueCode('ops');
    const short = await mlog(['admins', 'add', '--username', username, '--role', 'auditor', '--password-stdin'], {}, 'short\n');
    assert.equal(short.code, 1);
    assert.match(short.stderr, /"password" must be at least 12 characters long/);
    const role = await mlog(['admins', 'add', '--username', username, '--role', 'root', '--password-stdin'], {}, 'a-long-enough-password');
    assert.equal(role.code, 1);
    assert.match(role.stderr, /"role" must be one of viewer, auditor, administrator/);
    assert.equal((await mlog(['admins', 'add', '--username', username, '--role', 'viewer', '--password-stdin'], {}, 'a-long-enough-password')).code, 0);
    const taken = await mlog(['admins', 'add', '--username', username, '--role', 'viewer', '--password-stdin'], {}, 'a-long-enough-password');
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, new RegExp(`An administrator "${username}" already exists`));
    const unknown = await mlog(['admins', 'disable', 'nobody-at-all']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /There is no administrator "nobody-at-all"/);
    const noTerminal = await mlog(['admins', 'reset-password', username]);
    assert.equal(noTerminal.code, 1);
    assert.match(noTerminal.stderr, /no terminal to ask the password on: pipe it in with --password-stdin/);
  });
});
