/**
 * `mlog retention` through the real `mlog` command. The cluster is shared: every command is narrowed
 * with --index to the indices of this file's unique IS code (the unrestricted catalog is covered by
 * test/e2e/retention.test.ts, read only).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCertificateAuthority, issueClientCertificate } from '../../scripts/dev-pki.js';
import { LEASES_INDEX, monthSuffix } from '../../src/storage/index-names.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { elasticsearchUrl, uniqueCode } from '../helpers/test-mlog.js';
import { runMlogCli } from '../helpers/run-mlog-cli.js';

const mlog = runMlogCli;

describe('mlog retention (command line)', () => {
  let dir: string;
  const code = uniqueCode('rtcli');
  const old = `mlog-${code}-2019.03`;
  const current = `mlog-${code}-${monthSuffix(new Date())}`;
  const scope = `mlog-${code}-*`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-cli-retention-'));
    const ca = await createCertificateAuthority(dir, 'CLI Retention CA');
    const certificate = await issueClientCertificate(ca, dir, { name: code });
    const added = await mlog(['systems', 'add', '--code', code, '--name', 'Retention CLI', '--idno', '1003600000000', '--cert', certificate.certPath, '--retention-months', '12']);
    assert.equal(added.code, 0, added.stderr);
    const client = inspectionClient();
    for (const [index, docs] of [[old, 3], [current, 1]] as const) {
      await client.indices.create({ index });
      await client.bulk({
        refresh: true,
        operations: Array.from({ length: docs }, (_, n) => [{ index: { _index: index } }, { event_time: '2019-03-10T10:00:00Z', event_type: 'Test.Event', event_id: `e${n}` }]).flat(),
      });
    }
  });

  after(async () => {
    const client = inspectionClient();
    for (const index of [old, current]) await client.indices.delete({ index, expand_wildcards: 'none' }, { ignore: [404] });
    await mlog(['systems', 'remove', code]);
    await closeInspectionClient();
    rmSync(dir, { recursive: true, force: true });
  });

  test('plan: a table of index, IS, month, docs, size, decision and reason, then totals', async () => {
    const plan = await mlog(['retention', 'plan', '--index', scope]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^Retention at \S+: each IS keeps its retention_months; personal data 120 months \(cut-off \d{4}-\d{2}-\d{2}\); rejections 12 months/);
    assert.match(plan.stdout, /INDEX\s+IS\s+MONTH\s+DOCS\s+SIZE\s+DECISION\s+REASON/);
    assert.match(plan.stdout, new RegExp(`${old}\\s+${code}\\s+2019\\.03\\s+3\\s+[\\d.]+ (B|KiB)\\s+delete\\s+past retention \\(12 months; cut-off `));
    assert.match(plan.stdout, new RegExp(`${current}\\s+${code}\\s+\\d{4}\\.\\d{2}\\s+1\\s+[\\d.]+ (B|KiB)\\s+keep\\s+current month`));
    assert.match(plan.stdout, /To delete: 1 index, 3 documents, [\d.]+ (B|KiB)\./);
    assert.match(plan.stdout, /To keep: {3}1 index, 1 document, /);

    const json = await mlog(['retention', 'plan', '--json', '--index', scope]);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.personal_data_months, 120);
    assert.deepEqual(
      parsed.indices.map((entry: { index: string; decision: string; is_code: string; docs: number }) => [entry.index, entry.decision, entry.is_code, entry.docs]),
      [[old, 'delete', code, 3], [current, 'keep', code, 1]],
    );
    assert.equal(parsed.indices[0].retention_months, 12);
    assert.match(parsed.indices[0].cutoff, /^\d{4}-\d{2}-\d{2}T/);
    assert.deepEqual({ indices: parsed.to_delete.indices, docs: parsed.to_delete.docs }, { indices: 1, docs: 3 });
  });

  test('run without --yes is a dry run: prints the plan, deletes nothing, says how to execute', async () => {
    const dry = await mlog(['retention', 'run', '--index', scope]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`${old}\\s.*delete`));
    assert.match(dry.stdout, new RegExp(`Dry run: nothing was deleted\\. 1 index, 3 documents, .* would be deleted; to delete them, run: mlog retention run --yes --index '${scope.replace(/[.*]/g, '\\$&')}'`));
    assert.equal(await inspectionClient().indices.exists({ index: old }), true);
  });

  test('run --yes deletes, shows progress lines, and ends with a summary', async () => {
    const run = await mlog(['retention', 'run', '--yes', '--index', scope]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Deleting 1 index \(3 documents, [\d.]+ (B|KiB)\)…/);
    assert.match(run.stdout, new RegExp(`\\[1/1\\] deleted ${old} \\(3 documents, `));
    assert.match(run.stdout, /Deleted 1 of 1 index past retention \(3 documents, [\d.]+ (B|KiB)\) in [\d.]+ s; kept 1 index; 0 failures\./);
    assert.match(run.stdout, /Each deletion is recorded as MLog\.Retention\.IndexDeleted in mlog_audit\./);
    assert.equal(await inspectionClient().indices.exists({ index: old }), false);
    assert.equal(await inspectionClient().indices.exists({ index: current }), true, 'the current month is kept');

    const [record] = (
      await inspectionClient().search<Record<string, unknown>>({
        index: 'mlog_audit',
        query: { bool: { filter: [{ term: { event_type: 'MLog.Retention.IndexDeleted' } }, { term: { index: old } }] } },
      })
    ).hits.hits;
    assert.match(String(record?._source?.user), /^cli by \S+ on \S+/);
    assert.equal(record?._source?.document_count, 3);

    const again = await mlog(['retention', 'run', '--yes', '--index', scope]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Deleted 0 of 0 indices past retention/);
  });

  test('a run while another holds the lease is skipped and says so', async () => {
    const client = inspectionClient();
    const existing = await client.get({ index: LEASES_INDEX, id: 'retention' }, { ignore: [404] });
    if (existing.found === true) return; // a real run holds it now: nothing to prove safely
    const written = await client.create({
      index: LEASES_INDEX,
      id: 'retention',
      refresh: true,
      document: {
        name: 'retention',
        holder: `other-host/1/${code}`,
        run_by: 'scheduler on other-host',
        acquired_at: new Date().toISOString(),
        expires_at: new Date(Date.now() + 60_000).toISOString(),
      },
    });
    try {
      const run = await mlog(['retention', 'run', '--yes', '--index', scope]);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /mlog: Skipped: another retention run holds the lease "retention" \(scheduler on other-host, since .*, until .*\)\. Nothing was deleted\./);
    } finally {
      await client.delete({ index: LEASES_INDEX, id: 'retention', if_seq_no: written._seq_no, if_primary_term: written._primary_term, refresh: true }, { ignore: [404, 409] });
    }
  });

  test('a wrong retention setting stops the command with one line naming it', async () => {
    const bad = await mlog(['retention', 'plan'], { MLOG_PERSONALDATA_RETENTION_MONTHS: 'ten' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^mlog: MLOG_PERSONALDATA_RETENTION_MONTHS="ten" is not a number of months/);
  });
});
