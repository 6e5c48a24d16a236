/**
 * End-to-end, from events to notifications: events registered through /register with client
 * certificates, rules created through /admin/alert-rules, each evaluation the alerts job of the running
 * MLog (its tick, run now), and the notifications delivered by MLog's own notifier to a real webhook
 * receiver (node:http) and a real SMTP server (smtp-server) started here. Every rule here is
 * evaluated on a schedule of every second, so an evaluation a second after the previous one is due;
 * each rule reads only the events of a system made for it, and the receiver's calls are told apart by
 * the rule id in their body.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertChannel } from '../../src/alerts/alert-notifier-type.js';
import { outboxEntryId } from '../../src/alerts/outbox-notifier.js';
import { ALERT_OUTBOX_INDEX, ALERT_STATE_INDEX } from '../../src/storage/index-names.js';
import type { AlertRuleState } from '../../src/alerts/alert-store-type.js';
import { MailSink, readableMail, subjectOf, waitFor, WebhookReceiver, type ReceivedCall } from '../helpers/alert-receivers.js';
import { auditRecords, closeInspectionClient, inspectionClient, storedEvents } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, type TestSystem } from '../helpers/test-mlog.js';

const SECRET = 'the-webhook-secret-of-this-test';
/** The alerts tick never comes on its own during a test: each evaluation is run now. Retries are quick. */
const SETTINGS = {
  MLOG_ALERTS_SCHEDULE: '0 0 1 1 *',
  MLOG_ALERTS_OVERLAP_SECONDS: '3',
  MLOG_REGISTRY_CACHE_SECONDS: '0',
  MLOG_ALERT_RETRY_MINUTES: '0.5',
  MLOG_ALERT_RETRY_FIRST_DELAY_SECONDS: '0.4',
  MLOG_ALERT_DELIVERY_TIMEOUT_SECONDS: '3',
};

const receiver = new WebhookReceiver();
const smtp = new MailSink();

before(async () => {
  await Promise.all([receiver.listen(), smtp.listen()]);
});

after(async () => {
  await receiver.close();
  await smtp.close();
  await closeInspectionClient();
});

async function evaluate(mlog: TestMLog): Promise<void> {
  await sleep(1_100);
  const job = mlog.mlog.jobs.find((each) => each.name === 'alerts');
  assert.ok(job, 'the alerts job is scheduled');
  assert.equal(await job.runNow(), 'ran');
}

function webhook(path: string): AlertChannel {
  return { kind: 'webhook', url: receiver.url(path), secret: SECRET };
}

async function createRule(mlog: TestMLog, rule: Record<string, unknown>): Promise<string> {
  const answer = await mlog.callAdmin('/admin/alert-rules', { method: 'POST', body: JSON.stringify({ schedule: '* * * * * *', ...rule }) });
  assert.equal(answer.status, 201, answer.text);
  return answer.json.rule.id as string;
}

/** A rule that is active while `system` sends no event of `eventType` in the last minute: it fires at its first evaluation and recovers on the first such event. */
function silence(system: TestSystem, eventType: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { type: 'threshold', params: { scope: { kind: 'events', systems: [system.code] }, query: `event_type:${eventType}`, window_minutes: 1, comparator: '<', value: 1 }, ...fields };
}

async function registered(system: TestSystem, events: Record<string, unknown>[]): Promise<string> {
  const answer = await system.register(events.map((each) => JSON.stringify(each)).join('\n'));
  assert.equal(answer.status, 200, answer.text);
  return answer.json.UID as string;
}

function kinds(calls: ReceivedCall[]): string[] {
  return calls.map((call) => `${call.json?.kind}:${call.json?.group}`);
}

function verifies(call: ReceivedCall, secret: string): boolean {
  return call.headers['x-mlog-signature'] === `sha256=${createHmac('sha256', secret).update(call.body).digest('hex')}`;
}

/** The webhook calls of a rule once `count` have come, and still `count` a moment later (nothing more was on its way). */
async function settledCalls(ruleId: string, count: number): Promise<ReceivedCall[]> {
  await waitFor(`${count} webhook calls for ${ruleId}`, () => receiver.forRule(ruleId).length >= count);
  await sleep(1_500);
  return receiver.forRule(ruleId);
}

describe('alert notifications from registered events', () => {
  let mlog: TestMLog;

  before(async () => {
    mlog = await TestMLog.start({ ...SETTINGS, MLOG_SMTP_URL: smtp.url(), MLOG_SMTP_FROM: 'MLog alerts <mlog@example.gov>' });
  });

  after(async () => {
    await mlog?.stop();
  });

  test('a threshold rule notifies its webhook (signed) and its e-mail once, with the events that crossed it; recovery is notified when they leave the window; a reminder comes only after renotify_minutes', async () => {
    const system = await mlog.addSystem();
    const heartbeats = await mlog.addSystem();
    const name = `Brute force ${system.code}`;
    const bruteForce = await createRule(mlog, {
      name,
      type: 'threshold',
      params: { scope: { kind: 'events', systems: [system.code] }, query: 'event_type:MPass.User.AuthenticationFailed', window_minutes: 1, group_by: 'user', comparator: '>', value: 2 },
      channels: [webhook('/brute-force'), { kind: 'email', to: ['soc@example.gov'] }],
      renotify_minutes: 0,
    });
    const silent = await createRule(mlog, silence(heartbeats, 'Test.Heartbeat', { name: `Heartbeat ${heartbeats.code}`, channels: [webhook('/heartbeat')], renotify_minutes: 1 }));

    const failed = (user: string) => event({ event_type: 'MPass.User.AuthenticationFailed', user });
    const uid = await registered(system, [failed('alice'), failed('alice'), failed('bob'), failed('alice'), event({ event_type: 'MPass.User.Login', user: 'carol' }), event({ event_type: 'MPass.User.Login', user: 'carol' }), event({ event_type: 'MPass.User.Login', user: 'carol' })]);
    const crossing = (await storedEvents(system.code, uid)).filter((doc) => doc.source.user === 'alice').map((doc) => `${doc.index}/${doc.id}`);
    assert.equal(crossing.length, 3);

    await evaluate(mlog);
    const [fired] = await settledCalls(bruteForce, 1);
    assert.equal(receiver.forRule(bruteForce).length, 1, 'one call: bob (1) and carol (logins) do not cross the rule');
    assert.ok(fired?.json !== undefined);
    assert.ok(verifies(fired, SECRET), 'X-MLog-Signature verifies with the channel secret');
    assert.ok(!verifies(fired, `${SECRET}-not`), 'and with no other secret');
    assert.equal(fired.headers['x-mlog-delivery'], fired.json.id);
    assert.equal(fired.json.kind, 'fired');
    assert.deepEqual(fired.json.rule, { id: bruteForce, name, type: 'threshold' });
    assert.equal(fired.json.group, 'alice');
    assert.equal(fired.json.value, 3);
    assert.deepEqual((fired.json.events as { index: string; id: string }[]).map((ref) => `${ref.index}/${ref.id}`).sort(), [...crossing].sort(), 'the events are the three that crossed the threshold');

    const mails = await waitFor('the e-mail', () => (smtp.withSubject(name).length > 0 ? smtp.withSubject(name) : undefined));
    await sleep(500);
    assert.equal(smtp.withSubject(name).length, 1, 'one e-mail');
    assert.deepEqual(mails[0]?.to, ['soc@example.gov']);
    assert.equal(subjectOf(mails[0]!), `[MLog] Alert fired: ${name} (alice)`);
    for (const ref of crossing) assert.ok(readableMail(mails[0]!.raw).includes(ref), `the e-mail names ${ref}`);

    const notified = await waitFor('both deliveries recorded', async () => {
      const found = await auditRecords('MLog.Alert.Notified', { rule_id: bruteForce });
      return found.length >= 2 ? found : undefined;
    });
    assert.deepEqual(notified.map((record) => record.channel).sort(), ['email', 'webhook']);
    for (const record of notified) assert.deepEqual([...(record.event_refs as string[])].sort(), [...crossing].sort());

    // The heartbeat rule fired at the same evaluation.
    const [silentFired] = await settledCalls(silent, 1);
    assert.equal(silentFired?.json?.kind, 'fired');
    const firedAt = Date.parse(silentFired?.json?.at as string);

    // Evaluations every few seconds: alice's failures leave the one-minute window, and the heartbeat
    // rule, still active, is reminded once renotify_minutes (1) has passed since it fired.
    await waitFor(
      'the recovery and the reminder',
      async () => {
        await evaluate(mlog);
        const reminders = receiver.forRule(silent).filter((call) => call.json?.kind === 'reminder');
        for (const reminder of reminders) assert.ok(Date.parse(reminder.json?.at as string) - firedAt >= 60_000, 'no reminder before renotify_minutes');
        return receiver.forRule(bruteForce).length >= 2 && reminders.length >= 1 ? true : undefined;
      },
      150_000,
    );
    const bruteCalls = await settledCalls(bruteForce, 2);
    assert.deepEqual(kinds(bruteCalls), ['fired:alice', 'recovered:alice'], 'fired once, recovered once: renotify_minutes 0 sends no reminder');
    assert.ok(verifies(bruteCalls[1]!, SECRET));
    assert.equal(bruteCalls[1]?.json?.rule.id, bruteForce);
    await waitFor('the recovery e-mail', () => smtp.withSubject(`Alert recovered: ${name} (alice)`).length === 1);
    assert.equal(smtp.withSubject(name).length, 2);

    // The heartbeat comes: the silence rule recovers.
    await registered(heartbeats, [event({ event_type: 'Test.Heartbeat' })]);
    await evaluate(mlog);
    const silentCalls = await settledCalls(silent, 3);
    assert.deepEqual(kinds(silentCalls), ['fired:', 'reminder:', 'recovered:']);

    // The history, as the console shows it, holds the firing with its events and the deliveries.
    const history = await mlog.callAdmin(`/admin/alert-rules/${bruteForce}/history?size=50`);
    assert.equal(history.status, 200, history.text);
    const entries = history.json.entries as { kind: string; channel?: string; events: { index: string; id: string }[] }[];
    const firing = entries.find((entry) => entry.kind === 'fired');
    assert.deepEqual(firing?.events.map((ref) => `${ref.index}/${ref.id}`).sort(), [...crossing].sort());
    assert.equal(entries.filter((entry) => entry.kind === 'notified').length, 4, 'fired and recovered, to the webhook and the e-mail');
  });

  test('a muted rule fires (recorded as muted) but queues nothing; when the mute ends, or is lifted, the next change is notified', async () => {
    const system = await mlog.addSystem();
    const expiring = await createRule(mlog, silence(system, 'Test.MuteEnds', { name: `Mute ends ${system.code}`, channels: [webhook('/mute-ends')] }));
    const mutedUntil = new Date(Date.now() + 6_000).toISOString();
    const muted = await mlog.callAdmin(`/admin/alert-rules/${expiring}/mute`, { method: 'PUT', body: JSON.stringify({ until: mutedUntil }) });
    assert.equal(muted.status, 200, muted.text);
    const lifted = await createRule(mlog, silence(system, 'Test.MuteLifted', { name: `Mute lifted ${system.code}`, channels: [webhook('/mute-lifted')], muted_until: '2099-01-01T00:00:00Z' }));

    await evaluate(mlog);
    for (const rule of [expiring, lifted]) {
      const [record] = await auditRecords('MLog.Alert.Fired', { rule_id: rule });
      assert.equal(record?.muted, true, 'the firing is recorded, as muted');
      const queued = await inspectionClient().get({ index: ALERT_OUTBOX_INDEX, id: outboxEntryId(record?.notification_id as string, webhook(rule === expiring ? '/mute-ends' : '/mute-lifted')) }, { ignore: [404] });
      assert.equal(queued.found, false, 'no notification was queued');
    }
    await evaluate(mlog);
    await sleep(1_000);
    assert.equal(receiver.forRule(expiring).length + receiver.forRule(lifted).length, 0);
    assert.equal((await mlog.callAdmin(`/admin/alert-rules/${lifted}`)).json.rule.state.active_groups, 1);

    const unmuted = await mlog.callAdmin(`/admin/alert-rules/${lifted}/mute`, { method: 'DELETE' });
    assert.equal(unmuted.status, 200, unmuted.text);
    await sleep(Math.max(0, Date.parse(mutedUntil) - Date.now()));
    await registered(system, [event({ event_type: 'Test.MuteEnds' }), event({ event_type: 'Test.MuteLifted' })]);
    await evaluate(mlog);
    assert.deepEqual(kinds(await settledCalls(expiring, 1)), ['recovered:']);
    assert.deepEqual(kinds(await settledCalls(lifted, 1)), ['recovered:']);
  });

  test('a webhook answering 500 is retried: each failure is recorded in mlog_audit, then the notification is delivered', async () => {
    const system = await mlog.addSystem();
    receiver.answer('/flaky', 500, 500, 200);
    const rule = await createRule(mlog, silence(system, 'Test.Flaky', { name: `Flaky receiver ${system.code}`, channels: [webhook('/flaky')] }));
    await evaluate(mlog);
    const [notified] = await waitFor('the delivery', async () => {
      const found = await auditRecords('MLog.Alert.Notified', { rule_id: rule });
      return found.length > 0 ? found : undefined;
    });
    const calls = await settledCalls(rule, 3);
    assert.equal(calls.length, 3);
    assert.ok(calls.every((call) => call.json?.id === calls[0]?.json?.id && call.headers['x-mlog-delivery'] === calls[0]?.json?.id), 'one notification, attempted three times');
    assert.ok(calls.every((call) => verifies(call, SECRET)));
    const failures = (await auditRecords('MLog.Alert.NotificationFailed', { rule_id: rule })).reverse();
    assert.deepEqual(
      failures.map((failure) => [failure.attempt, failure.http_status, failure.error, failure.will_retry]),
      [
        [1, 500, 'HTTP 500', true],
        [2, 500, 'HTTP 500', true],
      ],
    );
    assert.equal(notified?.attempt, 3);
    const history = await mlog.callAdmin(`/admin/alert-rules/${rule}/history`);
    assert.deepEqual(
      (history.json.entries as { kind: string }[]).map((entry) => entry.kind).sort(),
      ['fired', 'notification-failed', 'notification-failed', 'notified'],
    );
  });
});

describe('one notification per transition across instances', () => {
  test('two MLog instances over the same Elasticsearch send one POST for the firing and one for the recovery', async () => {
    const [first, second] = await Promise.all([TestMLog.start(SETTINGS), TestMLog.start(SETTINGS)]);
    try {
      const system = await first.addSystem();
      const rule = await createRule(first, silence(system, 'Test.Twins', { name: `Two instances ${system.code}`, channels: [webhook('/twins')], renotify_minutes: 0 }));
      await Promise.all([evaluate(first), evaluate(second)]);
      await Promise.all([evaluate(first), evaluate(second)]);
      assert.deepEqual(kinds(await settledCalls(rule, 1)), ['fired:']);
      await registered(system, [event({ event_type: 'Test.Twins' })]);
      await Promise.all([evaluate(first), evaluate(second)]);
      await Promise.all([evaluate(first), evaluate(second)]);
      assert.deepEqual(kinds(await settledCalls(rule, 2)), ['fired:', 'recovered:']);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  test('an evaluation that stopped after storing its state, before announcing, is finished by the next tick: recorded and sent once', async () => {
    const mlog = await TestMLog.start(SETTINGS);
    try {
      const system = await mlog.addSystem();
      const name = `Interrupted ${system.code}`;
      const rule = await createRule(mlog, silence(system, 'Test.Interrupted', { name, channels: [webhook('/interrupted')] }));
      // What an evaluation stores before it records or queues anything: the rule's new state with the
      // transition still to announce. The instance that wrote it stopped there.
      const at = new Date(Date.now() - 2_000).toISOString();
      const id = `${rule}::1:fired`;
      const state: AlertRuleState = {
        rule_id: rule,
        last_evaluated_to: at,
        last_fired_at: at,
        groups: [{ group: '', state: 'active', since: at, value: 0, last_notified_at: at, sequence: 1 }],
        pending: [{ notification: { id, kind: 'fired', rule: { id: rule, name, type: 'threshold' }, group: '', value: 0, since: at, window: { from: new Date(Date.parse(at) - 60_000).toISOString(), to: at }, events: [], at }, notify: true }],
      };
      await inspectionClient().index({ index: ALERT_STATE_INDEX, id: rule, document: state, refresh: true });

      await evaluate(mlog);
      await evaluate(mlog);
      const calls = await settledCalls(rule, 1);
      assert.deepEqual(kinds(calls), ['fired:']);
      assert.equal(calls[0]?.json?.id, id, 'announced under the id the interrupted evaluation chose');
      const records = await auditRecords('MLog.Alert.Fired', { rule_id: rule });
      assert.deepEqual(records.map((record) => record.notification_id), [id], 'recorded once, and the group, still active, is not fired again');
      assert.deepEqual((await inspectionClient().get<AlertRuleState>({ index: ALERT_STATE_INDEX, id: rule }))._source?.pending, []);
    } finally {
      await mlog.stop();
    }
  });

  test('MLog restarted between two evaluations does not send a firing again, and misses none', async () => {
    let mlog = await TestMLog.start(SETTINGS);
    let rule = '';
    const alice = `alice-${Date.now()}`;
    const bob = `bob-${Date.now()}`;
    try {
      const system = await mlog.addSystem();
      rule = await createRule(mlog, {
        name: `Restart ${system.code}`,
        type: 'threshold',
        params: { scope: { kind: 'events', systems: [] }, query: `event_type:Test.Restart AND (user:${alice} OR user:${bob})`, window_minutes: 10, group_by: 'user', comparator: '>=', value: 1 },
        channels: [webhook('/restart')],
      });
      await registered(system, [event({ event_type: 'Test.Restart', user: alice })]);
      await evaluate(mlog);
      assert.deepEqual(kinds(await settledCalls(rule, 1)), [`fired:${alice}`]);
    } finally {
      await mlog.stop();
    }
    mlog = await TestMLog.start(SETTINGS);
    try {
      await evaluate(mlog);
      // Registered on the new instance (its own test CA, so its own system).
      const again = await mlog.addSystem();
      await registered(again, [event({ event_type: 'Test.Restart', user: bob })]);
      await evaluate(mlog);
      await evaluate(mlog);
      assert.deepEqual(kinds(await settledCalls(rule, 2)), [`fired:${alice}`, `fired:${bob}`], 'alice is not sent again, bob is not missed');
    } finally {
      await mlog.stop();
    }
  });
});
