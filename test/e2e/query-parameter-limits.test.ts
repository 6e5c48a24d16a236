/**
 * End-to-end: query parameters that Elasticsearch could not take (a keyword value past 32,766 bytes,
 * a full-text filter of thousands of words, a 40,000-byte subject), control characters in parameters,
 * and the MLog.ClientQuery record's event_message with separators inside values. Through real mutual
 * TLS over the real Elasticsearch: each is a 400 naming the parameter and its limit, decided before
 * Elasticsearch is asked, and a record states exactly the query that was made.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { countFullTextWords, MAX_FULL_TEXT_WORDS, MAX_KEYWORD_PARAMETER_BYTES } from '../../src/events/query-limits.js';
import { closeInspectionClient, inspectionClient, searchDocuments } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

type Event = Record<string, unknown>;

const enc = encodeURIComponent;
const RANGE = 'event_time_from=2021-07-01&event_time_to=2021-07-02';

let mlog: TestMLog;
let system: TestSystem;
let portal: TestSystem;
let uid: string;

before(async () => {
  mlog = await TestMLog.start();
  [system, portal] = await Promise.all([mlog.addSystem({ keyType: 'ec-p256' }), mlog.addSystem({ permissions: ['personaldata:read'] })]);
  const answer = await system.register(
    [
      { event_time: '2021-07-01T10:00:00Z', event_type: 'Lim.Event', event_message: 'The permit was issued', ref: 'a,b=c;d', colour: 'red' },
      { event_time: '2021-07-01T11:00:00Z', event_type: 'Lim.Event', event_message: 'The permit was revoked', ref: 'plain', colour: 'blue' },
    ]
      .map((event) => JSON.stringify(event))
      .join('\n'),
  );
  assert.equal(answer.status, 200, answer.text);
  uid = answer.json.UID as string;
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

/** 400 in the envelope, its message matching every pattern. */
function assertRefused(answer: HttpAnswer, ...patterns: RegExp[]): void {
  assert.equal(answer.status, 400, answer.text);
  assert.deepEqual(Object.keys(answer.json).sort(), ['message', 'status', 'timestamp']);
  assert.equal(answer.json.status, '400');
  for (const pattern of patterns) assert.match(answer.json.message, pattern);
  assert.doesNotMatch(answer.json.message, /mapping|conflict|Elasticsearch/i);
}

/** The caller's MLog.ClientQuery records, read straight from Elasticsearch. */
async function clientQueryRecords(code: string): Promise<Event[]> {
  const documents = await searchDocuments(`mlog-${code}-*`, { term: { event_type: 'MLog.ClientQuery' } }, 1000);
  return documents.map((document) => document.source);
}

/** The parts of a record's event_message, each split on its first "=", as docs/api.md says: values percent-decoded, the filter part as written. */
function messageParts(message: string): Array<[string, string]> {
  return message.split(';').map((part) => {
    const equals = part.indexOf('=');
    const name = part.slice(0, equals);
    const value = part.slice(equals + 1);
    return [name, name === 'filter' ? value : decodeURIComponent(value)];
  });
}

/** The pairs of a record's filter part, as docs/api.md says to read them. */
function filterPairs(filterPart: string): Array<[string, string]> {
  if (filterPart === '') return [];
  return filterPart.split(',').map((pair) => {
    const equals = pair.indexOf('=');
    return [decodeURIComponent(pair.slice(0, equals)), decodeURIComponent(pair.slice(equals + 1))];
  });
}

const LIMIT = /32,?766 bytes/;
const over = 'x'.repeat(MAX_KEYWORD_PARAMETER_BYTES + 1);

describe('query parameters too long for Elasticsearch are refused with 400 before it is asked', () => {
  test('a filter value over 32,766 bytes on a keyword field (predefined or custom)', async () => {
    assertRefused(await system.call(`/query?${RANGE}&legal_basis=t&filter=user=${over}`), /filter/, /\buser\b/, LIMIT);
    assertRefused(await system.call(`/query?${RANGE}&legal_basis=t&filter=colour=${'y'.repeat(33_000)}`), /filter/, /colour/, LIMIT);
  });

  test(`an event_message filter of 15,000 words; ${MAX_FULL_TEXT_WORDS} words are still searched`, async () => {
    // one-letter words, so that 15,000 of them stay under the 32,766-byte limit of a value
    const words = (count: number): string => Array.from({ length: count }, (_, n) => String.fromCharCode(97 + (n % 26))).join('+');
    assertRefused(
      await system.call(`/query?${RANGE}&legal_basis=t&filter=event_message=${words(15_000)}`),
      /filter/,
      /event_message/,
      /15,?000 words/,
      new RegExp(`${MAX_FULL_TEXT_WORDS.toLocaleString('en-US')} words`),
    );
    // the limit counts the words of every event_message value of the filter together
    const half = words(MAX_FULL_TEXT_WORDS / 2 + 1);
    assertRefused(await system.call(`/query?${RANGE}&legal_basis=t&filter=event_message=${half},event_message=${half}`), /event_message/);
    // at the limit the search is made (and finds nothing): the limit leaves Elasticsearch's clause limit room
    const atLimit = await system.call(`/query?${RANGE}&legal_basis=t&filter=event_message=${words(MAX_FULL_TEXT_WORDS)}`);
    assert.equal(atLimit.status, 404, atLimit.text);
  });

  test('a filter naming a field of 40,000 characters: 400 quoting only its start', async () => {
    const answer = await system.call(`/query?${RANGE}&legal_basis=t&filter=${'f'.repeat(40_000)}=x`);
    assertRefused(answer, /unknown field/);
    assert.ok(answer.json.message.length < 300, `a message of ${answer.json.message.length} characters`);
  });

  test("MLog's word count of a full-text value is never below the words Elasticsearch's standard analyzer makes of it", async () => {
    const samples = [
      'Contract 42 signed by the director',
      "don't stop 1.5 abc123 x_y e-mail a.b.c a/b a:b",
      '中华人民共和国 ひらがな カタカナ ｶﾀｶﾅ ＡＢＣ ㄅㄆㄇ 한국어 텍스트',
      'aカaカaカ a1a1a1 1a1a ١٢٣ ٤٥',
      'a😀b 😀😀 👍🏽 © ® ™ + = < >',
      'Москва Chișinău ภาษาไทยภาษา עברית "quoted" שלום e\u0301t\u0301',
      'x'.repeat(700),
      `${'y'.repeat(254)}カ${'z'.repeat(300)}`,
    ];
    for (const text of samples) {
      const analyzed = await inspectionClient().indices.analyze({ analyzer: 'standard', text });
      const words = analyzed.tokens?.length ?? 0;
      assert.ok(countFullTextWords(text) >= words, `${JSON.stringify(text.slice(0, 40))}: MLog counts ${countFullTextWords(text)}, Elasticsearch makes ${words}`);
    }
  });

  test('GET /personal-data with a subject of 40,000 bytes', async () => {
    assertRefused(await portal.call(`/personal-data?subject=${'s'.repeat(40_000)}&legal_basis=t`), /subject/, LIMIT);
  });

  for (const name of ['legal_basis', 'legal_reason', 'legal_entity', 'user', 'user_address']) {
    test(`${name} over 32,766 bytes on /query by range, /query/{uid}, /query?uid= and /personal-data`, async () => {
      const basis = name === 'legal_basis' ? '' : '&legal_basis=t';
      assertRefused(await system.call(`/query?${RANGE}${basis}&${name}=${over}`), new RegExp(`\\b${name}\\b`), LIMIT);
      assertRefused(await system.call(`/query/${uid}?${name}=${over}`), new RegExp(`\\b${name}\\b`), LIMIT);
      assertRefused(await system.call(`/query?uid=${uid}&${name}=${over}`), new RegExp(`\\b${name}\\b`), LIMIT);
      assertRefused(await portal.call(`/personal-data?subject=s${basis}&${name}=${over}`), new RegExp(`\\b${name}\\b`), LIMIT);
    });
  }

  test('values of exactly 32,766 bytes are accepted and recorded', async () => {
    const longest = 'z'.repeat(MAX_KEYWORD_PARAMETER_BYTES);
    const answer = await system.call(`/query/${uid}?legal_reason=${longest}`);
    assert.equal(answer.status, 200, answer.text);
    const records = (await clientQueryRecords(system.code)).filter((record) => record.legal_reason === longest);
    assert.equal(records.length, 1);
  });
});

describe('control characters in query parameters are refused, and nothing is recorded', () => {
  const cases: Array<[string, string]> = [
    ['legal_basis', '%00'],
    ['legal_basis', 'Law%0D%0Afilter=forged'],
    ['legal_reason', 'a%0Ab'],
    ['user', 'u%09v'],
    ['legal_entity', '%7F'],
    ['user_address', '10.0.0.1%C2%85'],
  ];
  for (const [name, raw] of cases) {
    test(`${name}=${raw}`, async () => {
      const basis = name === 'legal_basis' ? '' : '&legal_basis=t';
      const message = new RegExp(`\\b${name}\\b.*control character`);
      assertRefused(await system.call(`/query?${RANGE}${basis}&${name}=${raw}`), message);
      assertRefused(await system.call(`/query/${uid}?${name}=${raw}`), message);
      assertRefused(await portal.call(`/personal-data?subject=s${basis}&${name}=${raw}`), message);
    });
  }

  test('in a filter field or value, sent encoded once or the whole filter encoded twice, and in subject', async () => {
    assertRefused(await system.call(`/query?${RANGE}&legal_basis=t&filter=colour=red%0A`), /filter/, /control character/);
    assertRefused(await system.call(`/query?${RANGE}&legal_basis=t&filter=${enc('colour=red%0A')}`), /filter/, /colour/, /control character/);
    assertRefused(await system.call(`/query?${RANGE}&legal_basis=t&filter=${enc('col%00our=red')}`), /filter/, /control character/);
    assertRefused(await portal.call(`/personal-data?subject=s%00&legal_basis=t`), /subject/, /control character/);
  });

  test('none of those queries left a record', async () => {
    for (const record of [...(await clientQueryRecords(system.code)), ...(await clientQueryRecords(portal.code))]) {
      const text = JSON.stringify(record);
      assert.doesNotMatch(text, /\\u00[01]|\\u007f|\\u0085|[\r\n\t]/i, text);
    }
  });
});

describe("the MLog.ClientQuery record's event_message cannot be forged by a value", () => {
  test('";" and "=" in legal_basis and legal_reason stay inside their part', async () => {
    const reason = 'x;filter=event_type=Forged;page=0;page_size=1';
    const basis = 'Law 5%; art=3';
    const answer = await system.call(`/query?${RANGE}&legal_basis=${enc(basis)}&legal_reason=${enc(reason)}&filter=colour=blue`);
    assert.equal(answer.status, 200, answer.text);
    const [record] = (await clientQueryRecords(system.code)).filter((event) => event.legal_reason === reason);
    assert.ok(record !== undefined, 'the query was recorded');
    const parts = messageParts(String(record.event_message));
    assert.deepEqual(parts, [
      ['from', '2021-07-01'],
      ['to', '2021-07-02'],
      ['basis', basis],
      ['reason', reason],
      ['filter', 'colour=blue'],
      ['page', '0'],
      ['page_size', '50'],
    ]);
  });

  test('the filter part states the pairs searched: "," "=" ";" "%" in a value are escaped', async () => {
    const reason = `filter-escape-${randomUUID()}`;
    const answer = await system.call(`/query?${RANGE}&legal_basis=t&legal_reason=${reason}&filter=ref=${enc('a,b=c;d')}`);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.result.length, 1);
    const [record] = (await clientQueryRecords(system.code)).filter((event) => event.legal_reason === reason);
    assert.ok(record !== undefined, 'the query was recorded');
    const message = String(record.event_message);
    assert.match(message, /;filter=ref=a%2Cb%3Dc%3Bd;page=0;/);
    const filter = messageParts(message).find(([name]) => name === 'filter')?.[1] ?? '';
    assert.deepEqual(filterPairs(filter), [['ref', 'a,b=c;d']]);
  });

  test('a subject holding ";" on /personal-data stays inside the filter part', async () => {
    const subject = `s-${randomUUID()};page=9`;
    const answer = await portal.call(`/personal-data?subject=${enc(subject)}&legal_basis=t`);
    assert.equal(answer.status, 404, answer.text);
    const records = (await clientQueryRecords(portal.code)).filter((record) => String(record.event_message).includes(subject.slice(0, 38)));
    assert.equal(records.length, 1);
    const parts = messageParts(String(records[0]!.event_message));
    assert.deepEqual(parts.map(([name]) => name), ['from', 'to', 'basis', 'reason', 'filter', 'page', 'page_size']);
    assert.deepEqual(filterPairs(parts[4]![1]), [['subject', subject]]);
  });
});
