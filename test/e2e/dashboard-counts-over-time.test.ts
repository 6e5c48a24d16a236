/**
 * A counts-over-time panel counts every event of its range, those of the first and last partial
 * buckets too, when the range does not start on a bucket boundary: the points add up to the total,
 * with and without a split, through the console API.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { closeInspectionClient, refresh } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type ConsoleClient, type TestSystem } from '../helpers/test-mlog.js';

describe('counts over time: every event of the range is in a bucket', () => {
  let mlog: TestMLog;
  let mpass: TestSystem;
  let viewer: ConsoleClient;
  let dashboardId: string;
  // 65 minutes and a few milliseconds: buckets of 40 s, the range starting 123 ms past a second.
  const to = Math.floor(Date.now() / 1000) * 1000 - 60_000 + 456;
  const from = to - 65 * 60_000 - 333;
  const at = (millis: number): string => new Date(millis).toISOString();

  before(async () => {
    mlog = await TestMLog.start();
    mpass = await mlog.addSystem({ code: `mpass-${randomBytes(3).toString('hex')}` });
    const events = [
      { event_time: at(from), event_type: 'MPass.Login' },
      { event_time: at(from + 700), event_type: 'MPass.Check' },
      { event_time: at(from + 30 * 60_000), event_type: 'MPass.Login' },
      { event_time: at(to - 900), event_type: 'MPass.Login' },
      { event_time: at(to - 1), event_type: 'MPass.Check' },
      // Outside the range, either side.
      { event_time: at(from - 1), event_type: 'MPass.Login' },
      { event_time: at(to), event_type: 'MPass.Login' },
    ];
    for (const event of events) {
      const answer = await mpass.register(event);
      assert.equal(answer.status, 200, answer.text);
    }
    await refresh('mlog-*');
    const admin = await mlog.signedInAs('administrator');
    const scope = { kind: 'events', systems: [mpass.code] };
    const created = await admin.post('/dashboards', {
      title: `Counts ${randomBytes(4).toString('hex')}`,
      panels: [
        { id: 'one', title: 'All', grid: { x: 0, y: 0, w: 6, h: 8 }, scope, query: '', visualisation: { kind: 'counts-over-time', top_n: 5 } },
        { id: 'split', title: 'By type', grid: { x: 6, y: 0, w: 6, h: 8 }, scope, query: '', visualisation: { kind: 'counts-over-time', split_field: 'event_type', top_n: 5 } },
      ],
    });
    assert.equal(created.status, 201, created.text);
    dashboardId = created.json.id;
    viewer = await mlog.signedInAs('viewer');
  });

  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  test('the five events of the range are counted, in buckets that add up to the total', async () => {
    const answer = await viewer.post(`/dashboards/${dashboardId}/render`, { from: at(from), to: at(to) });
    assert.equal(answer.status, 200, answer.text);
    const [one, split] = answer.json.panels.map((panel: any) => panel.data);
    assert.equal(one.interval, '40s');
    assert.equal(one.total, 5);
    assert.equal(one.points.reduce((sum: number, point: any) => sum + point.count, 0), 5, 'the first and last partial buckets are counted');
    const times = one.points.map((point: any) => point.time);
    assert.ok(times[0] <= from && times.at(-1) <= to - 1 && times.at(-1) > to - 1 - 40_000, 'buckets from the range’s start to its end');

    assert.equal(split.total, 5);
    assert.deepEqual(split.series, ['MPass.Login', 'MPass.Check']);
    const sumOf = (series: string): number => split.points.filter((point: any) => point.series === series).reduce((sum: number, point: any) => sum + point.count, 0);
    assert.equal(sumOf('MPass.Login'), 3);
    assert.equal(sumOf('MPass.Check'), 2);
  });
});
