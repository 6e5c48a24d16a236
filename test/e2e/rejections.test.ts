import type { StoredRejection } from '../../src/rejections/rejection-search.js';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import winston from 'winston';
import { Metrics } from '../../src/metrics/metrics.js';
import { REJECTION_FIELD_BYTES, REJECTION_REASON_BYTES, RejectionRecorder, type Rejection } from '../../src/rejections/rejection-recorder.js';
import { ElasticsearchRejectionStore } from '../../src/storage/elasticsearch-rejection-store.js';
import { rejectionsIndexName } from '../../src/storage/index-names.js';
import { elasticsearchUrl, event, TestMLog, uniqueCode } from '../helpers/test-mlog.js';


describe('every refused call is recorded in the rejections index', () => {
  let mlog: TestMLog;
  const client = new Client({ node: elasticsearchUrl() });
  before(async () => {
    mlog = await TestMLog.start();
  });
  after(async () => {
    await mlog.stop();
    await client.close();
  });

  async function findRejection(requestId: string): Promise<StoredRejection> {
    for (let attempt = 0; attempt < 40; attempt++) {
      await client.indices.refresh({ index: 'mlog_rejections-*', ignore_unavailable: true, allow_no_indices: true });
      const found = await client.search<StoredRejection>({
        index: 'mlog_rejections-*',
        ignore_unavailable: true,
        allow_no_indices: true,
        query: { term: { request_id: requestId } },
      });
      const hit = found.hits.hits[0]?._source;
      if (hit !== undefined) return hit;
      await sleep(250);
    }
    throw new Error(`no rejection recorded for request ${requestId}`);
  }

  test('a validation refusal: status, reason, IS, address and the first 4 KB of the body', async () => {
    const system = await mlog.addSystem();
    const body = JSON.stringify({ event_type: 'X', padding: 'p'.repeat(10_000) });
    const answer = await system.register(body);
    assert.equal(answer.status, 400);
    const stored = await findRejection(String(answer.headers['x-request-id']));
    assert.equal(stored.status, 400);
    assert.equal(stored.reason, answer.json.message);
    assert.equal(stored.is, system.code);
    assert.equal(stored.source_address.replace('::ffff:', ''), '127.0.0.1');
    assert.equal(stored.path, '/register');
    assert.equal(stored.body_bytes, Buffer.byteLength(body));
    assert.equal(stored.body_excerpt, body.slice(0, 4096));
  });

  test('an unknown certificate: 401 recorded with the certificate fingerprint and no IS', async () => {
    const stranger = await mlog.issueCertificate(uniqueCode('stranger'));
    const answer = await mlog.callPublic('/register', { method: 'POST', body: JSON.stringify(event()), certificate: stranger });
    assert.equal(answer.status, 401);
    const stored = await findRejection(String(answer.headers['x-request-id']));
    assert.equal(stored.status, 401);
    assert.equal(stored.is, undefined);
    assert.equal(stored.certificate_fingerprint, stranger.fingerprint256);
  });

  test('a refused query: 400 recorded with its query string', async () => {
    const system = await mlog.addSystem();
    const answer = await system.call('/query?event_time_from=2024-01-01&event_time_to=2024-02-01');
    assert.equal(answer.status, 400);
    const stored = await findRejection(String(answer.headers['x-request-id']));
    assert.match(stored.reason, /legal_basis is missing/);
    assert.equal(stored.path, '/query');
    assert.equal(stored.body_excerpt, 'event_time_from=2024-01-01&event_time_to=2024-02-01');
  });

  test('a path of 33,000 characters without a certificate, with an unknown certificate, and on a 404: each recorded, cut to 1,024 bytes', async () => {
    const long = (letter: string) => `/query/${letter.repeat(33_000)}`;
    const stranger = await mlog.issueCertificate(uniqueCode('stranger'));
    const system = await mlog.addSystem();
    const calls = [
      { answer: await mlog.callPublic(long('a'), { certificate: null }), status: 401, path: long('a') },
      { answer: await mlog.callPublic(long('b'), { certificate: stranger }), status: 401, path: long('b') },
      { answer: await system.call(`/nowhere/${'c'.repeat(33_000)}`), status: 404, path: `/nowhere/${'c'.repeat(33_000)}` },
    ];
    for (const { answer, status, path } of calls) {
      assert.equal(answer.status, status, answer.text.slice(0, 200));
      const stored = await findRejection(String(answer.headers['x-request-id']));
      assert.equal(stored.status, status);
      assert.equal(stored.reduced, undefined, 'recorded whole, not reduced');
      assert.equal(stored.path?.length, REJECTION_FIELD_BYTES, 'the path is cut to 1,024 bytes');
      assert.ok(path.startsWith(stored.path), 'the path is cut at its end');
      assert.ok(Buffer.byteLength(stored.reason) <= REJECTION_REASON_BYTES, 'the reason is cut to 4,096 bytes');
    }
  });
});

describe('a rejection Elasticsearch refuses whole is stored in reduced form, and one it refuses even then is counted', () => {
  const client = new Client({ node: elasticsearchUrl() });
  // Months no test writes otherwise; each index is made with a field of another type than MLog writes.
  const pathRefused = new Date(Date.UTC(2001, 0, 15));
  const idRefused = new Date(Date.UTC(2001, 1, 15));
  after(async () => {
    for (const at of [pathRefused, idRefused]) await client.indices.delete({ index: rejectionsIndexName(at) }, { ignore: [404] });
    await client.close();
  });

  function rejection(at: Date, requestId: string): Rejection {
    return { at, status: 404, reason: 'There is no GET /x in the MLog API.', sourceAddress: '127.0.0.1', method: 'GET', path: '/x', requestId, system: 'demo', body: 'q=1' };
  }

  test('path mapped as a number: reduced; request_id mapped as a number: lost, logged without content, counted', async () => {
    for (const at of [pathRefused, idRefused]) await client.indices.delete({ index: rejectionsIndexName(at) }, { ignore: [404] });
    await client.indices.create({ index: rejectionsIndexName(pathRefused), mappings: { properties: { path: { type: 'long' } } } });
    await client.indices.create({ index: rejectionsIndexName(idRefused), mappings: { properties: { request_id: { type: 'long' } } } });
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] });
    const metrics = new Metrics();
    const recorder = new RejectionRecorder(new ElasticsearchRejectionStore(client), logger, {}, metrics.rejectionCounters());
    const reducedId = `reduced-${uniqueCode('r')}`;
    recorder.record(rejection(pathRefused, reducedId));
    recorder.record(rejection(idRefused, `lost-${uniqueCode('r')}`));
    await recorder.flush();

    await client.indices.refresh({ index: rejectionsIndexName(pathRefused) });
    const found = await client.search<StoredRejection>({ index: rejectionsIndexName(pathRefused), query: { term: { request_id: reducedId } } });
    const stored = found.hits.hits[0]?._source;
    assert.ok(stored !== undefined, 'the reduced record is stored');
    assert.equal(stored.reduced, true);
    assert.equal(stored.status, 404);
    assert.equal(stored.is, 'demo');
    assert.equal(stored.path, undefined, 'only the fields MLog made itself');
    assert.equal(stored.body_excerpt, undefined);

    assert.equal((await metrics.rejectionsReduced.get()).values[0]?.value, 1);
    assert.deepEqual(
      (await metrics.rejectionsLost.get()).values.map(({ labels, value }) => [labels.cause, value]),
      [['refused', 1]],
    );
    const log = lines.join('');
    assert.match(log, /rejections recorded in reduced form/);
    assert.match(log, /rejections could not be recorded: Elasticsearch refused them even in reduced form/);
    assert.doesNotMatch(log, /q=1|\/x/, 'the log holds nothing of the call');
  });
});
