import type { Client } from '@elastic/elasticsearch';
import type { FailureState } from '../admins/lockout.js';
import type { LockoutStore, LockoutVersion } from '../admins/lockout-store-type.js';
import { StorageUnavailableError } from '../errors/mlog-error.js';
import { statusOf } from './elasticsearch-errors.js';
import { LOCKOUTS_INDEX } from './index-names.js';

function storageFailure(error: unknown): Error {
  return new StorageUnavailableError('Elasticsearch is unavailable; sign-in failures cannot be counted now, so signing in is refused.', { cause: error });
}

/** Failed sign-ins in LOCKOUTS_INDEX, one document per key; writes are conditional (create, if_seq_no/if_primary_term). */
export class ElasticsearchLockoutStore implements LockoutStore {
  constructor(private readonly client: Client) {}

  async read(key: string): Promise<{ state: FailureState; version: LockoutVersion } | undefined> {
    try {
      const response = await this.client.get<FailureState>({ index: LOCKOUTS_INDEX, id: key }, { ignore: [404] });
      if (!response.found || response._source === undefined) return undefined;
      return { state: response._source, version: { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 } };
    } catch (error) {
      throw storageFailure(error);
    }
  }

  async create(key: string, state: FailureState): Promise<boolean> {
    try {
      await this.client.create({ index: LOCKOUTS_INDEX, id: key, document: state });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw storageFailure(error);
    }
  }

  async replace(key: string, state: FailureState, version: LockoutVersion): Promise<boolean> {
    try {
      await this.client.index({ index: LOCKOUTS_INDEX, id: key, document: state, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm });
      return true;
    } catch (error) {
      if (statusOf(error) === 409 || statusOf(error) === 404) return false;
      throw storageFailure(error);
    }
  }

  async remove(key: string): Promise<void> {
    try {
      await this.client.delete({ index: LOCKOUTS_INDEX, id: key }, { ignore: [404] });
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw storageFailure(error);
    }
  }
}
