import type { InformationSystem } from './information-system.js';

/** The version of a stored record, for updates that must not overwrite a concurrent change. */
export interface RecordVersion {
  seqNo: number;
  primaryTerm: number;
}

/** Where the IS registry lives; shared by every MLog instance. Writes are visible to list() at once. */
export interface SystemStore {
  /** Throws ConflictError when the code is taken. */
  create(system: InformationSystem): Promise<void>;
  get(code: string): Promise<{ system: InformationSystem; version: RecordVersion } | undefined>;
  /** Throws ConflictError when the record changed since `version` was read. */
  replace(system: InformationSystem, version: RecordVersion): Promise<void>;
  /** False when there was no such system. */
  remove(code: string): Promise<boolean>;
  list(): Promise<InformationSystem[]>;
}
