/**
 * The system-health panel's "last event received" through the console API: the time MLog received a
 * system's newest event, whatever the range — for a system that reported within the range, one that
 * fell silent before it, and over a range that ended before the event was received.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { closeInspectionClient, inspectionClient, refresh } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type ConsoleClient, type TestSystem } from '../helpers/test-mlog.js';

/** When MLog received the newest event of `code` (its @received). */
async function lastReceived(code: string): Promise<string> {
  await refresh('mlog-*');
  const answer = await inspectionClient().search<{ '@received': string }>({ index: `mlog-${code}-*`, size: 1, sort: [{ '@received': 'desc' }], query: { term: { '@is': code } } });
  const received = answer.hits.hits[0]?._source?.['@received'];
  assert.ok(received !== undefined, `an event of ${code} is stored`);
  return received;
}

describe('the system-health panel: the last event received, whatever the range', () => {
  let mlog: TestMLog;
  let silent: TestSystem;
  let reporting: TestSystem;
  let viewer: ConsoleClient;
  let dashboardId: string;
  let silentLast: string;

  before(async () => {
    mlog = await TestMLog.start();
    silent = await mlog.addSystem({ code: `silent-${randomBytes(3).toString('hex')}`, event_types: ['Silent.Ping'] });
    reporting = await mlog.addSystem({ code: `reporting-${randomBytes(3).toString('hex')}`, event_types: ['Reporting.Ping', 'Reporting.Never'] });
    for (const minutes of [20, 10]) {
      const answer = await silent.register({ event_time: new Date(Date.now() - minutes * 60_000).toISOString(), event_type: 'Silent.Ping' });
      assert.equal(answer.status, 200, answer.text);
    }
    silentLast = await lastReceived(silent.code);
    // What the range of the test starts after: every event of `silent` was received before it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const admin = await mlog.signedInAs('administrator');
    const created = await admin.post('/dashboards', {
      title: `Health ${randomBytes(4).toString('hex')}`,
      panels: [{ id: 'health', title: 'Health', grid: { x: 0, y: 0, w: 12, h: 8 }, scope: { kind: 'events', systems: [] }, query: '', visualisation: { kind: 'system-health' } }],
    });
    assert.equal(created.status, 201, created.text);
    dashboardId = created.json.id;
    viewer = await mlog.signedInAs('viewer');
  });

  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  const healthOf = async (from: number, to: number): Promise<Map<string, any>> => {
    const answer = await viewer.post(`/dashboards/${dashboardId}/render`, { from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    assert.equal(answer.status, 200, answer.text);
    const panel = answer.json.panels[0];
    assert.ok(panel.data, JSON.stringify(panel.error));
    return new Map(panel.data.systems.map((system: any) => [system.code, system]));
  };

  test('a system silent in a range up to now shows when its last event was received; one reporting in it, its newest', async () => {
    const from = Date.parse(silentLast) + 1;
    const answer = await reporting.register({ event_time: new Date().toISOString(), event_type: 'Reporting.Ping' });
    assert.equal(answer.status, 200, answer.text);
    const reportingLast = await lastReceived(reporting.code);
    const health = await healthOf(from, Date.now() + 5 * 60_000);
    const silentHealth = health.get(silent.code);
    assert.equal(silentHealth.last_event_received, silentLast, 'read from before the range');
    assert.equal(silentHealth.events_per_hour, 0);
    assert.deepEqual(silentHealth.declared_types_never_seen, ['Silent.Ping'], 'not seen in the range');
    const reportingHealth = health.get(reporting.code);
    assert.equal(reportingHealth.last_event_received, reportingLast);
    assert.ok(reportingHealth.events_per_hour > 0);
    assert.deepEqual(reportingHealth.declared_types_never_seen, ['Reporting.Never']);
  });

  test('over a range that ended before the events were received, the last event is still the newest received', async () => {
    const receivedAt = Date.parse(silentLast);
    const health = await healthOf(receivedAt - 3_600_000, receivedAt - 60_000);
    const silentHealth = health.get(silent.code);
    assert.equal(silentHealth.last_event_received, silentLast);
    assert.equal(silentHealth.events_per_hour, 0);
    assert.deepEqual(silentHealth.declared_types_never_seen, ['Silent.Ping']);
  });
});
