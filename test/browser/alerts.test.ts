/**
 * The console's Alerts view in Debian's Chromium, through the door an administrator uses: a real MLog
 * over a real Elasticsearch whose alert engine evaluates every two seconds, events registered through
 * mutual TLS, and a person who creates a threshold rule in the form (a query that does not parse is
 * shown with its column, a window out of range at its field, then both corrected), sees it fire on the
 * events that cross it, follows a triggering event to Discover, edits, mutes and deletes rules; an
 * auditor, who reads rules and history but changes nothing; a viewer, who has no Alerts view at all.
 *
 * MLOG_CONSOLE_SCREENSHOTS=docs/images also saves alerts-*.png for docs/alerts.md.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../../scripts/build-console.js';
import { MailSink } from '../helpers/alert-receivers.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type TestSystem } from '../helpers/test-mlog.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'];
const SCREENSHOTS = process.env.MLOG_CONSOLE_SCREENSHOTS;
const WAIT = { timeout: 20_000 };
/** How long the test waits for the engine, which evaluates every two seconds, to fire. */
const FIRING = { timeout: 90_000 };

const suffix = randomBytes(3).toString('hex');
const eventType = `MPass.User.AuthenticationFailed${suffix}`;
const ruleName = `Brute force on MPass ${suffix}`;
const purpose = { legal_basis: 'Law 133/2011 art. 5', reason: `Alert ${suffix.toUpperCase()} investigated` };

describe('the Alerts view in a browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium` }, () => {
  let mlog: TestMLog;
  let browser: Browser;
  let base: string;
  let mpass: TestSystem;
  let context: BrowserContext;
  let page: Page;
  let receiver: Server;
  let receiverUrl: string;
  const received: { body: string; signature: string | undefined }[] = [];
  /** The SMTP server of the rule's e-mail channel (MLog refuses an e-mail channel without one). */
  const smtp = new MailSink();

  async function shoot(target: Page, name: string): Promise<void> {
    if (SCREENSHOTS === undefined) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    for (const close of await target.locator('[data-test-subj="toastCloseButton"]').all()) await close.click().catch(() => undefined);
    await target.waitForTimeout(400); // lets EUI's opening animations settle before the picture
    await target.screenshot({ path: join(SCREENSHOTS, `alerts-${name}.png`) });
  }

  async function signIn(target: Page, username: string, password: string): Promise<void> {
    await target.locator('input[name="username"]').fill(username);
    await target.locator('input[name="password"]').fill(password);
    await target.locator('[data-test-subj="signIn"]').click();
  }

  const flyout = () => page.locator('[data-test-subj="alertRuleFlyout"]');

  /** Saves the form and waits for MLog's answer to the rule's POST. */
  async function save(): Promise<number> {
    const answered = page.waitForResponse((response) => response.url().endsWith('/console/api/alert-rules') && response.request().method() === 'POST');
    await flyout().locator('[data-test-subj="saveRule"]').click();
    return (await answered).status();
  }

  before(async () => {
    await ensureConsoleBuilt({ log: (line) => process.stdout.write(`# ${line}\n`) });
    receiver = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: request.headers['x-mlog-signature'] as string | undefined });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/mlog-alerts`;
    await smtp.listen();
    mlog = await TestMLog.start({ MLOG_ALERTS_SCHEDULE: '*/2 * * * * *', MLOG_SMTP_URL: smtp.url(), MLOG_SMTP_FROM: 'MLog alerts <mlog@example.org>' });
    base = `http://127.0.0.1:${mlog.ports.adminPort}`;
    mpass = await mlog.addSystem({ code: `mpass-${suffix}` });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await mlog?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
    await smtp.close();
    await closeInspectionClient();
  });

  test('an administrator creates a threshold rule in the form; a query error shows its column, a window out of range shows at its field', async () => {
    const administrator = await mlog.addAdministrator('administrator', { username: `admin-${suffix}` });
    await page.goto(`${base}/console/alerts`, { waitUntil: 'networkidle' });
    await signIn(page, administrator.username, administrator.password);
    await page.locator('[data-test-subj="rulesTable"]').waitFor(WAIT);
    assert.ok(await page.locator('[data-test-subj="consoleHeader"]').getByText('Alerts', { exact: true }).isVisible(), 'the header links to Alerts');

    await page.locator('[data-test-subj="createRule"]').click();
    await flyout().waitFor(WAIT);
    await flyout().locator('[data-test-subj="ruleName"]').fill(ruleName);
    await flyout().locator('[data-test-subj="queryInput"]').fill(`event_type:"${eventType}" and (user:bob`);
    await flyout().locator('[data-test-subj="windowMinutes"]').fill('0');
    await flyout().locator('[data-test-subj="groupBy"]').fill('user');
    await flyout().locator('[data-test-subj="comparator"]').selectOption('>=');
    await flyout().locator('[data-test-subj="thresholdValue"]').fill('3');
    await flyout().locator('[data-test-subj="addWebhook"]').click();
    await flyout().locator('[data-test-subj="webhookUrl-0"]').fill(receiverUrl);
    await flyout().locator('[data-test-subj="webhookSecret-0"]').fill(`secret-of-the-test-${suffix}`);
    await flyout().locator('[data-test-subj="ruleSchedule"]').fill('*/2 * * * * *');
    await flyout().locator('[data-test-subj="renotifyMinutes"]').fill('0');

    assert.equal(await save(), 400);
    const queryError = flyout().locator('[data-test-subj="queryError"]');
    await queryError.waitFor(WAIT);
    const shown = await queryError.innerText();
    assert.match(shown, /params\.query/, shown);
    const column = /\^ column (\d+)/.exec(shown);
    assert.ok(column !== null, `the caret names the column: ${shown}`);
    assert.equal(Number(column[1]), `event_type:"${eventType}" and (user:bob`.length + 1, 'the column where the closing parenthesis is missing');

    await flyout().locator('[data-test-subj="queryInput"]').fill(`event_type:"${eventType}"`);
    await queryError.waitFor({ state: 'detached', ...WAIT });
    assert.equal(await save(), 400);
    const windowRow = flyout().locator('[data-test-subj="row-params.window_minutes"]');
    await windowRow.getByText(/^Must be a whole number from 1 to/).waitFor(WAIT);
    assert.equal(await windowRow.getByText(/params\.window_minutes/).count(), 0, 'the label says the field; its path is not repeated');
    assert.equal(await flyout().locator('[data-test-subj="ruleError"]').count(), 0, 'the error is at its field, not above the form');

    await flyout().locator('[data-test-subj="windowMinutes"]').fill('5');
    await windowRow.getByText(/^Must be a whole number/).waitFor({ state: 'detached', ...WAIT });
    await flyout().locator('[data-test-subj="emails"] input').fill('security@example.org');
    await flyout().locator('[data-test-subj="emails"] input').press('Enter');
    await flyout().locator('[data-test-subj="ruleName"]').scrollIntoViewIfNeeded();
    await shoot(page, 'rule-form');
    assert.equal(await save(), 201);
    await flyout().waitFor({ state: 'detached', ...WAIT });
    const row = page.locator('[data-test-subj="rulesTable"] tbody tr', { hasText: ruleName });
    await row.waitFor(WAIT);
    const text = await row.innerText();
    assert.match(text, /Threshold/);
    assert.match(text, /\*\/2 \* \* \* \* \*/);
    assert.ok(text.includes(`events matching event_type:"${eventType}" >= 3 in 5 min per user`), text);
    assert.ok(await row.locator('[data-test-subj="ruleOk"]').isVisible(), 'a new rule is OK');

    const stored = await mlog.callAdmin('/admin/alert-rules');
    const rule = (JSON.parse(stored.text) as { rules: { name: string; params: Record<string, unknown>; channels: Record<string, unknown>[] }[] }).rules.find((each) => each.name === ruleName);
    assert.deepEqual(rule?.params, { scope: { kind: 'events', systems: [] }, query: `event_type:"${eventType}"`, window_minutes: 5, group_by: 'user', comparator: '>=', value: 3 });
    assert.deepEqual(rule?.channels, [
      { kind: 'webhook', url: receiverUrl, secret_set: true },
      { kind: 'email', to: ['security@example.org'] },
    ]);
  });

  test('events that cross the threshold fire the rule; its history lists the firing with links to the events, and one opens in Discover', async () => {
    const start = Date.now();
    for (let i = 0; i < 3; i++) {
      const answer = await mpass.register({ event_time: new Date(start - i * 1000).toISOString(), event_type: eventType, user: 'bob', event_message: `Wrong password ${i + 1} for bob` });
      assert.equal(answer.status, 200, answer.text);
    }
    const alice = await mpass.register({ event_time: new Date(start).toISOString(), event_type: eventType, user: 'alice', event_message: 'Wrong password for alice' });
    assert.equal(alice.status, 200, alice.text);

    await page.locator('[data-test-subj="rulesTable"] tbody tr', { hasText: ruleName }).locator('[data-test-subj="ruleName"]').click();
    await page.locator('[data-test-subj="historyTable"]').waitFor(WAIT);
    const entries = (kind: string) => page.locator('[data-test-subj="historyTable"] tbody tr', { has: page.locator(`[data-test-subj="history-${kind}"]`) });
    /** Refreshes the history until an entry of `kind` is listed. */
    async function until(kind: string): Promise<void> {
      const deadline = Date.now() + FIRING.timeout;
      while ((await entries(kind).count()) === 0) {
        assert.ok(Date.now() < deadline, `the history lists "${kind}" within 90 seconds of the events`);
        await page.waitForTimeout(2_000);
        await page.locator('[data-test-subj="refreshHistory"]').click();
        await page.locator('[data-test-subj="refreshHistory"]:not([disabled])').waitFor(WAIT);
      }
    }
    await until('fired');
    const fired = entries('fired');
    assert.equal(await fired.count(), 1, 'one firing: bob crossed the threshold, alice did not');
    const firing = await fired.innerText();
    assert.match(firing, /bob/);
    assert.doesNotMatch(firing, /alice/);
    const links = fired.locator('[data-test-subj="eventLink"]');
    assert.equal(await links.count(), 3, 'the three events of bob');
    await until('notified');
    const notified = async () => (await entries('notified').allInnerTexts()).join('\n');
    const deadline = Date.now() + FIRING.timeout;
    while (!/email/.test(await notified()) || !/webhook/.test(await notified())) {
      assert.ok(Date.now() < deadline, `the webhook and the e-mail are notified within 90 seconds: ${await notified()}`);
      await page.waitForTimeout(2_000);
      await page.locator('[data-test-subj="refreshHistory"]').click();
      await page.locator('[data-test-subj="refreshHistory"]:not([disabled])').waitFor(WAIT);
    }
    assert.ok(smtp.mails.some((mail) => mail.raw.includes(ruleName) && mail.to.includes('security@example.org')), 'the test\'s SMTP server got the e-mail');
    assert.ok(received.some((delivery) => delivery.body.includes(ruleName) && delivery.signature !== undefined), 'the test\'s webhook receiver got the signed notification');
    const kinds = await page.locator('[data-test-subj="historyTable"] tbody tr').evaluateAll((rows) => rows.map((row) => row.querySelector('[data-test-subj^="history-"]')?.getAttribute('data-test-subj')));
    assert.equal(kinds.at(-1), 'history-fired', `newest first, the firing last: ${kinds.join(', ')}`);
    await shoot(page, 'history');

    await links.first().click();
    const modal = page.locator('[data-test-subj="purposeModal"]');
    await modal.waitFor(WAIT);
    await modal.locator('input[name="legal_basis"]').fill(purpose.legal_basis);
    await modal.locator('textarea[name="reason"]').fill(purpose.reason);
    await modal.locator('[data-test-subj="purposeSubmit"]').click();
    assert.equal(new URL(page.url()).pathname, '/console/discover');
    assert.match(new URL(page.url()).searchParams.get('query') ?? '', /^@id:"[^"]+"$/);
    await page.locator('[data-test-subj="hitCount"] strong', { hasText: /^1$/ }).waitFor(WAIT);
    const rows = await page.locator('[data-test-subj="hitTable"] tbody tr').evaluateAll((items) => items.map((item) => item.textContent ?? ''));
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, new RegExp(`${eventType}.*Wrong password \\d for bob`));
  });

  test('the rules list shows the active alert at the top and the rule in red; mute and unmute change it', async () => {
    await page.goto(`${base}/console/alerts`, { waitUntil: 'networkidle' });
    const active = page.locator('[data-test-subj="activeAlerts"]');
    await active.waitFor(WAIT);
    assert.match(await active.innerText(), new RegExp(`${ruleName} for bob`));
    const row = page.locator('[data-test-subj="rulesTable"] tbody tr', { hasText: ruleName });
    assert.equal(await row.locator('[data-test-subj="ruleActive"]').innerText(), '1 active');
    const managed = page.locator('[data-test-subj="rulesTable"] tbody tr', { hasText: `(${mpass.code}) stopped reporting` });
    assert.match(await managed.innerText(), new RegExp(`system ${mpass.code}[\\s\\S]*Absence[\\s\\S]*OK`), 'the system\'s default absence rule, marked as kept by MLog');
    await shoot(page, 'rules');

    await row.locator('[data-test-subj="muteRule"]').click();
    await page.locator('[data-test-subj="mute-8h"]').click();
    await row.locator('[data-test-subj="unmuteRule"]').waitFor(WAIT);
    const muted = (await mlog.callAdmin('/admin/alert-rules').then((answer) => JSON.parse(answer.text) as { rules: { name: string; muted_until: string | null }[] })).rules.find((each) => each.name === ruleName);
    const hours = (Date.parse(muted!.muted_until!) - Date.now()) / 3_600_000;
    assert.ok(hours > 7.9 && hours <= 8, `muted for 8 hours, not ${hours}`);
    await page.locator('[data-test-subj="stateFilter"]').selectOption('muted');
    assert.equal(await page.locator('[data-test-subj="rulesTable"] tbody tr', { hasText: ruleName }).count(), 1, 'the muted filter keeps the muted rule');
    await page.locator('[data-test-subj="stateFilter"]').selectOption('all');
    await row.locator('[data-test-subj="unmuteRule"]').click();
    await row.locator('[data-test-subj="muteRule"]').waitFor(WAIT);
  });

  test('an administrator edits the rule; the webhook secret left empty is kept', async () => {
    const row = page.locator('[data-test-subj="rulesTable"] tbody tr', { hasText: ruleName });
    await row.locator('[data-test-subj="editRule"]').click();
    await flyout().waitFor(WAIT);
    assert.equal(await flyout().locator('[data-test-subj="queryInput"]').inputValue(), `event_type:"${eventType}"`, 'the form holds the rule');
    assert.equal(await flyout().locator('[data-test-subj="webhookSecret-0"]').inputValue(), '', 'the secret is never sent back');
    await flyout().locator('[data-test-subj="thresholdValue"]').fill('4');
    const answered = page.waitForResponse((response) => /\/console\/api\/alert-rules\/[^/]+$/.test(response.url()) && response.request().method() === 'PUT');
    await flyout().locator('[data-test-subj="saveRule"]').click();
    assert.equal((await answered).status(), 200);
    await flyout().waitFor({ state: 'detached', ...WAIT });
    await row.getByText('>= 4 in 5 min per user').waitFor(WAIT);
    const rules = JSON.parse((await mlog.callAdmin('/admin/alert-rules')).text) as { rules: { name: string; params: { value: number }; channels: { kind: string; secret_set?: boolean }[] }[] };
    const rule = rules.rules.find((each) => each.name === ruleName);
    assert.equal(rule?.params.value, 4);
    assert.equal(rule?.channels[0]?.secret_set, true);
  });

  test('an administrator deletes a rule after confirming it', async () => {
    const created = await mlog.callAdmin('/admin/alert-rules', {
      method: 'POST',
      body: JSON.stringify({ name: `Refusals ${suffix}`, type: 'refusals', params: { system: mpass.code, causes: ['refused'], window_minutes: 5, threshold: 10 } }),
    });
    assert.equal(created.status, 201, created.text);
    await page.locator('[data-test-subj="refreshRules"]').click();
    const row = page.locator('[data-test-subj="rulesTable"] tbody tr', { hasText: `Refusals ${suffix}` });
    await row.waitFor(WAIT);
    await row.locator('[data-test-subj="deleteRule"]').click();
    const modal = page.locator('[data-test-subj="deleteRuleModal"]');
    await modal.waitFor(WAIT);
    await modal.getByRole('button', { name: 'Keep it' }).click();
    await modal.waitFor({ state: 'detached', ...WAIT });
    assert.equal(await row.count(), 1, 'kept');
    await row.locator('[data-test-subj="deleteRule"]').click();
    await modal.getByRole('button', { name: 'Delete rule' }).click();
    await row.waitFor({ state: 'detached', ...WAIT });
    const id = (JSON.parse(created.text) as { id: string }).id;
    assert.equal((await mlog.callAdmin(`/admin/alert-rules/${id}`)).status, 404);
  });

  test('an auditor reads the rules and their history but is offered no change', async () => {
    const auditor = await mlog.addAdministrator('auditor', { username: `auditor-${suffix}` });
    const own = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const seen = await own.newPage();
      await seen.goto(`${base}/console/alerts`, { waitUntil: 'networkidle' });
      await signIn(seen, auditor.username, auditor.password);
      const row = seen.locator('[data-test-subj="rulesTable"] tbody tr', { hasText: ruleName });
      await row.waitFor(WAIT);
      assert.equal(await seen.locator('[data-test-subj="createRule"]').count(), 0);
      assert.equal(await row.locator('[data-test-subj="editRule"], [data-test-subj="muteRule"], [data-test-subj="deleteRule"]').count(), 0);
      await row.locator('[data-test-subj="ruleHistory"]').click();
      await seen.locator('[data-test-subj="history-fired"]').first().waitFor(WAIT);
      assert.equal(await seen.locator('[data-test-subj="editRule"]').count(), 0);
    } finally {
      await own.close();
    }
  });

  test('a viewer has no Alerts link, and /console/alerts is not available to the role', async () => {
    const viewer = await mlog.addAdministrator('viewer', { username: `viewer-${suffix}` });
    const own = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const seen = await own.newPage();
      await seen.goto(`${base}/console/alerts`, { waitUntil: 'networkidle' });
      await signIn(seen, viewer.username, viewer.password);
      await seen.getByRole('heading', { name: 'Not available to your role' }).waitFor(WAIT);
      assert.equal(await seen.locator('[data-test-subj="consoleHeader"]').getByText('Alerts', { exact: true }).count(), 0);
      assert.equal(await seen.locator('[data-test-subj="rulesTable"]').count(), 0);
      const status = await seen.evaluate(async () => (await fetch('/console/api/alert-rules')).status);
      assert.equal(status, 403, 'nor can the viewer read the rules by calling the API');
    } finally {
      await own.close();
    }
  });
});
