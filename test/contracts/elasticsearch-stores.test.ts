/**
 * MLog's Elasticsearch stores keep the promises of their interfaces on the real Elasticsearch
 * (MLOG_TEST_ELASTICSEARCH_URL), in the indices MLog uses, with the templates MLog installs; the
 * in-memory stores run the same contracts (test/contracts/memory-stores.test.ts).
 */
import { after, before } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { createLogger } from '../../src/logging/logger.js';
import { ElasticsearchDashboardStore } from '../../src/storage/elasticsearch-dashboard-store.js';
import { ElasticsearchIdempotencyStore } from '../../src/storage/elasticsearch-idempotency-store.js';
import { ElasticsearchLeaseStore } from '../../src/storage/elasticsearch-lease-store.js';
import { installIndexTemplates } from '../../src/storage/template-installer.js';
import { elasticsearchUrl } from '../helpers/test-mlog.js';
import { idempotencyStoreContract, leaseStoreContract } from './conditional-store-contract.js';
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
