/**
 * `mlog systems conformance` and `mlog systems activate` through the real `mlog` command, over events an
 * IS in staging registered through a real MLog (mutual TLS).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { elasticsearchUrl, event, TestMLog, type TestSystem } from '../helpers/test-mlog.js';
import { runMlogCli } from '../helpers/run-mlog-cli.js';

const mlogCli = runMlogCli;

async function statusOf(code: string): Promise<string> {
  const shown = await mlogCli(['systems', 'show', code, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  return JSON.parse(shown.stdout).status as string;
}

describe('mlog systems conformance / activate (command line)', () => {
  let mlog: TestMLog;
  let staging: TestSystem;
  let clean: TestSystem;

  before(async () => {
    mlog = await TestMLog.start();
    [staging, clean] = await Promise.all([
      mlog.addSystem({ status: 'staging', event_types: ['Cli.Login', 'Cli.Logout'] }),
      mlog.addSystem({ status: 'staging', event_types: ['Cli.Login'] }),
    ]);
    const batch = [
      JSON.stringify(event({ event_type: 'Cli.Login', user: 2000000000001, channel: 'web' })),
      JSON.stringify(event({ event_type: 'Cli.PersonalData.Access', user: '2000000000001', legal_basis: 'Law 1' })),
      await staging.sign(event({ event_type: 'Cli.Login', user: '2000000000002' })),
    ].join('\n');
    assert.equal((await staging.register(batch)).status, 200);
    assert.equal((await clean.register(await clean.sign(event({ event_type: 'Cli.Login', user: '2000000000003' })))).status, 200);
  });

  after(async () => {
    await mlog.stop();
    await closeInspectionClient();
  });

  test('conformance prints every section, then the findings, and exits 0', async () => {
    const run = await mlogCli(['systems', 'conformance', staging.code]);
    assert.equal(run.code, 0, run.stderr);
    const out = run.stdout;
    assert.match(out, new RegExp(`Conformance of information system "${staging.code}" \\(.*, staging\\)`));
    assert.match(out, /3 events, not counting 0 MLog\.ClientQuery records/);
    assert.match(out, /Declared event types\n\s+EVENT TYPE\s+EVENTS\n\s+Cli\.Login\s+2\n\s+Cli\.Logout\s+0\s+not seen/);
    assert.match(out, /Event types seen but not declared\n\s+EVENT TYPE\s+EVENTS\n\s+Cli\.PersonalData\.Access\s+1/);
    assert.match(out, /Non-standard fields \(outside the predefined list\)\n.*\n\s+channel\s+1\s+string/);
    assert.match(out, /Predefined fields sent with a wrong type \(expected: string\)\n.*\n\s+user\s+3\s+3\s+1\s+number/);
    assert.match(out, /PersonalData completeness .*\n.*\n\s+Cli\.PersonalData\.Access\s+1\s+1\s+1\s+0\s+0/);
    assert.match(out, /Signatures \(require_signature: no\)\n.*\n\s+1\s+2\s+0/);
    assert.match(out, /Refused calls: 0/);
    assert.match(out, /Findings: 5\n/);
    for (const code of ['declared-not-seen', 'undeclared-type', 'non-standard-field', 'wrong-type', 'personaldata-missing-fields']) {
      assert.match(out, new RegExp(`\\[${code}\\] `));
    }
    assert.ok(out.indexOf('Findings:') > out.indexOf('Refused calls:'), 'findings come last');
  });

  test('conformance --json prints the report; --from/--to select the period; a bad bound exits 1', async () => {
    const json = await mlogCli(['systems', 'conformance', staging.code, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.system.code, staging.code);
    assert.deepEqual(report.event_types.declared, [
      { event_type: 'Cli.Login', count: 2 },
      { event_type: 'Cli.Logout', count: 0 },
    ]);

    const empty = await mlogCli(['systems', 'conformance', staging.code, '--from', '2020-01-01', '--to', '2020-02-01', '--json']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(JSON.parse(empty.stdout).events.total, 0);

    const bad = await mlogCli(['systems', 'conformance', staging.code, '--from', 'last week']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /from "last week" is not in the form/);

    const unknown = await mlogCli(['systems', 'conformance', 'no-such-system-cli']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No information system has the code "no-such-system-cli"/);
  });

  test('activate warns and exits 1 while there are findings; --force activates and records who', async () => {
    const refused = await mlogCli(['systems', 'activate', staging.code]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`Warning: information system "${staging.code}" has 5 conformance findings`));
    assert.match(refused.stderr, /\[declared-not-seen\] Declared event type "Cli\.Logout"/);
    assert.match(refused.stderr, /stays in staging; .*--force/);
    assert.equal(await statusOf(staging.code), 'staging');

    const forced = await mlogCli(['systems', 'activate', staging.code, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /Warning: activating despite 5 conformance findings \(--force\)/);
    assert.match(forced.stdout, new RegExp(`Information system "${staging.code}" is active \\(was staging\\); the activation is recorded in the audit log as forced`));
    assert.equal(await statusOf(staging.code), 'active');

    const client = inspectionClient();
    await client.indices.refresh({ index: 'mlog_audit' });
    const found = await client.search<Record<string, any>>({
      index: 'mlog_audit',
      query: { bool: { filter: [{ term: { event_type: 'MLog.System.Activated' } }, { term: { is: staging.code } }] } },
    });
    const recorded = found.hits.hits[0]?._source;
    assert.match(String(recorded?.user), /^cli by \S+/);
    assert.equal(recorded?.findings_count, 5);
    assert.equal(recorded?.forced, true);

    const again = await mlogCli(['systems', 'activate', staging.code]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already active/);
  });

  test('a clean IS activates without --force', async () => {
    const table = await mlogCli(['systems', 'conformance', clean.code]);
    assert.match(table.stdout, /Findings: 0\n\s+\(none: the IS conforms for this period\)/);
    const activated = await mlogCli(['systems', 'activate', clean.code]);
    assert.equal(activated.code, 0, activated.stderr);
    assert.equal(activated.stderr, '');
    assert.match(activated.stdout, /is active \(was staging\); the activation is recorded in the audit log\.$/m);
    assert.equal(await statusOf(clean.code), 'active');
  });
});
