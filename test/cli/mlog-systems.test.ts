import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCertificateAuthority, issueClientCertificate, type IssuedCertificate } from '../../scripts/dev-pki.js';
import { elasticsearchUrl, uniqueCode } from '../helpers/test-mlog.js';
import { runMlogCli } from '../helpers/run-mlog-cli.js';

const mlog = runMlogCli;

describe('mlog systems (command line)', () => {
  let dir: string;
  let pem: IssuedCertificate;
  let der: IssuedCertificate;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-cli-'));
    const ca = await createCertificateAuthority(dir, 'CLI Test CA');
    pem = await issueClientCertificate(ca, dir, { name: 'pem-system' });
    der = await issueClientCertificate(ca, dir, { name: 'der-system', der: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('add, list, show, update and remove an IS', async () => {
    const code = uniqueCode('cli');
    const added = await mlog([
      'systems', 'add', '--code', code, '--name', 'MPass', '--idno', '1003600000000', '--cert', der.derPath as string,
      '--allow', '10.0.0.0/8,192.168.1.10', '--event-type', 'MPass.Login', '--event-type', 'MPass.Logout', '--retention-months', '36',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`Registered information system "${code}" \\(staging\\)`));
    assert.match(added.stdout, new RegExp(`serial ${der.serialHex}`));

    const listed = await mlog(['systems', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${code}\\s+staging\\s+no\\s+MPass`));

    const shown = await mlog(['systems', 'show', code, '--json']);
    const system = JSON.parse(shown.stdout);
    assert.deepEqual(system.allowed_addresses, ['10.0.0.0/8', '192.168.1.10']);
    assert.deepEqual(system.event_types, ['MPass.Login', 'MPass.Logout']);
    assert.equal(system.retention_months, 36);
    assert.equal(system.certificates[0].fingerprint256, der.fingerprint256);

    const updated = await mlog(['systems', 'update', code, '--status', 'active', '--require-signature', 'yes', '--cert', pem.certPath]);
    assert.equal(updated.code, 0, updated.stderr);
    const after = JSON.parse((await mlog(['systems', 'show', code, '--json'])).stdout);
    assert.equal(after.status, 'active');
    assert.equal(after.require_signature, true);
    assert.equal(after.certificates[0].fingerprint256, pem.fingerprint256);

    const removed = await mlog(['systems', 'remove', code]);
    assert.equal(removed.code, 0);
    const gone = await mlog(['systems', 'show', code]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`No information system has the code "${code}"`));
  });

  test('plain errors: invalid values, a missing option, an unreadable file, Elasticsearch down', async () => {
    const badCode = await mlog(['systems', 'add', '--code', 'Bad Code', '--name', 'x', '--idno', '1', '--cert', pem.certPath]);
    assert.equal(badCode.code, 1);
    assert.match(badCode.stderr, /code must match/);

    const missing = await mlog(['systems', 'add', '--code', uniqueCode('cli')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--name <name>' not specified/);

    const noFile = await mlog(['systems', 'add', '--code', uniqueCode('cli'), '--name', 'x', '--idno', '1', '--cert', join(dir, 'absent.cer')]);
    assert.equal(noFile.code, 1);
    assert.match(noFile.stderr, /Cannot read the certificate file .*absent\.cer/);

    const down = await mlog(['systems', 'list'], { MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /Elasticsearch does not answer at http:\/\/127\.0\.0\.1:9/);
  });

  test('syslog settings: --syslog-address and --syslog-timezone set, show, replace and empty them; bad values are refused naming the field', async () => {
    const code = uniqueCode('cli');
    const added = await mlog([
      'systems', 'add', '--code', code, '--name', 'Billing', '--idno', '1003600000000', '--cert', pem.certPath,
      '--syslog-address', '10.1.2.0/24,10.9.9.9', '--syslog-timezone', 'Europe/Chisinau',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /syslog_addresses\s+10\.1\.2\.0\/24, 10\.9\.9\.9/);
    assert.match(added.stdout, /syslog_timezone\s+Europe\/Chisinau/);
    const shown = JSON.parse((await mlog(['systems', 'show', code, '--json'])).stdout);
    assert.deepEqual([shown.syslog_addresses, shown.syslog_timezone], [['10.1.2.0/24', '10.9.9.9'], 'Europe/Chisinau']);

    const replaced = await mlog(['systems', 'update', code, '--syslog-address', '192.168.7.7', '--syslog-timezone', 'UTC']);
    assert.equal(replaced.code, 0, replaced.stderr);
    const after = JSON.parse((await mlog(['systems', 'show', code, '--json'])).stdout);
    assert.deepEqual([after.syslog_addresses, after.syslog_timezone], [['192.168.7.7'], 'UTC']);

    const emptied = await mlog(['systems', 'update', code, '--syslog-address', '']);
    assert.equal(emptied.code, 0, emptied.stderr);
    assert.match(emptied.stdout, /syslog_addresses\s+\(none: plain-TCP syslog refused\)/);

    const badZone = await mlog(['systems', 'update', code, '--syslog-timezone', 'Mars/Olympus']);
    assert.equal(badZone.code, 1);
    assert.match(badZone.stderr, /syslog_timezone "Mars\/Olympus" is not a time zone MLog knows/);
    const badAddress = await mlog(['systems', 'update', code, '--syslog-address', 'not-an-address']);
    assert.equal(badAddress.code, 1);
    assert.match(badAddress.stderr, /syslog_addresses/);
    await mlog(['systems', 'remove', code]);
  });
});
