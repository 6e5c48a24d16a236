/**
 * The console's dashboards through their door: the console API on the admin listener with signed-in
 * sessions (administrator, auditor, viewer), over events MPass and MPay registered through mutual
 * TLS. Each panel's data is checked against those events; each opening is found in mlog_audit.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { auditRecords, closeInspectionClient, inspectionClient, refresh } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type ConsoleClient, type TestSystem } from '../helpers/test-mlog.js';

const marker = `marker-${randomBytes(6).toString('hex')}`;
/** In every event message: never in what a viewer is answered. */
const messageMarker = `message-${randomBytes(6).toString('hex')}`;

async function waitForRejection(code: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    await inspectionClient().indices.refresh({ index: 'mlog_rejections-*', ignore_unavailable: true, allow_no_indices: true });
    const found = await inspectionClient().count({ index: 'mlog_rejections-*', ignore_unavailable: true, allow_no_indices: true, query: { term: { is: code } } });
    if (found.count > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no rejection recorded for ${code}`);
}

describe('dashboards through the console API', () => {
  let mlog: TestMLog;
  let mpass: TestSystem;
  let mpay: TestSystem;
  let admin: ConsoleClient;
  let auditor: ConsoleClient;
  let viewer: ConsoleClient;
  const now = Date.now();
  const range = { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 5 * 60_000).toISOString() };
  const minutesAgo = (minutes: number): string => new Date(now - minutes * 60_000).toISOString();
  const mpassScope = (): { kind: string; systems: string[] } => ({ kind: 'events', systems: [mpass.code] });
  const grid = (y: number) => ({ x: 0, y, w: 6, h: 8 });

  before(async () => {
    mlog = await TestMLog.start();
    mpass = await mlog.addSystem({ code: `mpass-${randomBytes(3).toString('hex')}`, event_types: ['MPass.Login', 'MPass.Check', 'MPass.Never'] });
    mpay = await mlog.addSystem({ code: `mpay-${randomBytes(3).toString('hex')}` });
    const events = [
      { event_time: minutesAgo(30), event_type: 'MPass.Login', user: 'alice', event_message: `login ${messageMarker}` },
      { event_time: minutesAgo(29), event_type: 'MPass.Login', user: 'bob', event_message: `login ${messageMarker}` },
      { event_time: minutesAgo(28), event_type: 'MPass.Login', user: 'alice', event_message: `login ${messageMarker}` },
      { event_time: minutesAgo(20), event_type: 'MPass.Check', user: 'carol', event_message: `check ${messageMarker}` },
      { event_time: minutesAgo(10), event_type: 'MPass.Check', user: 'carol', event_message: `check ${messageMarker}` },
      // The period before the range (one hour and five minutes long, ending where the range starts).
      { event_time: minutesAgo(90), event_type: 'MPass.Login', user: 'dave', event_message: `earlier ${messageMarker}` },
      { event_time: minutesAgo(100), event_type: 'MPass.Login', user: 'dave', event_message: `earlier ${messageMarker}` },
    ];
    for (const each of events) {
      const answer = await mpass.register(each);
      assert.equal(answer.status, 200, answer.text);
    }
    assert.equal((await mpay.register({ event_time: minutesAgo(15), event_type: 'MPay.Payment', user: 'alice', event_message: `payment ${marker}` })).status, 200);
    assert.equal((await mpass.register({ event_time: minutesAgo(5), user: 'nobody' })).status, 400, 'an event without event_type is refused');
    await waitForRejection(mpass.code);
    await refresh('mlog-*');
    admin = await mlog.signedInAs('administrator');
    auditor = await mlog.signedInAs('auditor');
    viewer = await mlog.signedInAs('viewer');
  });

  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  function everyKind(): Record<string, any> {
    return {
      title: `Every kind ${marker}`,
      description: 'One panel of each visualisation',
      time_range: { from: 'now-1h', to: 'now' },
      refresh_seconds: 60,
      panels: [
        { id: 'over-time', title: 'Events per system', grid: grid(0), scope: { kind: 'events', systems: [mpass.code, mpay.code] }, query: '', visualisation: { kind: 'counts-over-time', split_field: '@is', top_n: 5 } },
        { id: 'types', title: 'Types', grid: grid(8), scope: mpassScope(), query: 'event_type:MPass.*', visualisation: { kind: 'top-values', field: 'event_type', top_n: 1, display: 'table' } },
        { id: 'count', title: 'Count', grid: grid(16), scope: mpassScope(), query: '', visualisation: { kind: 'metric', metric: 'count' } },
        { id: 'users', title: 'Users', grid: grid(24), scope: mpassScope(), query: '', visualisation: { kind: 'metric', metric: 'distinct', field: 'user' } },
        { id: 'latest', title: 'Latest', grid: grid(32), scope: mpassScope(), query: '', visualisation: { kind: 'latest-events', columns: ['event_time', 'event_type'], size: 2 } },
        { id: 'health', title: 'Health', grid: grid(40), scope: mpassScope(), query: '', visualisation: { kind: 'system-health' } },
        { id: 'all-time', title: 'All events', grid: grid(48), scope: mpassScope(), query: '', visualisation: { kind: 'counts-over-time', top_n: 5 } },
      ],
    };
  }

  test('the shipped dashboards are there after start, for a viewer too', async () => {
    const listed = await viewer.get('/dashboards');
    assert.equal(listed.status, 200, listed.text);
    const shipped = listed.json.dashboards.filter((each: any) => each.shipped);
    assert.deepEqual(shipped.map((each: any) => each.id).sort(), ['mlog-overview', 'system-health']);
    const overview = await viewer.get('/dashboards/mlog-overview');
    assert.equal(overview.status, 200);
    assert.equal(overview.json.title, 'MLog overview');
    assert.equal(overview.json.panels.length, 6);
    const rendered = await viewer.post('/dashboards/mlog-overview/render', range);
    assert.equal(rendered.status, 200, rendered.text);
    for (const panel of rendered.json.panels) assert.ok(panel.data, `panel ${panel.id} answers data: ${JSON.stringify(panel.error)}`);
    const refused = rendered.json.panels.find((panel: any) => panel.id === 'refused-by-reason').data;
    assert.ok(refused.total >= 1, 'the refused call is counted');
    assert.ok(refused.values.some((value: any) => typeof value.value === 'string' && /event_type/.test(value.value)), 'refused calls are counted by their reason');
  });

  test('each visualisation answers the counts of the events registered', async () => {
    const created = await admin.post('/dashboards', everyKind());
    assert.equal(created.status, 201, created.text);
    const id = created.json.id;
    assert.match(id, /^every-kind-marker-/);
    await auditor.statePurpose();
    const answer = await auditor.post(`/dashboards/${id}/render`, range);
    assert.equal(answer.status, 200, answer.text);
    const data = Object.fromEntries(answer.json.panels.map((panel: any) => [panel.id, panel.data ?? panel.error]));

    const overTime = data['over-time'];
    assert.equal(overTime.total, 6);
    assert.deepEqual(overTime.series, [mpass.code, mpay.code]);
    const sum = (series: string): number => overTime.points.filter((point: any) => point.series === series).reduce((total: number, point: any) => total + point.count, 0);
    assert.equal(sum(mpass.code), 5);
    assert.equal(sum(mpay.code), 1);
    assert.equal(overTime.interval, '39s', 'a hundredth of 65 minutes, rounded up to whole seconds');

    assert.deepEqual(data.types, { total: 5, values: [{ value: 'MPass.Login', count: 3, share: 0.6 }], other: 2 });
    assert.deepEqual(data.count, { value: 5, previous: 2, change: 1.5 });
    assert.deepEqual(data.users, { value: 3, previous: 1, change: 2 });

    assert.equal(data.latest.total, 5);
    assert.equal(data.latest.hits.length, 2);
    assert.deepEqual(Object.keys(data.latest.hits[0].source).sort(), ['event_time', 'event_type']);
    assert.equal(data.latest.hits[0].source.event_type, 'MPass.Check', 'newest first');
    assert.equal(data.latest.hits[0].system, mpass.code);

    const health = data.health.systems.find((system: any) => system.code === mpass.code);
    assert.equal(health.name, `Test system ${mpass.code}`);
    assert.equal(health.status, 'active');
    assert.deepEqual(health.declared_types_never_seen, ['MPass.Never']);
    // Every event of MPass was received within the range (the earlier ones too: the range is on @received).
    assert.equal(health.events_per_hour, Math.round((7 / (65 / 60)) * 100) / 100);
    assert.equal(health.refusal_rate, 1 / 8);
    assert.ok(Date.parse(health.last_event_received) >= now - 60_000);
    const payHealth = data.health.systems.find((system: any) => system.code === mpay.code);
    assert.equal(payHealth.refusal_rate, 0);

    assert.equal(data['all-time'].total, 5);
    assert.deepEqual(data['all-time'].series, ['Events']);

    const [record] = await auditRecords('MLog.Admin.DashboardViewed', { user: auditor.session.username, dashboard_id: id });
    assert.ok(record, 'the opening is in mlog_audit');
    assert.equal(record.admin_role, 'auditor');
    assert.equal(record.dashboard_title, `Every kind ${marker}`);
    assert.equal(record.time_from, range.from);
    assert.equal(record.time_to, range.to);
    assert.equal(record.panel_count, 7);
    assert.equal(record.events_shown, 2);
    assert.equal(record.purpose_legal_basis, 'Test legal basis');
    assert.equal(record.refresh, false);
  });

  test('a viewer sees the aggregates but never an event; an auditor without a purpose gets 428 on the latest events', async () => {
    const created = await admin.post('/dashboards', { ...everyKind(), title: `Viewer ${marker}` });
    assert.equal(created.status, 201, created.text);
    const answer = await viewer.post(`/dashboards/${created.json.id}/render`, { ...range, refresh: true });
    assert.equal(answer.status, 200, answer.text);
    const latest = answer.json.panels.find((panel: any) => panel.id === 'latest');
    assert.deepEqual(latest, { id: 'latest', error: { status: 403, message: 'A viewer sees aggregates only; the latest events take the auditor role.' } });
    assert.equal(answer.json.panels.find((panel: any) => panel.id === 'count').data.value, 5, 'the other panels answer');
    assert.ok(!answer.text.includes(messageMarker), 'no event message reaches a viewer');
    assert.ok(!answer.text.includes('carol'), 'no event field reaches a viewer but as a count');
    const [record] = await auditRecords('MLog.Admin.DashboardViewed', { user: viewer.session.username });
    assert.equal(record?.refresh, true);
    assert.equal(record?.events_shown, 0);

    const noPurpose = await mlog.signedInAs('auditor');
    const withoutPurpose = await noPurpose.post(`/dashboards/${created.json.id}/render`, range);
    assert.equal(withoutPurpose.status, 200);
    assert.equal(withoutPurpose.json.panels.find((panel: any) => panel.id === 'latest').error.status, 428);

    for (const [method, path] of [
      ['post', '/dashboards'],
      ['put', `/dashboards/${created.json.id}`],
      ['delete', `/dashboards/${created.json.id}`],
      ['post', `/dashboards/${created.json.id}/copy`],
      ['post', '/dashboards/preview'],
      ['get', '/dashboards/export'],
    ] as const) {
      const refused = method === 'get' || method === 'delete' ? await viewer[method](path) : await viewer[method](path, {});
      assert.equal(refused.status, 403, `${method} ${path}`);
    }
  });

  test('edit with the version read; a stale version is refused naming who changed it', async () => {
    const created = await admin.post('/dashboards', { title: `Edited ${marker}` });
    assert.equal(created.status, 201, created.text);
    const opened = created.json;
    const other = await mlog.signedInAs('administrator');
    const changed = await other.put(`/dashboards/${opened.id}`, { ...opened, panels: [everyKind().panels![2]] });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.updated_by, other.session.username);
    assert.notEqual(changed.json.version, opened.version);
    const stale = await admin.put(`/dashboards/${opened.id}`, { ...opened, title: 'Mine' });
    assert.equal(stale.status, 409);
    assert.match(stale.json.message, new RegExp(`changed by ${other.session.username} at .* since you opened it`));
    const noVersion = await admin.put(`/dashboards/${opened.id}`, { title: 'Mine' });
    assert.equal(noVersion.status, 400);
    assert.match(noVersion.json.message, /version is required/);
    const duplicate = await admin.post('/dashboards', { id: opened.id, title: 'Same id' });
    assert.equal(duplicate.status, 409);
  });

  test('copy and delete', async () => {
    const created = await admin.post('/dashboards', everyKind());
    const copied = await admin.post(`/dashboards/${created.json.id}/copy`, {});
    assert.equal(copied.status, 201, copied.text);
    assert.equal(copied.json.title, `Copy of Every kind ${marker}`);
    assert.notEqual(copied.json.id, created.json.id);
    assert.deepEqual(copied.json.panels, created.json.panels);
    const named = await admin.post(`/dashboards/${created.json.id}/copy`, { title: 'Named copy' });
    assert.equal(named.json.title, 'Named copy');
    assert.equal((await admin.delete(`/dashboards/${copied.json.id}`)).status, 204);
    assert.equal((await admin.get(`/dashboards/${copied.json.id}`)).status, 404);
    assert.equal((await admin.delete(`/dashboards/${copied.json.id}`)).status, 404);
    const [deleted] = await auditRecords('MLog.Admin.DashboardDeleted', { dashboard_id: copied.json.id });
    assert.equal(deleted?.user, admin.session.username);
  });

  test('a query that does not parse is refused with its column; a bad value names its path', async () => {
    const definition = everyKind();
    (definition.panels as any[])[1].query = 'event_type:(MPass.Login';
    const answer = await admin.post('/dashboards', definition);
    assert.equal(answer.status, 400);
    assert.match(answer.json.message, /^panels\[1\]\.query: /);
    assert.equal(typeof answer.json.column, 'number');
    const wildcardOnText = everyKind();
    (wildcardOnText.panels as any[])[0].query = 'event_message:log*';
    const refused = await admin.post('/dashboards', wildcardOnText);
    assert.equal(refused.status, 400);
    assert.match(refused.json.message, /^panels\[0\]\.query: At column 15: event_message is searched by words/);
    assert.equal(refused.json.column, 15);
    const tooMany = everyKind();
    (tooMany.panels as any[])[1].visualisation.top_n = 99;
    const topN = await admin.post('/dashboards', tooMany);
    assert.equal(topN.status, 400);
    assert.equal(topN.json.message, 'panels[1].visualisation.top_n must be a whole number from 1 to 50.');
    const outside = everyKind();
    (outside.panels as any[])[2].grid = { x: 8, y: 0, w: 6, h: 8 };
    assert.match((await admin.post('/dashboards', outside)).json.message, /panels\[2\]\.grid\.x \+ panels\[2\]\.grid\.w is 14/);
    const preview = await admin.post('/dashboards/preview', { panel: { ...(everyKind().panels as any[])[2], query: 'user:' }, ...range });
    assert.equal(preview.status, 400);
    assert.match(preview.json.message, /^panel\.query: /);
  });

  test('a preview renders one panel and is recorded as such', async () => {
    const answer = await admin.post('/dashboards/preview', { panel: (everyKind().panels as any[])[2], ...range });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.data, { value: 5, previous: 2, change: 1.5 });
    const [record] = await auditRecords('MLog.Admin.DashboardViewed', { user: admin.session.username });
    assert.equal(record?.preview, true);
  });

  test('export and import round trip; an existing id without overwrite is refused and nothing is imported', async () => {
    const created = await admin.post('/dashboards', { ...everyKind(), title: `Exported ${marker}` });
    const id = created.json.id;
    const exported = await admin.get(`/dashboards/${id}/export`);
    assert.equal(exported.status, 200);
    assert.match(String(exported.headers['content-disposition']), new RegExp(`attachment; filename="mlog-dashboard-${id}.json"`));
    assert.equal(exported.json.mlog_dashboards, 1);
    assert.equal(exported.json.dashboards.length, 1);
    assert.equal(exported.json.dashboards[0].version, undefined);
    const all = await admin.get('/dashboards/export');
    assert.ok(all.json.dashboards.some((each: any) => each.id === 'mlog-overview'));

    const second = { ...exported.json.dashboards[0], id: `${id}-second`, title: 'Second' };
    const file = { ...exported.json, dashboards: [exported.json.dashboards[0], second] };
    const refused = await admin.post('/dashboards/import', file);
    assert.equal(refused.status, 409);
    assert.match(refused.json.message, new RegExp(`"${id}" already exists; nothing was imported`));
    assert.equal((await admin.get(`/dashboards/${id}-second`)).status, 404, 'nothing of the file is imported');

    assert.equal((await admin.delete(`/dashboards/${id}`)).status, 204);
    const imported = await admin.post('/dashboards/import?overwrite=false', file);
    assert.equal(imported.status, 200, imported.text);
    assert.deepEqual(imported.json, { imported: [id, `${id}-second`], skipped: [] });
    const back = await admin.get(`/dashboards/${id}`);
    assert.deepEqual(back.json.panels, created.json.panels);
    assert.equal((await admin.post('/dashboards/import?overwrite=true', file)).status, 200);

    const malformed = await admin.post('/dashboards/import', { ...file, dashboards: [{ ...second, refresh_seconds: 5 }] });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.message, 'dashboards[0].refresh_seconds must be 0 (off) or a whole number from 10 to 86400.');
    assert.equal((await admin.post('/dashboards/import', { dashboards: [] })).status, 400);
  });

  test('an edited shipped dashboard is not overwritten when MLog starts again', async () => {
    const original = (await admin.get('/dashboards/system-health')).json;
    const edited = await admin.put('/dashboards/system-health', { ...original, title: `System health ${marker}` });
    assert.equal(edited.status, 200, edited.text);
    try {
      const again = await TestMLog.start();
      try {
        const client = await again.signedInAs('viewer');
        const read = await client.get('/dashboards/system-health');
        assert.equal(read.json.title, `System health ${marker}`);
        assert.equal(read.json.shipped, true);
      } finally {
        await again.stop();
      }
    } finally {
      const current = (await admin.get('/dashboards/system-health')).json;
      await admin.put('/dashboards/system-health', { ...current, title: original.title });
    }
  });
});
