import type { Client } from '@elastic/elasticsearch';
import type { ConditionalLeaseStore, StoredLease } from '../jobs/lease-store-type.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { LEASES_INDEX } from './index-names.js';

/** How one kind of lease is kept in LEASES_INDEX: its document id, the document stored, and the lease read back. */
export interface LeaseDocumentFormat<Lease, Document> {
  /** The document id of the lease named `key`. */
  idOf(key: string): string;
  keyOf(lease: Lease): string;
  documentOf(lease: Lease): Document;
  leaseOf(document: Document): Lease;
  /** The message of the StorageUnavailableError thrown when Elasticsearch fails. */
  unavailable: string;
}

/** The version of a document as Elasticsearch answers it (_seq_no, _primary_term). */
export function versionOf(response: { _seq_no?: number; _primary_term?: number }): RecordVersion {
  return { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 };
}

/**
 * Leases in LEASES_INDEX, one document per lease; the conditional writes rely on Elasticsearch's
 * create (409 when the id exists) and on if_seq_no/if_primary_term (409 when it changed since read).
 */
export class ElasticsearchConditionalLeaseStore<Lease, Document = Lease> implements ConditionalLeaseStore<Lease> {
  constructor(
    protected readonly client: Client,
    protected readonly format: LeaseDocumentFormat<Lease, Document>,
  ) {}

  async read(key: string): Promise<StoredLease<Lease> | undefined> {
    try {
      const response = await this.client.get<Document>({ index: LEASES_INDEX, id: this.format.idOf(key) }, { ignore: [404] });
      if (!response.found || response._source === undefined) return undefined;
      return { lease: this.format.leaseOf(response._source), version: versionOf(response) };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageFailure(error, this.format.unavailable);
    }
  }

  async create(lease: Lease): Promise<RecordVersion | undefined> {
    try {
      return versionOf(await this.client.create({ index: LEASES_INDEX, id: this.format.idOf(this.format.keyOf(lease)), document: this.format.documentOf(lease), refresh: true }));
    } catch (error) {
      if (statusOf(error) === 409) return undefined;
      throw storageFailure(error, this.format.unavailable);
    }
  }

  async replace(lease: Lease, version: RecordVersion): Promise<RecordVersion | undefined> {
    try {
      return versionOf(
        await this.client.index({
          index: LEASES_INDEX,
          id: this.format.idOf(this.format.keyOf(lease)),
          document: this.format.documentOf(lease),
          if_seq_no: version.seqNo,
          if_primary_term: version.primaryTerm,
          refresh: true,
        }),
      );
    } catch (error) {
      // 409: renewed or taken over meanwhile; 404: the lease document (or the index) vanished meanwhile.
      if (statusOf(error) === 409 || statusOf(error) === 404) return undefined;
      throw storageFailure(error, this.format.unavailable);
    }
  }

  async remove(key: string, version: RecordVersion): Promise<boolean> {
    try {
      const response = await this.client.delete(
        { index: LEASES_INDEX, id: this.format.idOf(key), if_seq_no: version.seqNo, if_primary_term: version.primaryTerm, refresh: true },
        { ignore: [404] },
      );
      return response.result === 'deleted';
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw storageFailure(error, this.format.unavailable);
    }
  }
}
