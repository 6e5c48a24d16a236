/**
 * The console's whole flow in Debian's Chromium, through the door an administrator uses: a real MLog
 * whose events MPass and MPay registered through mutual TLS (one signed with MPass's key), local
 * accounts made by MLog's accounts service, and a person signing in, stating a purpose, searching,
 * filtering from the field list, opening documents, following a correlation, exporting CSV, reading
 * the audit trail; a viewer who cannot see documents; five failed sign-ins that lock the account.
 *
 * MLOG_CONSOLE_SCREENSHOTS=docs/images also saves the main views as console-*.png for docs/console.md.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../../scripts/build-console.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, uniqueLoopbackAddress, type TestSystem } from '../helpers/test-mlog.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'];
const SCREENSHOTS = process.env.MLOG_CONSOLE_SCREENSHOTS;
const WAIT = { timeout: 20_000 };

const correlation = `order-${randomBytes(4).toString('hex')}`;
const purpose = { legal_basis: 'Law 133/2011 art. 5', reason: `Request ${randomBytes(3).toString('hex').toUpperCase()} of the data subject` };

/**
 * A TCP relay whose connections reach MLog from `localAddress`: the browser's failed sign-ins then come
 * from a loopback address of their own, so the lockout they cause stays with this test.
 */
async function relayFrom(localAddress: string, port: number): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((incoming) => {
    const outgoing = connect({ host: '127.0.0.1', port, localAddress });
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        incoming.destroy();
        outgoing.destroy();
      });
    }
    incoming.pipe(outgoing).pipe(incoming);
  });
  server.on('close', () => sockets.forEach((socket) => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the relay has no port');
  return { port: address.port, server };
}

describe('the console flow in a browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium` }, () => {
  let mlog: TestMLog;
  let browser: Browser;
  let base: string;
  let mpass: TestSystem;
  let mpay: TestSystem;
  let quiet: TestSystem;
  let auditor: { username: string; password: string };
  let context: BrowserContext;
  let page: Page;
  let discover: string;
  const at = (start: number, seconds: number): string => new Date(start + seconds * 1000).toISOString();

  async function shoot(target: Page, name: string): Promise<void> {
    if (SCREENSHOTS === undefined) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await target.waitForTimeout(300); // lets EUI's opening animations settle before the picture
    await target.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`) });
  }

  async function signIn(target: Page, username: string, password: string): Promise<void> {
    await target.locator('input[name="username"]').fill(username);
    await target.locator('input[name="password"]').fill(password);
    await target.locator('[data-test-subj="signIn"]').click();
  }

  /** Waits until the search shows `total` hits and the table is no longer loading, and returns the rows' event types. */
  async function hitsShown(total: number): Promise<string[]> {
    await page.locator('[data-test-subj="hitCount"] strong', { hasText: new RegExp(`^${total}$`) }).waitFor(WAIT);
    await page.locator('[data-test-subj="querySubmit"]:not([disabled])').waitFor(WAIT);
    await page.waitForFunction(`document.querySelectorAll('[data-test-subj="openDocument"]').length === ${total}`, undefined, WAIT);
    return page.locator('[data-test-subj="hitTable"] tbody tr').evaluateAll((rows) => rows.map((row) => row.textContent ?? ''));
  }

  async function openDocumentWith(text: string): Promise<void> {
    await page.locator('[data-test-subj="hitTable"] tbody tr', { hasText: text }).first().locator('[data-test-subj="openDocument"]').click();
    await page.locator('[data-test-subj="documentFlyout"]').waitFor(WAIT);
  }

  before(async () => {
    await ensureConsoleBuilt({ log: (line) => process.stdout.write(`# ${line}\n`) });
    mlog = await TestMLog.start();
    base = `http://127.0.0.1:${mlog.ports.adminPort}`;
    mpass = await mlog.addSystem({ code: `mpass-${randomBytes(3).toString('hex')}` });
    mpay = await mlog.addSystem({ code: `mpay-${randomBytes(3).toString('hex')}` });
    // A registered system with no events: the systems picker still offers it.
    quiet = await mlog.addSystem({ code: `quiet-${randomBytes(3).toString('hex')}` });
    const start = Date.now() - 20 * 60_000;
    const login = await mpass.sign({ event_time: at(start, 0), event_type: 'MPass.Login', user: 'alice', event_correlation: correlation, event_message: 'Login succeeded for alice' });
    assert.equal((await mpass.register(login)).status, 200);
    for (let i = 1; i <= 5; i++) {
      const answer = await mpass.register({ event_time: at(start, 60 * i), event_type: 'MPass.Check', user: 'bob', event_id: `check-${i}`, event_message: `Session check ${i} for bob` });
      assert.equal(answer.status, 200, answer.text);
    }
    const payment = { event_time: at(start, 7), event_type: 'MPay.Payment', user: 'alice', event_correlation: correlation, event_message: 'Payment of 100 MDL by alice' };
    assert.equal((await mpay.register(payment)).status, 200);
    await inspectionClient().indices.refresh({ index: 'mlog-*' });
    auditor = await mlog.addAdministrator('auditor', { username: `auditor-${randomBytes(3).toString('hex')}` });
    discover = `/console/discover?scope=events&systems=${mpass.code},${mpay.code}&from=now-24h&to=now`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await mlog?.stop();
    await closeInspectionClient();
  });

  test('an auditor signs in and, before the first search, states the purpose, which the header then shows', async () => {
    await page.goto(`${base}${discover}`, { waitUntil: 'networkidle' });
    await page.locator('input[name="username"]').waitFor(WAIT);
    await shoot(page, 'sign-in');
    await signIn(page, auditor.username, auditor.password);
    const modal = page.locator('[data-test-subj="purposeModal"]');
    await modal.waitFor(WAIT);
    await modal.locator('[data-test-subj="purposeSubmit"]').click();
    await modal.getByText('The legal basis is required.').waitFor(WAIT);
    await modal.getByText('The reason is required.').waitFor(WAIT);
    await modal.locator('input[name="legal_basis"]').fill(purpose.legal_basis);
    await modal.locator('textarea[name="reason"]').fill(purpose.reason);
    await shoot(page, 'purpose');
    await modal.locator('[data-test-subj="purposeSubmit"]').click();
    await modal.waitFor({ state: 'detached', ...WAIT });
    assert.equal(await page.locator('[data-test-subj="purpose"]').innerText(), `Purpose: ${purpose.legal_basis} — ${purpose.reason}`);
    assert.equal(new URL(page.url()).pathname, '/console/discover', 'back at the view that was opened');
  });

  test('a query shows the histogram and the matching rows, newest first', async () => {
    await hitsShown(7);
    await page.locator('[data-test-subj="queryInput"]').fill('event_type:MPass.*');
    await page.locator('[data-test-subj="queryInput"]').press('Enter');
    const rows = await hitsShown(6);
    assert.ok(rows.every((row) => row.includes('MPass.')), rows.join('\n'));
    assert.ok(rows[0]!.includes('Session check 5'), 'the newest event comes first');
    await page.locator('[data-test-subj="histogram"] canvas').first().waitFor(WAIT);
    const drawn = await page.locator('[data-test-subj="histogram"] canvas').first().boundingBox();
    assert.ok(drawn !== null && drawn.width > 200 && drawn.height > 50, 'the histogram is drawn');
    assert.equal(new URL(page.url()).searchParams.get('query'), 'event_type:MPass.*', 'the query is in the address');
  });

  test('a value of the field list filters for it and out of it, and the rows change', async () => {
    await page.goto(`${base}${discover}`, { waitUntil: 'networkidle' });
    await hitsShown(7);
    const fields = page.locator('[data-test-subj="fieldList"]');
    await fields.getByRole('button', { name: 'user', exact: true }).click();
    await fields.getByRole('button', { name: 'Filter for user alice' }).waitFor(WAIT);
    await shoot(page, 'discover');
    await fields.getByRole('button', { name: 'Filter for user alice' }).click();
    const alice = await hitsShown(2);
    assert.equal(await page.locator('[data-test-subj="queryInput"]').inputValue(), 'user:"alice"');
    assert.ok(alice.some((row) => row.includes('MPay.Payment')) && alice.some((row) => row.includes('MPass.Login')), alice.join('\n'));
    await fields.getByRole('button', { name: 'event_type', exact: true }).click();
    await fields.getByRole('button', { name: 'Filter out event_type MPay.Payment' }).click();
    const left = await hitsShown(1);
    assert.equal(await page.locator('[data-test-subj="queryInput"]').inputValue(), '(user:"alice") and not event_type:"MPay.Payment"');
    assert.ok(left[0]!.includes('MPass.Login'), left.join('\n'));
  });

  test('"Did you mean" replaces the unknown field MLog named at its column, not the first field of the query', async () => {
    await page.goto(`${base}${discover}&query=${encodeURIComponent('event_type:MPass.Login and usr:alice')}`, { waitUntil: 'networkidle' });
    const error = page.locator('[data-test-subj="queryError"]');
    await error.waitFor(WAIT);
    assert.match(await error.innerText(), /no field "usr"/);
    await error.locator('[data-test-subj="querySuggestion"]', { hasText: /^user$/ }).click();
    assert.equal(await page.locator('[data-test-subj="queryInput"]').inputValue(), 'event_type:MPass.Login and user:alice');
    await page.locator('[data-test-subj="querySubmit"]').click();
    const rows = await hitsShown(1);
    assert.ok(rows[0]!.includes('Login succeeded for alice'), rows.join('\n'));
  });

  test('the systems picker offers every registered system, also one with no events in the hits', async () => {
    await page.goto(`${base}${discover}`, { waitUntil: 'networkidle' });
    await hitsShown(7);
    // Typed, as a person finds one system among hundreds (the list shows only the rows in view).
    await page.locator('[data-test-subj="scopeSystems"] input').click();
    await page.locator('[data-test-subj="scopeSystems"] input').fill(quiet.code);
    const options = page.locator('.euiComboBoxOptionsList [role="option"]');
    await options.first().waitFor(WAIT);
    const offered = await options.evaluateAll((items) => items.map((item) => item.textContent ?? ''));
    // MPass and MPay are chosen already (the combo box lists only what can still be added).
    assert.ok(offered.some((text) => text.includes(quiet.code) && text.includes(`Test system ${quiet.code}`)), `${quiet.code} is offered with its name: ${offered.join(', ')}`);
    await page.keyboard.press('Escape');
  });

  test('switching the scope to rejections shows a rejection\'s own columns and a document without event badges', async () => {
    const refused = await mpay.register('this is not JSON');
    assert.equal(refused.status, 400);
    await page.goto(`${base}${discover}`, { waitUntil: 'networkidle' });
    await hitsShown(7);
    await page.locator('[data-test-subj="scopeKind"]').click();
    await page.getByRole('option', { name: /Rejected submissions/ }).click();
    await page.waitForURL(/scope=rejections/, WAIT);
    const headers = async () => (await page.locator('[data-test-subj="hitTable"] thead th').allInnerTexts()).map((text) => text.split('\n')[0]!.trim()).filter((text) => text !== '');
    assert.deepEqual(await headers(), ['@received', 'is', 'status', 'reason']);
    assert.equal(new URL(page.url()).searchParams.get('columns'), '@received,is,status,reason');
    // The rejection is written in the background: search again until it is there.
    const row = page.locator('[data-test-subj="hitTable"] tbody tr', { hasText: mpay.code });
    for (let attempt = 0; attempt < 20 && (await row.count()) === 0; attempt++) {
      await inspectionClient().indices.refresh({ index: 'mlog_rejections-*' }).catch(() => undefined);
      await page.locator('[data-test-subj="querySubmit"]').click();
      await page.waitForTimeout(500);
    }
    const cells = (await row.first().locator('td .euiTableCellContent').allTextContents()).map((cell) => cell.trim());
    assert.equal(cells.length, 5, cells.join(' | '));
    assert.deepEqual(cells.slice(2, 4), [mpay.code, '400'], cells.join(' | '));
    assert.ok(!cells.slice(1).includes('—'), `no empty column: ${cells.join(' | ')}`);
    await row.first().locator('[data-test-subj="openDocument"]').click();
    const flyout = page.locator('[data-test-subj="documentFlyout"]');
    await flyout.getByText('request_id').waitFor(WAIT);
    assert.match(await flyout.locator('[data-test-subj="documentTitle"]').innerText(), /^400 · /);
    assert.equal(await flyout.locator('[data-test-subj="documentScope"]').innerText(), `Rejection · ${mpay.code}`);
    for (const eventOnly of ['signatureStatus', 'evidenceStatus', 'evidenceTab', 'surroundingTab']) {
      assert.equal(await flyout.locator(`[data-test-subj="${eventOnly}"]`).count(), 0, `a rejection has no ${eventOnly}`);
    }
    await page.keyboard.press('Escape');
    await flyout.waitFor({ state: 'detached', ...WAIT });
  });

  test('at 1024 and 1440 px wide the account menu and its sign-out stay on screen', async () => {
    const own = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    try {
      const narrow = await own.newPage();
      await narrow.goto(`${base}/console/dashboards`, { waitUntil: 'networkidle' });
      await signIn(narrow, auditor.username, auditor.password);
      await narrow.locator('[data-test-subj="consoleHeader"]').waitFor(WAIT);
      await narrow.evaluate(async (purpose) => {
        const csrf = ((await (await fetch('/console/api/session')).json()) as { csrfToken: string }).csrfToken;
        await fetch('/console/api/session/purpose', { method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(purpose) });
      }, { legal_basis: purpose.legal_basis, reason: `${purpose.reason}, a reason long enough to fill the header on its own ${'and more '.repeat(10)}` });
      for (const width of [1440, 1024]) {
        await narrow.setViewportSize({ width, height: 768 });
        await narrow.reload({ waitUntil: 'networkidle' });
        await narrow.locator('[data-test-subj="purpose"]').waitFor(WAIT);
        const purposeBox = (await narrow.locator('[data-test-subj="purpose"]').boundingBox())!;
        const menu = narrow.locator('[data-test-subj="userMenuButton"]');
        const box = (await menu.boundingBox())!;
        assert.ok(box.x >= purposeBox.x + purposeBox.width && box.x + box.width <= width, `at ${width} px the account menu is on screen, after the purpose: ${JSON.stringify({ box, purposeBox })}`);
        assert.equal(await narrow.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, `at ${width} px the page does not scroll sideways`);
      }
      await narrow.locator('[data-test-subj="userMenuButton"]').click();
      const signOut = narrow.locator('[data-test-subj="signOut"]');
      await signOut.waitFor(WAIT);
      const box = (await signOut.boundingBox())!;
      assert.ok(box.x >= 0 && box.x + box.width <= 1024, `sign-out is on screen: ${JSON.stringify(box)}`);
      assert.ok(await narrow.locator('[data-test-subj="userMenu"]').getByText(auditor.username).isVisible(), 'the menu names the account');
      await signOut.click();
      await narrow.locator('input[name="username"]').waitFor(WAIT);
      assert.equal(await narrow.locator('[data-test-subj="consoleHeader"]').count(), 0, 'signed out');
    } finally {
      await own.close();
    }
  });

  test('a signed document shows "Signature valid", an unsigned one "Unsigned"', async () => {
    await page.goto(`${base}${discover}`, { waitUntil: 'networkidle' });
    await hitsShown(7);
    await openDocumentWith('Session check 3');
    await page.locator('[data-test-subj="signatureStatus"]').waitFor(WAIT);
    assert.equal(await page.locator('[data-test-subj="signatureStatus"]').innerText(), 'Unsigned');
    await page.keyboard.press('Escape');
    await page.locator('[data-test-subj="documentFlyout"]').waitFor({ state: 'detached', ...WAIT });
    await openDocumentWith('Login succeeded for alice');
    const signature = page.locator('[data-test-subj="signatureStatus"]');
    await signature.waitFor(WAIT);
    assert.match(await signature.innerText(), new RegExp(`^Signature valid · kid ${mpass.certificate.serialHex} · RS256$`, 'i'));
    assert.ok(await page.locator('[data-test-subj="documentFlyout"]').getByText(`Test system ${mpass.code}`).isVisible());
    await shoot(page, 'document');
  });

  test('the document leads to the correlation across MPass and MPay, in order, with the time between the steps', async () => {
    await page.locator('[data-test-subj="documentFlyout"]').getByText('Correlate by event_correlation').click();
    const timeline = page.locator('[data-test-subj="correlationTimeline"]');
    await timeline.waitFor(WAIT);
    assert.equal(new URL(page.url()).searchParams.get('value'), correlation);
    const steps = await timeline.locator(':scope > li').evaluateAll((items) => items.map((item) => item.textContent ?? ''));
    assert.equal(steps.length, 2, steps.join('\n'));
    assert.ok(steps[0]!.includes(`Test system ${mpass.code}`) && steps[0]!.includes('MPass.Login'), steps[0]);
    assert.ok(steps[1]!.includes(`Test system ${mpay.code}`) && steps[1]!.includes('MPay.Payment'), steps[1]);
    assert.ok(steps[1]!.includes('+7.00 s after the previous step'), steps[1]);
    assert.ok(await page.getByText(`2 events in 2 systems: Test system ${mpass.code} → Test system ${mpay.code}`).isVisible());
    await shoot(page, 'correlation');
    await timeline.getByText('open the document').nth(1).click();
    assert.match(await page.locator('[data-test-subj="signatureStatus"]').innerText(), /^Unsigned$/);
    await page.keyboard.press('Escape');
  });

  test('an export downloads a CSV of every row, ending with its row count and the SHA-256 of what precedes it', async () => {
    await page.goto(`${base}${discover}&query=${encodeURIComponent('not user:carol')}`, { waitUntil: 'networkidle' });
    await hitsShown(7);
    await page.locator('[data-test-subj="exportButton"]').click();
    await page.locator('[data-test-subj="exportCsv"]').waitFor(WAIT);
    await shoot(page, 'export');
    const [download] = await Promise.all([page.waitForEvent('download', WAIT), page.locator('[data-test-subj="exportCsv"]').click()]);
    assert.match(download.suggestedFilename(), /^mlog-export-.*\.csv$/);
    const text = readFileSync((await download.path())!, 'utf8');
    const lines = text.split('\n');
    assert.equal(lines.pop(), '', 'the file ends with a new line');
    const last = lines.pop()!;
    assert.match(last, /^# /);
    const statement = JSON.parse(last.slice(2)).mlog_export;
    assert.equal(statement.rows, 7);
    assert.equal(statement.query, 'not user:carol');
    assert.equal(lines.length, 1 + 7, 'a header and one line a row');
    assert.equal(statement.sha256, createHash('sha256').update(`${lines.join('\n')}\n`).digest('hex'));
    assert.ok(lines.some((line) => line.includes('Payment of 100 MDL by alice')));
    await page.getByText('Export finished').waitFor(WAIT);
  });

  test('the auditor finds their own searches, with the purpose, in the audit trail', async () => {
    await inspectionClient().indices.refresh({ index: 'mlog_audit' });
    const query = `user:${auditor.username} and action:search`;
    await page.goto(`${base}/console/audit?query=${encodeURIComponent(query)}&from=now-1h&to=now`, { waitUntil: 'networkidle' });
    const table = page.locator('[data-test-subj="auditTable"]');
    await table.locator('tbody tr', { hasText: 'MLog.Admin.Query' }).first().waitFor(WAIT);
    const rows = await table.locator('tbody tr').evaluateAll((items) => items.map((item) => item.textContent ?? ''));
    assert.ok(rows.length >= 4, rows.join('\n'));
    assert.ok(rows.every((row) => row.includes(`purpose_reason: ${purpose.reason}`) && row.includes('action: search')), rows.join('\n'));
    assert.ok(rows.some((row) => row.includes('query: event_type:MPass.*')), 'the query typed earlier is recorded');
    await table.getByRole('button', { name: 'Show the whole record' }).first().click();
    await table.locator('.euiCodeBlock').first().waitFor(WAIT);
    await shoot(page, 'audit');
  });

  test('an administrator sees the Administrators view with the accounts', async () => {
    const administrator = await mlog.addAdministrator('administrator', { username: `admin-${randomBytes(3).toString('hex')}` });
    const own = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const admin = await own.newPage();
    await admin.goto(`${base}/console/admins`, { waitUntil: 'networkidle' });
    await signIn(admin, administrator.username, administrator.password);
    await admin.getByText(auditor.username).first().waitFor(WAIT);
    assert.ok(await admin.getByText(administrator.username).first().isVisible());
    await shoot(admin, 'administrators');
    await own.close();
  });

  test('a viewer sees no Discover and cannot read a document, even by calling the API', async () => {
    const viewer = await mlog.addAdministrator('viewer', { username: `viewer-${randomBytes(3).toString('hex')}` });
    const own = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const seen = await own.newPage();
    await seen.goto(`${base}/console/`, { waitUntil: 'networkidle' });
    await signIn(seen, viewer.username, viewer.password);
    await seen.getByRole('heading', { name: 'Dashboards' }).waitFor(WAIT);
    assert.equal(await seen.locator('[data-test-subj="consoleHeader"]').getByText('Discover').count(), 0);
    await seen.goto(`${base}${discover}`, { waitUntil: 'networkidle' });
    await seen.getByRole('heading', { name: 'Not available to your role' }).waitFor(WAIT);
    assert.equal(await seen.locator('[data-test-subj="hitTable"]').count(), 0);
    const stored = await inspectionClient().search({ index: 'mlog-*', query: { term: { event_correlation: correlation } }, size: 1 });
    const hit = stored.hits.hits[0]!;
    const status = await seen.evaluate(async (path) => (await fetch(path)).status, `/console/api/documents/${hit._index}/${encodeURIComponent(hit._id!)}`);
    assert.equal(status, 403);
    await inspectionClient().indices.refresh({ index: 'mlog_audit' });
    const refused = await inspectionClient().search<Record<string, unknown>>({
      index: 'mlog_audit',
      query: { bool: { filter: [{ term: { user: viewer.username } }, { term: { event_type: 'MLog.Admin.Query' } }] } },
    });
    assert.deepEqual(
      refused.hits.hits.map((each) => [each._source!.action, each._source!.outcome]),
      [['document', 'refused']],
      'the refused attempt is recorded',
    );
    await own.close();
  });

  test('five failed sign-ins lock the account, and the page says so', async () => {
    const locked = await mlog.addAdministrator('auditor', { username: `locked-${randomBytes(3).toString('hex')}` });
    const relay = await relayFrom(uniqueLoopbackAddress(), mlog.ports.adminPort);
    const own = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const tried = await own.newPage();
      await tried.goto(`http://127.0.0.1:${relay.port}/console/`, { waitUntil: 'networkidle' });
      for (let attempt = 1; attempt <= 5; attempt++) {
        const answered = tried.waitForResponse((response) => response.url().endsWith('/console/api/session') && response.request().method() === 'POST');
        await signIn(tried, locked.username, `wrong-${attempt}`);
        assert.notEqual((await answered).status(), 200);
      }
      const answered = tried.waitForResponse((response) => response.url().endsWith('/console/api/session') && response.request().method() === 'POST');
      await signIn(tried, locked.username, locked.password);
      assert.equal((await answered).status(), 429, 'the right password no longer opens a locked account');
      const error = tried.locator('[data-test-subj="signInError"]');
      await error.getByText(/locked/).waitFor(WAIT);
      assert.match(await error.innerText(), /Too many failed sign-ins for this account or from this address: signing in is locked for \d+ more seconds\. Try again in \d+ min\./);
      assert.equal(await tried.locator('[data-test-subj="consoleHeader"]').count(), 0, 'still signed out');
      await shoot(tried, 'locked');
    } finally {
      await own.close();
      await new Promise((resolve) => relay.server.close(resolve));
    }
  });
});
