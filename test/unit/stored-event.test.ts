import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildRegistrationDocuments,
  personalDataProjection,
  storedEventId,
  type AcceptedEvent,
  type EventSignature,
  type RegistrationContext,
} from '../../src/events/stored-event.js';
import { indexNameOf } from '../../src/storage/index-names.js';
import { PERSONAL_DATA_CONTRACT_FIELDS as PERSONAL_DATA_FIELDS } from '../helpers/personal-data-contract.js';


const UID = '3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b';
// 23:30 on 31 January at UTC-2 is 01:30 on 1 February in UTC.
const context: RegistrationContext = { uid: UID, isCode: 'mpass', receivedAt: new Date('2024-01-31T23:30:00-02:00') };
const RECEIVED = '2024-02-01T01:30:00.000Z';

function accepted(event: Record<string, unknown>, line: number, signature?: EventSignature): AcceptedEvent {
  const value: AcceptedEvent = { event, origin: `Line ${line}`, line };
  if (signature !== undefined) value.signature = signature;
  return value;
}

function plain(type: string, line: number, extra: Record<string, unknown> = {}): AcceptedEvent {
  return accepted({ event_time: '2023-12-15T10:00:00Z', event_type: type, ...extra }, line);
}

const fullPersonalDataEvent: Record<string, unknown> = {
  event_time: '2024-01-31T10:00:00+02:00',
  event_type: 'MPass.PersonalDataAccess',
  event_id: 'e-1',
  event_correlation: 'corr-1',
  event_level: 'info',
  event_source: 'web',
  event_message: 'viewed the record',
  event_details: { secret: 'not for the shared index' },
  legal_entity: '1003600000000',
  legal_basis: 'Law 133/2011',
  legal_reason: 'request 42',
  user: 'ion.popescu',
  user_session: 'session-1',
  user_address: '10.0.0.1',
  subject: '2001001234567',
  subject_type: 'person',
  subject_name: 'Maria',
  object: 'record-9',
  object_type: 'record',
  object_name: 'Record nine',
  custom: { nested: 'value' },
};

describe('storedEventId', () => {
  test('uid and zero-padded position', () => {
    assert.equal(storedEventId(UID, 0), `${UID}-00000`);
    assert.equal(storedEventId(UID, 42), `${UID}-00042`);
  });

  test('ids sort in registration order (as strings, as Elasticsearch sorts keywords)', () => {
    const ids = Array.from({ length: 1200 }, (_, position) => storedEventId(UID, position));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('personalDataProjection', () => {
  const stored = { '@is': 'mpass', '@uid': UID, '@id': `${UID}-00000`, '@received': RECEIVED };

  test('carries only the listed fields plus @is, @uid, @id, @received', () => {
    const projection = personalDataProjection(fullPersonalDataEvent, stored);
    assert.deepEqual(Object.keys(projection).sort(), [...PERSONAL_DATA_FIELDS, '@is', '@uid', '@id', '@received'].sort());
    for (const field of PERSONAL_DATA_FIELDS) assert.deepEqual(projection[field], fullPersonalDataEvent[field], field);
    for (const field of ['event_details', 'event_message', 'user_session', 'object_name', 'event_id', 'event_level', 'event_source', 'custom']) {
      assert.ok(!(field in projection), field);
    }
    assert.equal(projection['@is'], 'mpass');
    assert.equal(projection['@uid'], UID);
    assert.equal(projection['@id'], `${UID}-00000`);
    assert.equal(projection['@received'], RECEIVED);
  });

  test('absent fields stay absent; arrays are kept', () => {
    const projection = personalDataProjection({ event_time: '2024-01-01', event_type: 'PersonalData', subject: ['a', 'b'] }, stored);
    assert.deepEqual(projection, { event_time: '2024-01-01', event_type: 'PersonalData', subject: ['a', 'b'], ...stored });
  });

  test('does not modify the event', () => {
    const event = { ...fullPersonalDataEvent };
    personalDataProjection(event, stored);
    assert.deepEqual(event, fullPersonalDataEvent);
  });
});

describe('buildRegistrationDocuments', () => {
  test('an unsigned event: the IS monthly index (UTC month of registration), own fields added', () => {
    const documents = buildRegistrationDocuments([plain('MPass.Login', 1, { user: 'u' })], context);
    assert.equal(documents.length, 1);
    const [only] = documents;
    assert.ok(only !== undefined);
    assert.equal(indexNameOf(only.target), 'mlog-mpass-2024.02');
    assert.equal(only.id, `${UID}-00000`);
    assert.equal(only.origin, 'Line 1');
    assert.deepEqual(only.document, {
      event_time: '2023-12-15T10:00:00Z',
      event_type: 'MPass.Login',
      user: 'u',
      '@is': 'mpass',
      '@uid': UID,
      '@id': `${UID}-00000`,
      '@received': RECEIVED,
      '@signed': false,
      '@line': 1,
      '@log': undefined,
      '@position': undefined,
    });
  });

  test('ids follow positions in the call, not line numbers', () => {
    const documents = buildRegistrationDocuments([plain('A', 3), plain('B', 7), plain('C', 8)], context);
    assert.deepEqual(
      documents.map((document) => [document.id, document.document['@line'], document.document.event_type]),
      [
        [`${UID}-00000`, 3, 'A'],
        [`${UID}-00001`, 7, 'B'],
        [`${UID}-00002`, 8, 'C'],
      ],
    );
  });

  test('every document of the call carries the same @uid and distinct ids that sort in order', () => {
    const events = Array.from({ length: 15 }, (_, i) => plain(`T${i}`, i + 1));
    const documents = buildRegistrationDocuments(events, context);
    assert.ok(documents.every((document) => document.document['@uid'] === UID));
    const ids = documents.map((document) => document.id);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, 15);
    assert.deepEqual(
      documents.map((document) => document.document.event_type),
      events.map((event) => event.event.event_type),
    );
  });

  test('a PersonalData event also writes its projection, same id, shared monthly index', () => {
    const documents = buildRegistrationDocuments([plain('MPass.Login', 1), accepted(fullPersonalDataEvent, 2)], context);
    assert.deepEqual(
      documents.map((document) => [indexNameOf(document.target), document.id]),
      [
        ['mlog-mpass-2024.02', `${UID}-00000`],
        ['mlog-mpass-2024.02', `${UID}-00001`],
        ['personaldata-2024.02', `${UID}-00001`],
      ],
    );
    const projection = documents[2];
    assert.ok(projection !== undefined);
    assert.equal(projection.origin, 'Line 2');
    assert.deepEqual(Object.keys(projection.document).sort(), [...PERSONAL_DATA_FIELDS, '@is', '@uid', '@id', '@received'].sort());
    assert.equal(projection.document['@id'], `${UID}-00001`);
    assert.ok(!('event_details' in projection.document));
    assert.ok(!('@jws' in projection.document));
    // the full event keeps everything
    const full = documents[1];
    assert.ok(full !== undefined);
    assert.deepEqual(full.document.event_details, { secret: 'not for the shared index' });
    assert.deepEqual(full.document.custom, { nested: 'value' });
  });

  test('PersonalData detection is on the event_type substring, case-sensitive', () => {
    const count = (type: string) => buildRegistrationDocuments([plain(type, 1)], context).length;
    assert.equal(count('PersonalData'), 2);
    assert.equal(count('MSign.PersonalDataExport'), 2);
    assert.equal(count('personaldata'), 1);
    assert.equal(count('Personal.Data'), 1);
  });

  test('a signed payload of several events keeps the JWS text once: @jws on the first, @jws_ref on the others', () => {
    const signature: EventSignature = { jws: 'aaa.bbb.ccc', kid: '4f1a', alg: 'RS256', firstEventPosition: 1 };
    const other: EventSignature = { jws: 'ddd.eee.fff', kid: '4f1a', alg: 'ES256', firstEventPosition: 3 };
    const documents = buildRegistrationDocuments(
      [
        plain('Unsigned', 1),
        accepted({ event_time: '2024-01-01', event_type: 'S1' }, 2, signature),
        accepted({ event_time: '2024-01-01', event_type: 'S2' }, 2, signature),
        accepted({ event_time: '2024-01-01', event_type: 'Single' }, 3, other),
        accepted({ event_time: '2024-01-01', event_type: 'S3' }, 2, signature),
      ],
      context,
    );
    const byType = new Map(documents.map((document) => [document.document.event_type, document.document]));
    const unsigned = byType.get('Unsigned');
    const first = byType.get('S1');
    const second = byType.get('S2');
    const single = byType.get('Single');
    const third = byType.get('S3');
    assert.ok(unsigned && first && second && single && third);

    assert.equal(unsigned['@signed'], false);
    for (const key of ['@jws', '@jws_ref', '@kid', '@alg']) assert.ok(!(key in unsigned), key);

    assert.equal(first['@signed'], true);
    assert.equal(first['@kid'], '4f1a');
    assert.equal(first['@alg'], 'RS256');
    assert.equal(first['@jws'], 'aaa.bbb.ccc');
    assert.ok(!('@jws_ref' in first));

    for (const later of [second, third]) {
      assert.equal(later['@signed'], true);
      assert.equal(later['@kid'], '4f1a');
      assert.equal(later['@alg'], 'RS256');
      assert.equal(later['@jws_ref'], `${UID}-00001`);
      assert.equal(later['@jws_ref'], first['@id']);
      assert.ok(!('@jws' in later));
    }

    assert.equal(single['@jws'], 'ddd.eee.fff');
    assert.equal(single['@alg'], 'ES256');
    assert.ok(!('@jws_ref' in single));

    const jwsCopies = documents.filter((document) => typeof document.document['@jws'] === 'string');
    assert.equal(jwsCopies.length, 2);
  });

  test('a signed PersonalData event: the projection carries no signature fields', () => {
    const signature: EventSignature = { jws: 'aaa.bbb.ccc', kid: '1', alg: 'PS256', firstEventPosition: 0 };
    const documents = buildRegistrationDocuments([accepted(fullPersonalDataEvent, 1, signature)], context);
    assert.equal(documents.length, 2);
    const [event, projection] = documents;
    assert.ok(event !== undefined && projection !== undefined);
    assert.equal(event.document['@jws'], 'aaa.bbb.ccc');
    for (const key of ['@jws', '@jws_ref', '@kid', '@alg', '@signed', '@line']) assert.ok(!(key in projection.document), key);
  });

  test('the client event object is not modified', () => {
    const event = { event_time: '2024-01-01', event_type: 'X' };
    buildRegistrationDocuments([accepted(event, 1)], context);
    assert.deepEqual(event, { event_time: '2024-01-01', event_type: 'X' });
  });

  test('the index month follows registration time, not event_time', () => {
    const documents = buildRegistrationDocuments([accepted({ ...fullPersonalDataEvent, event_time: '2020-06-15' }, 1)], {
      ...context,
      receivedAt: new Date(Date.UTC(2024, 11, 31, 23, 59, 59, 999)),
    });
    assert.deepEqual(
      documents.map((document) => indexNameOf(document.target)),
      ['mlog-mpass-2024.12', 'personaldata-2024.12'],
    );
  });

  test('no events, no documents', () => {
    assert.deepEqual(buildRegistrationDocuments([], context), []);
  });
});

describe('registrations received at one instant share their targets', () => {
  test('one-event registrations of one IS at one instant share the target and @received; another instant or IS gets its own', () => {
    const at = new Date('2026-11-28T23:10:00.123Z');
    const first = buildRegistrationDocuments([plain('Syslog.Log', 1)], { uid: UID, isCode: 'mpass', receivedAt: at });
    const second = buildRegistrationDocuments([plain('Syslog.Log', 1)], { uid: UID, isCode: 'mpass', receivedAt: new Date(at.getTime()) });
    assert.equal(second[0]!.target, first[0]!.target);
    assert.equal(second[0]!.document['@received'], '2026-11-28T23:10:00.123Z');
    const otherSystem = buildRegistrationDocuments([plain('Syslog.Log', 1)], { uid: UID, isCode: 'msign', receivedAt: at });
    assert.notEqual(otherSystem[0]!.target, first[0]!.target);
    assert.equal(indexNameOf(otherSystem[0]!.target), 'mlog-msign-2026.11');
    assert.equal(otherSystem[0]!.document['@is'], 'msign');
  });

  test('a Date changed after a registration does not change where the next one goes', () => {
    const at = new Date('2026-11-30T23:59:59.999Z');
    const first = buildRegistrationDocuments([plain('Syslog.Log', 1)], { uid: UID, isCode: 'mpass', receivedAt: at });
    at.setTime(Date.parse('2026-12-01T00:00:00.000Z'));
    assert.equal(indexNameOf(first[0]!.target), 'mlog-mpass-2026.11');
    const next = buildRegistrationDocuments([plain('Syslog.Log', 1)], { uid: UID, isCode: 'mpass', receivedAt: at });
    assert.equal(indexNameOf(next[0]!.target), 'mlog-mpass-2026.12');
    assert.equal(next[0]!.document['@received'], '2026-12-01T00:00:00.000Z');
    assert.equal(indexNameOf(first[0]!.target), 'mlog-mpass-2026.11');
  });
});
