/**
 * `mlog rejections list` through the real `mlog` command against the real Elasticsearch. The rejections
 * are written with the store MLog's recorder uses, for a unique IS code, so the searches by system see
 * only this file's rejections.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { commandLineActor } from '../../src/audit/command-line-actor.js';
import { createLogger } from '../../src/logging/logger.js';
import type { Rejection } from '../../src/rejections/rejection-recorder.js';
import { REJECTIONS_LISTED_EVENT } from '../../src/rejections/rejection-search.js';
import { ElasticsearchRejectionStore } from '../../src/storage/elasticsearch-rejection-store.js';
import { installIndexTemplates } from '../../src/storage/template-installer.js';
import { elasticsearchUrl, uniqueCode } from '../helpers/test-mlog.js';
import { runMlogCli } from '../helpers/run-mlog-cli.js';
import { auditRecords, closeInspectionClient, whileAuditRefusesWrites } from '../helpers/elasticsearch-inspection.js';

const mlog = runMlogCli;

const MINUTE = 60_000;

describe('mlog rejections list (command line)', () => {
  const code = uniqueCode('cli-rej');
  const now = Date.now();
  const longReason = `Line 3: ${'the field is far too long and the reason goes on; '.repeat(5)}\nsecond line`;
  const rejections: Rejection[] = [
    { at: new Date(now - 3 * MINUTE), status: 400, reason: 'Line 1 is neither a JSON object nor a JWS in compact serialization.', system: code, sourceAddress: '::ffff:10.0.0.5', method: 'POST', path: '/register', requestId: `${code}-1`, body: 'not json' },
    { at: new Date(now - 2 * MINUTE), status: 403, reason: longReason, system: code, sourceAddress: '10.0.0.6', method: 'GET', path: '/personal-data', requestId: `${code}-2`, body: 'subject=x' },
    { at: new Date(now - 30 * 60 * MINUTE), status: 400, reason: 'An old refusal.', system: code, sourceAddress: '10.0.0.7', method: 'POST', path: '/register', requestId: `${code}-3` },
  ];

  before(async () => {
    const client = new Client({ node: elasticsearchUrl() });
    try {
      await installIndexTemplates(client, createLogger('error', true));
      await new ElasticsearchRejectionStore(client).writeRejections(rejections);
    } finally {
      await client.close();
    }
  });

  after(() => closeInspectionClient());

  test('a readable table of the last 24 hours, newest first: time, status, IS, address, reason', async () => {
    const listed = await mlog(['rejections', 'list', '--system', code]);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^TIME\s+STATUS\s+IS\s+ADDRESS\s+REASON$/);
    assert.equal(lines.length, 4, listed.stdout);
    assert.match(lines[1] ?? '', new RegExp(`^${new Date(now - 2 * MINUTE).toISOString()}\\s+403\\s+${code}\\s+10\\.0\\.0\\.6\\s+Line 3: the field`));
    assert.ok((lines[1] ?? '').endsWith('…'), 'a long reason is cut, on one line');
    assert.match(lines[2] ?? '', new RegExp(`^${new Date(now - 3 * MINUTE).toISOString()}\\s+400\\s+${code}\\s+10\\.0\\.0\\.5\\s+Line 1 is neither`));
    assert.match(lines[3] ?? '', /^2 of 2 refused calls from .* to now\.$/);
  });

  test('--json prints the count and the rejections as stored', async () => {
    const listed = await mlog(['rejections', 'list', '--system', code, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const parsed = JSON.parse(listed.stdout);
    assert.equal(parsed['record-count'], 2);
    assert.deepEqual(
      parsed.rejections.map((rejection: { request_id: string }) => rejection.request_id),
      [`${code}-2`, `${code}-1`],
    );
    const [forbidden] = parsed.rejections;
    assert.equal(forbidden.reason, longReason);
    assert.equal(forbidden.is, code);
    assert.equal(forbidden.path, '/personal-data');
    assert.equal(forbidden.body_excerpt, 'subject=x');
  });

  test('--status, --from, --to and --limit', async () => {
    const byStatus = JSON.parse((await mlog(['rejections', 'list', '--system', code, '--status', '400', '--json'])).stdout);
    assert.deepEqual(byStatus.rejections.map((rejection: { request_id: string }) => rejection.request_id), [`${code}-1`]);

    const older = JSON.parse((await mlog(['rejections', 'list', '--system', code, '--from', new Date(now - 31 * 60 * MINUTE).toISOString(), '--json'])).stdout);
    assert.equal(older['record-count'], 3);

    const window = JSON.parse(
      (await mlog(['rejections', 'list', '--system', code, '--from', new Date(now - 4 * MINUTE).toISOString(), '--to', new Date(now - 2 * MINUTE).toISOString(), '--json'])).stdout,
    );
    assert.deepEqual(window.rejections.map((rejection: { request_id: string }) => rejection.request_id), [`${code}-1`]);

    const limited = await mlog(['rejections', 'list', '--system', code, '--limit', '1']);
    assert.equal(limited.code, 0, limited.stderr);
    assert.match(limited.stdout, /1 of 2 refused calls .*raise --limit/);
  });

  test('every listing is recorded in mlog_audit before it is printed: who listed, with which filters', async () => {
    const from = new Date(now - 31 * 60 * MINUTE).toISOString();
    const listed = await mlog(['rejections', 'list', '--system', code, '--status', '403', '--from', from, '--limit', '7', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const [record] = await auditRecords(REJECTIONS_LISTED_EVENT, { filter_system: code, page_size: '7' });
    assert.ok(record !== undefined, 'the listing is recorded');
    assert.equal(record.user, commandLineActor());
    assert.equal(record.filter_status, 403);
    // Text, as the console's readings record `page` ("next"): mlog_audit maps a field by the first value it sees.
    assert.equal(record.page, '0');
    assert.equal(record.page_size, '7');
    assert.equal(record.time_from, from);
    assert.equal(record.time_to, undefined);
    assert.match(String(record.event_message), new RegExp(`^cli by \\S+ on \\S+ listed refused calls of IS ${code} from ${from} to now$`));
    // What was listed is not in the record: no reason, no body.
    assert.doesNotMatch(JSON.stringify(record), /subject=x|the field is far too long/);
  });

  test('a listing that cannot be recorded (mlog_audit refuses writes) prints no refused call', async () => {
    const runs = await whileAuditRefusesWrites(async () => [await mlog(['rejections', 'list', '--system', code]), await mlog(['rejections', 'list', '--system', code, '--json'])]);
    for (const run of runs) {
      assert.equal(run.code, 1, run.stdout);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /The listing of refused calls cannot be recorded in the audit index \(mlog_audit\), so no refused call is read/);
    }
  });

  test('nothing found is said plainly', async () => {
    const unknown = uniqueCode('cli-none');
    const listed = await mlog(['rejections', 'list', '--system', unknown]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^No refused call of "${unknown}" from .* to now\\.`));
  });

  test('plain errors: a status that is not 4xx, a malformed time, a bad limit, Elasticsearch down', async () => {
    const status = await mlog(['rejections', 'list', '--status', '200']);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /status "200" must be an HTTP status from 400 to 499/);

    const time = await mlog(['rejections', 'list', '--from', 'yesterday']);
    assert.equal(time.code, 1);
    assert.match(time.stderr, /--from "yesterday" is not in the form/);

    const limit = await mlog(['rejections', 'list', '--limit', '0']);
    assert.equal(limit.code, 2);
    assert.match(limit.stderr, /--limit <n>.*must be from 1 to 10000/);

    const down = await mlog(['rejections', 'list'], { MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /Elasticsearch does not answer at http:\/\/127\.0\.0\.1:9/);
  });
});
