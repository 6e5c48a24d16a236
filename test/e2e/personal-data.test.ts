/**
 * End-to-end: GET /personal-data through real mutual TLS over the real Elasticsearch. Two IS without
 * the permission register PersonalData events about one subject (plus one about another subject, and
 * an event about the subject that is not PersonalData); a citizen portal holding personaldata:read
 * reads them back. Every test uses its own subject values, so nothing depends on other tests' data.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import winston from 'winston';
import { PERSONAL_DATA_FIELDS } from '../../src/events/predefined-fields.js';
import { closeInspectionClient, searchDocuments } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

type Event = Record<string, unknown>;

const enc = encodeURIComponent;
/** What an answer item may hold: the contract's projection fields, @is, is_name and @uid. */
const ALLOWED_FIELDS = new Set<string>([...PERSONAL_DATA_FIELDS, '@is', 'is_name', '@uid']);

function uniqueSubject(): string {
  return `subj-${randomUUID()}`;
}

function personalData(system: TestSystem, parts: Array<[string, string]>): Promise<HttpAnswer> {
  return system.call(`/personal-data?${parts.map(([name, value]) => `${name}=${enc(value)}`).join('&')}`);
}

async function registerBatch(system: TestSystem, events: Event[]): Promise<string> {
  const answer = await system.register(events.map((event) => JSON.stringify(event)).join('\n'));
  assert.equal(answer.status, 200, answer.text);
  return answer.json.UID as string;
}

function assertEnvelope(answer: HttpAnswer, status: number): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.json.status, String(status));
  assert.match(answer.json.timestamp, /^\d+$/);
}

function assertNoFieldBeyondTheContract(item: Event): void {
  const extra = Object.keys(item).filter((name) => !ALLOWED_FIELDS.has(name));
  assert.deepEqual(extra, [], `fields outside the contract's list: ${extra.join(', ')}`);
}

/** The MLog.ClientQuery records in an IS's own indices whose event_message names `subject`. */
async function clientQueryRecords(code: string, subject: string): Promise<Event[]> {
  const documents = await searchDocuments(`mlog-${code}-*`, { term: { event_type: 'MLog.ClientQuery' } }, 1000);
  return documents.map((document) => document.source).filter((source) => String(source.event_message).includes(`filter=subject=${subject};`));
}

let mlog: TestMLog;
/** Every line MLog logged during this file, at debug level. */
const logLines: string[] = [];
/** Every subject this file asked about: none may appear in MLog's log. */
const askedSubjects: string[] = [];

before(async () => {
  mlog = await TestMLog.start();
  const logger = mlog.mlog.logger;
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        objectMode: true,
        write(chunk: unknown, _encoding, done) {
          logLines.push(JSON.stringify(chunk));
          done();
        },
      }),
    }),
  );
  logger.level = 'debug';
  logger.silent = false;
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

describe('GET /personal-data', () => {
  let a: TestSystem;
  let b: TestSystem;
  let portal: TestSystem;
  let otherPortal: TestSystem;
  const subject = uniqueSubject();
  const otherSubject = uniqueSubject();
  let uidA: string;
  let uidB: string;

  /** What a registered (in a's call): a PersonalData access with fields the projection must not carry. */
  const eventA: Event = {
    event_time: '2021-05-01T10:00:00.1234567+03:00',
    event_type: 'A.PersonalData.Access',
    event_message: 'not in the projection',
    event_id: 'evt-a',
    event_correlation: 'corr-a',
    legal_entity: '1002600000001',
    legal_basis: 'Law 133/2011, art. 5',
    legal_reason: 'Application 17/2021',
    user: '2000000000001',
    user_session: 'session-not-in-projection',
    user_address: '10.1.2.3',
    subject,
    subject_type: 'Person',
    subject_name: 'Ion Popescu',
    object: 'ABC 123',
    object_type: 'CarNumber',
    object_name: 'not in the projection',
    event_details: { note: 'not in the projection' },
    custom: 'not in the projection',
  };
  /** b's two events share an event_time: their order is that of the call (@id). */
  const eventsB: Event[] = [
    { event_time: '2021-05-03T08:00:00Z', event_type: 'B.PersonalData.Export', legal_basis: 'Order 42', legal_reason: 'Inspection', user: 'inspector-7', subject, seq: 1 },
    { event_time: '2021-05-03T08:00:00Z', event_type: 'B.PersonalData.Access', legal_basis: 'Order 42', user: 'inspector-8', subject, seq: 2 },
    { event_time: '2021-05-02T12:00:00Z', event_type: 'B.PersonalData.Search', legal_basis: 'Order 43', user: 'inspector-9', subject },
  ];

  before(async () => {
    [a, b, portal, otherPortal] = await Promise.all([
      mlog.addSystem(),
      mlog.addSystem({ keyType: 'ec-p256' }),
      mlog.addSystem({ permissions: ['personaldata:read'] }),
      mlog.addSystem({ permissions: ['personaldata:read'] }),
    ]);
    askedSubjects.push(subject, otherSubject);
    uidA = await registerBatch(a, [
      eventA,
      { event_time: '2021-05-04T10:00:00Z', event_type: 'A.PersonalData.Access', legal_basis: 'Law', user: 'u', subject: otherSubject },
      { event_time: '2021-05-05T10:00:00Z', event_type: 'A.Document.Viewed', legal_basis: 'Law', user: 'u', subject },
    ]);
    uidB = await registerBatch(b, eventsB);
  });

  test('the projections about the subject from every IS, newest first, with is_name and only the contract fields', async () => {
    const answer = await personalData(portal, [
      ['subject', subject],
      ['legal_basis', 'Law 133/2011, art. 5'],
      ['legal_reason', 'Citizen asked who read their data'],
      ['user', '2000000000099'],
    ]);
    assertEnvelope(answer, 200);
    assert.deepEqual(Object.keys(answer.json).sort(), ['message', 'pagination', 'result', 'status', 'timestamp']);
    assert.equal(answer.json.message, 'OK');
    assert.deepEqual(answer.json.pagination, { 'record-count': 4, page: 0, 'page-size': 50 });
    const result = answer.json.result as Event[];
    for (const item of result) assertNoFieldBeyondTheContract(item);
    assert.deepEqual(result, [
      { event_time: '2021-05-03T08:00:00Z', event_type: 'B.PersonalData.Export', legal_basis: 'Order 42', legal_reason: 'Inspection', user: 'inspector-7', subject, '@is': b.code, is_name: `Test system ${b.code}`, '@uid': uidB },
      { event_time: '2021-05-03T08:00:00Z', event_type: 'B.PersonalData.Access', legal_basis: 'Order 42', user: 'inspector-8', subject, '@is': b.code, is_name: `Test system ${b.code}`, '@uid': uidB },
      { event_time: '2021-05-02T12:00:00Z', event_type: 'B.PersonalData.Search', legal_basis: 'Order 43', user: 'inspector-9', subject, '@is': b.code, is_name: `Test system ${b.code}`, '@uid': uidB },
      {
        event_time: '2021-05-01T10:00:00.1234567+03:00',
        event_type: 'A.PersonalData.Access',
        event_correlation: 'corr-a',
        legal_entity: '1002600000001',
        legal_basis: 'Law 133/2011, art. 5',
        legal_reason: 'Application 17/2021',
        user: '2000000000001',
        user_address: '10.1.2.3',
        subject,
        subject_type: 'Person',
        subject_name: 'Ion Popescu',
        object: 'ABC 123',
        object_type: 'CarNumber',
        '@is': a.code,
        is_name: `Test system ${a.code}`,
        '@uid': uidA,
      },
    ]);
  });

  test('pages follow one another without overlap or gap; past the end is 404', async () => {
    const basis: [string, string] = ['legal_basis', 'Law'];
    const seen: unknown[] = [];
    for (const page of [0, 1]) {
      const answer = await personalData(portal, [['subject', subject], basis, ['page', String(page)], ['page_size', '3']]);
      assertEnvelope(answer, 200);
      assert.deepEqual(answer.json.pagination, { 'record-count': 4, page, 'page-size': 3 });
      seen.push(...(answer.json.result as Event[]).map((item) => `${String(item['@uid'])}/${String(item.event_type)}/${String(item.user)}`));
    }
    assert.equal(seen.length, 4);
    assert.equal(new Set(seen).size, 4, 'no item appears on two pages');
    const whole = await personalData(portal, [['subject', subject], basis]);
    assert.deepEqual(
      seen,
      (whole.json.result as Event[]).map((item) => `${String(item['@uid'])}/${String(item.event_type)}/${String(item.user)}`),
    );
    const pastEnd = await personalData(portal, [['subject', subject], basis, ['page', '2'], ['page_size', '3']]);
    assertEnvelope(pastEnd, 404);
    assert.match(pastEnd.json.message, /no data was found on page 2: 4 projections match/i);
  });

  test('time bounds: from inclusive, to exclusive, each optional', async () => {
    const basis: [string, string] = ['legal_basis', 'Law'];
    const from = await personalData(portal, [['subject', subject], basis, ['event_time_from', '2021-05-02T12:00:00Z']]);
    assert.deepEqual((from.json.result as Event[]).map((item) => item.event_time), ['2021-05-03T08:00:00Z', '2021-05-03T08:00:00Z', '2021-05-02T12:00:00Z']);
    const to = await personalData(portal, [['subject', subject], basis, ['event_time_to', '2021-05-02T12:00:00Z']]);
    assert.deepEqual((to.json.result as Event[]).map((item) => item['@is']), [a.code]);
    const both = await personalData(portal, [['subject', subject], basis, ['event_time_from', '2021-05-02'], ['event_time_to', '2021-05-03T08:00:00.001Z']]);
    assert.equal(both.json.pagination['record-count'], 3);
    const none = await personalData(portal, [['subject', subject], basis, ['event_time_from', '2021-05-06']]);
    assertEnvelope(none, 404);
  });

  test('refused parameters: 400 for a missing subject or legal_basis, a bad time, the 10,000 cap', async () => {
    const cases: Array<[Array<[string, string]>, RegExp]> = [
      [[['legal_basis', 'Law']], /^subject is missing/],
      [[['subject', subject]], /^legal_basis is missing/],
      [[['subject', subject], ['legal_basis', 'Law'], ['event_time_from', '2021-02-30']], /not a real date/],
      [[['subject', subject], ['legal_basis', 'Law'], ['event_time_from', '2021-05-03'], ['event_time_to', '2021-05-02']], /must be before event_time_to/],
      [[['subject', subject], ['legal_basis', 'Law'], ['page', '2'], ['page_size', '5000']], /may not pass 10000/],
      [[['subject', subject], ['legal_basis', 'Law'], ['page_size', '10001']], /may not pass 10000/],
    ];
    for (const [parts, message] of cases) {
      const answer = await personalData(portal, parts);
      assertEnvelope(answer, 400);
      assert.match(answer.json.message, message);
    }
  });

  test('without personaldata:read: 403, whatever the parameters, and nothing is recorded as a query', async () => {
    for (const system of [a, b]) {
      const answer = await personalData(system, [['subject', subject], ['legal_basis', 'Law']]);
      assertEnvelope(answer, 403);
      assert.match(answer.json.message, /personaldata:read/);
    }
    const malformed = await a.call('/personal-data?page_size=abc');
    assertEnvelope(malformed, 403);
    assert.deepEqual(await clientQueryRecords(a.code, subject), []);
    assert.deepEqual(await clientQueryRecords(b.code, subject), []);
  });

  test("the query is registered as MLog.ClientQuery in the caller's index, and only there", async () => {
    const answer = await personalData(otherPortal, [
      ['subject', subject],
      ['legal_basis', 'GDPR art. 15'],
      ['legal_reason', 'Subject access request 2021/77'],
      ['user', '2000000000099'],
      ['user_address', '192.0.2.10'],
      ['event_time_from', '2021-01-01'],
      ['page_size', '10'],
    ]);
    assertEnvelope(answer, 200);
    const records = await clientQueryRecords(otherPortal.code, subject);
    assert.equal(records.length, 1);
    const record = records[0] as Event;
    assert.equal(record.event_type, 'MLog.ClientQuery');
    assert.equal(record.event_source, 'MLog');
    assert.equal(record.legal_entity, '1003600000000');
    assert.equal(record.legal_basis, 'GDPR art. 15');
    assert.equal(record.legal_reason, 'Subject access request 2021/77');
    assert.equal(record.user, '2000000000099');
    assert.equal(record.user_address, '192.0.2.10');
    assert.equal(record.event_message, `from=2021-01-01;to=;basis=GDPR art. 15;reason=Subject access request 2021/77;filter=subject=${subject};page=0;page_size=10`);
    assert.ok(Math.abs(Date.parse(String(record.event_time)) - Date.now()) < 60_000);
    // Not in the indices of the IS whose events were read, nor in the shared projections.
    assert.deepEqual(await clientQueryRecords(a.code, subject), []);
    assert.deepEqual(await clientQueryRecords(b.code, subject), []);
    const projections = await searchDocuments('personaldata-*', { bool: { filter: [{ term: { subject } }, { term: { event_type: 'MLog.ClientQuery' } }] } });
    assert.deepEqual(projections, []);
  });

  test('404 when nothing is known about the subject; that query is registered too', async () => {
    const unknown = uniqueSubject();
    askedSubjects.push(unknown);
    const answer = await personalData(portal, [['subject', unknown], ['legal_basis', 'Law']]);
    assertEnvelope(answer, 404);
    assert.deepEqual(Object.keys(answer.json).sort(), ['message', 'status', 'timestamp']);
    assert.match(answer.json.message, /no data was found/i);
    assert.equal((await clientQueryRecords(portal.code, unknown)).length, 1);
  });

  test('a PersonalData event is found as soon as its registration is answered', async () => {
    const fresh = uniqueSubject();
    askedSubjects.push(fresh);
    const uid = await registerBatch(a, [{ event_time: new Date().toISOString(), event_type: 'A.PersonalData.Access', legal_basis: 'Law', user: 'u', subject: fresh }]);
    const answer = await personalData(portal, [['subject', fresh], ['legal_basis', 'Law']]);
    assertEnvelope(answer, 200);
    assert.deepEqual((answer.json.result as Event[]).map((item) => item['@uid']), [uid]);
  });

  test("the subjects asked about never appear in MLog's own log", () => {
    assert.ok(logLines.length > 10, `MLog logged ${logLines.length} lines at debug level`);
    assert.ok(logLines.some((line) => line.includes('personal data query answered')));
    for (const asked of askedSubjects) {
      const leaking = logLines.filter((line) => line.includes(asked));
      assert.deepEqual(leaking, [], `the subject ${asked} is in MLog's log`);
    }
  });
});
