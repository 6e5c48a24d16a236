/**
 * End-to-end: GET /query/{uid}, GET /query?uid=… and GET /query by time range, through real mutual TLS
 * over the real Elasticsearch. Event times are old fixed dates (the index month is the registration
 * month, the event_time is the event's), and every IS has a unique code, so nothing here depends on
 * other tests' data.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DEFAULT_UID_PAGE_SIZE } from '../../src/events/query-parameters.js';
import { TestMLog, uniqueCode, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

type Event = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------
// Envelope assertions
// ---------------------------------------------------------------------------------------------------

function assertTimestamp(answer: HttpAnswer): void {
  const timestamp = answer.json.timestamp;
  assert.equal(typeof timestamp, 'string', 'timestamp is a string');
  assert.match(timestamp, /^\d+$/, 'timestamp is epoch milliseconds');
  assert.ok(Math.abs(Number(timestamp) - Date.now()) < 120_000, `timestamp ${timestamp} is about now`);
}

/** 200 with exactly {status, message, timestamp, result, pagination}; returns the result. */
function assertFound(answer: HttpAnswer, pagination: { count: number; page: number; pageSize: number }): Event[] {
  assert.equal(answer.status, 200, answer.text);
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  assert.deepEqual(Object.keys(answer.json).sort(), ['message', 'pagination', 'result', 'status', 'timestamp']);
  assert.equal(answer.json.status, '200');
  assert.equal(answer.json.message, 'OK');
  assertTimestamp(answer);
  assert.ok(Array.isArray(answer.json.result));
  assert.deepEqual(answer.json.pagination, { 'record-count': pagination.count, page: pagination.page, 'page-size': pagination.pageSize });
  return answer.json.result as Event[];
}

/** 404 with exactly {status, message, timestamp} and a message saying no data was found. */
function assertNotFound(answer: HttpAnswer): void {
  assert.equal(answer.status, 404, answer.text);
  assert.deepEqual(Object.keys(answer.json).sort(), ['message', 'status', 'timestamp']);
  assert.equal(answer.json.status, '404');
  assert.match(answer.json.message, /no data/i);
  assertTimestamp(answer);
}

/** 400 with exactly {status, message, timestamp}, the message optionally matching. */
function assertBadRequest(answer: HttpAnswer, message?: RegExp): void {
  assert.equal(answer.status, 400, answer.text);
  assert.deepEqual(Object.keys(answer.json).sort(), ['message', 'status', 'timestamp']);
  assert.equal(answer.json.status, '400');
  assert.equal(typeof answer.json.message, 'string');
  assert.ok(answer.json.message.length > 0);
  if (message !== undefined) assert.match(answer.json.message, message);
  assertTimestamp(answer);
}

// ---------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------

/** A query string from already-encoded parts: [name, raw value] (raw: written into the URL as is). */
function rawQuery(parts: Array<[string, string]>): string {
  return parts.map(([name, value]) => `${name}=${value}`).join('&');
}

const enc = encodeURIComponent;

interface RangeOptions {
  from?: string | null;
  to?: string | null;
  basis?: string | null;
  /** The filter parameter, written into the URL exactly as given (raw). */
  filter?: string;
  page?: string;
  pageSize?: string;
  /** Further raw parts. */
  extra?: Array<[string, string]>;
}

/** GET /query by range; from/to/basis are percent-encoded here (null leaves the parameter out). */
function rangeQuery(system: TestSystem, options: RangeOptions): Promise<HttpAnswer> {
  const parts: Array<[string, string]> = [];
  if (options.from !== null && options.from !== undefined) parts.push(['event_time_from', enc(options.from)]);
  if (options.to !== null && options.to !== undefined) parts.push(['event_time_to', enc(options.to)]);
  const basis = options.basis === undefined ? 'Law 133/2011' : options.basis;
  if (basis !== null) parts.push(['legal_basis', enc(basis)]);
  if (options.filter !== undefined) parts.push(['filter', options.filter]);
  if (options.page !== undefined) parts.push(['page', options.page]);
  if (options.pageSize !== undefined) parts.push(['page_size', options.pageSize]);
  parts.push(...(options.extra ?? []));
  return system.call(`/query?${rawQuery(parts)}`);
}

async function registerBatch(system: TestSystem, events: Event[]): Promise<string> {
  const answer = await system.register(events.map((event) => JSON.stringify(event)).join('\n'));
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.json.UID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  return answer.json.UID as string;
}

/** Registers many events in as few calls as the 256 KB message limit allows. */
async function registerMany(system: TestSystem, events: Event[]): Promise<void> {
  let lines: string[] = [];
  let bytes = 0;
  for (const event of events) {
    const line = JSON.stringify(event);
    if (bytes + line.length + 1 > 200_000) {
      await registerBatch(system, lines.map((text) => JSON.parse(text) as Event));
      lines = [];
      bytes = 0;
    }
    lines.push(line);
    bytes += line.length + 1;
  }
  if (lines.length > 0) await registerBatch(system, lines.map((text) => JSON.parse(text) as Event));
}

function seqs(result: Event[]): unknown[] {
  return result.map((event) => event.seq);
}

// ---------------------------------------------------------------------------------------------------

let mlog: TestMLog;

before(async () => {
  mlog = await TestMLog.start();
});

after(async () => {
  await mlog?.stop();
});

describe('GET /query/{uid} and GET /query?uid=…', () => {
  let a: TestSystem;
  let b: TestSystem;
  let uid: string;
  let otherUid: string;
  const sent: Event[] = [
    {
      event_time: '2021-03-01T10:00:00.1234567+03:00',
      event_type: 'Uid.First',
      event_message: 'first of the call',
      user: '2000000000001',
      count: 42,
      ratio: 0.5,
      active: true,
      tags: ['alpha', 'beta'],
      details: { office: 'Chișinău', floor: 3, rooms: [{ n: 1 }, { n: 2 }] },
      event_details: { stack: ['a', 'b'], note: 'not indexed' },
    },
    { event_time: '2021-03-01', event_type: 'Uid.Second', legal_basis: 'Law 133/2011' },
    { event_time: '2021-02-01T00:00:00Z', event_type: 'Uid.Third', event_details: 'a plain string this time' },
  ];

  before(async () => {
    a = await mlog.addSystem({ keyType: 'ec-p256' });
    b = await mlog.addSystem({ keyType: 'ec-p256' });
    uid = await registerBatch(a, sent);
    otherUid = await registerBatch(b, [{ event_time: '2021-03-01T10:00:00Z', event_type: 'Other.Event' }]);
  });

  test('GET /query/{uid} answers the events of the call in registration order, exactly as sent plus @uid', async () => {
    const result = assertFound(await a.call(`/query/${uid}`), { count: 3, page: 0, pageSize: DEFAULT_UID_PAGE_SIZE });
    assert.deepEqual(
      result,
      sent.map((event) => ({ ...event, '@uid': uid })),
    );
    for (const event of result) {
      assert.deepEqual(Object.keys(event).filter((name) => name.startsWith('@') || name.startsWith('_')), ['@uid']);
    }
  });

  test('a UID query past the 10,000 cap says that every event of a UID is on page 0; a path that is not percent-encoding is a 400 that says so', async () => {
    assertBadRequest(await a.call(`/query/${uid}?page=1`), /reaches result 20000; .* The events of one UID all fit on page 0 with the default page_size \(10000\)\.$/);
    assertBadRequest(await a.call('/query/%ZZ'), /^The request path part "%ZZ" is not valid percent-encoding: "%" must be followed by two hexadecimal digits, and the bytes must be UTF-8\.$/);
  });

  test('GET /query?uid=… answers the same', async () => {
    const result = assertFound(await a.call(`/query?uid=${uid}`), { count: 3, page: 0, pageSize: DEFAULT_UID_PAGE_SIZE });
    assert.deepEqual(
      result,
      sent.map((event) => ({ ...event, '@uid': uid })),
    );
  });

  test('the optional legal_entity, legal_basis, legal_reason, user and user_address are accepted', async () => {
    const legal = rawQuery([
      ['legal_entity', '1002600000001'],
      ['legal_basis', enc('Law 133/2011, art. 5')],
      ['legal_reason', enc('Application #17/2024')],
      ['user', '2000000000002'],
      ['user_address', enc('10.0.0.7')],
    ]);
    const byPath = assertFound(await a.call(`/query/${uid}?${legal}`), { count: 3, page: 0, pageSize: DEFAULT_UID_PAGE_SIZE });
    assert.deepEqual(seqTypes(byPath), ['Uid.First', 'Uid.Second', 'Uid.Third']);
    const byParameter = assertFound(await a.call(`/query?uid=${uid}&${legal}`), { count: 3, page: 0, pageSize: DEFAULT_UID_PAGE_SIZE });
    assert.deepEqual(byParameter, byPath);
  });

  test('a UID in upper case finds the same call', async () => {
    const result = assertFound(await a.call(`/query/${uid.toUpperCase()}`), { count: 3, page: 0, pageSize: DEFAULT_UID_PAGE_SIZE });
    assert.deepEqual(seqTypes(result), ['Uid.First', 'Uid.Second', 'Uid.Third']);
  });

  test('page and page_size page through a call in registration order', async () => {
    const first = assertFound(await a.call(`/query/${uid}?page_size=2`), { count: 3, page: 0, pageSize: 2 });
    assert.deepEqual(seqTypes(first), ['Uid.First', 'Uid.Second']);
    const second = assertFound(await a.call(`/query/${uid}?page=1&page_size=2`), { count: 3, page: 1, pageSize: 2 });
    assert.deepEqual(seqTypes(second), ['Uid.Third']);
    assertNotFound(await a.call(`/query/${uid}?page=2&page_size=2`));
  });

  test('an unknown UID → 404 saying no data was found', async () => {
    assertNotFound(await a.call(`/query/${randomUUID()}`));
    assertNotFound(await a.call(`/query?uid=${randomUUID()}`));
  });

  test('a malformed UID → 400', async () => {
    assertBadRequest(await a.call('/query/not-a-uid'), /UID/);
    assertBadRequest(await a.call('/query/12345'));
    assertBadRequest(await a.call(`/query/${uid}x`));
    assertBadRequest(await a.call(`/query?uid=${enc(`${uid.slice(0, -1)}*`)}`));
    assertBadRequest(await a.call(`/query?uid=${enc('" OR 1=1')}`));
    assertBadRequest(await a.call('/query?uid='));
  });

  test("another IS's UID → 404, exactly like an unknown UID (isolation)", async () => {
    const unknown = await a.call(`/query/${randomUUID()}`);
    const foreign = await a.call(`/query/${otherUid}`);
    assertNotFound(foreign);
    assert.equal(foreign.status, unknown.status);
    assert.equal(foreign.json.message, unknown.json.message);
    assert.deepEqual(Object.keys(foreign.json), Object.keys(unknown.json));
    assertNotFound(await a.call(`/query?uid=${otherUid}`));
    // and the other way round; the owner itself still finds it
    assertNotFound(await b.call(`/query/${uid}`));
    const own = assertFound(await b.call(`/query/${otherUid}`), { count: 1, page: 0, pageSize: DEFAULT_UID_PAGE_SIZE });
    assert.deepEqual(own, [{ event_time: '2021-03-01T10:00:00Z', event_type: 'Other.Event', '@uid': otherUid }]);
  });
});

function seqTypes(result: Event[]): unknown[] {
  return result.map((event) => event.event_type);
}

describe('GET /query by time range: bounds and parameters', () => {
  let system: TestSystem;
  // Events at exact instants around the range [2021-05-01T00:00Z, 2021-05-02T00:00Z).
  const events: Event[] = [
    { event_time: '2021-04-30T23:59:59.999Z', event_type: 'Range.Event', seq: 'before' },
    { event_time: '2021-05-01T00:00:00Z', event_type: 'Range.Event', seq: 'start' },
    { event_time: '2021-05-01T12:00:00+02:00', event_type: 'Range.Event', seq: 'middle' },
    { event_time: '2021-05-01T23:59:59.999Z', event_type: 'Range.Event', seq: 'last' },
    { event_time: '2021-05-02T00:00:00Z', event_type: 'Range.Event', seq: 'end' },
  ];

  before(async () => {
    system = await mlog.addSystem({ keyType: 'ec-p256' });
    await registerBatch(system, events);
  });

  test('event_time_from is inclusive, event_time_to exclusive; newest first; default page 0 and page_size 50', async () => {
    const result = assertFound(await rangeQuery(system, { from: '2021-05-01T00:00:00Z', to: '2021-05-02T00:00:00Z' }), {
      count: 3,
      page: 0,
      pageSize: 50,
    });
    assert.deepEqual(seqs(result), ['last', 'middle', 'start']);
    // each event exactly as sent, plus @uid only
    for (const event of result) {
      const original = events.find((candidate) => candidate.seq === event.seq);
      const { '@uid': eventUid, ...rest } = event;
      assert.equal(typeof eventUid, 'string');
      assert.deepEqual(rest, original);
    }
  });

  test('a millisecond either side moves the bounds', async () => {
    const wider = assertFound(await rangeQuery(system, { from: '2021-04-30T23:59:59.999Z', to: '2021-05-02T00:00:00.001Z' }), {
      count: 5,
      page: 0,
      pageSize: 50,
    });
    assert.deepEqual(seqs(wider), ['end', 'last', 'middle', 'start', 'before']);
    const narrower = assertFound(await rangeQuery(system, { from: '2021-05-01T00:00:00.001Z', to: '2021-05-01T23:59:59.999Z' }), {
      count: 1,
      page: 0,
      pageSize: 50,
    });
    assert.deepEqual(seqs(narrower), ['middle']);
  });

  test('bounds with offsets (+02:00 sent as %2B02:00, +0200, -04:00, +02) mean the same instants', async () => {
    for (const [from, to] of [
      ['2021-05-01T02:00:00+02:00', '2021-05-02T02:00:00+02:00'],
      ['2021-05-01T02:00:00+0200', '2021-05-02T02:00:00+0200'],
      ['2021-05-01T02:00:00+02', '2021-05-02T02:00:00+02'],
      ['2021-04-30T20:00:00-04:00', '2021-05-01T20:00:00-04:00'],
      ['2021-05-01T00:00:00.0000000Z', '2021-05-02T00:00:00.000000000Z'],
    ] as const) {
      const result = assertFound(await rangeQuery(system, { from, to }), { count: 3, page: 0, pageSize: 50 });
      assert.deepEqual(seqs(result), ['last', 'middle', 'start'], `${from} .. ${to}`);
    }
    // written literally with %2B in the URL
    const literal = await system.call(
      '/query?event_time_from=2021-05-01T02:00:00%2B02:00&event_time_to=2021-05-02T02:00:00%2B02:00&legal_basis=Law',
    );
    assert.deepEqual(seqs(assertFound(literal, { count: 3, page: 0, pageSize: 50 })), ['last', 'middle', 'start']);
  });

  test('date-only bounds are midnight UTC', async () => {
    const result = assertFound(await rangeQuery(system, { from: '2021-05-01', to: '2021-05-02' }), { count: 3, page: 0, pageSize: 50 });
    assert.deepEqual(seqs(result), ['last', 'middle', 'start']);
    const twoDays = assertFound(await rangeQuery(system, { from: '2021-04-30', to: '2021-05-03' }), { count: 5, page: 0, pageSize: 50 });
    assert.deepEqual(seqs(twoDays), ['end', 'last', 'middle', 'start', 'before']);
  });

  test('a range with nothing in it → 404', async () => {
    assertNotFound(await rangeQuery(system, { from: '2021-05-02T00:00:00.001Z', to: '2021-06-01' }));
    assertNotFound(await rangeQuery(system, { from: '1990-01-01', to: '1990-01-02' }));
  });

  test('legal_basis missing or empty → 400 naming it', async () => {
    assertBadRequest(await rangeQuery(system, { from: '2021-05-01', to: '2021-05-02', basis: null }), /legal_basis/);
    assertBadRequest(await rangeQuery(system, { from: '2021-05-01', to: '2021-05-02', basis: '' }), /legal_basis/);
    assertBadRequest(await rangeQuery(system, { from: '2021-05-01', to: '2021-05-02', basis: '   ' }), /legal_basis/);
  });

  test('event_time_from or event_time_to missing → 400 naming it', async () => {
    assertBadRequest(await rangeQuery(system, { from: null, to: '2021-05-02' }), /event_time_from/);
    assertBadRequest(await rangeQuery(system, { from: '2021-05-01', to: null }), /event_time_to/);
    assertBadRequest(await rangeQuery(system, { from: null, to: null }), /event_time_from/);
    assertBadRequest(await rangeQuery(system, { from: '', to: '2021-05-02' }), /event_time_from/);
    assertBadRequest(await system.call('/query'), /event_time_from|legal_basis/);
  });

  test('a malformed or impossible bound → 400 naming it', async () => {
    for (const bad of ['yesterday', '2021-13-01', '2021-02-30', '2021-05-01T25:00:00Z', '2021-05-01 00:00:00', '2021-5-1', '1620000000000', '2021-05-01T00:00:00+2:00']) {
      assertBadRequest(await rangeQuery(system, { from: bad, to: '2021-06-01' }), /event_time_from/);
      assertBadRequest(await rangeQuery(system, { from: '2021-04-01', to: bad }), /event_time_to/);
    }
    // malformed percent-encoding
    assertBadRequest(await system.call('/query?event_time_from=2021-05-01%ZZ&event_time_to=2021-06-01&legal_basis=x'));
  });

  test('from equal to or after to → 400', async () => {
    assertBadRequest(await rangeQuery(system, { from: '2021-05-01', to: '2021-05-01' }), /event_time_from/);
    assertBadRequest(await rangeQuery(system, { from: '2021-05-02', to: '2021-05-01' }), /event_time_from/);
    // the same instant written two ways
    assertBadRequest(await rangeQuery(system, { from: '2021-05-01T02:00:00+02:00', to: '2021-05-01T00:00:00Z' }));
  });

  test('a parameter given twice → 400', async () => {
    assertBadRequest(
      await rangeQuery(system, { from: '2021-05-01', to: '2021-05-02', extra: [['event_time_from', '2021-04-01']] }),
      /event_time_from/,
    );
    assertBadRequest(await rangeQuery(system, { from: '2021-05-01', to: '2021-05-02', page: '0', extra: [['page', '1']] }), /page/);
  });

  test('explicit page and page_size are answered in pagination', async () => {
    const first = assertFound(await rangeQuery(system, { from: '2021-04-01', to: '2021-06-01', page: '0', pageSize: '2' }), { count: 5, page: 0, pageSize: 2 });
    assert.deepEqual(seqs(first), ['end', 'last']);
    const third = assertFound(await rangeQuery(system, { from: '2021-04-01', to: '2021-06-01', page: '2', pageSize: '2' }), { count: 5, page: 2, pageSize: 2 });
    assert.deepEqual(seqs(third), ['before']);
    assertNotFound(await rangeQuery(system, { from: '2021-04-01', to: '2021-06-01', page: '3', pageSize: '2' }));
  });

  test('page_size 0, negative or non-numeric page or page_size → 400', async () => {
    const range = { from: '2021-05-01', to: '2021-05-02' };
    assertBadRequest(await rangeQuery(system, { ...range, pageSize: '0' }), /page_size/);
    assertBadRequest(await rangeQuery(system, { ...range, pageSize: '-5' }), /page_size/);
    assertBadRequest(await rangeQuery(system, { ...range, pageSize: 'ten' }), /page_size/);
    assertBadRequest(await rangeQuery(system, { ...range, pageSize: '2.5' }), /page_size/);
    assertBadRequest(await rangeQuery(system, { ...range, page: '-1' }), /page/);
    assertBadRequest(await rangeQuery(system, { ...range, page: 'abc' }), /page/);
    assertBadRequest(await rangeQuery(system, { ...range, page: '1e3' }), /page/);
    assertBadRequest(await rangeQuery(system, { ...range, page: '99999999999999999999' }), /page/);
  });

  test('the 10,000 cap: (page + 1) × page_size may not pass 10000', async () => {
    const range = { from: '2021-05-01', to: '2021-05-02' };
    // reaching result 10,000 exactly is allowed (past the data here, so 404, not 400)
    assertNotFound(await rangeQuery(system, { ...range, page: '199', pageSize: '50' }));
    assertFound(await rangeQuery(system, { ...range, pageSize: '10000' }), { count: 3, page: 0, pageSize: 10_000 });
    assertBadRequest(await rangeQuery(system, { ...range, page: '200', pageSize: '50' }), /10[,.]?000/);
    assertBadRequest(await rangeQuery(system, { ...range, pageSize: '10001' }), /10[,.]?000/);
    assertBadRequest(await rangeQuery(system, { ...range, page: '1', pageSize: '5001' }), /10[,.]?000/);
    assertBadRequest(await rangeQuery(system, { ...range, page: '999999999', pageSize: '999999999' }), /10[,.]?000/);
  });
});

describe('GET /query by time range: the 10,000 window with more than 10,000 events', () => {
  let system: TestSystem;
  const total = 10_001;
  const start = Date.UTC(2020, 0, 1);

  before(async () => {
    system = await mlog.addSystem({ keyType: 'ec-p256' });
    const events: Event[] = [];
    for (let i = 0; i < total; i++) events.push({ event_time: new Date(start + i * 1000).toISOString(), event_type: 'Cap.Event', seq: i });
    await registerMany(system, events);
  });

  test('record-count is the exact total past 10,000 and page=199&page_size=50 answers the last reachable page', async () => {
    const range = { from: '2020-01-01', to: '2020-02-01' };
    const first = assertFound(await rangeQuery(system, range), { count: total, page: 0, pageSize: 50 });
    assert.deepEqual(seqs(first), Array.from({ length: 50 }, (_, k) => total - 1 - k));
    const last = assertFound(await rangeQuery(system, { ...range, page: '199', pageSize: '50' }), { count: total, page: 199, pageSize: 50 });
    // newest first: position k holds seq total-1-k; positions 9950 … 9999
    assert.deepEqual(seqs(last), Array.from({ length: 50 }, (_, k) => total - 1 - (9950 + k)));
    assertBadRequest(await rangeQuery(system, { ...range, page: '200', pageSize: '50' }), /10[,.]?000/);
  });
});

describe('GET /query by time range: filter', () => {
  let system: TestSystem;
  const range = { from: '2021-06-01', to: '2021-06-02' };
  const events: Event[] = [
    {
      event_time: '2021-06-01T10:00:00Z',
      event_type: 'Doc.Created',
      seq: 'f1',
      user: 'IDNP-1',
      event_message: 'The certificate was issued to the applicant',
      details: { office: 'Chisinau', desk: 'A' },
      count: 42,
      tags: ['alpha', 'beta'],
      note: 'a,b=c',
    },
    {
      event_time: '2021-06-01T11:00:00Z',
      event_type: 'Doc.Deleted',
      seq: 'f2',
      user: 'IDNP-2',
      event_message: 'Record removed by the operator',
      details: { office: 'Balti', desk: 'B' },
      count: 7,
      tags: ['gamma'],
      note: 'plain',
      active: false,
    },
    {
      event_time: '2021-06-01T12:00:00Z',
      event_type: 'Doc.Viewed',
      seq: 'f3',
      user: 'IDNP-1',
      event_message: 'The record was viewed',
      details: { office: 'Chișinău', desk: 'A' },
      count: 42.5,
      tags: ['beta'],
      note: 'a',
      active: true,
      event_details: { secret: 'hidden' },
    },
  ];

  async function filtered(filter: string): Promise<HttpAnswer> {
    return rangeQuery(system, { ...range, filter });
  }

  async function matches(filter: string): Promise<unknown[]> {
    const answer = await filtered(filter);
    if (answer.status === 404) {
      assertNotFound(answer);
      return [];
    }
    const result = assertFound(answer, { count: answer.json?.result?.length ?? -1, page: 0, pageSize: 50 });
    return seqs(result);
  }

  before(async () => {
    system = await mlog.addSystem({ keyType: 'ec-p256' });
    await registerBatch(system, events);
  });

  test('without a filter (or an empty one) every event of the range', async () => {
    assert.deepEqual(await matches(''), ['f3', 'f2', 'f1']);
    const answer = await rangeQuery(system, range);
    assert.deepEqual(seqs(assertFound(answer, { count: 3, page: 0, pageSize: 50 })), ['f3', 'f2', 'f1']);
  });

  test('exact match on a predefined keyword field', async () => {
    assert.deepEqual(await matches('user=IDNP-1'), ['f3', 'f1']);
    assert.deepEqual(await matches('user=IDNP-2'), ['f2']);
    assert.deepEqual(await matches('event_type=Doc.Viewed'), ['f3']);
    // exact: no prefix, no case folding
    assert.deepEqual(await matches('user=IDNP'), []);
    assert.deepEqual(await matches('user=idnp-1'), []);
  });

  test('exact match on a custom field', async () => {
    assert.deepEqual(await matches('note=plain'), ['f2']);
    assert.deepEqual(await matches('note=a'), ['f3']);
  });

  test('exact match on a nested custom field by its dotted name', async () => {
    assert.deepEqual(await matches('details.office=Chisinau'), ['f1']);
    assert.deepEqual(await matches(`details.office=${enc('Chișinău')}`), ['f3']);
    assert.deepEqual(await matches('details.desk=A'), ['f3', 'f1']);
  });

  test('a number sent as a number matches its text; a boolean too', async () => {
    assert.deepEqual(await matches('count=42'), ['f1']);
    assert.deepEqual(await matches('count=42.5'), ['f3']);
    assert.deepEqual(await matches('count=7'), ['f2']);
    assert.deepEqual(await matches('active=true'), ['f3']);
    assert.deepEqual(await matches('active=false'), ['f2']);
  });

  test('an array field matches when any element does', async () => {
    assert.deepEqual(await matches('tags=beta'), ['f3', 'f1']);
    assert.deepEqual(await matches('tags=alpha'), ['f1']);
    assert.deepEqual(await matches('tags=gamma'), ['f2']);
  });

  test('event_message is full-text: a word of the message matches', async () => {
    assert.deepEqual(await matches('event_message=certificate'), ['f1']);
    assert.deepEqual(await matches('event_message=record'), ['f3', 'f2']);
    assert.deepEqual(await matches('event_message=Record'), ['f3', 'f2']);
    assert.deepEqual(await matches(`event_message=${enc('record viewed')}`), ['f3']);
    assert.deepEqual(await matches('event_message=nonexistentword'), []);
  });

  test('a repeated field means any of its values', async () => {
    assert.deepEqual(await matches('event_type=Doc.Created,event_type=Doc.Deleted'), ['f2', 'f1']);
    assert.deepEqual(await matches('event_message=certificate,event_message=removed'), ['f2', 'f1']);
    assert.deepEqual(await matches('user=IDNP-1,user=nobody'), ['f3', 'f1']);
  });

  test('two different fields are AND-ed', async () => {
    assert.deepEqual(await matches('user=IDNP-1,event_type=Doc.Viewed'), ['f3']);
    assert.deepEqual(await matches('user=IDNP-2,event_type=Doc.Viewed'), []);
    assert.deepEqual(await matches('details.desk=A,tags=alpha,event_message=certificate'), ['f1']);
    assert.deepEqual(await matches('user=IDNP-1,event_type=Doc.Created,event_type=Doc.Viewed,tags=beta'), ['f3', 'f1']);
  });

  test('a value carrying "," and "=" as %2C / %3D matches an event holding them', async () => {
    assert.deepEqual(await matches('note=a%2Cb%3Dc'), ['f1']);
    assert.deepEqual(await matches('note=a%2cb%3dc'), ['f1']);
    assert.deepEqual(await matches('note=a%2Cb%3Dc,user=IDNP-1'), ['f1']);
    // the whole filter percent-encoded once more, as some clients send it
    assert.deepEqual(await matches(enc('note=a%2Cb%3Dc')), ['f1']);
    // unencoded, "," splits the pair: note=a, and a pair "b=c" naming an unknown field
    assertBadRequest(await filtered('note=a,b=c'), /"b"/);
  });

  test('the filter is reported on page and page_size like any range query', async () => {
    const answer = await rangeQuery(system, { ...range, filter: 'user=IDNP-1', page: '1', pageSize: '1' });
    assert.deepEqual(seqs(assertFound(answer, { count: 2, page: 1, pageSize: 1 })), ['f1']);
  });

  test('refused with 400: an unknown field, event_details, @is, _index, _id, a pair without "=", an object field', async () => {
    assertBadRequest(await filtered('nosuchfield=1'), /nosuchfield/);
    assertBadRequest(await filtered('event_details=hidden'), /event_details/);
    assertBadRequest(await filtered('event_details.secret=hidden'), /event_details/);
    assertBadRequest(await filtered(`${enc('@is')}=${enc(system.code)}`), /@is/);
    assertBadRequest(await filtered(`@is=${system.code}`), /@is/);
    assertBadRequest(await filtered('@uid=x'), /@uid/);
    assertBadRequest(await filtered('_index=x'), /_index/);
    assertBadRequest(await filtered('_id=x'), /_id/);
    assertBadRequest(await filtered('user'), /=/);
    assertBadRequest(await filtered('user=IDNP-1,event_type'), /=/);
    assertBadRequest(await filtered('=IDNP-1'));
    assertBadRequest(await filtered('details=Chisinau'), /details/);
    assertBadRequest(await filtered('event_time=2021-06-01'), /event_time/);
  });

  test('wildcards in a field name are not expanded', async () => {
    assertBadRequest(await filtered('details.*=Chisinau'));
    assertBadRequest(await filtered('*=IDNP-1'));
    assertBadRequest(await filtered('user*=IDNP-1'));
    assertBadRequest(await filtered('note*=plain'));
  });

  test('a crafted value matches nothing rather than everything (no query syntax)', async () => {
    for (const filter of [
      'user=*',
      `user=${enc('* OR 1=1')}`,
      'user=*+OR+1=1',
      'user=IDNP-*',
      'user=IDNP-?',
      `user=${enc('IDNP-1" OR "1"="1')}`,
      'note=*',
      'details.office=*',
      'tags=*',
      'count=*',
      'count=[0+TO+100]',
      'event_type=Doc.*',
      'event_message=*',
      `event_message=${enc('* OR 1=1')}`,
      `event_message=${enc('event_message:*')}`,
      `user=${enc('{"match_all":{}}')}`,
    ]) {
      const answer = await filtered(filter);
      assert.equal(answer.status, 404, `${filter} → ${answer.status} ${answer.text}`);
      assertNotFound(answer);
    }
  });

  test(
    'a filter naming an object field says that it holds nested fields',
    async () => {
      assertBadRequest(await filtered('details=Chisinau'), /nested|details\.</);
    },
  );

  test('malformed percent-encoding in the filter → 400', async () => {
    assertBadRequest(await filtered('user=%ZZ'));
    assertBadRequest(await filtered('us%er=x'));
  });
});

describe('GET /query by time range: pagination', () => {
  let system: TestSystem;
  const range = { from: '2021-07-01', to: '2021-07-02' };
  const base = Date.UTC(2021, 6, 1);
  const expected = new Map<number, string>();
  const total = 130;

  before(async () => {
    system = await mlog.addSystem({ keyType: 'ec-p256' });
    // 130 events: distinct times, and groups sharing the SAME event_time, spread over three calls
    // (so that ties span several UIDs), the calls interleaving the times.
    const all: Event[] = [];
    for (let seq = 0; seq < total; seq++) {
      // seq 0..59 every minute; 60..129 in groups of 10 sharing one instant
      const minute = seq < 60 ? seq : 100 + Math.floor((seq - 60) / 10);
      const eventTime = new Date(base + minute * 60_000).toISOString();
      expected.set(seq, eventTime);
      all.push({ event_time: eventTime, event_type: 'Page.Event', seq, user: `U-${seq % 3}` });
    }
    const calls: Event[][] = [[], [], []];
    all.forEach((event, index) => calls[index % 3]?.push(event));
    for (const batch of calls) await registerBatch(system, batch);
  });

  async function page(number: number, size: number, filter?: string): Promise<Event[]> {
    const answer = await rangeQuery(system, { ...range, page: String(number), pageSize: String(size), ...(filter === undefined ? {} : { filter }) });
    return assertFound(answer, { count: filter === undefined ? total : answer.json?.pagination?.['record-count'], page: number, pageSize: size });
  }

  test('record-count is the exact total past 50; the default page holds 50', async () => {
    const answer = await rangeQuery(system, range);
    assert.equal(assertFound(answer, { count: total, page: 0, pageSize: 50 }).length, 50);
  });

  test('pages of 25 never overlap or skip, newest first, stable across repeated calls', async () => {
    const seen: number[] = [];
    const pages: Event[][] = [];
    for (let number = 0; number < 6; number++) {
      const result = await page(number, 25);
      assert.equal(result.length, number < 5 ? 25 : 5, `page ${number}`);
      pages.push(result);
      seen.push(...(result.map((event) => event.seq) as number[]));
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total, 'no event on two pages');
    assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: total }, (_, seq) => seq), 'no event skipped');
    const times = seen.map((seq) => Date.parse(expected.get(seq) as string));
    for (let i = 1; i < times.length; i++) assert.ok((times[i - 1] as number) >= (times[i] as number), `newest first at position ${i}`);
    // each event as registered
    for (const result of pages) {
      for (const event of result) assert.equal(event.event_time, expected.get(event.seq as number));
    }
    // the same pages again, in the same order
    for (let number = 0; number < 6; number++) assert.deepEqual(await page(number, 25), pages[number], `page ${number} repeated`);
    // other page sizes give the same order
    const bySeven: unknown[] = [];
    for (let number = 0; number * 7 < total; number++) bySeven.push(...seqs(await page(number, 7)));
    assert.deepEqual(bySeven, seen);
    assert.deepEqual(seqs(await page(0, total)), seen);
  });

  test('pages of a filtered query do not overlap or skip either', async () => {
    const seen: unknown[] = [];
    for (let number = 0; number < 4; number++) seen.push(...seqs(await page(number, 13, 'user=U-1')));
    const wanted = Array.from({ length: total }, (_, seq) => seq).filter((seq) => seq % 3 === 1);
    assert.equal(seen.length, wanted.length);
    assert.deepEqual([...(seen as number[])].sort((x, y) => x - y), wanted);
  });

  test('a page past the end → 404', async () => {
    assertNotFound(await rangeQuery(system, { ...range, page: '6', pageSize: '25' }));
    assertNotFound(await rangeQuery(system, { ...range, page: '100', pageSize: '25' }));
  });
});

describe('GET /query: isolation between information systems', () => {
  let one: TestSystem;
  let two: TestSystem;
  let prefix: TestSystem;
  let extended: TestSystem;
  const uids = new Map<string, string>();
  const range = { from: '2021-08-01', to: '2021-08-02' };
  const shared = (seq: string): Event[] => [
    { event_time: '2021-08-01T10:00:00Z', event_type: 'Same.Event', user: 'IDNP-SAME', office: 'Chisinau', seq: `${seq}-1` },
    { event_time: '2021-08-01T11:00:00Z', event_type: 'Same.Event', user: 'IDNP-SAME', office: 'Chisinau', seq: `${seq}-2` },
  ];

  before(async () => {
    const base = uniqueCode('pfx');
    [one, two, prefix, extended] = await Promise.all([
      mlog.addSystem({ keyType: 'ec-p256' }),
      mlog.addSystem({ keyType: 'ec-p256' }),
      mlog.addSystem({ code: base, keyType: 'ec-p256' }),
      mlog.addSystem({ code: `${base}-test`, keyType: 'ec-p256' }),
    ]);
    for (const [system, name] of [
      [one, 'one'],
      [two, 'two'],
      [prefix, 'prefix'],
      [extended, 'extended'],
    ] as const) {
      uids.set(name, await registerBatch(system, shared(name)));
    }
    // a field only the extended IS has (one as a keyword, one as an object)
    await registerBatch(extended, [
      { event_time: '2021-08-01T12:00:00Z', event_type: 'Only.Extended', only_in_extended: 'v', only_object: { inner: 'x' } },
    ]);
    await registerBatch(prefix, [
      { event_time: '2021-08-01T12:00:00Z', event_type: 'Only.Prefix', only_object: 'x', object_in_prefix: { inner: 'x' } },
    ]);
    await registerBatch(extended, [{ event_time: '2021-08-01T13:00:00Z', event_type: 'Only.Extended', object_in_prefix: 'x' }]);
  });

  for (const [name, expectedCount] of [
    ['one', 2],
    ['two', 2],
    ['prefix', 3],
    ['extended', 4],
  ] as const) {
    test(`${name} sees only its own events in a range query and in filters`, async () => {
      const system = { one, two, prefix, extended }[name];
      const result = assertFound(await rangeQuery(system, range), { count: expectedCount, page: 0, pageSize: 50 });
      for (const event of result) {
        if (event['@uid'] !== uids.get(name)) assert.match(String(event.event_type), /^Only\./, `${name} sees ${JSON.stringify(event)}`);
      }
      const filteredResult = assertFound(await rangeQuery(system, { ...range, filter: 'user=IDNP-SAME,office=Chisinau' }), { count: 2, page: 0, pageSize: 50 });
      assert.deepEqual(seqs(filteredResult), [`${name}-2`, `${name}-1`]);
      for (const event of filteredResult) assert.equal(event['@uid'], uids.get(name));
      const byType = assertFound(await rangeQuery(system, { ...range, filter: 'event_type=Same.Event' }), { count: 2, page: 0, pageSize: 50 });
      assert.deepEqual(seqs(byType), [`${name}-2`, `${name}-1`]);
    });
  }

  test('a filter on @is or another reserved name is refused, never widening the search', async () => {
    for (const filter of [`@is=${two.code}`, `@is=${one.code}`, `_index=mlog-${two.code}-*`, '_id=x', `@uid=${uids.get('two')}`, `_source=x`, `@received=x`]) {
      assertBadRequest(await rangeQuery(one, { ...range, filter }));
    }
  });

  test("a UID of another IS is not found, also between a code and its extension (<x> and <x>-test)", async () => {
    assertNotFound(await one.call(`/query/${uids.get('two')}`));
    assertNotFound(await two.call(`/query/${uids.get('one')}`));
    assertNotFound(await prefix.call(`/query/${uids.get('extended')}`));
    assertNotFound(await extended.call(`/query/${uids.get('prefix')}`));
    const own = assertFound(await prefix.call(`/query/${uids.get('prefix')}`), { count: 2, page: 0, pageSize: DEFAULT_UID_PAGE_SIZE });
    assert.deepEqual(seqs(own), ['prefix-1', 'prefix-2']);
  });

  test('<x> does not see the events of <x>-test through a filter on a field only <x>-test has', async () => {
    const answer = await rangeQuery(prefix, { ...range, filter: 'event_type=Only.Extended' });
    assertNotFound(answer);
  });

  test('a field only another IS has is an unknown field (400)', async () => {
    assertBadRequest(await rangeQuery(one, { ...range, filter: 'only_in_extended=v' }), /only_in_extended/);
    assertBadRequest(await rangeQuery(two, { ...range, filter: 'only_object=x' }), /only_object/);
  });

  test(
    'a field only <x>-test has is an unknown field for <x> (400), as for any other IS',
    async () => {
      assertBadRequest(await rangeQuery(prefix, { ...range, filter: 'only_in_extended=v' }), /only_in_extended/);
    },
  );

  test(
    'a field that is an object in <x> is refused for <x> even where <x>-test holds it as a keyword',
    async () => {
      assertBadRequest(await rangeQuery(prefix, { ...range, filter: 'object_in_prefix=x' }), /object_in_prefix/);
    },
  );

  test(
    'a field that is an object only in <x>-test and a keyword in <x> is still filterable by <x>; an object only in <x>-test is refused',
    async () => {
      const result = assertFound(await rangeQuery(prefix, { ...range, filter: 'only_object=x' }), { count: 1, page: 0, pageSize: 50 });
      assert.deepEqual(seqTypes(result), ['Only.Prefix']);
      assertBadRequest(await rangeQuery(extended, { ...range, filter: 'only_object=x' }), /only_object/);
    },
  );
});

describe('GET /query: a request line too long for the server', () => {
  test(
    'is refused with a 4xx in the envelope',
    async () => {
      const system = await mlog.addSystem({ keyType: 'ec-p256' });
      const answer = await rangeQuery(system, { from: '2021-05-01', to: '2021-05-02', extra: [['legal_reason', 'r'.repeat(70_000)]] });
      assert.equal(answer.status, 431, answer.text);
      assert.equal(answer.json?.status, String(answer.status), `body: ${JSON.stringify(answer.text)}`);
      assert.equal(typeof answer.json?.message, 'string');
    },
  );
});
