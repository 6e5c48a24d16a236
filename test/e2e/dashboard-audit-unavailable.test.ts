/**
 * A dashboard's data is given only once its opening is recorded: with mlog_audit refusing writes
 * (an index write block on the real Elasticsearch), rendering a dashboard and previewing a panel
 * answer 503 with the error envelope and no panel data; once the audit takes writes again, the same
 * calls answer their data and are recorded.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { auditRecords, closeInspectionClient, refresh, whileAuditRefusesWrites } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type ConsoleClient, type TestSystem } from '../helpers/test-mlog.js';

/** A value of the events' `user`: what a panel's data would carry, never a 503. */
const marker = `user-${randomBytes(6).toString('hex')}`;

describe('a dashboard whose opening cannot be recorded shows no data', () => {
  let mlog: TestMLog;
  let mpass: TestSystem;
  let admin: ConsoleClient;
  let viewer: ConsoleClient;
  let auditor: ConsoleClient;
  let dashboardId: string;
  let latestId: string;
  const now = Date.now();
  const range = { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 5 * 60_000).toISOString() };

  const panels = () => [
    { id: 'users', title: 'Users', grid: { x: 0, y: 0, w: 6, h: 8 }, scope: { kind: 'events', systems: [mpass.code] }, query: '', visualisation: { kind: 'top-values', field: 'user', top_n: 5, display: 'table' } },
    { id: 'count', title: 'Count', grid: { x: 6, y: 0, w: 6, h: 8 }, scope: { kind: 'events', systems: [mpass.code] }, query: '', visualisation: { kind: 'metric', metric: 'count' } },
  ];

  const viewedRecords = () => auditRecords('MLog.Admin.DashboardViewed', { user: viewer.session.username, dashboard_id: dashboardId });

  before(async () => {
    mlog = await TestMLog.start();
    mpass = await mlog.addSystem({ code: `mpass-${randomBytes(3).toString('hex')}` });
    for (const minutes of [30, 20]) {
      const answer = await mpass.register({ event_time: new Date(now - minutes * 60_000).toISOString(), event_type: 'MPass.Login', user: marker, event_message: 'login' });
      assert.equal(answer.status, 200, answer.text);
    }
    await refresh('mlog-*');
    admin = await mlog.signedInAs('administrator');
    viewer = await mlog.signedInAs('viewer');
    const created = await admin.post('/dashboards', { title: `Audit unavailable ${marker}`, panels: panels() });
    assert.equal(created.status, 201, created.text);
    dashboardId = created.json.id;
    // With a latest-events panel, the record waits for the panels (it counts the events shown).
    const latest = await admin.post('/dashboards', {
      title: `Latest events ${marker}`,
      panels: [...panels(), { id: 'latest', title: 'Latest', grid: { x: 0, y: 8, w: 12, h: 8 }, scope: { kind: 'events', systems: [mpass.code] }, query: '', visualisation: { kind: 'latest-events', columns: ['event_time', 'user'], size: 5 } }],
    });
    assert.equal(latest.status, 201, latest.text);
    latestId = latest.json.id;
    auditor = await mlog.signedInAs('auditor');
    await auditor.statePurpose();
  });

  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  test('render and preview answer 503 without data while mlog_audit refuses writes, and their data once it takes them again', async () => {
    const rendered = await viewer.post(`/dashboards/${dashboardId}/render`, range);
    assert.equal(rendered.status, 200, rendered.text);
    assert.deepEqual(rendered.json.panels.find((panel: any) => panel.id === 'count').data, { value: 2, previous: 0, change: null });
    assert.ok(rendered.text.includes(marker), 'the top-values panel carries the user value');
    const recordedBefore = (await viewedRecords()).length;
    assert.equal(recordedBefore, 1);

    await whileAuditRefusesWrites(async () => {
      const refused = await viewer.post(`/dashboards/${dashboardId}/render`, range);
      assert.equal(refused.status, 503, refused.text);
      assert.deepEqual(Object.keys(refused.json).sort(), ['message', 'status', 'timestamp'], 'the error envelope and nothing else');
      assert.equal(refused.json.status, '503');
      assert.match(refused.json.message, /could not be recorded in the audit trail/);
      assert.ok(!refused.text.includes(marker), 'no panel data in the refusal');

      const withEvents = await auditor.post(`/dashboards/${latestId}/render`, range);
      assert.equal(withEvents.status, 503, withEvents.text);
      assert.deepEqual(Object.keys(withEvents.json).sort(), ['message', 'status', 'timestamp']);
      assert.ok(!withEvents.text.includes(marker), 'no event in the refusal');

      const preview = await admin.post('/dashboards/preview', { panel: panels()[0], ...range });
      assert.equal(preview.status, 503, preview.text);
      assert.deepEqual(Object.keys(preview.json).sort(), ['message', 'status', 'timestamp']);
      assert.ok(!preview.text.includes(marker), 'no preview data in the refusal');
    });
    assert.equal((await viewedRecords()).length, recordedBefore, 'nothing was recorded while the audit refused writes');

    const again = await viewer.post(`/dashboards/${dashboardId}/render`, { ...range, refresh: true });
    assert.equal(again.status, 200, again.text);
    assert.ok(again.text.includes(marker));
    const records = await viewedRecords();
    assert.equal(records.length, recordedBefore + 1, 'the render after the block is recorded');
    assert.equal(records[0]?.refresh, true);
    assert.equal(records[0]?.events_shown, 0);

    const withEvents = await auditor.post(`/dashboards/${latestId}/render`, range);
    assert.equal(withEvents.status, 200, withEvents.text);
    assert.equal(withEvents.json.panels.find((panel: any) => panel.id === 'latest').data.hits.length, 2);
    const [auditorRecord] = await auditRecords('MLog.Admin.DashboardViewed', { user: auditor.session.username, dashboard_id: latestId });
    assert.equal(auditorRecord?.events_shown, 2, 'the events shown are counted in the record');
    assert.equal(auditorRecord?.purpose_legal_basis, 'Test legal basis');
  });
});
