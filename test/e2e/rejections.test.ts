import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchUrl, event, TestMLog, uniqueCode } from '../helpers/test-mlog.js';

interface StoredRejection {
  status: number;
  reason: string;
  is?: string;
  certificate_fingerprint?: string;
  source_address: string;
  path: string;
  body_excerpt?: string;
  body_bytes: number;
}

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
});
