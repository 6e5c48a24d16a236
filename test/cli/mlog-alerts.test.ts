/**
 * `mlog alerts list|add|mute|remove` through the real `mlog` command against the real Elasticsearch.
 */
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runMlogCli as mlog } from '../helpers/run-mlog-cli.js';
import { uniqueCode } from '../helpers/test-mlog.js';

/** E-mail channels are accepted only where the command's environment says how MLog sends e-mail. */
const SMTP = { MLOG_SMTP_URL: 'smtp://127.0.0.1:2525', MLOG_SMTP_FROM: 'MLog <mlog@example.org>' };

describe('mlog alerts (command line)', () => {
  test('a rule is added from options, listed, muted for an hour and removed', async () => {
    const name = uniqueCode('cli-alert');
    const added = await mlog(['alerts', 'add', '--name', name, '--query', 'event_type:MPass.User.AuthenticationFailed', '--window', '5', '--above', '20', '--group-by', 'user', '--webhook', 'https://hooks.example.org/x', '--secret', 'sixteen-characters-secret', '--email', 'soc@example.org'], SMTP);
    assert.equal(added.code, 0, added.stderr);
    const id = /Alert rule "([a-z0-9-]+)" is created \(threshold, \* \* \* \* \*\)\./.exec(added.stdout)?.[1];
    assert.ok(id, added.stdout);

    const listed = await mlog(['alerts', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes('sixteen-characters-secret'), 'the secret is never printed');
    const rule = (JSON.parse(listed.stdout).rules as { id: string; params: { value: number; group_by: string }; channels: unknown[] }[]).find((each) => each.id === id);
    assert.equal(rule?.params.value, 20);
    assert.equal(rule?.params.group_by, 'user');
    assert.equal(rule?.channels.length, 2);

    const before = Date.now();
    const muted = await mlog(['alerts', 'mute', id, '--until', '1h']);
    assert.equal(muted.code, 0, muted.stderr);
    const until = Date.parse(/muted until (\S+)\./.exec(muted.stdout)?.[1] ?? '');
    assert.ok(until >= before + 3_590_000 && until <= Date.now() + 3_600_000, muted.stdout);
    const table = await mlog(['alerts', 'list']);
    assert.match(table.stdout, new RegExp(`${id}\\tthreshold\\tok \\(muted until `));

    const removed = await mlog(['alerts', 'remove', id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.ok(!(await mlog(['alerts', 'list'])).stdout.includes(id));
  });

  test('a rule from a file whose query does not parse is refused with its column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlog-alerts-'));
    const file = join(dir, 'rule.json');
    writeFileSync(file, JSON.stringify({ name: 'Broken', type: 'new-value', params: { query: 'user:(a OR', field: 'legal_entity' } }));
    const refused = await mlog(['alerts', 'add', '--file', file]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^mlog: params\.query: At column \d+/);
    const unknown = await mlog(['alerts', 'remove', 'no-such-rule']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /There is no alert rule "no-such-rule"/);
  });

  test('an e-mail channel is refused, naming it, when MLOG_SMTP_URL and MLOG_SMTP_FROM are not set', async () => {
    const name = uniqueCode('cli-alert-mail');
    const refused = await mlog(['alerts', 'add', '--name', name, '--query', 'event_type:MPass.User.AuthenticationFailed', '--window', '5', '--above', '20', '--email', 'soc@example.org'], { MLOG_SMTP_URL: '', MLOG_SMTP_FROM: '' });
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /^mlog: channels\[0\] is an e-mail channel, but MLOG_SMTP_URL and MLOG_SMTP_FROM are not both set/);
    assert.ok(!(await mlog(['alerts', 'list'])).stdout.includes(name), 'nothing was stored');
  });
});
