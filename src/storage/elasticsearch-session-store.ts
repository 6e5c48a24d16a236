import type { Client } from '@elastic/elasticsearch';
import type { SessionRecord, SessionStore } from '../admins/session-store-type.js';
import { StorageUnavailableError } from '../errors/mlog-error.js';
import { statusOf } from './elasticsearch-errors.js';
import { SESSIONS_INDEX } from './index-names.js';

function storageFailure(error: unknown): Error {
  return new StorageUnavailableError('Elasticsearch is unavailable; console sessions cannot be read or changed now.', { cause: error });
}

/** Console sessions in SESSIONS_INDEX, each under the SHA-256 of its cookie secret; read by id (real-time), so no refresh is waited for. */
export class ElasticsearchSessionStore implements SessionStore {
  constructor(private readonly client: Client) {}

  async create(secretHash: string, session: SessionRecord): Promise<void> {
    try {
      await this.client.create({ index: SESSIONS_INDEX, id: secretHash, document: session });
    } catch (error) {
      throw storageFailure(error);
    }
  }

  async get(secretHash: string): Promise<SessionRecord | undefined> {
    try {
      const response = await this.client.get<SessionRecord>({ index: SESSIONS_INDEX, id: secretHash }, { ignore: [404] });
      return response.found ? response._source : undefined;
    } catch (error) {
      throw storageFailure(error);
    }
  }

  async replace(secretHash: string, session: SessionRecord): Promise<void> {
    try {
      await this.client.index({ index: SESSIONS_INDEX, id: secretHash, document: session });
    } catch (error) {
      throw storageFailure(error);
    }
  }

  async remove(secretHash: string): Promise<void> {
    try {
      await this.client.delete({ index: SESSIONS_INDEX, id: secretHash }, { ignore: [404] });
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw storageFailure(error);
    }
  }
}
