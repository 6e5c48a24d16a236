import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestService, LINES_PER_TURN } from '../../src/events/ingest-service.js';
import { createLogger } from '../../src/logging/logger.js';
import type { DocumentToWrite, EventStore } from '../../src/events/event-store-type.js';
import { MLogError, StorageUnavailableError, ValidationError } from '../../src/errors/mlog-error.js';
import type { KnownSystem } from '../../src/systems/system-registry.js';

/** Keeps what it is asked to write, in memory; the order of writes is what the test reads. */
class RecordingStore implements EventStore {
  readonly written: DocumentToWrite[][] = [];
  constructor(private readonly onWrite: () => void) {}
  async writeAll(documents: DocumentToWrite[]): Promise<void> {
    this.onWrite();
    this.written.push(documents);
  }
  search(): never {
    throw new Error('not used');
  }
  fieldTypes(): never {
    throw new Error('not used');
  }
  async prepareIndex(): Promise<void> {}
}

const caller = { system: { code: 'acme', require_signature: false }, isAllowedAddress: () => true, certificatesBySerial: new Map() } as unknown as KnownSystem;
const line = '{"event_time":"2025-06-01","event_type":"x"}';

test('a large batch is checked in slices: the event loop turns while it is parsed and validated, and its events stay whole and in order', async () => {
  let turns = 0;
  let turnsBeforeWrite = -1;
  const store = new RecordingStore(() => (turnsBeforeWrite = turns));
  const ingest = new IngestService(store, createLogger('error', true));
  let counting = true;
  const count = (): void => {
    turns++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  const events = LINES_PER_TURN * 8;
  const body = new TextEncoder().encode(`${line}\n`.repeat(events));
  const registration = await ingest.register({ caller, body, receivedAt: new Date() });
  counting = false;
  assert.equal(registration.events, events);
  assert.ok(turnsBeforeWrite >= 7, `the event loop turned ${turnsBeforeWrite} times before the batch was handed to the store; at least 7 expected (one per slice of ${LINES_PER_TURN} lines)`);
  assert.deepEqual(store.written[0]?.map((doc) => (doc.document as { '@line': number })['@line']), Array.from({ length: events }, (_, i) => i + 1));
});

test('a bad line is still the first one reported, whichever slice it is in', async () => {
  const ingest = new IngestService(new RecordingStore(() => {}), createLogger('error', true));
  const lines = Array.from({ length: LINES_PER_TURN * 3 }, () => line);
  lines[LINES_PER_TURN * 2 + 5] = '{"event_time":"2025-06-01"}';
  lines[LINES_PER_TURN * 2 + 9] = '{"broken":';
  await assert.rejects(ingest.register({ caller, body: new TextEncoder().encode(lines.join('\n')), receivedAt: new Date() }), (error: Error) => {
    assert.match(error.message, new RegExp(`^Line ${LINES_PER_TURN * 2 + 6}[: ]`), error.message);
    return true;
  });
});

/** A store that refuses, as Elasticsearch would, any write holding an event of type "Refused.ByStore", and fails every write while `down`. */
class GroupStore implements EventStore {
  readonly written: DocumentToWrite[][] = [];
  down = false;
  async writeAll(documents: DocumentToWrite[]): Promise<void> {
    if (this.down) throw new StorageUnavailableError('Elasticsearch is unavailable; nothing was registered. Retry later.');
    const refused = documents.find((doc) => doc.document['event_type'] === 'Refused.ByStore');
    if (refused !== undefined) throw new ValidationError(`${refused.origin}: the event cannot be stored: a field of it does not fit the index.`);
    this.written.push(documents);
  }
  search(): never {
    throw new Error('not used');
  }
  fieldTypes(): never {
    throw new Error('not used');
  }
  async prepareIndex(): Promise<void> {}
}

const body = (text: string) => new TextEncoder().encode(text);
const typed = (type: string) => body(`{"event_time":"2025-06-01","event_type":"${type}"}`);

test('registerEach judges each call on its own and stores the accepted ones in one write, under their own UIDs', async () => {
  const store = new GroupStore();
  const ingest = new IngestService(store, createLogger('error', true));
  const receivedAt = new Date();
  const outcomes = await ingest.registerEach(caller, [
    { body: typed('A.One'), receivedAt, uid: 'uid-1' },
    { body: body('{"event_time":"2025-06-01"}'), receivedAt, uid: 'uid-2' },
    { body: typed('A.Three'), receivedAt, uid: 'uid-3' },
  ]);
  assert.deepEqual(outcomes.map((outcome) => (outcome.ok ? outcome.registration.uid : (outcome.error as Error).message)), ['uid-1', 'Line 1: event_type is missing.', 'uid-3']);
  assert.equal(store.written.length, 1, 'the two accepted calls are one write');
  assert.deepEqual(store.written[0]?.map((doc) => doc.document['@uid']), ['uid-1', 'uid-3']);
});

test('registerEach: a document the store refuses refuses only its own call; the others are written alone', async () => {
  const store = new GroupStore();
  const ingest = new IngestService(store, createLogger('error', true));
  const receivedAt = new Date();
  const outcomes = await ingest.registerEach(caller, ['A.One', 'Refused.ByStore', 'A.Three'].map((type, index) => ({ body: typed(type), receivedAt, uid: `uid-${index + 1}` })));
  assert.deepEqual(outcomes.map((outcome) => outcome.ok), [true, false, true]);
  assert.match(((outcomes[1] as { error: Error }).error).message, /does not fit the index/);
  assert.deepEqual(store.written.map((write) => write.map((doc) => doc.document['@uid'])).sort(), [['uid-1'], ['uid-3']]);
});

test('registerEach: storage unavailable is every accepted call\'s answer, while a refused call keeps its own reason', async () => {
  const store = new GroupStore();
  store.down = true;
  const ingest = new IngestService(store, createLogger('error', true));
  const receivedAt = new Date();
  const outcomes = await ingest.registerEach(caller, [{ body: typed('A.One'), receivedAt }, { body: body('not json'), receivedAt }, { body: typed('A.Three'), receivedAt }]);
  assert.deepEqual(
    outcomes.map((outcome) => (outcome.ok ? 'stored' : (outcome.error as MLogError).status)),
    [503, 400, 503],
  );
  assert.equal(store.written.length, 0);
});

test('registerEach with event objects: each judged as the same event sent alone as a one-line body, with the same reasons, documents and projection', async () => {
  const receivedAt = new Date('2025-06-01T12:00:00Z');
  const events = [
    { event_time: '2025-06-01', event_type: 'Demo.PersonalData.Access', user: '2000000000001', legal_basis: 'Law 133/2011', tag: ['a', 'b'], syslog: { facility: 'auth' } },
    { event_time: '2025-06-01' },
    { event_time: 'yesterday', event_type: 'A.Late' },
    { event_time: '2025-06-01', event_type: 'A.Reserved', _id: 'x' },
  ];
  const asObjects = new GroupStore();
  const asBodies = new GroupStore();
  const fromObjects = await new IngestService(asObjects, createLogger('error', true)).registerEach(caller, events.map((event, index) => ({ event, receivedAt, uid: `uid-${index}` })));
  const fromBodies = await new IngestService(asBodies, createLogger('error', true)).registerEach(caller, events.map((event, index) => ({ body: body(JSON.stringify(event)), receivedAt, uid: `uid-${index}` })));
  const answers = (outcomes: typeof fromObjects) => outcomes.map((outcome) => (outcome.ok ? outcome.registration : `${(outcome.error as MLogError).status} ${(outcome.error as Error).message}`));
  assert.deepEqual(answers(fromObjects), answers(fromBodies));
  assert.deepEqual(answers(fromObjects), [
    { uid: 'uid-0', events: 1, signed: 0 },
    '400 Line 1: event_type is missing.',
    '400 Line 1: event_time "yesterday" is not in the form YYYY-MM-dd[THH:mm:ss[.fraction][Z|±HH[mm]|±HH:mm]].',
    '400 Line 1: field name "_id" is reserved: names starting with "_" or "@" are not accepted.',
  ]);
  assert.deepEqual(asObjects.written, asBodies.written, 'the same documents: the event and its personaldata projection');
  assert.deepEqual(asObjects.written[0]?.map((doc) => doc.target.kind), ['events', 'personal-data']);

  const signing = { ...caller, system: { ...caller.system, require_signature: true } } as KnownSystem;
  const [unsigned] = await new IngestService(new GroupStore(), createLogger('error', true)).registerEach(signing, [{ event: events[0] as Record<string, unknown>, receivedAt }]);
  assert.equal(unsigned?.ok, false);
  assert.equal(((unsigned as { error: MLogError }).error).status, 401);
  assert.equal(((unsigned as { error: Error }).error).message, 'Line 1: information system "acme" must sign its events, and this one is not signed.');
});
