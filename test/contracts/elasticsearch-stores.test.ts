/**
 * MLog's Elasticsearch stores keep the promises of their interfaces on the real Elasticsearch
 * (MLOG_TEST_ELASTICSEARCH_URL), in the indices MLog uses, with the templates MLog installs; the
 * in-memory stores run the same contracts (test/contracts/memory-stores.test.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { createLogger } from '../../src/logging/logger.js';
import { ElasticsearchDashboardStore } from '../../src/storage/elasticsearch-dashboard-store.js';
import { ElasticsearchIdempotencyStore } from '../../src/storage/elasticsearch-idempotency-store.js';
import type { LogLease } from '../../src/evidence/log-lease-store-type.js';
import type { LeaseRecord } from '../../src/jobs/lease-store-type.js';
import { ElasticsearchLeaseStore } from '../../src/storage/elasticsearch-lease-store.js';
import { ElasticsearchLogLeaseStore } from '../../src/storage/elasticsearch-log-lease-store.js';
import { LEASES_INDEX } from '../../src/storage/index-names.js';
import { installIndexTemplates } from '../../src/storage/template-installer.js';
import { elasticsearchUrl } from '../helpers/test-mlog.js';
import { conditionalLeaseStoreContract, idempotencyStoreContract, leaseStoreContract } from './conditional-store-contract.js';
import { dashboardStoreContract } from './dashboard-store-contract.js';

let client: Client;

before(async () => {
  client = new Client({ node: elasticsearchUrl(), requestTimeout: 30_000, maxRetries: 0 });
  await installIndexTemplates(client, createLogger('error', true));
});

after(async () => {
  await client?.close();
});

// A purge batch of 3, so that removeClaimedBefore needs more than one search and bulk.
idempotencyStoreContract('ElasticsearchIdempotencyStore', () => new ElasticsearchIdempotencyStore(client, 3));
leaseStoreContract('ElasticsearchLeaseStore', () => new ElasticsearchLeaseStore(client));
dashboardStoreContract('ElasticsearchDashboardStore', () => new ElasticsearchDashboardStore(client));

function logLease(log: string, n: number): LogLease {
  const acquired = new Date(Date.UTC(2026, 0, 1, 0, n));
  return {
    log,
    state: n % 2 === 0 ? 'sealing' : 'live',
    holder: `log-of-host-${n}`,
    run_by: `MLog on host-${n}, pid ${n}`,
    kid: `kid-${n}`,
    acquired_at: acquired.toISOString(),
    expires_at: new Date(acquired.getTime() + 60_000).toISOString(),
  };
}

/** Removes this file's evidence-log leases: lapsed ones would otherwise be listed to the sealers of other tests on the cluster. */
async function removeContractLogLeases(): Promise<void> {
  await client.indices.refresh({ index: LEASES_INDEX });
  const found = await client.search({ index: LEASES_INDEX, size: 10_000, _source: false, query: { prefix: { name: 'evidence-log:contract-' } } });
  const ids = found.hits.hits.map((hit) => hit._id as string);
  if (ids.length > 0) await client.bulk({ refresh: true, operations: ids.map((id) => ({ delete: { _index: LEASES_INDEX, _id: id } })) });
}

describe('ElasticsearchLogLeaseStore keeps the promises of a lease store', () => {
  after(removeContractLogLeases);
  conditionalLeaseStoreContract(() => new ElasticsearchLogLeaseStore(client), logLease);
});

describe('both lease stores keep their documents in mlog_leases as they always have', () => {
  after(removeContractLogLeases);
  test('a job lease: id <name>, the record itself; an evidence log lease: id evidence-log:<log>, with name beside the lease', async () => {
    const name = `contract-${randomUUID()}`;
    const record: LeaseRecord = { name, holder: 'h/1/x', run_by: 'scheduler on h', acquired_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T00:01:00.000Z' };
    assert.ok((await new ElasticsearchLeaseStore(client).create(record)) !== undefined);
    assert.deepEqual((await client.get({ index: LEASES_INDEX, id: name }))._source, record);

    const log = `contract-${randomUUID()}`;
    const lease = logLease(log, 1);
    assert.ok((await new ElasticsearchLogLeaseStore(client).create(lease)) !== undefined);
    assert.deepEqual((await client.get({ index: LEASES_INDEX, id: `evidence-log:${log}` }))._source, { name: `evidence-log:${log}`, ...lease });
  });

  test('a log lease written before leases had a kid reads with kid "", and is found lapsed', async () => {
    const log = `contract-${randomUUID()}`;
    const { kid: _kid, ...older } = logLease(log, 1);
    await client.index({ index: LEASES_INDEX, id: `evidence-log:${log}`, document: { name: `evidence-log:${log}`, ...older }, refresh: true });
    const store = new ElasticsearchLogLeaseStore(client);
    const read = await store.read(log);
    assert.deepEqual(read?.lease, { ...older, kid: '' });
    const lapsed = await store.lapsed(new Date('2026-01-01T00:05:00Z'), 10_000, '');
    const found = lapsed.find((each) => each.lease.log === log);
    assert.deepEqual(found, read);
    assert.equal(await store.remove(log, read!.version), true);
  });

  test('lapsed leases of this key are found behind any number of lapsed leases of another key', async () => {
    const store = new ElasticsearchLogLeaseStore(client);
    const foreign = Array.from({ length: 450 }, (_, i) => ({ ...logLease(`contract-${randomUUID()}`, 1), kid: 'other-deployment', expires_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() }));
    await client.bulk({ refresh: true, operations: foreign.flatMap((lease) => [{ index: { _index: LEASES_INDEX, _id: `evidence-log:${lease.log}` } }, { name: `evidence-log:${lease.log}`, ...lease }]) });
    const log = `contract-${randomUUID()}`;
    const ours = { ...logLease(log, 1), kid: 'this-deployment', expires_at: '2025-06-01T00:00:00.000Z' };
    assert.ok((await store.create(ours)) !== undefined);
    const found = await store.lapsed(new Date('2026-01-01T00:00:00Z'), 5, 'this-deployment');
    assert.deepEqual(found.map((each) => each.lease), [ours]);
  });
});
