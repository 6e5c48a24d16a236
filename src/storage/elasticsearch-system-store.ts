import type { Client } from '@elastic/elasticsearch';
import { ConflictError } from '../errors/mlog-error.js';
import type { InformationSystem } from '../systems/information-system.js';
import type { RecordVersion, SystemStore } from '../systems/system-store-type.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { SYSTEMS_INDEX } from './index-names.js';

const REGISTRY_UNAVAILABLE = 'the registry of information systems cannot be read or changed now';

export class ElasticsearchSystemStore implements SystemStore {
  constructor(private readonly client: Client) {}

  async create(system: InformationSystem): Promise<void> {
    try {
      await this.client.create({ index: SYSTEMS_INDEX, id: system.code, document: system, refresh: true });
    } catch (error) {
      if (statusOf(error) === 409) throw new ConflictError(`An information system with code "${system.code}" is already registered.`);
      throw storageFailure(error, REGISTRY_UNAVAILABLE);
    }
  }

  async get(code: string): Promise<{ system: InformationSystem; version: RecordVersion } | undefined> {
    try {
      const response = await this.client.get<InformationSystem>({ index: SYSTEMS_INDEX, id: code }, { ignore: [404] });
      if (!response.found || response._source === undefined) return undefined;
      return { system: response._source, version: { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 } };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageFailure(error, REGISTRY_UNAVAILABLE);
    }
  }

  async replace(system: InformationSystem, version: RecordVersion): Promise<void> {
    try {
      await this.client.index({
        index: SYSTEMS_INDEX,
        id: system.code,
        document: system,
        if_seq_no: version.seqNo,
        if_primary_term: version.primaryTerm,
        refresh: true,
      });
    } catch (error) {
      if (statusOf(error) === 409) throw new ConflictError(`Information system "${system.code}" was changed by someone else meanwhile; read it again and retry.`);
      throw storageFailure(error, REGISTRY_UNAVAILABLE);
    }
  }

  async remove(code: string): Promise<boolean> {
    try {
      const response = await this.client.delete({ index: SYSTEMS_INDEX, id: code, refresh: true }, { ignore: [404] });
      return response.result === 'deleted';
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw storageFailure(error, REGISTRY_UNAVAILABLE);
    }
  }

  async list(): Promise<InformationSystem[]> {
    try {
      const response = await this.client.search<InformationSystem>({
        index: SYSTEMS_INDEX,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 10_000,
        sort: [{ code: 'asc' }],
        query: { match_all: {} },
      });
      return response.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [hit._source]));
    } catch (error) {
      throw storageFailure(error, REGISTRY_UNAVAILABLE);
    }
  }
}
