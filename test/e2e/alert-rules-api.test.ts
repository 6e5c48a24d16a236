/**
 * End-to-end: alert rules through the administration API (bearer token) and the console API (a
 * session): create, read, replace at a version (409 when stale), mute, remove; refusals name the
 * path of the value at fault, a query that does not parse names its column, channels MLog cannot
 * use (an e-mail channel without SMTP configured) are refused; roles decide who reads and who changes;
 * reading a history, in the console or through the administration API, is recorded in mlog_audit,
 * and with mlog_audit refusing writes no history is shown.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestMLog } from '../helpers/test-mlog.js';
import { auditRecords, whileAuditRefusesWrites } from '../helpers/elasticsearch-inspection.js';

let mlog: TestMLog;
const SMTP = { MLOG_SMTP_URL: 'smtp://127.0.0.1:2525', MLOG_SMTP_FROM: 'MLog <mlog@example.org>' };

before(async () => {
  // E-mail channels are accepted only where MLog can send e-mail; nothing is sent in these tests.
  mlog = await TestMLog.start({ MLOG_ALERTS_SCHEDULE: 'off', ...SMTP });
});

after(async () => {
  await mlog?.stop();
});

const threshold = {
  name: 'Brute force on MPass',
  type: 'threshold',
  params: { scope: { kind: 'events', systems: [] }, query: 'event_type:MPass.User.AuthenticationFailed', window_minutes: 5, group_by: 'user', comparator: '>', value: 20 },
  channels: [{ kind: 'webhook', url: 'https://hooks.example.org/mlog', secret: 'a-secret-of-sixteen-chars' }, { kind: 'email', to: ['soc@example.org'] }],
};

describe('/admin/alert-rules', () => {
  test('a rule is created, read without its secret, changed at its version, muted and removed', async () => {
    const created = await mlog.callAdmin('/admin/alert-rules', { method: 'POST', body: JSON.stringify(threshold) });
    assert.equal(created.status, 201, created.text);
    const rule = created.json.rule;
    assert.match(rule.id, /^brute-force-on-mpass-[0-9a-f]{8}$/);
    assert.equal(rule.schedule, '* * * * *');
    assert.equal(rule.renotify_minutes, 60);
    assert.deepEqual(rule.channels[0], { kind: 'webhook', url: 'https://hooks.example.org/mlog', secret_set: true });
    assert.ok(!created.text.includes('a-secret-of-sixteen-chars'), 'the secret is never answered');
    assert.deepEqual(rule.state, { active_groups: 0, last_evaluated_to: null, last_fired_at: null });

    const listed = await mlog.callAdmin('/admin/alert-rules');
    assert.ok(listed.json.rules.some((each: { id: string }) => each.id === rule.id));

    // A change without the secret keeps the secret of the same URL.
    const changed = await mlog.callAdmin(`/admin/alert-rules/${rule.id}`, { method: 'PUT', body: JSON.stringify({ ...threshold, channels: [{ kind: 'webhook', url: 'https://hooks.example.org/mlog' }], params: { ...threshold.params, value: 30 }, version: rule.version }) });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.rule.params.value, 30);
    assert.equal(changed.json.rule.channels[0].secret_set, true);

    const stale = await mlog.callAdmin(`/admin/alert-rules/${rule.id}`, { method: 'PUT', body: JSON.stringify({ ...threshold, version: rule.version }) });
    assert.equal(stale.status, 409, stale.text);
    assert.match(stale.json.message, /changed since you read it/);

    const muted = await mlog.callAdmin(`/admin/alert-rules/${rule.id}/mute`, { method: 'PUT', body: JSON.stringify({ until: '2099-01-01T00:00:00Z' }) });
    assert.equal(muted.status, 200, muted.text);
    assert.equal(muted.json.rule.muted_until, '2099-01-01T00:00:00.000Z');
    const unmuted = await mlog.callAdmin(`/admin/alert-rules/${rule.id}/mute`, { method: 'DELETE' });
    assert.equal(unmuted.json.rule.muted_until, null);

    const history = await mlog.callAdmin(`/admin/alert-rules/${rule.id}/history`);
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(history.json.entries, []);
    const [historyRecord] = await auditRecords('MLog.Admin.Query', { action: 'alert-history', rule_id: rule.id });
    assert.equal(historyRecord?.user, 'admin-api', 'the administration API\'s reading of a history is recorded too');
    assert.equal(historyRecord?.source_address, '127.0.0.1');
    assert.equal(historyRecord?.result_count, 0);

    const removed = await mlog.callAdmin(`/admin/alert-rules/${rule.id}`, { method: 'DELETE' });
    assert.equal(removed.status, 204);
    assert.equal((await mlog.callAdmin(`/admin/alert-rules/${rule.id}`)).status, 404);
  });

  test('refusals name the path of the value at fault, and a query that does not parse its column', async () => {
    const cases: [object, RegExp][] = [
      [{ ...threshold, params: { ...threshold.params, window_minutes: 0 } }, /^params\.window_minutes must be a whole number from 1 to 10080\.$/],
      [{ ...threshold, type: 'sometimes' }, /^type must be one of/],
      [{ ...threshold, channels: [{ kind: 'webhook', url: 'ftp://x', secret: 'a-secret-of-sixteen-chars' }] }, /^channels\[0\]\.url must be an http or https URL\.$/],
      [{ ...threshold, channels: [{ kind: 'email', to: ['not an address'] }] }, /^channels\[0\]\.to\[0\] must be an e-mail address/],
      [{ ...threshold, schedule: 'every minute' }, /^schedule must be a cron expression/],
      [{ name: 'x', type: 'refusals', params: { threshold: 3, causes: ['lost'] } }, /^params\.causes must be/],
    ];
    for (const [body, message] of cases) {
      const answer = await mlog.callAdmin('/admin/alert-rules', { method: 'POST', body: JSON.stringify(body) });
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.json.message, message);
    }
    const broken = await mlog.callAdmin('/admin/alert-rules', { method: 'POST', body: JSON.stringify({ ...threshold, params: { ...threshold.params, query: 'event_type:(MPass OR' } }) });
    assert.equal(broken.status, 400, broken.text);
    assert.match(broken.json.message, /^params\.query: /);
    assert.equal(typeof broken.json.column, 'number');
    assert.ok(broken.json.column > 1);
  });
});

describe('channels MLog cannot use', () => {
  test('without MLOG_SMTP_URL and MLOG_SMTP_FROM a rule with an e-mail channel is refused naming the channel, in both APIs; a webhook alone is accepted', async () => {
    const withoutSmtp = await TestMLog.start({ MLOG_ALERTS_SCHEDULE: 'off' });
    try {
      const refused = await withoutSmtp.callAdmin('/admin/alert-rules', { method: 'POST', body: JSON.stringify(threshold) });
      assert.equal(refused.status, 400, refused.text);
      assert.equal(refused.json.message, 'channels[1] is an e-mail channel, but MLOG_SMTP_URL and MLOG_SMTP_FROM are not both set: MLog cannot send e-mail.');
      const administrator = await withoutSmtp.signedInAs('administrator');
      const inConsole = await administrator.post('/alert-rules', threshold);
      assert.equal(inConsole.status, 400, inConsole.text);
      assert.match(inConsole.json.message, /^channels\[1\] is an e-mail channel/);

      const webhookOnly = await withoutSmtp.callAdmin('/admin/alert-rules', { method: 'POST', body: JSON.stringify({ ...threshold, channels: [threshold.channels[0]] }) });
      assert.equal(webhookOnly.status, 201, webhookOnly.text);
      // A change that adds the e-mail channel is refused as well, and the rule is left as it was.
      const rule = webhookOnly.json.rule;
      const changed = await withoutSmtp.callAdmin(`/admin/alert-rules/${rule.id}`, { method: 'PUT', body: JSON.stringify({ ...threshold, version: rule.version }) });
      assert.equal(changed.status, 400, changed.text);
      assert.match(changed.json.message, /^channels\[1\] is an e-mail channel/);
      assert.equal((await withoutSmtp.callAdmin(`/admin/alert-rules/${rule.id}`)).json.rule.channels.length, 1);
      assert.equal((await withoutSmtp.callAdmin(`/admin/alert-rules/${rule.id}`, { method: 'DELETE' })).status, 204);
    } finally {
      await withoutSmtp.stop();
    }
  });
});

describe('/console/api/alert-rules', () => {
  test('administrators change rules, auditors read them and their history (recorded), viewers neither', async () => {
    const [administrator, auditor, viewer] = await Promise.all([mlog.signedInAs('administrator'), mlog.signedInAs('auditor'), mlog.signedInAs('viewer')]);
    const created = await administrator.post('/alert-rules', { ...threshold, name: 'Console rule' });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id;
    assert.equal(created.json.created_by, administrator.session.username);

    assert.equal((await auditor.post('/alert-rules', threshold)).status, 403);
    assert.equal((await viewer.get('/alert-rules')).status, 403);
    const read = await auditor.get('/alert-rules');
    assert.equal(read.status, 200, read.text);
    assert.ok(read.json.rules.some((rule: { id: string }) => rule.id === id));
    assert.equal((await auditor.get('/alerts')).status, 200);

    const history = await auditor.get(`/alert-rules/${id}/history`);
    assert.equal(history.status, 200, history.text);
    const recorded = await auditRecords('MLog.Admin.Query', { user: auditor.session.username, action: 'alert-history' });
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]?.rule_id, id);

    assert.equal((await administrator.delete(`/alert-rules/${id}`)).status, 204);
  });

  test('with mlog_audit refusing writes, a history is not shown (503, the envelope, nothing recorded) in either API; once it takes writes, it is', async () => {
    const auditor = await mlog.signedInAs('auditor');
    const created = await mlog.callAdmin('/admin/alert-rules', { method: 'POST', body: JSON.stringify({ ...threshold, name: 'History while the audit is closed' }) });
    assert.equal(created.status, 201, created.text);
    const id = created.json.rule.id;
    const refusals = await whileAuditRefusesWrites(async () => [await auditor.get(`/alert-rules/${id}/history`), await mlog.callAdmin(`/admin/alert-rules/${id}/history`)]);
    for (const refused of refusals) {
      assert.equal(refused.status, 503, refused.text);
      assert.deepEqual(Object.keys(refused.json).sort(), ['message', 'status', 'timestamp'], 'the error envelope and nothing else');
      assert.equal(refused.json.message, 'The reading could not be recorded in the audit trail, so the history is not shown; try again later.');
    }
    assert.deepEqual(await auditRecords('MLog.Admin.Query', { action: 'alert-history', rule_id: id }), [], 'nothing was recorded while the audit refused writes');
    const shown = await auditor.get(`/alert-rules/${id}/history`);
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(shown.json.entries, []);
    assert.equal((await auditRecords('MLog.Admin.Query', { action: 'alert-history', rule_id: id })).length, 1);
    assert.equal((await mlog.callAdmin(`/admin/alert-rules/${id}`, { method: 'DELETE' })).status, 204);
  });
});
