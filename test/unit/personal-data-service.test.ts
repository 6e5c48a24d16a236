/**
 * PersonalDataService with fakes: the permission is checked before the parameters are read and before
 * anything is searched or recorded; every answered or not-found query is recorded; answers carry only
 * the contract's fields.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ForbiddenError, NotFoundError, ValidationError } from '../../src/errors/mlog-error.js';
import type { JsonObject } from '../../src/json/json-object-parser.js';
import { PersonalDataService } from '../../src/events/personal-data-service.js';
import type { PersonalDataPage, PersonalDataSearch, PersonalDataStore } from '../../src/events/personal-data-store-type.js';
import type { LegalParameters } from '../../src/events/query-parameters.js';
import { createLogger } from '../../src/logging/logger.js';
import type { InformationSystem } from '../../src/systems/information-system.js';
import type { KnownSystem } from '../../src/systems/system-registry.js';

function caller(permissions: InformationSystem['permissions']): KnownSystem {
  const system: InformationSystem = {
    code: 'portal',
    name: 'Citizen portal',
    idno: '1003600000000',
    certificates: [],
    allowed_addresses: [],
    require_signature: false,
    permissions,
    event_types: [],
    retention_months: 60,
    status: 'active',
    created_at: '',
    updated_at: '',
  };
  return { system, isAllowedAddress: () => true, isSyslogAddress: () => false, syslogTimezone: 'UTC', certificatesBySerial: new Map() };
}

class FakeStore implements PersonalDataStore {
  searches: PersonalDataSearch[] = [];
  constructor(private readonly page: PersonalDataPage) {}
  async searchBySubject(search: PersonalDataSearch): Promise<PersonalDataPage> {
    this.searches.push(search);
    return this.page;
  }
}

class FakeQueries {
  recorded: { legal: LegalParameters; description: string }[] = [];
  async recordClientQuery(_caller: KnownSystem, legal: LegalParameters, description: string): Promise<void> {
    this.recorded.push({ legal, description });
  }
}

const names = {
  async findByCode(code: string) {
    return code === 'mpass' ? { system: { name: 'MPass' } } : undefined;
  },
};

function service(page: PersonalDataPage) {
  const store = new FakeStore(page);
  const queries = new FakeQueries();
  return { store, queries, service: new PersonalDataService(store, names, queries, createLogger('error', true)) };
}

const projection: JsonObject = {
  event_time: '2024-01-01T10:00:00Z',
  event_type: 'MPass.PersonalData.Access',
  legal_basis: 'Law',
  legal_reason: 'Check',
  user: '2000000000001',
  subject: '2000000000099',
  '@is': 'mpass',
  '@uid': 'u-1',
  '@id': 'u-1-00000',
  '@received': '2024-01-01T10:00:01Z',
  stray: 'never answered',
};

describe('PersonalDataService', () => {
  test('without personaldata:read: 403 before parameters are read, nothing searched or recorded', async () => {
    const { store, queries, service: personalData } = service({ total: 1, projections: [projection] });
    for (const raw of ['subject=x&legal_basis=b', '', 'subject=%ZZ', 'page_size=999999']) {
      await assert.rejects(personalData.query(caller([]), raw, new Date()), (error: unknown) => error instanceof ForbiddenError && /personaldata:read/.test(error.message));
    }
    assert.equal(store.searches.length, 0);
    assert.equal(queries.recorded.length, 0);
  });

  test('with the permission, bad parameters are 400 and nothing is searched or recorded', async () => {
    const { store, queries, service: personalData } = service({ total: 0, projections: [] });
    await assert.rejects(personalData.query(caller(['personaldata:read']), 'legal_basis=b', new Date()), ValidationError);
    assert.equal(store.searches.length, 0);
    assert.equal(queries.recorded.length, 0);
  });

  test('an answer: the search asked for, the query recorded, items with is_name and nothing else', async () => {
    const { store, queries, service: personalData } = service({ total: 7, projections: [projection, { ...projection, '@is': 'gone' }] });
    const answer = await personalData.query(caller(['personaldata:read']), 'subject=2000000000099&legal_basis=Law&event_time_to=2025-01-01&page=1&page_size=2&user=u', new Date());
    assert.deepEqual(store.searches, [{ subject: '2000000000099', toMillis: Date.UTC(2025, 0, 1), from: 2, size: 2 }]);
    assert.deepEqual(queries.recorded, [
      { legal: { legal_basis: 'Law', user: 'u' }, description: 'from=;to=2025-01-01;basis=Law;reason=;filter=subject=2000000000099;page=1;page_size=2' },
    ]);
    assert.deepEqual(answer.pagination, { 'record-count': 7, page: 1, 'page-size': 2 });
    const [first, second] = answer.result;
    assert.deepEqual(first, {
      event_time: '2024-01-01T10:00:00Z',
      event_type: 'MPass.PersonalData.Access',
      legal_basis: 'Law',
      legal_reason: 'Check',
      user: '2000000000001',
      subject: '2000000000099',
      '@is': 'mpass',
      is_name: 'MPass',
      '@uid': 'u-1',
    });
    assert.equal(second?.is_name, undefined, 'an IS no longer registered has no name');
  });

  test('nothing found: recorded, then 404; a page past the end says so', async () => {
    const empty = service({ total: 0, projections: [] });
    await assert.rejects(empty.service.query(caller(['personaldata:read']), 'subject=s&legal_basis=b', new Date()), (error: unknown) => error instanceof NotFoundError && /no data was found/i.test(error.message));
    assert.equal(empty.queries.recorded.length, 1);
    const pastEnd = service({ total: 3, projections: [] });
    await assert.rejects(pastEnd.service.query(caller(['personaldata:read']), 'subject=s&legal_basis=b&page=9&page_size=1', new Date()), /No data was found on page 9: 3 projections match/);
    assert.equal(pastEnd.queries.recorded.length, 1);
  });
});
