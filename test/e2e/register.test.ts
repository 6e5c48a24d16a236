/**
 * POST /register end to end: real mutual TLS into a real MLog, over the real Elasticsearch, with the
 * stored documents read back from Elasticsearch directly. Covers the accepted body shapes, the
 * envelope, what is stored (and where), every validation refusal, atomicity and PersonalData copies.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { TestMLog, event, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';
import {
  closeInspectionClient,
  inspectionClient,
  countDocuments,
  documentsWithMarker,
  eventIndexPattern,
  monthOf,
  personalDataCopies,
  storedEvents,
  type StoredDocument,
} from '../helpers/elasticsearch-inspection.js';
import { PERSONAL_DATA_CONTRACT_FIELDS } from '../helpers/personal-data-contract.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_MESSAGE_BYTES = 262_144;

let mlog: TestMLog;
let is: TestSystem;

before(async () => {
  mlog = await TestMLog.start();
  is = await mlog.addSystem();
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

// ---------------------------------------------------------------------------------------------------
// Helpers

function marker(): string {
  return `marker-${randomUUID()}`;
}

/** Checks the status/message/timestamp envelope and returns the parsed body. */
function assertEnvelope(answer: HttpAnswer, status: number): Record<string, any> {
  assert.equal(answer.status, status, `expected HTTP ${status}, got ${answer.status}: ${answer.text}`);
  assert.match(String(answer.headers['content-type']), /^application\/json/, 'the answer is JSON');
  const body = answer.json as Record<string, any> | undefined;
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `the answer is a JSON object: ${answer.text}`);
  assert.equal(body.status, String(status), 'status is the HTTP status as a string');
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0, 'message is not empty');
  assert.doesNotMatch(body.message, /\n\s+at |\[object Object\]|undefined/, `message is plain English: ${body.message}`);
  assert.equal(typeof body.timestamp, 'string', 'timestamp is a string');
  assert.match(body.timestamp, /^\d{13}$/, 'timestamp is epoch milliseconds');
  assert.ok(Math.abs(Number(body.timestamp) - Date.now()) < 60_000, 'timestamp is now');
  return body;
}

/** A 200 with exactly status, message "OK", timestamp and a UUID; returns the UID. */
function assertRegistered(answer: HttpAnswer): string {
  const body = assertEnvelope(answer, 200);
  assert.equal(body.message, 'OK');
  assert.match(String(body.UID), UUID, 'UID is a UUID');
  assert.deepEqual(Object.keys(body).sort(), ['UID', 'message', 'status', 'timestamp']);
  return body.UID as string;
}

/** A refusal with `status`, without a UID, whose message matches every pattern. */
function assertRefused(answer: HttpAnswer, status: number, ...patterns: RegExp[]): string {
  const body = assertEnvelope(answer, status);
  assert.equal(body.UID, undefined, 'a refusal carries no UID');
  for (const pattern of patterns) assert.match(body.message, pattern);
  return body.message as string;
}

async function assertNothingStored(code: string, mark: string): Promise<void> {
  const found = await documentsWithMarker(code, mark);
  assert.deepEqual(
    found.map((doc) => `${doc.index}/${doc.id}`),
    [],
    'a refused call stores nothing',
  );
}

/** Checks MLog's own fields on each stored event of one call, and that the client's fields are intact. */
function assertStoredEvents(docs: StoredDocument[], sent: Record<string, unknown>[], code: string, uid: string, window: { from: number; to: number }): void {
  assert.equal(docs.length, sent.length, `${sent.length} events stored`);
  const months = new Set([monthOf(new Date(window.from)), monthOf(new Date(window.to))]);
  const ids = new Set<string>();
  docs.forEach((doc, position) => {
    const month = doc.index.slice(`mlog-${code}-`.length);
    assert.ok(doc.index.startsWith(`mlog-${code}-`) && months.has(month), `stored in mlog-${code}-<current month>, not ${doc.index}`);
    assert.match(month, /^\d{4}\.\d{2}$/);
    assert.equal(doc.source['@uid'], uid);
    assert.equal(doc.source['@is'], code);
    assert.equal(doc.source['@signed'], false);
    assert.equal(doc.source['@id'], doc.id, '@id is the document id');
    const received = Date.parse(String(doc.source['@received']));
    assert.ok(received >= window.from - 1000 && received <= window.to + 1000, `@received ${doc.source['@received']} is the time of the call`);
    assert.equal(monthOf(new Date(received)), month, 'the index is the month of @received (UTC)');
    ids.add(doc.id);
    const original = sent[position] as Record<string, unknown>;
    for (const [name, value] of Object.entries(original)) assert.deepEqual(doc.source[name], value, `field ${name} stored as sent`);
  });
  assert.equal(ids.size, docs.length, 'each event has its own id');
}

async function registerAndLoad(system: TestSystem, body: string | Buffer, sent: Record<string, unknown>[], headers?: Record<string, string>): Promise<{ uid: string; docs: StoredDocument[] }> {
  const from = Date.now();
  const answer = await system.call('/register', { method: 'POST', body, headers: headers ?? { 'Content-Type': 'application/json' } });
  const to = Date.now();
  const uid = assertRegistered(answer);
  const docs = await storedEvents(system.code, uid);
  assertStoredEvents(docs, sent, system.code, uid, { from, to });
  return { uid, docs };
}

/** A body of exactly `size` bytes: one event per line, padded, all carrying `mark` in event_correlation. */
function bodyOfExactly(size: number, mark: string): string {
  const lines: string[] = [];
  const time = new Date().toISOString();
  const line = (pad: number) => JSON.stringify({ event_time: time, event_type: 'Test.Size', event_correlation: mark, pad: 'p'.repeat(pad) });
  const base = line(0).length;
  let remaining = size;
  for (;;) {
    const separator = lines.length === 0 ? 0 : 1;
    const room = remaining - separator - base;
    assert.ok(room >= 0);
    if (room <= 30_000) {
      lines.push(line(room));
      break;
    }
    const pad = Math.min(30_000, room - base - 1);
    lines.push(line(pad));
    remaining -= separator + base + pad;
  }
  const body = lines.join('\n');
  assert.equal(Buffer.byteLength(body), size);
  return body;
}

// ---------------------------------------------------------------------------------------------------

describe('POST /register accepts', () => {
  test('one JSON event: 200 with a UID, stored in mlog-<code>-<yyyy.MM> with @uid, @is, @received, @signed=false', async () => {
    const sent = event({ event_id: 'E-1', legal_basis: 'Law 133/2011', user: '2000000000001', event_message: 'one event' });
    const { docs } = await registerAndLoad(is, JSON.stringify(sent), [sent]);
    assert.equal(docs[0]?.index, `mlog-${is.code}-${monthOf(new Date(String(docs[0]?.source['@received'])))}`);
  });

  for (const [label, headers] of [
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['application/x-www-form-urlencoded (not parsed as a form)', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['no Content-Type', {}],
    ['application/json; charset=utf-8', { 'Content-Type': 'application/json; charset=utf-8' }],
    ['application/octet-stream', { 'Content-Type': 'application/octet-stream' }],
  ] as const) {
    test(`the same body sent as ${label}`, async () => {
      // "&" and "=" would split the body if it were read as a form.
      const sent = event({ event_message: 'a=1&b=2&c', legal_reason: 'x=y', note: 'k=v&w' });
      await registerAndLoad(is, JSON.stringify(sent), [sent], headers);
    });
  }

  test('a pretty-printed single object spread over several lines is one event', async () => {
    const sent = event({ event_message: 'pretty', nested: { a: [1, 2], b: { c: 'd' } } });
    const { docs } = await registerAndLoad(is, JSON.stringify(sent, null, 2), [sent]);
    assert.equal(docs.length, 1);
  });

  test('a pretty-printed object with CRLF line endings is one event', async () => {
    const sent = event({ event_message: 'pretty crlf' });
    await registerAndLoad(is, JSON.stringify(sent, null, 4).replace(/\n/g, '\r\n'), [sent]);
  });

  test('a batch of 3 lines (with a blank line and CRLF endings): one UID, 3 events with distinct ids, in order', async () => {
    const sent = [event({ event_id: 'b-1' }), event({ event_id: 'b-2', n: 2 }), event({ event_id: 'b-3', flag: true })];
    const body = `${JSON.stringify(sent[0])}\r\n\r\n${JSON.stringify(sent[1])}\r\n${JSON.stringify(sent[2])}\r\n`;
    const { uid, docs } = await registerAndLoad(is, body, sent);
    assert.deepEqual(
      docs.map((doc) => doc.source.event_id),
      ['b-1', 'b-2', 'b-3'],
    );
    assert.ok(docs.every((doc) => doc.source['@uid'] === uid));
  });

  test('a body that starts with a UTF-8 byte order mark', async () => {
    const sent = event({ event_message: 'with BOM' });
    await registerAndLoad(is, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(sent))]), [sent]);
  });

  test('a body of exactly 262,144 bytes', async () => {
    const mark = marker();
    const body = bodyOfExactly(MAX_MESSAGE_BYTES, mark);
    const answer = await is.register(body);
    const uid = assertRegistered(answer);
    const docs = await storedEvents(is.code, uid);
    assert.equal(docs.length, body.split('\n').length);
  });
});

describe('custom fields', () => {
  test('strings, numbers, booleans, arrays and nested objects come back from GET /query/{uid} exactly as sent', async () => {
    const sent = event({
      event_id: 'custom-1',
      text: 'Ștefan cel Mare și Sfânt — „ghilimele” 😀',
      integer: 42,
      negative: -7,
      decimal: 3.25,
      yes: true,
      no: false,
      nothing: null,
      list: ['a', 'b', 'c'],
      numbers: [1, 2.5, -3],
      mixed: ['x', 1, true],
      empty_list: [],
      matrix: [
        [1, 2],
        [3, 4],
      ],
      nested: { level1: { level2: { value: 'deep', count: 3, ok: true } }, tags: ['t1', 't2'] },
      people: [
        { name: 'Ion', age: 30 },
        { name: 'Maria', roles: ['admin', 'user'] },
      ],
      empty_object: {},
      event_details: { stack: ['frame 1', 'frame 2'], code: 500 },
      legal_basis: ['Law 133/2011', 'Law 142/2018'],
    });
    const { uid, docs } = await registerAndLoad(is, JSON.stringify(sent), [sent]);
    assert.deepEqual(docs[0]?.source.nested, sent.nested);

    const answer = await is.call(`/query/${uid}`);
    const body = assertEnvelope(answer, 200);
    assert.equal(body.message, 'OK');
    assert.deepEqual(body.result, [{ ...sent, '@uid': uid }]);
    assert.equal(body.pagination['record-count'], 1);
    assert.equal(body.pagination.page, 0);
  });

  test('an integer past 2^53 (a 16-digit account number sent as a JSON number) is refused, naming the field, rather than altered', async () => {
    const mark = marker();
    const body = `{"event_time":"${new Date().toISOString()}","event_type":"Test.Event","event_correlation":"${mark}","account":9999999999999999}`;
    assertRefused(await is.register(body), 400, /account/, /send it as a string/);
    await assertNothingStored(is.code, mark);
    const asString = body.replace('9999999999999999', '"9999999999999999"');
    const uid = assertRegistered(await is.register(asString));
    const answer = await is.call(`/query/${uid}`);
    assert.match(answer.text, /"account":"9999999999999999"/);
  });

  test('a number beyond the double range (1e400) is refused or kept, not silently stored as null', async () => {
    const mark = marker();
    const body = `{"event_time":"${new Date().toISOString()}","event_type":"Test.Event","event_correlation":"${mark}","huge":1e400}`;
    const answer = await is.register(body);
    if (answer.status === 400) {
      assertRefused(answer, 400, /huge/);
      return;
    }
    const uid = assertRegistered(answer);
    const docs = await storedEvents(is.code, uid);
    assert.notEqual(docs[0]?.source.huge, null, 'the value sent is not replaced by null');
  });

  test('custom values are searchable as strings by their dotted names', async () => {
    const mark = marker();
    const sent = event({ event_correlation: mark, amount: 1234, active: true, address: { city: 'Chișinău', zip: 'MD-2001' } });
    await registerAndLoad(is, JSON.stringify(sent), [sent]);
    const pattern = eventIndexPattern(is.code);
    assert.equal(await countDocuments(pattern, { bool: { filter: [{ term: { event_correlation: mark } }, { term: { amount: '1234' } }] } }), 1);
    assert.equal(await countDocuments(pattern, { bool: { filter: [{ term: { event_correlation: mark } }, { term: { active: 'true' } }] } }), 1);
    assert.equal(await countDocuments(pattern, { bool: { filter: [{ term: { event_correlation: mark } }, { term: { 'address.city': 'Chișinău' } }] } }), 1);
  });

  test('event_details as a string and as an object are both stored, and not searchable', async () => {
    const mark = marker();
    const asString = event({ event_correlation: mark, event_details: 'java.lang.IllegalStateException: boom\n\tat X.y(X.java:1)' });
    const asObject = event({ event_correlation: mark, event_details: { exception: 'IllegalStateException', frames: ['X.y', 'Z.w'], depth: 2 } });
    const { uid, docs } = await registerAndLoad(is, `${JSON.stringify(asString)}\n${JSON.stringify(asObject)}`, [asString, asObject]);
    assert.equal(docs[0]?.source.event_details, asString.event_details);
    assert.deepEqual(docs[1]?.source.event_details, asObject.event_details);

    const pattern = eventIndexPattern(is.code);
    const inCall = (clause: Record<string, unknown>) => ({ bool: { filter: [{ term: { '@uid': uid } }], must: [clause] } });
    assert.equal(await countDocuments(pattern, inCall({ exists: { field: 'event_details' } })), 0, 'event_details is not indexed');
    assert.equal(await countDocuments(pattern, inCall({ term: { event_details: asString.event_details } })), 0);
    assert.equal(await countDocuments(pattern, inCall({ term: { 'event_details.exception': 'IllegalStateException' } })), 0);
    assert.equal(await countDocuments(pattern, inCall({ query_string: { query: 'IllegalStateException' } })), 0);
    assert.equal(await countDocuments(pattern, inCall({ match_all: {} })), 2);
  });
});

describe('event_time', () => {
  const accepted: [string, string][] = [
    ['2024-03-01', '2024-03-01T00:00:00.000Z'],
    ['2024-03-01T10:00:00', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T10:00:00Z', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T10:00:00.5Z', '2024-03-01T10:00:00.500Z'],
    ['2024-03-01T10:00:00.123Z', '2024-03-01T10:00:00.123Z'],
    ['2024-03-01T10:00:00.123456789Z', '2024-03-01T10:00:00.123Z'],
    ['2024-03-01T10:00:00.1234567+02:00', '2024-03-01T08:00:00.123Z'],
    ['2024-03-01T10:00:00+02', '2024-03-01T08:00:00.000Z'],
    ['2024-03-01T10:00:00-0530', '2024-03-01T15:30:00.000Z'],
    ['2024-03-01T10:00:00.250+0230', '2024-03-01T07:30:00.250Z'],
    ['2024-03-01T10:00:00.1234567-03', '2024-03-01T13:00:00.123Z'],
    ['2024-03-01T10:00:00+02:00', '2024-03-01T08:00:00.000Z'],
    ['2024-02-29T23:59:59.9999999Z', '2024-02-29T23:59:59.999Z'],
  ];
  for (const [time, instant] of accepted) {
    test(`"${time}" is accepted and stored as the instant ${instant}`, async () => {
      const mark = marker();
      const sent = event({ event_time: time, event_correlation: mark });
      await registerAndLoad(is, JSON.stringify(sent), [sent]);
      const millis = Date.parse(instant);
      const found = await countDocuments(eventIndexPattern(is.code), {
        bool: { filter: [{ term: { event_correlation: mark } }, { range: { event_time: { gte: millis, lt: millis + 1, format: 'epoch_millis' } } }] },
      });
      assert.equal(found, 1, `Elasticsearch reads ${time} as ${instant}`);
    });
  }

  const refused: [string, unknown, RegExp][] = [
    ['missing', undefined, /event_time.*missing|missing.*event_time/],
    // MLog's own words, not Elasticsearch's date parser (which refuses these too, in other words).
    ['2024-02-30 (not a real date)', '2024-02-30', /^Line 1: event_time "2024-02-30" is not a real date \(2024-02-30 does not exist\)\.$/],
    ['2023-02-29 (not a leap year)', '2023-02-29T10:00:00Z', /^Line 1: event_time "2023-02-29T10:00:00Z" is not a real date \(2023-02-29 does not exist\)\.$/],
    ['01/03/2024', '01/03/2024', /event_time/],
    ['a space instead of T', '2024-03-01 10:00:00', /event_time/],
    ['no seconds', '2024-03-01T10:00', /event_time/],
    ['single-digit month', '2024-3-01', /event_time/],
    ['an empty fraction', '2024-03-01T10:00:00.Z', /event_time/],
    ['a 10-digit fraction', '2024-03-01T10:00:00.1234567890Z', /^Line 1: event_time "2024-03-01T10:00:00\.1234567890Z" is not in the form YYYY-MM-dd\[THH:mm:ss\[\.fraction\]\[Z\|±HH\[mm\]\|±HH:mm\]\]\.$/],
    ['a one-digit offset', '2024-03-01T10:00:00+2', /event_time/],
    ['hour 24', '2024-03-01T24:00:00Z', /^Line 1: event_time "2024-03-01T24:00:00Z" is not a real time of day \(24:00:00\)\.$/],
    ['a zone name', '2024-03-01T10:00:00 Europe/Chisinau', /event_time/],
    ['an empty string', '', /event_time/],
    ['a number (epoch millis)', 1709287200000, /event_time/],
  ];
  for (const [label, value, pattern] of refused) {
    test(`event_time ${label} → 400 naming event_time`, async () => {
      const mark = marker();
      const sent = event({ event_correlation: mark });
      if (value === undefined) delete sent.event_time;
      else sent.event_time = value;
      assertRefused(await is.register(sent), 400, pattern);
      await assertNothingStored(is.code, mark);
    });
  }
});

describe('POST /register refuses', () => {
  test('an empty body → 400', async () => {
    assertRefused(await is.register(''), 400, /empty/i);
  });

  test('a body of blank lines only → 400', async () => {
    assertRefused(await is.register('\r\n\n   \n\t\n'), 400, /empty|no event/i);
  });

  test('line 2 of a batch that is neither JSON nor a JWS → 400 naming line 2', async () => {
    const mark = marker();
    const body = [JSON.stringify(event({ event_correlation: mark })), 'event_type=Test&event_time=2024-03-01', JSON.stringify(event({ event_correlation: mark }))].join('\n');
    assertRefused(await is.register(body), 400, /Line 2\b/, /neither a JSON object nor a JWS/);
    await assertNothingStored(is.code, mark);
  });

  test('a JSON array → 400', async () => {
    const mark = marker();
    assertRefused(await is.register(JSON.stringify([event({ event_correlation: mark })])), 400, /Line 1\b/, /array/);
    await assertNothingStored(is.code, mark);
  });

  test('a JSON scalar → 400', async () => {
    assertRefused(await is.register('"just a string"'), 400, /Line 1\b/);
  });

  test('a line that starts like an object but is not valid JSON → 400', async () => {
    assertRefused(await is.register('{"event_time": "2024-03-01", "event_type": '), 400, /Line 1\b/, /JSON/);
  });

  test('a duplicate top-level key → 400 naming the key', async () => {
    const mark = marker();
    const body = `{"event_time":"2024-03-01T10:00:00Z","event_type":"A","event_correlation":"${mark}","event_type":"B"}`;
    assertRefused(await is.register(body), 400, /Line 1\b/, /"event_type"/, /more than once/);
    await assertNothingStored(is.code, mark);
  });

  test('a duplicate nested key → 400 naming its dotted path, in the right line of a batch', async () => {
    const mark = marker();
    const body = [
      JSON.stringify(event({ event_correlation: mark })),
      `{"event_time":"2024-03-01T10:00:00Z","event_type":"A","event_correlation":"${mark}","outer":{"inner":{"k":1,"k":2}}}`,
    ].join('\n');
    assertRefused(await is.register(body), 400, /Line 2\b/, /outer\.inner\.k/, /more than once/);
    await assertNothingStored(is.code, mark);
  });

  test('a duplicate key inside a pretty-printed object → 400 naming the key', async () => {
    const mark = marker();
    const body = `{\n  "event_time": "2024-03-01T10:00:00Z",\n  "event_type": "A",\n  "event_correlation": "${mark}",\n  "user": "1",\n  "user": "2"\n}`;
    assertRefused(await is.register(body), 400, /"user"/, /more than once/);
    await assertNothingStored(is.code, mark);
  });

  for (const [label, value, pattern] of [
    ['missing', undefined, /event_type.*missing|missing.*event_type/],
    ['empty', '', /event_type.*empty|empty.*event_type/],
    ['a number', 42, /event_type.*string/],
    ['null', null, /event_type.*string/],
    ['an array', ['Test.Event'], /event_type.*string/],
    ['an object', { name: 'Test.Event' }, /event_type.*string/],
  ] as [string, unknown, RegExp][]) {
    test(`event_type ${label} → 400 naming event_type`, async () => {
      const mark = marker();
      const sent = event({ event_correlation: mark });
      if (value === undefined) delete sent.event_type;
      else sent.event_type = value;
      assertRefused(await is.register(sent), 400, /Line 1\b/, pattern);
      await assertNothingStored(is.code, mark);
    });
  }

  for (const [label, fields, pattern] of [
    ['_id at the top level', { _id: 'x' }, /"_id"/],
    ['_source at the top level', { _source: {} }, /"_source"/],
    ['@uid at the top level', { '@uid': 'mine' }, /"@uid"/],
    ['@timestamp at the top level', { '@timestamp': '2024-03-01' }, /"@timestamp"/],
    ['a nested _name', { outer: { inner: { _hidden: 1 } } }, /"outer\.inner\._hidden"/],
    ['a nested @name', { outer: { '@kid': 'x' } }, /"outer\.@kid"/],
    ['an @name inside an array of objects', { list: [{ ok: 1 }, { '@signed': true }] }, /list\[1\]\.@signed/],
    ['a _name inside an array of objects', { list: [{ _type: 'x' }] }, /list\[0\]\._type/],
    ['a _name inside event_details', { event_details: { _raw: 'x' } }, /event_details\._raw/],
  ] as [string, Record<string, unknown>, RegExp][]) {
    test(`a reserved field name: ${label} → 400 naming the field`, async () => {
      const mark = marker();
      assertRefused(await is.register(event({ event_correlation: mark, ...fields })), 400, /Line 1\b/, pattern, /reserved/);
      await assertNothingStored(is.code, mark);
    });
  }

  test('a string of 32,766 UTF-8 bytes is accepted, also in an array and in multi-byte characters', async () => {
    const sent = event({
      long_ascii: 'a'.repeat(32_766),
      long_list: ['short', 'b'.repeat(32_766)],
      long_two_byte: 'ă'.repeat(16_383),
      long_three_byte: `${'ș'.repeat(16_382)}xx`,
      nested: { long: 'c'.repeat(32_766) },
    });
    assert.equal(Buffer.byteLength(sent.long_two_byte as string), 32_766);
    assert.equal(Buffer.byteLength(sent.long_three_byte as string), 32_766);
    await registerAndLoad(is, JSON.stringify(sent), [sent]);
  });

  for (const [label, fields, pattern] of [
    ['an ASCII string', { long: 'a'.repeat(32_767) }, /long\b/],
    ['a string in an array', { list: ['short', 'b'.repeat(32_767)] }, /list\[1\]/],
    ['a string of two-byte characters', { long: `${'ă'.repeat(16_383)}a` }, /long\b/],
    ['a 4-byte character past the limit', { long: `${'a'.repeat(32_763)}😀` }, /long\b/],
    ['a nested string', { outer: { inner: 'c'.repeat(32_767) } }, /outer\.inner/],
    ['event_message', { event_message: 'm'.repeat(32_767) }, /event_message/],
  ] as [string, Record<string, unknown>, RegExp][]) {
    test(`${label} of 32,767 UTF-8 bytes → 400 naming the field and the limit`, async () => {
      const mark = marker();
      assertRefused(await is.register(event({ event_correlation: mark, ...fields })), 400, /Line 1\b/, pattern, /32,?766/);
      await assertNothingStored(is.code, mark);
    });
  }

  test('a body over 262,144 bytes → 413 saying the limit', async () => {
    const mark = marker();
    const body = bodyOfExactly(MAX_MESSAGE_BYTES + 1, mark);
    assertRefused(await is.register(body), 413, /262,?144|256 ?KB/);
    await assertNothingStored(is.code, mark);
  });

  test('a custom field first a string, now an object (mapping conflict) → 400, not 500', async () => {
    const system = await mlog.addSystem();
    const first = event({ shape: 'a string' });
    await registerAndLoad(system, JSON.stringify(first), [first]);
    const mark = marker();
    assertRefused(await system.register(event({ event_correlation: mark, shape: { now: 'an object' } })), 400, /Line 1\b/, /shape/);
    await assertNothingStored(system.code, mark);
  });

  test('a custom field first an object, now a string (mapping conflict) → 400, not 500', async () => {
    const system = await mlog.addSystem();
    await registerAndLoad(system, JSON.stringify(event({ shape: { an: 'object' } })), [{ shape: { an: 'object' } }]);
    const mark = marker();
    assertRefused(await system.register(event({ event_correlation: mark, shape: 'now a string' })), 400, /Line 1\b/, /shape/);
    await assertNothingStored(system.code, mark);
  });

  test('an event with 1,100 distinct custom fields (over the index field limit) → 400, not 500', async () => {
    const system = await mlog.addSystem();
    const mark = marker();
    const fields: Record<string, string> = {};
    for (let i = 0; i < 1_100; i++) fields[`custom_field_${i}`] = `v${i}`;
    assertRefused(await system.register(event({ event_correlation: mark, ...fields })), 400, /Line 1\b/, /field/i, /limit/i);
    await assertNothingStored(system.code, mark);
  });

  test('a body that is not valid UTF-8 → 400', async () => {
    const mark = marker();
    const text = JSON.stringify(event({ event_correlation: mark, name: 'XX' }));
    const bytes = Buffer.from(text);
    const at = bytes.indexOf('XX');
    bytes[at] = 0xc3;
    bytes[at + 1] = 0x28; // 0xC3 followed by a non-continuation byte
    const answer = await is.call('/register', { method: 'POST', body: bytes, headers: { 'Content-Type': 'application/json' } });
    assertRefused(answer, 400, /UTF-8/);
    await assertNothingStored(is.code, mark);
  });

  test('a gzip Content-Encoding → 4xx, not 500, nothing stored', async () => {
    const mark = marker();
    const body = gzipSync(Buffer.from(JSON.stringify(event({ event_correlation: mark }))));
    const answer = await is.call('/register', { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } });
    assert.ok(answer.status >= 400 && answer.status < 500, `expected 4xx, got ${answer.status}: ${answer.text}`);
    assertRefused(answer, answer.status, /compress|encoding/i);
    await assertNothingStored(is.code, mark);
  });

  test('a predefined field holding an object → 400 naming the field', async () => {
    const mark = marker();
    assertRefused(await is.register(event({ event_correlation: mark, user: { idnp: '2000000000001' } })), 400, /Line 1\b/, /\buser\b/);
    await assertNothingStored(is.code, mark);
  });
});

describe('field names', () => {
  /** The names of every field in the mappings of the IS's event indices, dotted. */
  async function mappedFieldNames(code: string): Promise<string[]> {
    const mappings = await inspectionClient().indices.getMapping({ index: eventIndexPattern(code), ignore_unavailable: true, allow_no_indices: true });
    const names: string[] = [];
    const visit = (properties: Record<string, any> | undefined, prefix: string): void => {
      for (const [name, mapping] of Object.entries(properties ?? {})) {
        names.push(`${prefix}${name}`);
        visit(mapping.properties, `${prefix}${name}.`);
      }
    };
    for (const index of Object.values(mappings)) visit((index as any).mappings?.properties, '');
    return names;
  }

  test('a field name of 250,000 characters → 400 naming it shortened and the 256-byte limit; the index mapping does not grow', async () => {
    const system = await mlog.addSystem();
    const first = event({ known: 'x' });
    await registerAndLoad(system, JSON.stringify(first), [first]);
    const before = await mappedFieldNames(system.code);
    const mark = marker();
    const name = 'n'.repeat(250_000);
    const message = assertRefused(await system.register(event({ event_correlation: mark, [name]: 1 })), 400, /Line 1\b/, /250000 bytes/, /limit is 256 bytes/);
    assert.ok(message.length < 500, `the message does not quote the name whole (${message.length} characters)`);
    await assertNothingStored(system.code, mark);
    assert.deepEqual(await mappedFieldNames(system.code), before, 'the mapping is unchanged');
  });

  test('a dotted name of exactly 256 bytes is accepted and searchable by that name; 257 → 400', async () => {
    const name = `${'a'.repeat(100)}.${'b'.repeat(155)}`;
    const stored = marker();
    const sent = event({ event_correlation: stored, [name]: 'v' });
    await registerAndLoad(is, JSON.stringify(sent), [sent]);
    assert.equal(await countDocuments(eventIndexPattern(is.code), { bool: { filter: [{ term: { event_correlation: stored } }, { term: { [name]: 'v' } }] } }), 1);
    const mark = marker();
    assertRefused(await is.register(event({ event_correlation: mark, [`${name}b`]: 'v' })), 400, /Line 1\b/, /257 bytes/, /limit is 256 bytes/);
    await assertNothingStored(is.code, mark);
  });

  test('21 parts of a dotted name (past the 20-level depth) → 400 from MLog, not Elasticsearch\'s text', async () => {
    const mark = marker();
    const name = Array.from({ length: 21 }, (_, i) => `p${i}`).join('.');
    const message = assertRefused(await is.register(event({ event_correlation: mark, [name]: 'v' })), 400, /Line 1\b/, /nested 21 levels deep/, /limit is 20/);
    assert.doesNotMatch(message, /mapping depth|document_parsing/);
    await assertNothingStored(is.code, mark);
  });

  for (const name of ['.x', 'x.', 'x..y', 'a. .b']) {
    test(`the name "${name}" (an empty part) → 400 naming it, before Elasticsearch is asked`, async () => {
      const mark = marker();
      const message = assertRefused(await is.register(event({ event_correlation: mark, [name]: 'v' })), 400, /Line 1\b/, /empty part/);
      assert.ok(message.includes(`"${name}"`), message);
      assert.doesNotMatch(message, /illegal_argument|field name cannot|can't/i);
      await assertNothingStored(is.code, mark);
    });
  }

  test('{"a.b":1,"a":{"b":2}} (two names of one field) → 400 naming both', async () => {
    const mark = marker();
    assertRefused(await is.register(`{"event_time":"${new Date().toISOString()}","event_type":"Test.Event","event_correlation":"${mark}","a.b":1,"a":{"b":2}}`), 400, /Line 1\b/, /"a\.b" and "a\.b" both name the field a\.b/);
    await assertNothingStored(is.code, mark);
  });

  test('{"mix":[1,"a",{"z":1}]} → 400 saying mix holds both values and nested fields, not Elasticsearch\'s text', async () => {
    const mark = marker();
    const message = assertRefused(await is.register(event({ event_correlation: mark, mix: [1, 'a', { z: 1 }] })), 400, /Line 1\b/, /field mix is given both a value \(by "mix\[0\]"\) and nested fields \(by "mix\[2\]"\)/);
    assert.doesNotMatch(message, /can't merge/);
    await assertNothingStored(is.code, mark);
  });

  test('a dotted name under a predefined field ("user.name") → 400 naming it', async () => {
    const mark = marker();
    assertRefused(await is.register(event({ event_correlation: mark, 'user.name': 'x' })), 400, /Line 1\b/, /"user\.name" puts a nested field under user/);
    await assertNothingStored(is.code, mark);
  });

  test('the rules hold in a batch, a JWS line and a JWS payload of several events; nothing of the call is stored', async () => {
    const mark = marker();
    const good = event({ event_correlation: mark });
    const batch = [JSON.stringify(good), JSON.stringify(event({ event_correlation: mark, 'x.': 1 }))].join('\n');
    assertRefused(await is.register(batch), 400, /^Line 2: field name "x\." has an empty part/);
    const signedLine = await is.sign(event({ event_correlation: mark, 'a.b': 1, a: { b: 2 } }));
    assertRefused(await is.register(`${JSON.stringify(good)}\n${signedLine}`), 400, /^Line 2: field names "a\.b" and "a\.b" both name/);
    const payload = [JSON.stringify(good), JSON.stringify(event({ event_correlation: mark, ['k'.repeat(300)]: 1 }))].join('\n');
    assertRefused(await is.register(await is.sign(payload)), 400, /^Line 1, event 2 of the signed payload: field name "k{64}…" is 300 bytes/);
    const mixed = await is.sign(event({ event_correlation: mark, mix: [{ z: 1 }, 2] }));
    assertRefused(await is.register(mixed), 400, /^Line 1: field mix is given both a value \(by "mix\[1\]"\)/);
    await assertNothingStored(is.code, mark);
  });

  test('arrays of objects, event_details of any shape and one object reached by two spellings stay accepted', async () => {
    const sent = event({
      items: [{ id: 1, tags: ['a'] }, { id: 2, tags: [] }],
      request: { path: '/x' },
      'request.method': 'GET',
      event_details: { mix: [1, { z: 1 }], 'a.b': 1, a: { b: 2 } },
    });
    await registerAndLoad(is, JSON.stringify(sent), [sent]);
  });
});

describe('atomicity', () => {
  test('a batch whose 3rd line is invalid stores nothing of lines 1 and 2', async () => {
    const mark = marker();
    const lines = [
      event({ event_correlation: mark, event_id: `${mark}-1` }),
      event({ event_correlation: mark, event_id: `${mark}-2`, event_type: 'Test.PersonalData.Access', subject: '2000000000002' }),
      event({ event_correlation: mark, event_id: `${mark}-3`, event_type: '' }),
    ];
    assertRefused(await is.register(lines.map((line) => JSON.stringify(line)).join('\n')), 400, /Line 3\b/, /event_type/);
    await assertNothingStored(is.code, mark);
  });

  test('a batch whose 2nd line is refused by Elasticsearch (mapping conflict) leaves nothing of the batch', async () => {
    const system = await mlog.addSystem();
    await registerAndLoad(system, JSON.stringify(event({ shape: 'string' })), [{ shape: 'string' }]);
    const mark = marker();
    const lines = [
      event({ event_correlation: mark, event_id: `${mark}-1`, event_type: 'Test.PersonalData.Access', subject: '2000000000003' }),
      event({ event_correlation: mark, event_id: `${mark}-2`, shape: { conflicting: 'object' } }),
      event({ event_correlation: mark, event_id: `${mark}-3`, event_type: 'Test.PersonalData.Export', subject: '2000000000004' }),
      event({ event_correlation: mark, event_id: `${mark}-4` }),
    ];
    assertRefused(await system.register(lines.map((line) => JSON.stringify(line)).join('\n')), 400, /Line 2\b/, /shape/);
    await assertNothingStored(system.code, mark);
  });

  test('a batch that crosses the index field limit at line 7 leaves nothing of lines 1–6 (or 8)', async () => {
    const system = await mlog.addSystem();
    const mark = marker();
    const lines: string[] = [];
    for (let i = 0; i < 8; i++) {
      const fields: Record<string, string> = {};
      for (let j = 0; j < 150; j++) fields[`f${i}_${j}`] = 'v';
      lines.push(JSON.stringify(event({ event_correlation: mark, event_id: `${mark}-${i + 1}`, ...fields })));
    }
    assertRefused(await system.register(lines.join('\n')), 400, /Line 7\b/, /limit/i);
    await assertNothingStored(system.code, mark);
  });

  test('a batch whose 1st line conflicts with the mapping its own later line creates leaves nothing', async () => {
    const system = await mlog.addSystem();
    const mark = marker();
    const lines = [
      event({ event_correlation: mark, event_id: `${mark}-1`, fresh: 'first a string' }),
      event({ event_correlation: mark, event_id: `${mark}-2`, fresh: { then: 'an object' } }),
      event({ event_correlation: mark, event_id: `${mark}-3` }),
    ];
    assertRefused(await system.register(lines.map((line) => JSON.stringify(line)).join('\n')), 400, /Line 2\b/, /fresh/);
    await assertNothingStored(system.code, mark);
  });
});

describe('PersonalData', () => {
  const PROJECTED = PERSONAL_DATA_CONTRACT_FIELDS;

  test('a PersonalData event is copied into personaldata-<yyyy.MM> with the same id, carrying only the listed fields', async () => {
    const mark = marker();
    const sent = event({
      event_type: 'MPass.PersonalData.Access',
      event_time: '2024-03-01T10:00:00.1234567+02:00',
      event_id: 'internal-1',
      event_correlation: mark,
      event_level: 'info',
      event_source: 'api',
      event_message: 'Looked up a person',
      event_details: { secret: 'not copied' },
      legal_entity: '1003600000000',
      legal_basis: 'Law 133/2011',
      legal_reason: 'Application 42',
      user: '2000000000001',
      user_session: 'session-1',
      user_address: '10.0.0.1',
      subject: '2000000000002',
      subject_type: 'Person',
      subject_name: 'Ion Popescu',
      object: 'ABC 123',
      object_type: 'CarNumber',
      object_name: 'Car',
      custom_field: 'not copied',
      nested_custom: { also: 'not copied' },
    });
    const { uid, docs } = await registerAndLoad(is, JSON.stringify(sent), [sent]);
    const copies = await personalDataCopies(uid);
    assert.equal(copies.length, 1);
    const copy = copies[0] as StoredDocument;
    const stored = docs[0] as StoredDocument;
    assert.equal(copy.index, `personaldata-${monthOf(new Date(String(stored.source['@received'])))}`);
    assert.equal(copy.id, stored.id, 'the copy has the id of the stored event');
    const expected: Record<string, unknown> = {};
    for (const field of PROJECTED) expected[field] = sent[field];
    Object.assign(expected, { '@is': is.code, '@uid': uid, '@id': stored.id, '@received': stored.source['@received'] });
    assert.deepEqual(copy.source, expected);
  });

  test('only the listed fields that are present are copied', async () => {
    const mark = marker();
    const sent = event({ event_type: 'Test.PersonalData.Validate', event_correlation: mark, subject: ['2000000000005', '2000000000006'], event_message: 'no' });
    const { uid, docs } = await registerAndLoad(is, JSON.stringify(sent), [sent]);
    const copies = await personalDataCopies(uid);
    assert.equal(copies.length, 1);
    assert.deepEqual(copies[0]?.source, {
      event_time: sent.event_time,
      event_type: sent.event_type,
      event_correlation: mark,
      subject: sent.subject,
      '@is': is.code,
      '@uid': uid,
      '@id': docs[0]?.id,
      '@received': docs[0]?.source['@received'],
    });
  });

  test('a non-PersonalData event is not copied; in a mixed batch only the PersonalData events are', async () => {
    const sent = [
      event({ event_type: 'Test.Personal.Data', subject: '2000000000007' }),
      event({ event_type: 'Test.PersonalData.Export', subject: '2000000000008' }),
      event({ event_type: 'Test.personaldata.lowercase', subject: '2000000000009' }),
      event({ event_type: 'PersonalData', subject: '2000000000010' }),
    ];
    const { uid, docs } = await registerAndLoad(is, sent.map((line) => JSON.stringify(line)).join('\n'), sent);
    const copies = await personalDataCopies(uid);
    assert.deepEqual(
      copies.map((copy) => copy.id),
      [docs[1]?.id, docs[3]?.id],
    );
    assert.deepEqual(
      copies.map((copy) => copy.source.subject),
      ['2000000000008', '2000000000010'],
    );
  });
});

describe('routes', () => {
  test('an unknown route → 404 envelope', async () => {
    assertRefused(await is.call('/no-such-route'), 404);
    assertRefused(await is.call('/registerx', { method: 'POST', body: JSON.stringify(event()) }), 404);
  });

  test('GET /register → 404 envelope', async () => {
    assertRefused(await is.call('/register'), 404);
  });
});

describe('POST /register while the index refuses writes', () => {
  let blocked: TestMLog;
  before(async () => {
    blocked = await TestMLog.start();
  });
  after(async () => {
    await blocked.stop();
    await closeInspectionClient();
  });

  test('a write block on the IS index is answered 503 with Retry-After, not 400, and nothing is stored', async () => {
    const system = await blocked.addSystem();
    assertRegistered(await system.register(event()));
    const index = `mlog-${system.code}-${monthOf(new Date())}`;
    const client = inspectionClient();
    await client.indices.putSettings({ index, settings: { 'index.blocks.write': true } });
    try {
      const mark = marker();
      const answer = await system.register(event({ event_correlation: mark }));
      assert.equal(answer.status, 503, answer.text);
      assert.equal(answer.json.status, '503');
      assert.ok(Number(answer.headers['retry-after']) > 0);
      await client.indices.putSettings({ index, settings: { 'index.blocks.write': null } });
      await assertNothingStored(system.code, mark);
    } finally {
      await client.indices.putSettings({ index, settings: { 'index.blocks.write': null } });
    }
  });
});
