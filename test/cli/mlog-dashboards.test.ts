import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { auditRecords, closeInspectionClient } from '../helpers/elasticsearch-inspection.js';
import { runMlogCli as mlog } from '../helpers/run-mlog-cli.js';
import { TestMLog } from '../helpers/test-mlog.js';

describe('mlog dashboards (command line)', () => {
  let server: TestMLog;
  let dir: string;
  before(async () => {
    server = await TestMLog.start();
    dir = mkdtempSync(join(tmpdir(), 'mlog-dashboards-'));
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    await closeInspectionClient();
  });

  test('list shows the shipped dashboards', async () => {
    const listed = await mlog(['dashboards', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+TITLE\s+PANELS\s+SHIPPED\s+UPDATED/);
    assert.match(listed.stdout, /mlog-overview\s+MLog overview\s+6\s+yes/);
    assert.match(listed.stdout, /system-health\s+System health\s+2\s+yes/);
    const json = JSON.parse((await mlog(['dashboards', 'list', '--json'])).stdout);
    assert.ok(json.dashboards.some((each: { id: string }) => each.id === 'mlog-overview'));
  });

  test('export to a file and to standard output, import it under a new id, refused again without --overwrite', async () => {
    const file = join(dir, 'overview.json');
    const exported = await mlog(['dashboards', 'export', '--id', 'mlog-overview', '--output', file]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /1 dashboard written to /);
    const content = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(content.mlog_dashboards, 1);
    assert.deepEqual(content.dashboards.map((each: { id: string }) => each.id), ['mlog-overview']);
    const toStdout = JSON.parse((await mlog(['dashboards', 'export'])).stdout);
    assert.ok(toStdout.dashboards.length >= 2);
    const [record] = await auditRecords('MLog.Admin.DashboardsExported', {});
    assert.match(String(record?.user), /^cli by /);

    const id = `imported-${randomBytes(3).toString('hex')}`;
    const copy = join(dir, 'copy.json');
    writeFileSync(copy, JSON.stringify({ ...content, dashboards: [{ ...content.dashboards[0], id, title: 'Imported overview' }] }));
    const imported = await mlog(['dashboards', 'import', copy]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stdout.trim(), `Imported 1 dashboard: ${id}.`);
    const admin = await server.signedInAs('viewer');
    const read = await admin.get(`/dashboards/${id}`);
    assert.equal(read.status, 200);
    assert.equal(read.json.title, 'Imported overview');
    assert.equal(read.json.updated_by.startsWith('cli by '), true);

    const again = await mlog(['dashboards', 'import', copy]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`mlog: The dashboard "${id}" already exists; nothing was imported`));
    assert.equal((await mlog(['dashboards', 'import', copy, '--overwrite'])).code, 0);
  });

  test('a malformed file is refused naming the path, and nothing of it is written', async () => {
    const id = `never-${randomBytes(3).toString('hex')}`;
    const bad = join(dir, 'bad.json');
    const panel = { id: 'p1', title: 'x', grid: { x: 0, y: 0, w: 6, h: 8 }, scope: { kind: 'events' }, query: '', visualisation: { kind: 'metric', metric: 'count' } };
    writeFileSync(bad, JSON.stringify({ mlog_dashboards: 1, dashboards: [{ id, title: 'Fine', panels: [panel] }, { id: `${id}-2`, title: 'Broken', panels: [{ ...panel, query: 'a:(b' }] }] }));
    const refused = await mlog(['dashboards', 'import', bad]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /mlog: dashboards\[1\]\.panels\[0\]\.query: /);
    assert.doesNotMatch((await mlog(['dashboards', 'list'])).stdout, new RegExp(id));
    writeFileSync(bad, 'not json');
    const notJson = await mlog(['dashboards', 'import', bad]);
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /is not JSON/);
    const unknown = await mlog(['dashboards', 'export', '--id', 'no-such-dashboard']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /There is no dashboard "no-such-dashboard"/);
  });
});
