/**
 * The evidence of a document in the console, in Debian's Chromium: a real MLog that checkpoints every
 * second, events registered over mutual TLS, one of them then edited directly in Elasticsearch. An
 * auditor opens each document: the untouched one shows "Proof verified" with its @hash, log, position,
 * what its receipt promised and the checkpoint; the edited one "Proof fails". Each opening is recorded
 * in mlog_audit with its evidence status.
 *
 * MLOG_CONSOLE_SCREENSHOTS=docs/images also saves console-evidence.png for docs/console.md.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../../scripts/build-console.js';
import { auditRecords, closeInspectionClient, inspectionClient, storedEvents, type StoredDocument } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type TestSystem } from '../helpers/test-mlog.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'];
const SCREENSHOTS = process.env.MLOG_CONSOLE_SCREENSHOTS;
const WAIT = { timeout: 20_000 };

describe('the evidence of a document in the console', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium` }, () => {
  let mlog: TestMLog;
  let browser: Browser;
  let page: Page;
  let base: string;
  let system: TestSystem;
  let auditor: { username: string; password: string };
  let kept: StoredDocument;
  let edited: StoredDocument;

  async function openDocumentWith(text: string): Promise<void> {
    await page.locator('[data-test-subj="hitTable"] tbody tr', { hasText: text }).first().locator('[data-test-subj="openDocument"]').click();
    await page.locator('[data-test-subj="documentFlyout"]').waitFor(WAIT);
    await page.locator('[data-test-subj="evidenceStatus"]').waitFor(WAIT);
  }

  before(async () => {
    await ensureConsoleBuilt({ log: (line) => process.stdout.write(`# ${line}\n`) });
    mlog = await TestMLog.start({ MLOG_CHECKPOINT_SECONDS: '1' });
    system = await mlog.addSystem({ code: `evidence-${randomBytes(3).toString('hex')}` });
    const uids: string[] = [];
    for (const message of ['Permit 17 issued to Elena', 'Permit 18 issued to Mihai']) {
      const answer = await system.register({ event_time: new Date().toISOString(), event_type: 'Test.PermitIssued', event_message: message });
      assert.equal(answer.status, 200, answer.text);
      uids.push((answer.json as { UID: string }).UID);
    }
    for (const uid of uids) {
      for (let tries = 0; (await system.call(`/proof/${uid}`)).status !== 200; tries++) {
        assert.ok(tries < 120, `no checkpoint covers ${uid}`);
        await sleep(250);
      }
    }
    [kept] = await storedEvents(system.code, uids[0] as string) as [StoredDocument];
    [edited] = await storedEvents(system.code, uids[1] as string) as [StoredDocument];
    await inspectionClient().update({ index: edited.index, id: edited.id, doc: { event_message: 'Permit 18 issued to Mihai (edited)' }, refresh: true });
    auditor = await mlog.addAdministrator('auditor', { username: `auditor-${randomBytes(3).toString('hex')}` });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    base = `http://127.0.0.1:${mlog.ports.adminPort}`;
    await page.goto(`${base}/console/discover?scope=events&systems=${system.code}&from=now-24h&to=now`, { waitUntil: 'networkidle' });
    await page.locator('input[name="username"]').fill(auditor.username);
    await page.locator('input[name="password"]').fill(auditor.password);
    await page.locator('[data-test-subj="signIn"]').click();
    const modal = page.locator('[data-test-subj="purposeModal"]');
    await modal.waitFor(WAIT);
    await modal.locator('input[name="legal_basis"]').fill('Law 133/2011 art. 5');
    await modal.locator('textarea[name="reason"]').fill('Audit of the permits register');
    await modal.locator('[data-test-subj="purposeSubmit"]').click();
    await modal.waitFor({ state: 'detached', ...WAIT });
  });

  after(async () => {
    await browser?.close();
    await mlog?.stop();
    await closeInspectionClient();
  });

  test('an untouched document: "Proof verified", its @hash, log, position, receipt promise and checkpoint', async () => {
    await openDocumentWith('Permit 17 issued to Elena');
    assert.equal(await page.locator('[data-test-subj="evidenceStatus"]').innerText(), `Proof verified · position ${kept.source['@position']}`);
    await page.locator('[data-test-subj="evidenceTab"]').click();
    const panel = page.locator('[data-test-subj="evidencePanel"]');
    await panel.waitFor(WAIT);
    const text = await panel.innerText();
    assert.match(await page.locator('[data-test-subj="evidenceMessage"]').innerText(), new RegExp(`Position ${kept.source['@position']} of log ${kept.source['@log']} is proven in checkpoint \\d+`));
    assert.ok(text.includes(kept.source['@hash']), 'the @hash is shown');
    assert.ok(text.includes(kept.source['@log']), 'the log is shown');
    const receipt = await page.locator('[data-test-subj="evidenceReceipt"]').innerText();
    assert.ok(receipt.includes(kept.source['@uid']) && receipt.includes(kept.id) && receipt.includes(kept.source['@hash']), receipt);
    assert.match(text, /Audit path/);
    if (SCREENSHOTS !== undefined) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(SCREENSHOTS, 'console-evidence.png') });
    }
    await page.keyboard.press('Escape');
    await page.locator('[data-test-subj="documentFlyout"]').waitFor({ state: 'detached', ...WAIT });
  });

  test('a document edited in Elasticsearch: "Proof fails", saying it no longer hashes to its @hash', async () => {
    await openDocumentWith('(edited)');
    assert.equal(await page.locator('[data-test-subj="evidenceStatus"]').innerText(), `Proof fails · position ${edited.source['@position']}`);
    await page.locator('[data-test-subj="evidenceTab"]').click();
    assert.match(await page.locator('[data-test-subj="evidenceMessage"]').innerText(), /does not hash to its @hash: it was changed after MLog stored it/);
    await page.keyboard.press('Escape');
  });

  test('each opening is recorded in mlog_audit with its evidence status', async () => {
    const records = await auditRecords('MLog.Admin.Query', { user: auditor.username, action: 'document' });
    const byId = new Map(records.map((record) => [record.document_id, record.evidence]));
    assert.equal(byId.get(kept.id), 'verified');
    assert.equal(byId.get(edited.id), 'failed');
  });
});
