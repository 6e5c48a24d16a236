import type { Client } from '@elastic/elasticsearch';
import type { AccountStore, AccountVersion, AdminAccountRecord } from '../admins/account-store-type.js';
import { ConflictError, StorageUnavailableError } from '../errors/mlog-error.js';
import { statusOf } from './elasticsearch-errors.js';
import { ADMINS_INDEX } from './index-names.js';

function storageFailure(error: unknown): Error {
  const status = statusOf(error);
  if (status === undefined || status >= 500) {
    return new StorageUnavailableError('Elasticsearch is unavailable; the administrator accounts cannot be read or changed now.', { cause: error });
  }
  return error as Error;
}

/** Administrator accounts in ADMINS_INDEX, one document per username; changes are conditional on the version read. */
export class ElasticsearchAccountStore implements AccountStore {
  constructor(private readonly client: Client) {}

  async create(account: AdminAccountRecord): Promise<void> {
    try {
      await this.client.create({ index: ADMINS_INDEX, id: account.username, document: account, refresh: true });
    } catch (error) {
      if (statusOf(error) === 409) throw new ConflictError(`An administrator "${account.username}" already exists.`);
      throw storageFailure(error);
    }
  }

  async get(username: string): Promise<{ account: AdminAccountRecord; version: AccountVersion } | undefined> {
    try {
      const response = await this.client.get<AdminAccountRecord>({ index: ADMINS_INDEX, id: username }, { ignore: [404] });
      if (!response.found || response._source === undefined) return undefined;
      return { account: response._source, version: { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 } };
    } catch (error) {
      throw storageFailure(error);
    }
  }

  async replace(account: AdminAccountRecord, version: AccountVersion): Promise<void> {
    try {
      await this.client.index({ index: ADMINS_INDEX, id: account.username, document: account, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm, refresh: true });
    } catch (error) {
      if (statusOf(error) === 409) throw new ConflictError(`Administrator "${account.username}" was changed by someone else meanwhile; read it again and retry.`);
      throw storageFailure(error);
    }
  }

  async list(): Promise<AdminAccountRecord[]> {
    try {
      const response = await this.client.search<AdminAccountRecord>({
        index: ADMINS_INDEX,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 10_000,
        sort: [{ username: 'asc' }],
        query: { match_all: {} },
      });
      return response.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [hit._source]));
    } catch (error) {
      throw storageFailure(error);
    }
  }
}
