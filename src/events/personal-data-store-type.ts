import type { JsonObject } from '../json/json-object-parser.js';

/** A search of the shared PersonalData projections (personaldata-*), across every IS. */
export interface PersonalDataSearch {
  /** Exact match on the projection's subject. */
  subject: string;
  /** event_time from (inclusive) and to (exclusive), epoch milliseconds; either may be absent. */
  fromMillis?: number;
  toMillis?: number;
  from: number;
  size: number;
}

export interface PersonalDataPage {
  total: number;
  /** Newest event_time first, ties by @id, so pages never overlap or skip. */
  projections: JsonObject[];
}

/**
 * Where the PersonalData projections are read. Promises of every implementation: it sees every
 * projection whose registration was acknowledged (read-your-writes); `total` is exact; a projection
 * carries only the contract's fields plus @is and @uid (nothing else is returned from storage).
 */
export interface PersonalDataStore {
  searchBySubject(search: PersonalDataSearch): Promise<PersonalDataPage>;
}
