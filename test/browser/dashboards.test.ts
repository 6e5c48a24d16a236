/**
 * The console's dashboards in Debian's Chromium, over a real MLog and Elasticsearch: events MPass and
 * MPay registered through mutual TLS; an administrator builds a dashboard of two panels through the
 * page (counts over time split by @is, top values of event_type), moves and resizes one on the grid
 * and saves it; a viewer opens it and sees the charts with the registered counts, but never an
 * event: the latest-events panel of another dashboard shows the lock, and nothing links to Discover;
 * the shipped "MLog overview" opens with its six panels.
 *
 * MLOG_CONSOLE_SCREENSHOTS=docs/images also saves the views as dashboards-*.png for docs/dashboards.md.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../../scripts/build-console.js';
import { auditRecords, closeInspectionClient, refresh } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type ConsoleClient, type TestSystem } from '../helpers/test-mlog.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'];
const SCREENSHOTS = process.env.MLOG_CONSOLE_SCREENSHOTS;
const WAIT = { timeout: 20_000 };

const marker = randomBytes(3).toString('hex');

/** Reads `read` until `ok` holds (the page's state follows the mouse a frame later), failing after 20 s. */
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT.timeout;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(value)} after ${WAIT.timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
/**
 * A mouse gesture on the grid, repeated (up to three times, bounding boxes read afresh) until the
 * layout shows its effect: on a loaded machine the grid may still be settling its width when the first
 * gesture lands, and react-grid-layout then places the panel from stale measures.
 */
async function gestureUntil<T>(gesture: () => Promise<void>, read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    await gesture();
    const deadline = Date.now() + 5_000;
    for (;;) {
      last = await read();
      if (ok(last)) return last;
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`still ${JSON.stringify(last)} after three gestures`);
}
const title = `Sign-ins ${marker}`;

describe('dashboards in a browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium` }, () => {
  let mlog: TestMLog;
  let browser: Browser;
  let base: string;
  let mpass: TestSystem;
  let mpay: TestSystem;
  let administrator: { username: string; password: string };
  let viewer: { username: string; password: string };
  let adminApi: ConsoleClient;
  let admin: Page;
  let dashboardId: string;
  let evidenceId: string;

  async function shoot(target: Page, name: string): Promise<void> {
    if (SCREENSHOTS === undefined) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await target.waitForTimeout(400); // lets EUI's opening animations and the charts settle before the picture
    await target.screenshot({ path: join(SCREENSHOTS, `dashboards-${name}.png`) });
  }

  async function signIn(target: Page, account: { username: string; password: string }): Promise<void> {
    await target.locator('input[name="username"]').fill(account.username);
    await target.locator('input[name="password"]').fill(account.password);
    await target.locator('[data-test-subj="signIn"]').click();
  }

  const panel = (target: Page, id: string) => target.locator(`[data-test-subj="dashboardPanel"][data-panel-id="${id}"]`);
  const gridOf = async (target: Page, id: string): Promise<{ x: number; y: number; w: number; h: number }> =>
    JSON.parse((await panel(target, id).getAttribute('data-grid-position')) ?? 'null');

  /** The rows of a panel's table as [value, count, share]. */
  async function tableRows(target: Page, id: string): Promise<string[][]> {
    return panel(target, id)
      .locator('[data-test-subj="topValuesTable"] tbody tr')
      .evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => (cell.querySelector('.euiTableCellContent') ?? cell).textContent?.trim() ?? '')));
  }

  /** Adds a panel through the flyout: title, the two systems, a visualisation; waits for its preview. */
  async function addPanel(panelTitle: string, configure: () => Promise<void>, previewSelector: string, screenshot?: string): Promise<void> {
    await admin.locator('[data-test-subj="addPanel"]').click();
    const flyout = admin.locator('[data-test-subj="panelFlyout"]');
    await flyout.waitFor(WAIT);
    await flyout.locator('[data-test-subj="panelTitle"]').fill(panelTitle);
    for (const code of [mpass.code, mpay.code]) {
      await flyout.locator('[data-test-subj="scopeSystems"] input').fill(code);
      await flyout.locator('[data-test-subj="scopeSystems"] input').press('Enter');
    }
    await flyout.locator('[data-test-subj="panelTitle"]').click(); // closes the systems' list
    await configure();
    await flyout.locator(`[data-test-subj="panelPreview"] ${previewSelector}`).first().waitFor(WAIT);
    if (screenshot !== undefined) await shoot(admin, screenshot);
    await flyout.locator('[data-test-subj="panelApply"]').click();
    await flyout.waitFor({ state: 'detached', ...WAIT });
  }

  before(async () => {
    await ensureConsoleBuilt({ log: (line) => process.stdout.write(`# ${line}\n`) });
    mlog = await TestMLog.start();
    base = `http://127.0.0.1:${mlog.ports.adminPort}`;
    mpass = await mlog.addSystem({ code: `mpass-${marker}` });
    mpay = await mlog.addSystem({ code: `mpay-${marker}` });
    const minutesAgo = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString();
    const events: [TestSystem, Record<string, unknown>][] = [
      [mpass, { event_time: minutesAgo(50), event_type: 'MPass.Login', user: 'alice', event_message: `Login of alice ${marker}` }],
      [mpass, { event_time: minutesAgo(40), event_type: 'MPass.Login', user: 'bob', event_message: `Login of bob ${marker}` }],
      [mpass, { event_time: minutesAgo(30), event_type: 'MPass.Login', user: 'carol', event_message: `Login of carol ${marker}` }],
      [mpass, { event_time: minutesAgo(20), event_type: 'MPass.Check', user: 'carol', event_message: `Check of carol ${marker}` }],
      [mpay, { event_time: minutesAgo(15), event_type: 'MPay.Payment', user: 'alice', event_message: `Payment by alice ${marker}` }],
      [mpay, { event_time: minutesAgo(10), event_type: 'MPay.Payment', user: 'bob', event_message: `Payment by bob ${marker}` }],
    ];
    for (const [system, event] of events) {
      const answer = await system.register(event);
      assert.equal(answer.status, 200, answer.text);
    }
    await refresh('mlog-*');
    administrator = await mlog.addAdministrator('administrator', { username: `admin-${marker}` });
    viewer = await mlog.addAdministrator('viewer', { username: `viewer-${marker}` });
    adminApi = await mlog.consoleSignIn(administrator.username, administrator.password);
    // A dashboard with the latest events, which a viewer must never see.
    const evidence = await adminApi.post('/dashboards', {
      title: `Evidence ${marker}`,
      description: 'The latest events next to their count',
      time_range: { from: 'now-24h', to: 'now' },
      refresh_seconds: 0,
      panels: [
        { id: 'latest', title: 'Latest events', grid: { x: 0, y: 0, w: 8, h: 8 }, scope: { kind: 'events', systems: [mpass.code, mpay.code] }, query: '', visualisation: { kind: 'latest-events', columns: ['event_time', 'event_type', 'event_message'], size: 10 } },
        { id: 'count', title: 'Events', grid: { x: 8, y: 0, w: 4, h: 8 }, scope: { kind: 'events', systems: [mpass.code, mpay.code] }, query: '', visualisation: { kind: 'metric', metric: 'count' } },
      ],
    });
    assert.equal(evidence.status, 201, evidence.text);
    evidenceId = evidence.json.id;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    admin = await (await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true })).newPage();
  });

  after(async () => {
    for (const id of [dashboardId, evidenceId]) if (id !== undefined) await adminApi.delete(`/dashboards/${encodeURIComponent(id)}`);
    await browser?.close();
    await mlog?.stop();
    await closeInspectionClient();
  });

  test('an administrator sees the shipped dashboards in the list and creates a new one, which opens in edit mode', async () => {
    await admin.goto(`${base}/console/dashboards`, { waitUntil: 'networkidle' });
    await signIn(admin, administrator);
    const table = admin.locator('[data-test-subj="dashboardsTable"]');
    await table.getByText('MLog overview').waitFor(WAIT);
    assert.ok(await table.getByText('System health').first().isVisible());
    assert.ok(await table.getByText(`Evidence ${marker}`).isVisible());
    await admin.locator('[data-test-subj="createDashboard"]').click();
    await admin.locator('[data-test-subj="newDashboardTitle"]').fill(title);
    await admin.locator('[data-test-subj="createDashboardSubmit"]').click();
    await admin.locator('[data-test-subj="dashboardPage"][data-editing="true"]').waitFor(WAIT);
    assert.equal(await admin.locator('[data-test-subj="dashboardTitle"]').innerText(), title);
    const url = new URL(admin.url());
    assert.match(url.pathname, /^\/console\/dashboards\/[a-z0-9-]+$/);
    dashboardId = decodeURIComponent(url.pathname.split('/').pop()!);
  });

  test('the administrator adds a chart of counts over time split by @is and a table of the top event types, each previewed live', async () => {
    await addPanel('Events per system', async () => undefined, '[data-test-subj="countsOverTimeChart"] canvas');
    await addPanel(
      'Event types',
      async () => {
        const flyout = admin.locator('[data-test-subj="panelFlyout"]');
        await flyout.locator('[data-test-subj="panelKind"]').selectOption('top-values');
        await flyout.locator('[data-test-subj="panelPreview"] [data-test-subj="topValuesChart"] canvas').first().waitFor(WAIT);
        await flyout.getByRole('button', { name: 'Table' }).click();
      },
      '[data-test-subj="topValuesTable"]',
      'edit',
    );
    await panel(admin, 'p1').locator('[data-test-subj="countsOverTimeChart"] canvas').first().waitFor(WAIT);
    await panel(admin, 'p2').locator('[data-test-subj="topValuesTable"] tbody tr').first().waitFor(WAIT);
    assert.deepEqual(await gridOf(admin, 'p1'), { x: 0, y: 0, w: 6, h: 8 });
    assert.deepEqual(await gridOf(admin, 'p2'), { x: 0, y: 8, w: 6, h: 8 });
  });

  test('the administrator moves the table beside the chart, makes the chart taller and saves; MLog keeps the layout', async () => {
    await gestureUntil(
      async () => {
        const from = (await panel(admin, 'p2').locator('[data-test-subj="panelDragHandle"]').boundingBox())!;
        const target = (await panel(admin, 'p1').boundingBox())!;
        await admin.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
        await admin.mouse.down();
        await admin.mouse.move(target.x + target.width + 40, target.y + 10, { steps: 12 });
        await admin.mouse.move(target.x + target.width + 48, target.y + 8, { steps: 4 });
        await admin.mouse.up();
      },
      () => gridOf(admin, 'p2'),
      (grid) => grid.x === 6 && grid.y === 0,
    );

    const resized = await gestureUntil(
      async () => {
        const corner = (await panel(admin, 'p1').locator('.react-resizable-handle-se').boundingBox())!;
        await admin.mouse.move(corner.x + corner.width / 2, corner.y + corner.height / 2);
        await admin.mouse.down();
        await admin.mouse.move(corner.x + corner.width / 2, corner.y + corner.height / 2 + 4 * 42, { steps: 12 });
        await admin.mouse.up();
      },
      () => gridOf(admin, 'p1'),
      (grid) => grid.h >= 11,
    );
    assert.deepEqual({ x: resized.x, y: resized.y, w: resized.w }, { x: 0, y: 0, w: 6 });

    await admin.locator('[data-test-subj="saveDashboard"]').click();
    await admin.locator('[data-test-subj="dashboardPage"][data-editing="false"]').waitFor(WAIT);
    const stored = await adminApi.get(`/dashboards/${encodeURIComponent(dashboardId)}`);
    assert.equal(stored.status, 200, stored.text);
    const panels = stored.json.panels as { id: string; title: string; grid: Record<string, number>; scope: unknown; query: string; visualisation: Record<string, unknown> }[];
    assert.deepEqual(
      panels.map((each) => [each.id, each.title, each.visualisation.kind]),
      [
        ['p1', 'Events per system', 'counts-over-time'],
        ['p2', 'Event types', 'top-values'],
      ],
    );
    assert.deepEqual(panels[0]!.grid, resized, 'the chart keeps the height it was given');
    assert.deepEqual(panels[1]!.grid, { x: 6, y: 0, w: 6, h: 8 }, 'the table stays where it was dropped');
    assert.deepEqual(panels[0]!.scope, { kind: 'events', systems: [mpass.code, mpay.code] });
    assert.deepEqual(panels[0]!.visualisation, { kind: 'counts-over-time', split_field: '@is', top_n: 5 });
    assert.deepEqual(panels[1]!.visualisation, { kind: 'top-values', field: 'event_type', top_n: 10, display: 'table' });
    assert.equal(stored.json.updated_by, administrator.username);
    await panel(admin, 'p1').locator('[data-test-subj="countsOverTimeChart"] canvas').first().waitFor(WAIT);
    await admin.locator('[data-test-subj="toastCloseButton"]').click();
    await shoot(admin, 'view');
  });

  test('the list shows the new dashboard with its two panels', async () => {
    await admin.goto(`${base}/console/dashboards`, { waitUntil: 'networkidle' });
    const row = admin.locator('[data-test-subj="dashboardsTable"] tbody tr', { hasText: title });
    await row.waitFor(WAIT);
    assert.match(await row.innerText(), new RegExp(`${title}[\\s\\S]*\\b2\\b[\\s\\S]*by ${administrator.username}`));
    await shoot(admin, 'list');
  });

  test('a viewer lands on the dashboards, opens the new one and sees both charts with the registered counts', async () => {
    const own = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const seen = await own.newPage();
    try {
      await seen.goto(`${base}/console/`, { waitUntil: 'networkidle' });
      await signIn(seen, viewer);
      await seen.getByRole('heading', { name: 'Dashboards' }).waitFor(WAIT);
      assert.equal(new URL(seen.url()).pathname, '/console/dashboards', "the dashboards are a viewer's home");
      const header = seen.locator('[data-test-subj="consoleHeader"]');
      assert.equal(await header.getByText('Dashboards').count(), 1);
      assert.equal(await header.getByText('Discover').count(), 0);
      assert.equal(await seen.locator('[data-test-subj="createDashboard"]').count(), 0, 'a viewer creates nothing');
      assert.equal(await seen.locator('[data-test-subj="deleteDashboard"]').count(), 0);

      await seen.locator('[data-test-subj="dashboardLink"]', { hasText: title }).click();
      await panel(seen, 'p1').locator('[data-test-subj="countsOverTimeChart"] canvas').first().waitFor(WAIT);
      assert.equal(await panel(seen, 'p1').locator('[data-test-subj="countsOverTimeChart"]').getAttribute('data-total'), '6');
      const legend = panel(seen, 'p1').locator('.echLegendTable__item');
      await legend.first().waitFor(WAIT);
      const series = (await legend.evaluateAll((items) => items.map((item) => item.textContent ?? ''))).filter((text) => text !== 'Total').sort();
      assert.equal(series.length, 2, series.join(' | '));
      assert.match(series[0]!, new RegExp(`^${mpass.code}\\s*4$`));
      assert.match(series[1]!, new RegExp(`^${mpay.code}\\s*2$`));
      assert.deepEqual(await tableRows(seen, 'p2'), [
        ['MPass.Login', '3', '50.0 %'],
        ['MPay.Payment', '2', '33.3 %'],
        ['MPass.Check', '1', '16.7 %'],
      ]);
      assert.equal(await seen.locator('[data-test-subj="editDashboard"]').count(), 0, 'a viewer does not edit');
      assert.equal(await seen.locator('a[href*="/console/discover"]').count(), 0, 'no way to the events');
      assert.deepEqual(await gridOf(seen, 'p2'), { x: 6, y: 0, w: 6, h: 8 });
      const url = new URL(seen.url());
      assert.equal(url.searchParams.get('from'), null, 'the default range is not written into the address');

      // Another range (seconds apart, as the console resolves "now" at each end) is recorded with the opening.
      await seen.goto(`${base}/console/dashboards/${encodeURIComponent(dashboardId)}?from=now-7d&to=now`, { waitUntil: 'networkidle' });
      await panel(seen, 'p1').locator('[data-test-subj="countsOverTimeChart"] canvas').first().waitFor(WAIT);
      await refresh('mlog_audit');
      const viewed = await auditRecords('MLog.Admin.DashboardViewed', { user: viewer.username });
      const ranges = viewed.filter((record) => record.dashboard_id === dashboardId).map((record) => Math.round((Date.parse(String(record.time_to)) - Date.parse(String(record.time_from))) / 1000));
      assert.ok(ranges.includes(24 * 3_600) && ranges.includes(7 * 24 * 3_600), JSON.stringify(ranges));
      assert.ok(viewed.every((record) => record.events_shown === 0 && record.admin_role === 'viewer'), JSON.stringify(viewed));
    } finally {
      await own.close();
    }
  });

  test('a viewer opening a dashboard with the latest events sees the lock there, never an event, and the count beside it', async () => {
    const own = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const seen = await own.newPage();
    try {
      await seen.goto(`${base}/console/dashboards/${encodeURIComponent(evidenceId)}`, { waitUntil: 'networkidle' });
      await signIn(seen, viewer);
      const error = panel(seen, 'latest').locator('[data-test-subj="panelError"]');
      await error.waitFor(WAIT);
      assert.equal(await error.getAttribute('data-status'), '403');
      assert.match(await error.innerText(), /A viewer sees aggregates only; the latest events take the auditor role\./);
      assert.equal(await panel(seen, 'count').locator('[data-test-subj="metricValue"]').innerText(), '6');
      assert.equal(await seen.locator('[data-test-subj="latestEventsTable"]').count(), 0);
      assert.equal(await seen.getByText(/Login of|Check of|Payment by/).count(), 0, 'no event message is shown');
      assert.equal(await seen.getByText(/MPass\.|MPay\./).count(), 0, 'no event type is shown');
      assert.equal(await seen.locator('a[href*="/console/discover"]').count(), 0);
      await shoot(seen, 'viewer');
    } finally {
      await own.close();
    }
  });

  test('the administrator sees the latest events on the same dashboard once a purpose is stated, with the way to Discover', async () => {
    await admin.goto(`${base}/console/dashboards/${encodeURIComponent(evidenceId)}`, { waitUntil: 'networkidle' });
    const error = panel(admin, 'latest').locator('[data-test-subj="panelError"]');
    await error.waitFor(WAIT);
    assert.equal(await error.getAttribute('data-status'), '428', 'no purpose stated yet');
    await error.locator('[data-test-subj="panelStatePurpose"]').click();
    const modal = admin.locator('[data-test-subj="purposeModal"]');
    await modal.locator('input[name="legal_basis"]').fill('Law 133/2011 art. 5');
    await modal.locator('textarea[name="reason"]').fill(`Review ${marker}`);
    await modal.locator('[data-test-subj="purposeSubmit"]').click();
    const rows = panel(admin, 'latest').locator('[data-test-subj="latestEventsTable"] tbody tr');
    await rows.nth(5).waitFor(WAIT);
    const texts = await rows.allInnerTexts();
    assert.equal(texts.length, 6, texts.join('\n'));
    assert.ok(texts[0]!.includes(`Payment by bob ${marker}`), 'the newest first');
    assert.ok(texts[5]!.includes(`Login of alice ${marker}`));
    const link = panel(admin, 'latest').locator('[data-test-subj="panelDiscover"]');
    assert.match((await link.getAttribute('href'))!, new RegExp(`^/console/discover\\?scope=events&systems=${mpass.code}%2C${mpay.code}&`));
    await refresh('mlog_audit');
    const viewed = await auditRecords('MLog.Admin.DashboardViewed', { user: administrator.username, dashboard_id: evidenceId });
    assert.ok(viewed.some((record) => record.events_shown === 6), JSON.stringify(viewed));
  });

  test('the shipped "MLog overview" opens with its six panels, each answering on its own', async () => {
    await admin.goto(`${base}/console/dashboards`, { waitUntil: 'networkidle' });
    await admin.locator('[data-test-subj="dashboardLink"]', { hasText: 'MLog overview' }).click();
    await admin.locator('[data-test-subj="dashboardTitle"]', { hasText: 'MLog overview' }).waitFor(WAIT);
    await panel(admin, 'events-per-system').locator('[data-test-subj="countsOverTimeChart"] canvas').first().waitFor(WAIT);
    assert.equal(await admin.locator('[data-test-subj="dashboardPanel"]').count(), 6);
    const titles = await admin.locator('[data-test-subj="dashboardPanel"] [data-test-subj="panelTitle"]').allInnerTexts();
    assert.deepEqual(titles, ['Events per system', 'Refused calls by reason', 'Signed vs unsigned', 'PersonalData accesses by legal entity', 'PersonalData accesses by legal basis', 'Top event types']);
    assert.equal(await admin.locator('[data-test-subj="panelError"]').count(), 0);
    const signed = panel(admin, 'signed-share').locator('[data-test-subj="topValuesChart"]');
    await signed.waitFor(WAIT);
    const labels = (JSON.parse((await signed.getAttribute('data-values'))!) as [string, number][]).map(([label]) => label);
    assert.ok(labels.length > 0 && labels.every((label) => label === 'signed' || label === 'unsigned'), JSON.stringify(labels));
    const types = await tableRows(admin, 'top-event-types');
    assert.ok(types.some((row) => row[0] === 'MPass.Login'), JSON.stringify(types));
    await shoot(admin, 'overview');
  });
});
