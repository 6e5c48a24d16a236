/**
 * End-to-end: every query (by range or by UID, answered or not found) is itself registered, in the
 * caller's own index, as an MLog.ClientQuery event carrying the query's legal fields and an
 * event_message that states it: from=…;to=…;basis=…;reason=…;filter=…;page=…;page_size=….
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { elasticsearchUrl, TestMLog, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

type Event = Record<string, unknown>;

/** The IDNO the harness registers every IS with. */
const HARNESS_IDNO = '1003600000000';
const enc = encodeURIComponent;

let mlog: TestMLog;
/** A little before this file's first query: the lower bound of every look-up of ClientQuery records. */
let since: string;

before(async () => {
  since = new Date(Date.now() - 60_000).toISOString();
  mlog = await TestMLog.start();
});

after(async () => {
  await mlog?.stop();
});

function query(parts: Array<[string, string]>): string {
  return parts.map(([name, value]) => `${name}=${enc(value)}`).join('&');
}

async function registerBatch(system: TestSystem, events: Event[]): Promise<string> {
  const answer = await system.register(events.map((event) => JSON.stringify(event)).join('\n'));
  assert.equal(answer.status, 200, answer.text);
  return answer.json.UID as string;
}

/** The caller's MLog.ClientQuery records since the file started (this look-up is itself recorded, after it answers). */
async function clientQueries(system: TestSystem): Promise<Event[]> {
  const answer = await system.call(
    `/query?${query([
      ['event_time_from', since],
      ['event_time_to', new Date(Date.now() + 60_000).toISOString()],
      ['legal_basis', 'Audit of client queries'],
      ['filter', 'event_type=MLog.ClientQuery'],
      ['page_size', '1000'],
    ])}`,
  );
  if (answer.status === 404) return [];
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json.status, '200');
  const result = answer.json.result as Event[];
  assert.equal(answer.json.pagination['record-count'], result.length);
  for (const event of result) assert.equal(event.event_type, 'MLog.ClientQuery');
  return result;
}

/** The one record whose event_message satisfies `matches`. */
async function theRecord(system: TestSystem, matches: (message: string) => boolean): Promise<Event> {
  const found = (await clientQueries(system)).filter((event) => typeof event.event_message === 'string' && matches(event.event_message));
  assert.equal(found.length, 1, `expected one matching MLog.ClientQuery record, found ${found.length}`);
  return found[0] as Event;
}

function assertRecordedAt(record: Event, earliest: number, latest: number): void {
  assert.equal(typeof record.event_time, 'string');
  const at = Date.parse(record.event_time as string);
  assert.ok(at >= earliest - 1000 && at <= latest + 1000, `event_time ${String(record.event_time)} is the time of the query`);
  assert.equal(typeof record['@uid'], 'string');
  assert.deepEqual(
    Object.keys(record).filter((name) => name.startsWith('@') || name.startsWith('_')),
    ['@uid'],
  );
}

describe('every query is itself registered as MLog.ClientQuery', () => {
  let system: TestSystem;
  let other: TestSystem;
  let uid: string;

  before(async () => {
    [system, other] = await Promise.all([mlog.addSystem({ keyType: 'ec-p256' }), mlog.addSystem({ keyType: 'ec-p256' })]);
    uid = await registerBatch(system, [
      { event_time: '2021-09-01T08:00:00Z', event_type: 'Rec.Event', user: 'IDNP-1' },
      { event_time: '2021-09-01T09:00:00Z', event_type: 'Rec.Event', user: 'IDNP-2' },
      { event_time: '2021-09-01T10:00:00Z', event_type: 'Rec.Other', user: 'IDNP-1' },
    ]);
  });

  test('a range query with every parameter: its legal fields and the query stated in event_message', async () => {
    const earliest = Date.now();
    const answer = await system.call(
      `/query?${query([
        ['event_time_from', '2021-09-01T00:00:00Z'],
        ['event_time_to', '2021-09-02T02:00:00+02:00'],
        ['legal_basis', 'Law 133/2011, art. 5'],
        ['legal_reason', 'Application 17/2024'],
        ['user', '2000000000001'],
        ['user_address', '10.0.0.7'],
        ['legal_entity', '1002600000001'],
        ['page', '0'],
        ['page_size', '10'],
      ])}&filter=event_type=Rec.Event,user=IDNP-1`,
    );
    const latest = Date.now();
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.result.length, 1);

    const record = await theRecord(system, (message) => message.startsWith('from=2021-09-01T00:00:00Z;'));
    assert.equal(record.event_type, 'MLog.ClientQuery');
    assert.equal(record.legal_entity, '1002600000001');
    assert.equal(record.legal_basis, 'Law 133/2011, art. 5');
    assert.equal(record.legal_reason, 'Application 17/2024');
    assert.equal(record.user, '2000000000001');
    assert.equal(record.user_address, '10.0.0.7');
    assert.equal(
      record.event_message,
      'from=2021-09-01T00:00:00Z;to=2021-09-02T02:00:00+02:00;basis=Law 133/2011, art. 5;reason=Application 17/2024;filter=event_type=Rec.Event,user=IDNP-1;page=0;page_size=10',
    );
    assertRecordedAt(record, earliest, latest);
  });

  test("without legal_entity the record's legal_entity is the IS's IDNO; defaults are stated", async () => {
    const earliest = Date.now();
    const answer = await system.call(
      `/query?${query([
        ['event_time_from', '2021-08-31'],
        ['event_time_to', '2021-09-03'],
        ['legal_basis', 'Order 42'],
      ])}`,
    );
    const latest = Date.now();
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.pagination['record-count'], 3);

    const record = await theRecord(system, (message) => message.startsWith('from=2021-08-31;'));
    assert.equal(record.event_type, 'MLog.ClientQuery');
    assert.equal(record.legal_entity, HARNESS_IDNO);
    assert.equal(record.legal_basis, 'Order 42');
    assert.equal(record.legal_reason, undefined);
    assert.equal(record.user, undefined);
    assert.equal(record.user_address, undefined);
    assert.equal(record.event_message, 'from=2021-08-31;to=2021-09-03;basis=Order 42;reason=;filter=;page=0;page_size=50');
    assertRecordedAt(record, earliest, latest);
  });

  test('a query by UID is recorded, by path and by parameter', async () => {
    const earliest = Date.now();
    const legal = query([
      ['legal_basis', 'UID basis'],
      ['legal_reason', 'UID reason'],
      ['user', '2000000000003'],
      ['user_address', '10.0.0.8'],
    ]);
    const byPath = await system.call(`/query/${uid}?${legal}`);
    assert.equal(byPath.status, 200, byPath.text);
    assert.equal(byPath.json.result.length, 3);
    const latest = Date.now();

    const pattern = new RegExp(`^from=;to=;basis=UID basis;reason=UID reason;filter=UID=${uid};page=0;page_size=\\d+$`);
    const record = await theRecord(system, (message) => pattern.test(message));
    assert.equal(record.event_type, 'MLog.ClientQuery');
    assert.equal(record.legal_entity, HARNESS_IDNO);
    assert.equal(record.legal_basis, 'UID basis');
    assert.equal(record.legal_reason, 'UID reason');
    assert.equal(record.user, '2000000000003');
    assert.equal(record.user_address, '10.0.0.8');
    assertRecordedAt(record, earliest, latest);

    const byParameter = await system.call(`/query?uid=${uid}&legal_entity=1002600000009&legal_basis=${enc('by parameter')}`);
    assert.equal(byParameter.status, 200, byParameter.text);
    const second = await theRecord(system, (message) => message.includes('basis=by parameter;') && message.includes(`filter=UID=${uid};`));
    assert.equal(second.legal_entity, '1002600000009');
    assert.equal(second.legal_basis, 'by parameter');
  });

  test('a query that finds nothing (404) is recorded too, by range and by UID', async () => {
    const empty = await system.call(`/query?${query([['event_time_from', '1999-01-01'], ['event_time_to', '1999-01-02'], ['legal_basis', 'Nothing there']])}`);
    assert.equal(empty.status, 404, empty.text);
    const rangeRecord = await theRecord(system, (message) => message.startsWith('from=1999-01-01;'));
    assert.equal(rangeRecord.event_message, 'from=1999-01-01;to=1999-01-02;basis=Nothing there;reason=;filter=;page=0;page_size=50');
    assert.equal(rangeRecord.legal_basis, 'Nothing there');
    assert.equal(rangeRecord.legal_entity, HARNESS_IDNO);

    const unknown = randomUUID();
    const notFound = await system.call(`/query/${unknown}?legal_basis=${enc('Unknown UID')}`);
    assert.equal(notFound.status, 404, notFound.text);
    const uidRecord = await theRecord(system, (message) => message.includes(`filter=UID=${unknown};`));
    assert.equal(uidRecord.legal_basis, 'Unknown UID');
    assert.match(uidRecord.event_message as string, /^from=;to=;basis=Unknown UID;reason=;filter=UID=[0-9a-f-]{36};page=0;page_size=\d+$/);

    // a page past the end of an existing range is recorded as well
    const pastEnd = await system.call(`/query?${query([['event_time_from', '2021-09-01'], ['event_time_to', '2021-09-02'], ['legal_basis', 'Past the end'], ['page', '5'], ['page_size', '2']])}`);
    assert.equal(pastEnd.status, 404, pastEnd.text);
    const pastEndRecord = await theRecord(system, (message) => message.includes('basis=Past the end;'));
    assert.equal(pastEndRecord.event_message, 'from=2021-09-01;to=2021-09-02;basis=Past the end;reason=;filter=;page=5;page_size=2');
  });

  test("the record lands in the caller's own index only: another IS does not see it", async () => {
    // the other IS has never queried: it sees no ClientQuery record at all, none of the first system's
    assert.deepEqual(await clientQueries(other), []);
    // its second look-up sees exactly its own first one
    const own = await clientQueries(other);
    assert.equal(own.length, 1);
    assert.equal(own[0]?.legal_entity, HARNESS_IDNO);
    assert.equal(own[0]?.legal_basis, 'Audit of client queries');
    assert.match(own[0]?.event_message as string, /^from=.*;filter=event_type=MLog\.ClientQuery;page=0;page_size=1000$/);

    // a record of the first system, by its UID: found by its owner, a 404 for the other
    const record = await theRecord(system, (message) => message.startsWith('from=2021-09-01T00:00:00Z;'));
    const recordUid = record['@uid'] as string;
    const byOwner = await system.call(`/query/${recordUid}`);
    assert.equal(byOwner.status, 200, byOwner.text);
    assert.deepEqual(byOwner.json.result, [record]);
    const byOther: HttpAnswer = await other.call(`/query/${recordUid}`);
    assert.equal(byOther.status, 404, byOther.text);
    assert.match(byOther.json.message, /no data/i);

    // and in Elasticsearch: one document with that @uid, in mlog-<caller>-<yyyy.MM of the query>, marked with the caller
    const response = await fetch(`${elasticsearchUrl()}/mlog-*,personaldata-*/_search`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: { term: { '@uid': recordUid } }, _source: ['@is', 'event_type'] }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { hits: { hits: Array<{ _index: string; _source: Event }> } };
    const at = new Date(record.event_time as string);
    const month = `${at.getUTCFullYear()}.${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
    assert.deepEqual(
      body.hits.hits.map((hit) => ({ index: hit._index, is: hit._source['@is'], type: hit._source.event_type })),
      [{ index: `mlog-${system.code}-${month}`, is: system.code, type: 'MLog.ClientQuery' }],
    );
  });

  test('a ClientQuery record is not a record of the events it looked at: the queried range stays as it was', async () => {
    const answer = await system.call(`/query?${query([['event_time_from', '2021-09-01'], ['event_time_to', '2021-09-02'], ['legal_basis', 'Recount']])}`);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.pagination['record-count'], 3);
    for (const event of answer.json.result as Event[]) assert.notEqual(event.event_type, 'MLog.ClientQuery');
  });
});
