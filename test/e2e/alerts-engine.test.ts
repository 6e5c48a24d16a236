/**
 * End-to-end: the evaluation of alert rules against the real Elasticsearch. Events are registered
 * through /register with client certificates, refusals are made by bad calls, rules are created
 * through /admin/alert-rules, and each evaluation is the alerts job of the running MLog (its tick,
 * run now). Every rule here is evaluated on a schedule of every second, so an evaluation a second
 * after the previous one is due. Firings and recoveries are read from mlog_audit, by rule id.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { auditRecords, inspectionClient, refresh } from '../helpers/elasticsearch-inspection.js';
import { event, TestMLog, type TestSystem } from '../helpers/test-mlog.js';

/** The alerts tick never comes on its own during a test: each evaluation is run now. */
const SETTINGS = { MLOG_ALERTS_SCHEDULE: '0 0 1 1 *', MLOG_ALERTS_OVERLAP_SECONDS: '3', MLOG_REGISTRY_CACHE_SECONDS: '0' };

async function evaluate(mlog: TestMLog): Promise<void> {
  await sleep(1_100);
  const job = mlog.mlog.jobs.find((each) => each.name === 'alerts');
  assert.ok(job, 'the alerts job is scheduled');
  assert.equal(await job.runNow(), 'ran');
}

async function createRule(mlog: TestMLog, rule: Record<string, unknown>): Promise<string> {
  const answer = await mlog.callAdmin('/admin/alert-rules', { method: 'POST', body: JSON.stringify({ schedule: '* * * * * *', channels: [], ...rule }) });
  assert.equal(answer.status, 201, answer.text);
  return answer.json.rule.id as string;
}

function lines(events: Record<string, unknown>[]): string {
  return events.map((each) => JSON.stringify(each)).join('\n');
}

async function registered(system: TestSystem, events: Record<string, unknown>[]): Promise<void> {
  const answer = await system.register(lines(events));
  assert.equal(answer.status, 200, answer.text);
}

const fired = (ruleId: string) => auditRecords('MLog.Alert.Fired', { rule_id: ruleId });
const recovered = (ruleId: string) => auditRecords('MLog.Alert.Recovered', { rule_id: ruleId });

describe('each rule type', () => {
  let mlog: TestMLog;
  let system: TestSystem;
  let quiet: TestSystem;

  before(async () => {
    mlog = await TestMLog.start(SETTINGS);
    [system, quiet] = await Promise.all([mlog.addSystem(), mlog.addSystem()]);
  });

  after(async () => {
    await mlog?.stop();
  });

  test('threshold per user fires for the user over it, once, with the events that fired it', async () => {
    const rule = await createRule(mlog, {
      name: 'Brute force',
      type: 'threshold',
      params: { scope: { kind: 'events', systems: [system.code] }, query: 'event_type:MPass.User.AuthenticationFailed', window_minutes: 5, group_by: 'user', comparator: '>', value: 2 },
    });
    const failed = (user: string) => event({ event_type: 'MPass.User.AuthenticationFailed', user });
    await registered(system, [failed('alice'), failed('alice'), failed('alice'), failed('bob'), event({ event_type: 'MPass.User.Login', user: 'carol' }), event({ event_type: 'MPass.User.Login', user: 'carol' }), event({ event_type: 'MPass.User.Login', user: 'carol' })]);
    // Another system's failures are outside the rule's scope.
    await registered(quiet, [failed('dave'), failed('dave'), failed('dave')]);
    await evaluate(mlog);
    const first = await fired(rule);
    assert.equal(first.length, 1, JSON.stringify(first));
    assert.equal(first[0]?.group, 'alice');
    assert.equal(first[0]?.value, 3);
    const refs = first[0]?.event_refs as string[];
    assert.equal(refs.length, 3);
    for (const ref of refs) assert.ok(ref.startsWith(`mlog-${system.code}-`), ref);

    // Still over the threshold: the active group is not fired again.
    await evaluate(mlog);
    assert.equal((await fired(rule)).length, 1);
    const state = await mlog.callAdmin(`/admin/alert-rules/${rule}`);
    assert.equal(state.json.rule.state.active_groups, 1);
    const active = await mlog.callAdmin('/admin/alerts');
    assert.ok(active.json.alerts.some((alert: { rule_id: string; group: string }) => alert.rule_id === rule && alert.group === 'alice'));
    const history = await mlog.callAdmin(`/admin/alert-rules/${rule}/history`);
    assert.equal(history.json.entries[0].kind, 'fired');
    assert.equal(history.json.entries[0].events.length, 3);
  });

  test('a threshold below a number fires while too few events come, and its recovery is recorded', async () => {
    const rule = await createRule(mlog, {
      name: 'Heartbeat missing',
      type: 'threshold',
      params: { scope: { kind: 'events', systems: [system.code] }, query: 'event_type:Test.Heartbeat', window_minutes: 5, comparator: '<', value: 1 },
    });
    await evaluate(mlog);
    assert.equal((await fired(rule)).length, 1);
    assert.equal((await recovered(rule)).length, 0);
    await registered(system, [event({ event_type: 'Test.Heartbeat' })]);
    await evaluate(mlog);
    assert.equal((await recovered(rule)).length, 1);
    assert.equal((await fired(rule)).length, 1);
  });

  test('absence fires for the silent system only, and recovers when it reports', async () => {
    await registered(system, [event()]);
    const silent = await createRule(mlog, { name: 'Quiet system silent', type: 'absence', params: { system: quiet.code, duration_minutes: 1 } });
    const talking = await createRule(mlog, { name: 'System silent', type: 'absence', params: { system: system.code, duration_minutes: 1 } });
    // dave's failures above were at most seconds ago: make the quiet system's window empty by its own scope of a type it never sent.
    const never = await createRule(mlog, { name: 'No logins on quiet', type: 'absence', params: { scope: { kind: 'events', systems: [quiet.code] }, query: 'event_type:MPass.User.Login', duration_minutes: 1 } });
    await evaluate(mlog);
    assert.equal((await fired(talking)).length, 0);
    assert.equal((await fired(never)).length, 1);
    assert.equal((await fired(silent)).length, 0, 'the quiet system sent failures a moment ago');
    await registered(quiet, [event({ event_type: 'MPass.User.Login' })]);
    await evaluate(mlog);
    assert.equal((await recovered(never)).length, 1);
  });

  test('new value fires for a value not seen before the window, a late event inside the overlap fires once', async () => {
    const rule = await createRule(mlog, {
      name: 'New legal entity',
      type: 'new-value',
      params: { scope: { kind: 'events', systems: [system.code] }, query: 'event_type:PersonalData.Read', field: 'legal_entity', lookback_days: 30 },
    });
    const read = (entity: string) => event({ event_type: 'PersonalData.Read', legal_entity: entity });
    await registered(system, [read('1003600000001')]);
    await evaluate(mlog);
    assert.deepEqual((await fired(rule)).map((record) => record.group), ['1003600000001']);
    // Past the overlap (3 s), the value is no longer new; a second value is.
    await sleep(3_500);
    await evaluate(mlog);
    await registered(system, [read('1003600000001'), read('1003600000002')]);
    await evaluate(mlog);
    assert.deepEqual((await fired(rule)).map((record) => record.group).sort(), ['1003600000001', '1003600000002']);

    // An event that became searchable only after the evaluation whose window it belongs to (its @received before that window's end).
    const { json } = await mlog.callAdmin(`/admin/alert-rules/${rule}`);
    const lastTo = Date.parse(json.rule.state.last_evaluated_to);
    const index = `mlog-${system.code}-${new Date(lastTo).toISOString().slice(0, 7).replace('-', '.')}`;
    await inspectionClient().index({ index, id: `late-${rule}`, document: { ...read('1003600000003'), '@is': system.code, '@id': `late-${rule}`, '@received': new Date(lastTo - 1_000).toISOString() }, refresh: true });
    await evaluate(mlog);
    await evaluate(mlog);
    const late = (await fired(rule)).filter((record) => record.group === '1003600000003');
    assert.equal(late.length, 1);
    assert.deepEqual(late[0]?.event_refs, [`${index}/late-${rule}`]);
  });

  test('refusals of one system over the threshold fire; another system\'s do not count', async () => {
    const rule = await createRule(mlog, { name: 'Refused calls', type: 'refusals', params: { system: system.code, causes: ['refused'], window_minutes: 5, threshold: 2 } });
    const calm = await createRule(mlog, { name: 'Refused calls of quiet', type: 'refusals', params: { system: quiet.code, causes: ['refused', 'signature'], window_minutes: 5, threshold: 2 } });
    for (let i = 0; i < 3; i++) assert.equal((await system.register('{"event_type": ')).status, 400);
    let records: Record<string, unknown>[] = [];
    for (let attempt = 0; attempt < 10 && records.length === 0; attempt++) {
      await refresh('mlog_rejections-*');
      await evaluate(mlog);
      records = await fired(rule);
    }
    assert.equal(records.length, 1);
    assert.equal(records[0]?.value, 3);
    assert.equal((records[0]?.event_refs as string[]).length, 3);
    assert.equal((await fired(calm)).length, 0);
  });

  test('a muted rule records its firing as muted', async () => {
    const rule = await createRule(mlog, {
      name: 'Muted heartbeat',
      type: 'threshold',
      muted_until: new Date(Date.now() + 3_600_000).toISOString(),
      params: { scope: { kind: 'events', systems: [system.code] }, query: 'event_type:Test.Nothing', window_minutes: 5, comparator: '<', value: 1 },
    });
    await evaluate(mlog);
    const records = await fired(rule);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.muted, true);
  });

  test('default "stopped reporting" rules follow systems as they are activated, suspended and removed', async () => {
    const staged = await mlog.addSystem({ status: 'staging' });
    const rules = async () => ((await mlog.callAdmin('/admin/alert-rules')).json.rules as { id: string; managed?: { system: string }; params: { duration_minutes: number } }[]).filter((rule) => rule.managed?.system === staged.code);
    await evaluate(mlog);
    assert.equal((await rules()).length, 0);
    assert.equal((await mlog.callAdmin(`/admin/systems/${staged.code}`, { method: 'PATCH', body: JSON.stringify({ status: 'active' }) })).status, 200);
    await evaluate(mlog);
    const [created] = await rules();
    assert.ok(created, 'an active system has its rule');
    assert.equal(created.params.duration_minutes, 60);
    // An administrator's tuning is kept by the sync.
    const full = (await mlog.callAdmin(`/admin/alert-rules/${created.id}`)).json.rule;
    const tuned = await mlog.callAdmin(`/admin/alert-rules/${created.id}`, { method: 'PUT', body: JSON.stringify({ ...full, params: { ...full.params, duration_minutes: 15 } }) });
    assert.equal(tuned.status, 200, tuned.text);
    await evaluate(mlog);
    assert.equal((await rules())[0]?.params.duration_minutes, 15);
    assert.equal((await mlog.callAdmin(`/admin/alert-rules/${created.id}`, { method: 'DELETE' })).status, 409);
    assert.equal((await mlog.callAdmin(`/admin/systems/${staged.code}`, { method: 'PATCH', body: JSON.stringify({ status: 'suspended' }) })).status, 200);
    await evaluate(mlog);
    assert.equal((await rules()).length, 0);
    assert.equal((await mlog.callAdmin(`/admin/systems/${staged.code}`, { method: 'PATCH', body: JSON.stringify({ status: 'active' }) })).status, 200);
    await evaluate(mlog);
    assert.equal((await rules()).length, 1);
    assert.equal((await mlog.callAdmin(`/admin/systems/${staged.code}`, { method: 'DELETE' })).status, 200);
    await evaluate(mlog);
    assert.equal((await rules()).length, 0);
  });
});

describe('exactly once across instances', () => {
  test('MLog restarted between two evaluations neither misses nor repeats a firing', async () => {
    let mlog = await TestMLog.start(SETTINGS);
    const system = await mlog.addSystem();
    const alice = `alice-${system.code}`;
    const bob = `bob-${system.code}`;
    const rule = await createRule(mlog, {
      name: 'Restart threshold',
      type: 'threshold',
      params: { scope: { kind: 'events', systems: [] }, query: `event_type:Test.Restart AND (user:${alice} OR user:${bob})`, window_minutes: 10, group_by: 'user', comparator: '>=', value: 1 },
    });
    await registered(system, [event({ event_type: 'Test.Restart', user: alice })]);
    await evaluate(mlog);
    assert.equal((await fired(rule)).length, 1);
    await mlog.stop();
    mlog = await TestMLog.start(SETTINGS);
    try {
      // Registered while no instance evaluates (the new instance has its own CA, so a new system).
      const again = await mlog.addSystem();
      await registered(again, [event({ event_type: 'Test.Restart', user: bob })]);
      await evaluate(mlog);
      const records = await fired(rule);
      assert.deepEqual(records.map((record) => record.group).sort(), [alice, bob], 'alice is not fired again, bob is not missed');
      const { json } = await mlog.callAdmin(`/admin/alert-rules/${rule}`);
      assert.equal(json.rule.state.active_groups, 2);
    } finally {
      await mlog.stop();
    }
  });

  test('two instances over the same Elasticsearch record one firing', async () => {
    const [first, second] = await Promise.all([TestMLog.start(SETTINGS), TestMLog.start(SETTINGS)]);
    try {
      const system = await first.addSystem();
      const rule = await createRule(first, {
        name: 'Two instances',
        type: 'threshold',
        params: { scope: { kind: 'events', systems: [system.code] }, query: 'event_type:Test.Failure', window_minutes: 10, comparator: '>=', value: 1 },
      });
      await registered(system, [event({ event_type: 'Test.Failure' })]);
      await Promise.all([evaluate(first), evaluate(second)]);
      await Promise.all([evaluate(first), evaluate(second)]);
      assert.equal((await fired(rule)).length, 1);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
