import type { Client } from '@elastic/elasticsearch';
import type { LeaseRecord, LeaseStore } from '../jobs/lease-store-type.js';
import { ElasticsearchConditionalLeaseStore } from './elasticsearch-conditional-lease-store.js';

/** The leases of shared jobs in LEASES_INDEX: one document per lease, its id the lease's name, stored as the record itself. */
export class ElasticsearchLeaseStore extends ElasticsearchConditionalLeaseStore<LeaseRecord> implements LeaseStore {
  constructor(client: Client) {
    super(client, {
      idOf: (name) => name,
      keyOf: (lease) => lease.name,
      documentOf: (lease) => lease,
      leaseOf: (document) => document,
      unavailable: 'the lease cannot be read, taken or released now',
    });
  }
}
