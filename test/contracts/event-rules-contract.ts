/**
 * The rules every event obeys, whatever door it comes through (contract.md, POST /register):
 * event_type and event_time present and well formed (the fraction 1 to 9 digits, a real date and
 * time of day), no field name starting with "_" or "@" at any depth, no string over 32,766 UTF-8
 * bytes at any depth, and the PersonalData projection. eventRulesContract(door) starts one real MLog
 * (mutual TLS, real Elasticsearch) and runs every case through `door` (test/contracts/register-doors.ts).
 *
 * Each refused case sends a valid event and then the broken one in one call, and expects MLog's own
 * message, word for word, naming the broken event as the door places it; nothing of any refused call
 * may be stored (checked once, at the end, by the marker they all carry). Accepted cases share calls,
 * each event checked on its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { closeInspectionClient, documentsWithMarker, inspectionClient, personalDataCopies, refresh, storedEvents, type StoredDocument } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';
import type { Event, RegisterDoor } from './register-doors.js';
import { PERSONAL_DATA_CONTRACT_FIELDS } from '../helpers/personal-data-contract.js';


const TIME_FORM = 'is not in the form YYYY-MM-dd[THH:mm:ss[.fraction][Z|±HH[mm]|±HH:mm]]';
const tooLong = (field: string, bytes: number) => `field ${field} is ${bytes} bytes long in UTF-8; the limit is 32766 bytes`;
const reserved = (name: string) => `field name "${name}" is reserved: names starting with "_" or "@" are not accepted`;

interface Refusal {
  label: string;
  /** Fields over a valid event; a field set to `undefined` is left out. */
  fields: Event;
  /** MLog's reason, without the origin before it and the full stop after it. */
  reason: string;
}

const EVENT_TYPE_REFUSALS: Refusal[] = [
  { label: 'event_type missing', fields: { event_type: undefined }, reason: 'event_type is missing' },
  { label: 'event_type empty', fields: { event_type: '' }, reason: 'event_type must not be empty' },
  { label: 'event_type only blanks', fields: { event_type: ' \t ' }, reason: 'event_type must not be empty' },
  { label: 'event_type a number', fields: { event_type: 42 }, reason: 'event_type must be a string' },
  { label: 'event_type a boolean', fields: { event_type: true }, reason: 'event_type must be a string' },
  { label: 'event_type null', fields: { event_type: null }, reason: 'event_type must be a string' },
  { label: 'event_type an array', fields: { event_type: ['Contract.Event'] }, reason: 'event_type must be a string' },
  { label: 'event_type an object', fields: { event_type: { name: 'Contract.Event' } }, reason: 'event_type must be a string' },
];

const EVENT_TIME_REFUSALS: Refusal[] = [
  { label: 'event_time missing', fields: { event_time: undefined }, reason: 'event_time is missing' },
  { label: 'event_time a number (epoch milliseconds)', fields: { event_time: 1709287200000 }, reason: 'event_time must be a string' },
  { label: 'event_time null', fields: { event_time: null }, reason: 'event_time must be a string' },
  { label: 'event_time empty', fields: { event_time: '' }, reason: `event_time "" ${TIME_FORM}` },
  { label: 'a day-first date', fields: { event_time: '01/03/2024' }, reason: `event_time "01/03/2024" ${TIME_FORM}` },
  { label: 'a space instead of T', fields: { event_time: '2024-03-01 10:00:00' }, reason: `event_time "2024-03-01 10:00:00" ${TIME_FORM}` },
  { label: 'no seconds', fields: { event_time: '2024-03-01T10:00' }, reason: `event_time "2024-03-01T10:00" ${TIME_FORM}` },
  { label: 'a one-digit month', fields: { event_time: '2024-3-01' }, reason: `event_time "2024-3-01" ${TIME_FORM}` },
  { label: 'an empty fraction', fields: { event_time: '2024-03-01T10:00:00.Z' }, reason: `event_time "2024-03-01T10:00:00.Z" ${TIME_FORM}` },
  { label: 'a 10-digit fraction', fields: { event_time: '2024-03-01T10:00:00.1234567890Z' }, reason: `event_time "2024-03-01T10:00:00.1234567890Z" ${TIME_FORM}` },
  { label: 'a 10-digit fraction without a zone', fields: { event_time: '2024-03-01T10:00:00.0000000000' }, reason: `event_time "2024-03-01T10:00:00.0000000000" ${TIME_FORM}` },
  { label: 'a one-digit offset', fields: { event_time: '2024-03-01T10:00:00+2' }, reason: `event_time "2024-03-01T10:00:00+2" ${TIME_FORM}` },
  { label: 'an offset past 18 hours', fields: { event_time: '2024-03-01T10:00:00+18:01' }, reason: `event_time "2024-03-01T10:00:00+18:01" ${TIME_FORM}` },
  { label: 'a zone name', fields: { event_time: '2024-03-01T10:00:00 Europe/Chisinau' }, reason: `event_time "2024-03-01T10:00:00 Europe/Chisinau" ${TIME_FORM}` },
  {
    label: 'a long malformed value (shortened in the message)',
    fields: { event_time: '2024-03-01T10:00:00.12345678901234567890123Z' },
    reason: `event_time "2024-03-01T10:00:00.12345678901234567890…" ${TIME_FORM}`,
  },
  { label: '30 February (not a real date)', fields: { event_time: '2024-02-30' }, reason: 'event_time "2024-02-30" is not a real date (2024-02-30 does not exist)' },
  { label: '29 February of a common year', fields: { event_time: '2023-02-29T10:00:00Z' }, reason: 'event_time "2023-02-29T10:00:00Z" is not a real date (2023-02-29 does not exist)' },
  { label: 'month 13', fields: { event_time: '2024-13-01T10:00:00Z' }, reason: 'event_time "2024-13-01T10:00:00Z" is not a real date (2024-13-01 does not exist)' },
  { label: 'hour 24', fields: { event_time: '2024-03-01T24:00:00Z' }, reason: 'event_time "2024-03-01T24:00:00Z" is not a real time of day (24:00:00)' },
  { label: 'minute 60', fields: { event_time: '2024-03-01T10:60:00+02:00' }, reason: 'event_time "2024-03-01T10:60:00+02:00" is not a real time of day (10:60:00)' },
];

/** Accepted event_time values and the instant each one is. */
const ACCEPTED_TIMES: Array<[string, string]> = [
  ['2024-03-01', '2024-03-01T00:00:00.000Z'],
  ['2024-03-01T10:00:00', '2024-03-01T10:00:00.000Z'],
  ['2024-03-01T10:00:00Z', '2024-03-01T10:00:00.000Z'],
  ['2024-03-01T10:00:00.5Z', '2024-03-01T10:00:00.500Z'],
  ['2024-03-01T10:00:00.12Z', '2024-03-01T10:00:00.120Z'],
  ['2024-03-01T10:00:00.123Z', '2024-03-01T10:00:00.123Z'],
  ['2024-03-01T10:00:00.1234Z', '2024-03-01T10:00:00.123Z'],
  ['2024-03-01T10:00:00.12345', '2024-03-01T10:00:00.123Z'],
  ['2024-03-01T10:00:00.123456+00:00', '2024-03-01T10:00:00.123Z'],
  ['2024-03-01T10:00:00.1234567+02:00', '2024-03-01T08:00:00.123Z'],
  ['2024-03-01T10:00:00.12345678-03', '2024-03-01T13:00:00.123Z'],
  ['2024-03-01T10:00:00.123456789Z', '2024-03-01T10:00:00.123Z'],
  ['2024-03-01T10:00:00+02', '2024-03-01T08:00:00.000Z'],
  ['2024-03-01T10:00:00-0530', '2024-03-01T15:30:00.000Z'],
  ['2024-03-01T10:00:00+18:00', '2024-02-29T16:00:00.000Z'],
  ['2024-02-29T23:59:59.9999999Z', '2024-02-29T23:59:59.999Z'],
];

const RESERVED_NAME_REFUSALS: Refusal[] = [
  { label: '_id at the top level', fields: { _id: 'x' }, reason: reserved('_id') },
  { label: '@uid at the top level', fields: { '@uid': 'mine' }, reason: reserved('@uid') },
  { label: 'a nested _name', fields: { outer: { inner: { _hidden: 1 } } }, reason: reserved('outer.inner._hidden') },
  { label: 'a nested @name', fields: { outer: { '@kid': 'x' } }, reason: reserved('outer.@kid') },
  { label: 'an @name five levels deep', fields: { l1: { l2: { l3: { l4: { '@x': 1 } } } } }, reason: reserved('l1.l2.l3.l4.@x') },
  { label: 'an @name in an array element', fields: { list: [{ ok: 1 }, { '@signed': true }] }, reason: reserved('list[1].@signed') },
  { label: 'a _name in an array inside an array', fields: { grid: [[{ ok: 1 }], [{ _type: 'x' }]] }, reason: reserved('grid[1][0]._type') },
  { label: 'a _name inside event_details', fields: { event_details: { _raw: 'x' } }, reason: reserved('event_details._raw') },
  { label: 'an @ part of a dotted name', fields: { 'meta.@source': 'x' }, reason: reserved('meta.@source') },
];

const STRING_SIZE_REFUSALS: Refusal[] = [
  { label: 'an ASCII string at the top level', fields: { long: 'a'.repeat(32_767) }, reason: tooLong('long', 32_767) },
  { label: 'a nested string', fields: { outer: { inner: 'c'.repeat(32_767) } }, reason: tooLong('outer.inner', 32_767) },
  { label: 'an array element', fields: { list: ['short', 'b'.repeat(32_767)] }, reason: tooLong('list[1]', 32_767) },
  { label: 'a string in an object in an array', fields: { items: [{ ok: 'x' }, { text: 'd'.repeat(32_767) }] }, reason: tooLong('items[1].text', 32_767) },
  { label: 'two-byte characters', fields: { long: `${'ă'.repeat(16_383)}a` }, reason: tooLong('long', 32_767) },
  { label: 'a four-byte character past the limit', fields: { long: `${'a'.repeat(32_763)}😀` }, reason: tooLong('long', 32_767) },
  { label: 'a string inside event_details', fields: { event_details: { note: 'e'.repeat(32_767) } }, reason: tooLong('event_details.note', 32_767) },
  { label: 'event_message', fields: { event_message: 'm'.repeat(32_767) }, reason: tooLong('event_message', 32_767) },
  { label: 'event_type', fields: { event_type: 'T'.repeat(32_767) }, reason: tooLong('event_type', 32_767) },
];

/** The stored event as the client sent it: MLog's own @ fields left out. */
function withoutOwnFields(source: Record<string, unknown>): Event {
  return Object.fromEntries(Object.entries(source).filter(([name]) => !name.startsWith('@')));
}

/** Registers the rules of MLog's events as tests run through `door`, on one MLog started for them. */
export function eventRulesContract(door: RegisterDoor): void {
  describe(`the event rules through ${door.name}`, () => {
    let mlog: TestMLog;
    let system: TestSystem;
    /** Carried by every event of every refused call: none may be stored. */
    const refusedMarker = `refused-${randomUUID()}`;

    before(async () => {
      mlog = await TestMLog.start(door.environment, door.syslog === undefined ? {} : { syslog: door.syslog });
      door.attach?.(mlog);
      system = await mlog.addSystem(door.system);
    });

    after(async () => {
      await mlog?.stop();
      await closeInspectionClient();
    });

    function validEvent(label: string): Event {
      return { event_time: '2024-03-01T10:00:00Z', event_type: 'Contract.Event', event_correlation: refusedMarker, event_id: label };
    }

    function assertEnvelope(answer: HttpAnswer, status: number, what: string): void {
      assert.equal(answer.status, status, `${what}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
      assert.equal(answer.json?.status, String(status), what);
      assert.match(String(answer.json?.timestamp), /^\d{13}$/, what);
    }

    /** The valid event first, the broken one second, in one call: 400 with MLog's reason naming the second. */
    function refusalTests(refusals: Refusal[]): void {
      for (const { label, fields, reason } of refusals) {
        test(`${label} → 400 "${reason.length > 90 ? `${reason.slice(0, 90)}…` : reason}"`, async () => {
          const broken: Event = { ...validEvent(label), ...fields };
          for (const [name, value] of Object.entries(fields)) if (value === undefined) delete broken[name];
          const answer = await door.send(system, [validEvent(`${label} (the valid event before it)`), broken]);
          assertEnvelope(answer, 400, label);
          assert.equal(answer.json.message, `${door.origin(1, 2)}: ${reason}.`);
          assert.equal(answer.json.UID, undefined);
        });
      }
    }

    /** Sends `events` in one call: 200 with a UID, every event stored as sent (MLog's @ fields aside), in order. */
    async function registerAccepted(events: Event[]): Promise<{ uid: string; stored: StoredDocument[] }> {
      const answer = await door.send(system, events);
      assertEnvelope(answer, 200, 'accepted');
      const uid = String(answer.json.UID);
      const stored = await storedEvents(system.code, uid);
      assert.equal(stored.length, events.length, 'every event of the call is stored');
      stored.forEach((document, position) => {
        assert.deepEqual(withoutOwnFields(document.source), events[position], `event ${position + 1} is stored as it was sent`);
        assert.equal(document.source['@is'], system.code);
        assert.equal(document.source['@uid'], uid);
      });
      return { uid, stored };
    }

    describe('validation: event_type', () => {
      refusalTests(EVENT_TYPE_REFUSALS);

      test('any non-empty string is an event_type', async () => {
        await registerAccepted(['A', 'Înregistrare.Acces', ' padded ', 'with spaces and / slashes'].map((type) => ({ event_time: '2024-03-01', event_type: type })));
      });
    });

    describe('validation: event_time', () => {
      refusalTests(EVENT_TIME_REFUSALS);

      test('every accepted form (a fraction of 1 to 9 digits, every zone form, none) is stored as sent and read by Elasticsearch as its instant', async () => {
        const events = ACCEPTED_TIMES.map(([time]) => ({ event_time: time, event_type: 'Contract.Time' }));
        const { uid } = await registerAccepted(events);
        await refresh(`mlog-${system.code}-*`);
        const found = await inspectionClient().search({
          index: `mlog-${system.code}-*`,
          query: { term: { '@uid': uid } },
          sort: [{ '@id': { order: 'asc' } }],
          size: 100,
          docvalue_fields: [{ field: 'event_time', format: 'strict_date_optional_time' }],
          _source: false,
        });
        const instants = found.hits.hits.map((hit) => (hit.fields?.event_time as string[] | undefined)?.[0]);
        assert.deepEqual(
          instants.map((instant, position) => [ACCEPTED_TIMES[position]?.[0], instant]),
          ACCEPTED_TIMES.map(([time, instant]) => [time, instant]),
        );
      });
    });

    describe('reserved names', () => {
      refusalTests(RESERVED_NAME_REFUSALS);

      test('"_" and "@" inside a name, at any depth, are accepted', async () => {
        await registerAccepted([
          { event_time: '2024-03-01', event_type: 'Contract.Names', user_name: 'x', 'mail@domain': 'y', names_nested: { a_b: { 'c@d': 1 } }, names_list: [{ x_y: 1 }], 'names_dotted.name_with_': 2 },
        ]);
      });
    });

    describe('string sizes', () => {
      refusalTests(STRING_SIZE_REFUSALS);

      test('a string of 32,766 UTF-8 bytes is accepted at any depth, in multi-byte characters too', async () => {
        const events = [
          { event_time: '2024-03-01', event_type: 'Contract.Size', size_long: 'a'.repeat(32_766) },
          { event_time: '2024-03-01', event_type: 'Contract.Size', size_outer: { inner: 'ă'.repeat(16_383) } },
          { event_time: '2024-03-01', event_type: 'Contract.Size', size_list: ['short', `${'ș'.repeat(16_382)}xx`] },
          { event_time: '2024-03-01', event_type: 'Contract.Size', event_details: { note: `${'a'.repeat(32_762)}😀` } },
        ];
        await registerAccepted(events);
      });
    });

    describe('the PersonalData projection', () => {
      test('an event whose event_type contains PersonalData is copied to personaldata-* with exactly the 13 contract fields, @is, @uid, @id and @received', async () => {
        const personal: Event = {
          event_time: '2024-03-01T10:00:00.1234567+02:00',
          event_type: 'Contract.PersonalData.Access',
          event_id: 'not-copied-id',
          event_correlation: `corr-${randomUUID()}`,
          event_level: 'info',
          event_source: 'api',
          event_message: 'not copied',
          event_details: { secret: 'not copied' },
          legal_entity: '1003600000000',
          legal_basis: 'Law 133/2011',
          legal_reason: 'Application 42',
          user: '2000000000001',
          user_session: 'not copied',
          user_address: '10.0.0.1',
          subject: ['2000000000002', '2000000000003'],
          subject_type: 'Person',
          subject_name: 'Ion Popescu',
          object: 'ABC 123',
          object_type: 'CarNumber',
          object_name: 'not copied',
          custom: { nested: 'not copied' },
        };
        const other: Event = { event_time: '2024-03-01', event_type: 'Contract.Personal.Data', subject: '2000000000004' };
        const { uid, stored } = await registerAccepted([personal, other]);
        const copies = await personalDataCopies(uid);
        assert.equal(copies.length, 1, 'only the PersonalData event is copied');
        const copy = copies[0] as StoredDocument;
        const original = stored[0] as StoredDocument;
        assert.equal(copy.id, original.id, 'the copy has the id of the stored event');
        const expected: Event = {};
        for (const field of PERSONAL_DATA_CONTRACT_FIELDS) expected[field] = personal[field];
        Object.assign(expected, { '@is': system.code, '@uid': uid, '@id': original.id, '@received': original.source['@received'] });
        assert.deepEqual(copy.source, expected);
      });
    });

    test('nothing of any refused call is stored', async () => {
      const leaked = await documentsWithMarker(system.code, refusedMarker);
      assert.deepEqual(
        leaked.map((document) => `${document.index}: ${String(document.source.event_id)}`),
        [],
      );
    });
  });
}
