import type { Client } from '@elastic/elasticsearch';
import type { LeaseRecord, LeaseStore, StoredLease } from '../jobs/lease-store-type.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { LEASES_INDEX } from './index-names.js';

const LEASES_UNAVAILABLE = 'the lease cannot be read, taken or released now';

function versionOf(response: { _seq_no?: number; _primary_term?: number }): RecordVersion {
  return { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 };
}

/** Leases in LEASES_INDEX, one document per lease name; conditional writes rely on Elasticsearch's create and if_seq_no/if_primary_term. */
export class ElasticsearchLeaseStore implements LeaseStore {
  constructor(private readonly client: Client) {}

  async read(name: string): Promise<StoredLease | undefined> {
    let response;
    try {
      response = await this.client.get<LeaseRecord>({ index: LEASES_INDEX, id: name }, { ignore: [404] });
    } catch (error) {
      throw storageFailure(error, LEASES_UNAVAILABLE);
    }
    if (!response.found || response._source === undefined) return undefined;
    return { lease: response._source, version: versionOf(response) };
  }

  async create(lease: LeaseRecord): Promise<RecordVersion | undefined> {
    try {
      return versionOf(await this.client.create({ index: LEASES_INDEX, id: lease.name, document: lease, refresh: true }));
    } catch (error) {
      if (statusOf(error) === 409) return undefined;
      throw storageFailure(error, LEASES_UNAVAILABLE);
    }
  }

  async replace(lease: LeaseRecord, version: RecordVersion): Promise<RecordVersion | undefined> {
    try {
      return versionOf(
        await this.client.index({
          index: LEASES_INDEX,
          id: lease.name,
          document: lease,
          if_seq_no: version.seqNo,
          if_primary_term: version.primaryTerm,
          refresh: true,
        }),
      );
    } catch (error) {
      // 409: changed meanwhile; 404: the lease document (or the index) vanished meanwhile.
      if (statusOf(error) === 409 || statusOf(error) === 404) return undefined;
      throw storageFailure(error, LEASES_UNAVAILABLE);
    }
  }

  async remove(name: string, version: RecordVersion): Promise<boolean> {
    try {
      const response = await this.client.delete(
        { index: LEASES_INDEX, id: name, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm, refresh: true },
        { ignore: [404] },
      );
      return response.result === 'deleted';
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw storageFailure(error, LEASES_UNAVAILABLE);
    }
  }
}
