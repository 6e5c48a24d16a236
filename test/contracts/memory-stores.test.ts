/**
 * The in-memory stores the unit tests use in place of Elasticsearch keep the same promises as the
 * Elasticsearch stores (test/contracts/elasticsearch-stores.test.ts runs the same contracts there).
 */
import { idempotencyStoreContract, leaseStoreContract } from './conditional-store-contract.js';
import { dashboardStoreContract } from './dashboard-store-contract.js';
import { MemoryDashboardStore } from '../helpers/memory-dashboard-store.js';
import { MemoryIdempotencyStore } from '../helpers/memory-idempotency-store.js';
import { MemoryLeaseStore } from '../helpers/memory-lease-store.js';

idempotencyStoreContract('MemoryIdempotencyStore', () => new MemoryIdempotencyStore());
leaseStoreContract('MemoryLeaseStore', () => new MemoryLeaseStore());
dashboardStoreContract('MemoryDashboardStore', () => new MemoryDashboardStore());
