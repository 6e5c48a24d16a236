import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/errors/mlog-error.js';
import { parsePersonalDataQuery } from '../../src/events/personal-data-parameters.js';
import { describePersonalDataQuery, personalDataAnswerItem } from '../../src/events/personal-data-service.js';
import { DEFAULT_PAGE_SIZE, MAX_RESULT_WINDOW } from '../../src/events/query-parameters.js';
import { parseQueryString } from '../../src/events/query-string.js';
import { buildPersonalDataSearchBody } from '../../src/storage/elasticsearch-personal-data-store.js';

function parse(query: string) {
  return parsePersonalDataQuery(parseQueryString(query));
}

function throwsValidation(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.status, 400);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

const BASE = 'subject=2000000000099&legal_basis=Law%20133%2F2011';

describe('parsePersonalDataQuery', () => {
  test('subject and legal_basis alone: no time bound, page 0, the default page size', () => {
    assert.deepEqual(parse(BASE), { subject: '2000000000099', legal: { legal_basis: 'Law 133/2011' }, page: 0, pageSize: DEFAULT_PAGE_SIZE });
  });

  test('every legal parameter is kept (trimmed), for the ClientQuery record', () => {
    const query = parse(`${BASE}&legal_entity=1003600000000&legal_reason=Citizen+request+17&user=+2000000000001+&user_address=10.0.0.7`);
    assert.deepEqual(query.legal, {
      legal_entity: '1003600000000',
      legal_basis: 'Law 133/2011',
      legal_reason: 'Citizen request 17',
      user: '2000000000001',
      user_address: '10.0.0.7',
    });
  });

  test('the subject is percent-decoded and otherwise kept exactly as given', () => {
    assert.equal(parse('subject=ABC%2C%3D%20x&legal_basis=b').subject, 'ABC,= x');
    assert.equal(parse('subject=Ion+Popescu&legal_basis=b').subject, 'Ion Popescu');
  });

  test('a missing or blank subject is refused', () => {
    throwsValidation(() => parse('legal_basis=b'), /^subject is missing/);
    throwsValidation(() => parse('subject=&legal_basis=b'), /^subject is missing/);
    throwsValidation(() => parse('subject=+++&legal_basis=b'), /^subject is missing/);
  });

  test('a missing or blank legal_basis is refused', () => {
    throwsValidation(() => parse('subject=x'), /^legal_basis is missing/);
    throwsValidation(() => parse('subject=x&legal_basis=%20'), /^legal_basis is missing/);
  });

  test('a repeated subject is refused', () => {
    throwsValidation(() => parse('subject=a&subject=b&legal_basis=b'), /subject is given 2 times/);
  });

  test('a filter is refused rather than ignored', () => {
    throwsValidation(() => parse(`${BASE}&filter=user%3D1`), /takes no filter/);
  });

  test('either time bound alone is accepted; an empty one means no bound', () => {
    const from = parse(`${BASE}&event_time_from=2024-01-01`);
    assert.deepEqual(from.from, { text: '2024-01-01', millis: Date.UTC(2024, 0, 1) });
    assert.equal(from.to, undefined);
    const to = parse(`${BASE}&event_time_to=2024-02-01T10:00:00%2B02:00`);
    assert.deepEqual(to.to, { text: '2024-02-01T10:00:00+02:00', millis: Date.UTC(2024, 1, 1, 8) });
    assert.equal(to.from, undefined);
    const empty = parse(`${BASE}&event_time_from=&event_time_to=`);
    assert.equal(empty.from, undefined);
    assert.equal(empty.to, undefined);
  });

  test('a "+" offset sent unencoded is read as "+", as /query reads it', () => {
    assert.equal(parse(`${BASE}&event_time_from=2024-01-01T00:00:00+02:00`).from?.millis, Date.UTC(2023, 11, 31, 22));
  });

  test('time bounds are checked as /query checks them', () => {
    throwsValidation(() => parse(`${BASE}&event_time_from=2024-02-30`), /^event_time_from "2024-02-30" is not a real date/);
    throwsValidation(() => parse(`${BASE}&event_time_to=yesterday`), /^event_time_to "yesterday" is not in the form/);
    throwsValidation(() => parse(`${BASE}&event_time_from=2024-02-01&event_time_to=2024-02-01`), /must be before event_time_to/);
    throwsValidation(() => parse(`${BASE}&event_time_from=2024-03-01&event_time_to=2024-02-01`), /must be before event_time_to/);
  });

  test('pagination follows /query: page ≥ 0, page_size > 0, (page + 1) × page_size ≤ 10,000', () => {
    assert.deepEqual(
      [parse(`${BASE}&page=3&page_size=20`)].map(({ page, pageSize }) => ({ page, pageSize })),
      [{ page: 3, pageSize: 20 }],
    );
    assert.equal(parse(`${BASE}&page=0&page_size=${MAX_RESULT_WINDOW}`).pageSize, MAX_RESULT_WINDOW);
    assert.equal(parse(`${BASE}&page=99&page_size=100`).page, 99);
    throwsValidation(() => parse(`${BASE}&page=100&page_size=100`), /may not pass 10000/);
    throwsValidation(() => parse(`${BASE}&page_size=${MAX_RESULT_WINDOW + 1}`), /may not pass 10000/);
    throwsValidation(() => parse(`${BASE}&page=-1`), /page "-1" must be a whole number/);
    throwsValidation(() => parse(`${BASE}&page_size=0`), /page_size "0" must be a whole number of at least 1/);
  });
});

describe('the MLog.ClientQuery record of a personal-data query', () => {
  test('event_message states the query: from, to, basis, reason, filter=subject=…, page, page_size', () => {
    const query = parse(`${BASE}&legal_reason=Portal&event_time_from=2024-01-01&page=2&page_size=10`);
    assert.equal(describePersonalDataQuery(query), 'from=2024-01-01;to=;basis=Law 133/2011;reason=Portal;filter=subject=2000000000099;page=2;page_size=10');
    assert.equal(describePersonalDataQuery(parse(BASE)), `from=;to=;basis=Law 133/2011;reason=;filter=subject=2000000000099;page=0;page_size=${DEFAULT_PAGE_SIZE}`);
  });

  test('separators in a value are percent-encoded: ";" and "%" everywhere, also "," and "=" in the subject', () => {
    const query = parse(`subject=${encodeURIComponent('a;b,c=d%')}&legal_basis=${encodeURIComponent('x;reason=forged')}&legal_reason=${encodeURIComponent('50% = half, ok')}`);
    assert.equal(
      describePersonalDataQuery(query),
      `from=;to=;basis=x%3Breason=forged;reason=50%25 = half, ok;filter=subject=a%3Bb%2Cc%3Dd%25;page=0;page_size=${DEFAULT_PAGE_SIZE}`,
    );
  });

  test('a subject over 32,766 bytes or holding a control character is refused naming subject', () => {
    throwsValidation(() => parse(`subject=${'s'.repeat(32_767)}&legal_basis=x`), /^subject is 32,767 bytes long in UTF-8; the limit is 32,766 bytes\.$/);
    throwsValidation(() => parse('subject=a%0Ab&legal_basis=x'), /^Query parameter subject holds the control character U\+000A/);
  });
});

describe('an answer item', () => {
  const stored = {
    event_time: '2024-01-01T10:00:00Z',
    event_type: 'A.PersonalData.Access',
    legal_basis: 'Law',
    user: '2000000000001',
    subject: '2000000000099',
    '@is': 'mpass',
    '@uid': 'u-1',
    '@id': 'u-1-00000',
    '@received': '2024-01-01T10:00:01Z',
    event_message: 'never here',
    secret: 'never here either',
  };

  test('holds only the contract fields present, then @is, is_name and @uid, in that order', () => {
    const item = personalDataAnswerItem(stored, 'MPass');
    assert.deepEqual(Object.keys(item), ['event_time', 'event_type', 'legal_basis', 'user', 'subject', '@is', 'is_name', '@uid']);
    assert.equal(item.is_name, 'MPass');
  });

  test('leaves is_name out when the IS is no longer registered', () => {
    assert.equal('is_name' in personalDataAnswerItem(stored, undefined), false);
  });
});

describe('buildPersonalDataSearchBody', () => {
  test('exact subject, newest event_time first, ties by @id, exact total, only the answer fields', () => {
    const body = buildPersonalDataSearchBody({ subject: 'S', from: 20, size: 10 });
    assert.deepEqual(body.query, { bool: { filter: [{ term: { subject: 'S' } }] } });
    assert.deepEqual(body.sort, [{ event_time: { order: 'desc', unmapped_type: 'date' } }, { '@id': { order: 'asc', unmapped_type: 'keyword' } }]);
    assert.equal(body.from, 20);
    assert.equal(body.size, 10);
    assert.equal(body.track_total_hits, true);
    const includes = (body._source as { includes: string[] }).includes;
    assert.ok(includes.includes('@is') && includes.includes('@uid') && includes.includes('subject'));
    assert.ok(!includes.includes('@id') && !includes.includes('@received'));
  });

  test('a time range with one or both bounds, from inclusive and to exclusive', () => {
    const both = buildPersonalDataSearchBody({ subject: 'S', fromMillis: 1, toMillis: 2, from: 0, size: 1 });
    assert.deepEqual((both.query as any).bool.filter[1], { range: { event_time: { gte: 1, lt: 2, format: 'epoch_millis' } } });
    const onlyTo = buildPersonalDataSearchBody({ subject: 'S', toMillis: 2, from: 0, size: 1 });
    assert.deepEqual((onlyTo.query as any).bool.filter[1], { range: { event_time: { lt: 2, format: 'epoch_millis' } } });
  });
});
