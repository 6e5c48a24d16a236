/**
 * The console's browser application, served by a real MLog on its admin listener and opened in
 * Debian's Chromium: the page loads with its bundled fonts and icons and nothing from elsewhere, and a
 * bookmarked view (/console/discover?…) opens the application, which keeps the view to come back to.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../../scripts/build-console.js';
import { TestMLog } from '../helpers/test-mlog.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'];

describe('the console in a browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium` }, () => {
  let mlog: TestMLog;
  let browser: Browser;
  let base: string;

  before(async () => {
    await ensureConsoleBuilt({ log: (line) => process.stdout.write(`# ${line}\n`) });
    mlog = await TestMLog.start();
    base = `http://127.0.0.1:${mlog.ports.adminPort}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await mlog?.stop();
  });

  /** A fresh page that records every request leaving for another origin and every console error. */
  async function open(path: string): Promise<{ page: Page; elsewhere: string[]; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const elsewhere: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(`${base}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) elsewhere.push(url);
    });
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 40[14]/.test(message.text())) errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${base}${path}`, { waitUntil: 'networkidle' });
    return { page, elsewhere, errors };
  }

  test('/console answers with a redirect to /console/, and a view path with the application under a strict policy', async () => {
    const bare = await mlog.callAdmin('/console?x=1', { token: null });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, '/console/?x=1');

    const view = await mlog.callAdmin('/console/discover?scope=events&query=event_type%3A%22A%22', { token: null });
    assert.equal(view.status, 200);
    assert.match(String(view.headers['content-type']), /^text\/html/);
    assert.match(view.text, /<div id="root"><\/div>/);
    assert.match(String(view.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(view.headers['cache-control'], 'no-cache');

    const asset = view.text.match(/src="(\/console\/assets\/[^"]+\.js)"/)?.[1];
    assert.ok(asset, 'index.html names its script under /console/assets/');
    const script = await mlog.callAdmin(asset, { token: null });
    assert.equal(script.status, 200);
    assert.match(String(script.headers['cache-control']), /immutable/);

    const missing = await mlog.callAdmin('/console/assets/no-such-file.js', { token: null });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.status, '404');

    const signedOut = await mlog.callAdmin('/console/api/no-such-call', { token: null });
    assert.equal(signedOut.status, 401, 'the console API tells nothing of its paths before sign-in');
    assert.equal(signedOut.json?.status, '401', '/console/api/ is never answered with the application');
    const auditor = await mlog.signedInAs('auditor');
    const api = await auditor.get('/no-such-call');
    assert.equal(api.status, 404);
    assert.equal(api.json?.status, '404', '/console/api/ is never answered with the application');
  });

  test('the sign-in page renders with EUI, its icons and the bundled Inter font, fetching nothing from elsewhere', async () => {
    const { page, elsewhere, errors } = await open('/console/');
    await page.waitForSelector('input[name="username"]');
    await page.waitForSelector('input[name="password"]');
    assert.equal(await page.locator('button[data-test-subj="signIn"]').innerText(), 'Sign in');
    // EUI loads each icon on demand from the bundle; a loaded icon is an SVG with its paths.
    const userIcon = page.locator('svg[data-icon-type="user"][data-is-loaded="true"]');
    await userIcon.waitFor();
    assert.ok((await userIcon.locator('path').count()) > 0, 'the user icon has its drawing');
    await page.locator('svg[data-icon-type="logoSecurity"][data-is-loaded="true"]').first().waitFor();
    const inter = await page.evaluate(
      `document.fonts.ready.then(() => [...document.fonts].some((font) => font.family.replace(/"/g, '') === 'Inter' && font.status === 'loaded'))`,
    );
    assert.ok(inter, 'the Inter font is loaded from the bundle');
    assert.deepEqual(elsewhere, [], 'the page fetched nothing from another origin');
    assert.deepEqual(errors.filter((text) => /Content Security Policy|Refused/.test(text)), [], 'nothing was refused by the page policy');
    await page.close();
  });

  test('a bookmarked Discover view opens the application, which keeps the view to return to after signing in', async () => {
    const view = '/console/discover?scope=events&from=now-7d&to=now&query=event_type%3A%22MPass.Login%22&columns=event_time,user';
    const { page } = await open(view);
    await page.waitForSelector('input[name="username"]');
    const next = new URL(page.url()).searchParams.get('next');
    assert.equal(next, view);
    await page.close();
  });
});
