import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueryString, singleParameter } from '../../src/events/query-string.js';
import {
  DEFAULT_PAGE_SIZE,
  DEFAULT_UID_PAGE_SIZE,
  MAX_RESULT_WINDOW,
  parsePagination,
  parseRangeQuery,
  parseUidQuery,
} from '../../src/events/query-parameters.js';
import { ValidationError } from '../../src/errors/mlog-error.js';

function throwsValidation(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.status, 400);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

const RANGE = 'event_time_from=2024-01-01&event_time_to=2024-02-01&legal_basis=Law%20133';
const UID = '3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b';

describe('parseQueryString', () => {
  test('an empty query string has no parameters', () => {
    assert.equal(parseQueryString('').size, 0);
  });

  test('values are percent-decoded, "+" as a space, raw kept', () => {
    const parameters = parseQueryString('legal_basis=Law+133%2F2011&filter=a%3D1');
    assert.deepEqual(parameters.get('legal_basis'), [{ raw: 'Law+133%2F2011', value: 'Law 133/2011' }]);
    assert.deepEqual(parameters.get('filter'), [{ raw: 'a%3D1', value: 'a=1' }]);
  });

  test('a value keeps "=" after the first', () => {
    assert.deepEqual(parameters('filter=a=1,b=2').get('filter'), [{ raw: 'a=1,b=2', value: 'a=1,b=2' }]);
  });

  test('a name without "=" has an empty value; empty parts are skipped', () => {
    const parsed = parseQueryString('flag&&page=1&');
    assert.deepEqual(parsed.get('flag'), [{ raw: '', value: '' }]);
    assert.deepEqual([...parsed.keys()], ['flag', 'page']);
  });

  test('names are percent-decoded', () => {
    assert.ok(parseQueryString('legal%5Fbasis=x').has('legal_basis'));
  });

  test('repeated parameters are all kept; singleParameter refuses them', () => {
    const parsed = parseQueryString('page=1&page=2');
    assert.equal(parsed.get('page')?.length, 2);
    throwsValidation(() => singleParameter(parsed, 'page'), /page.*2 times/);
    assert.equal(singleParameter(parsed, 'absent'), undefined);
  });

  test('malformed percent-encoding is a ValidationError', () => {
    throwsValidation(() => parseQueryString('legal_basis=%ZZ'), /legal_basis/);
    throwsValidation(() => parseQueryString('%E0=1'), /percent-encoding/);
  });
});

function parameters(query: string) {
  return parseQueryString(query);
}

describe('parsePagination', () => {
  test('defaults: page 0, the given default page size', () => {
    assert.deepEqual(parsePagination(parameters(''), DEFAULT_PAGE_SIZE), { page: 0, pageSize: 50 });
    assert.equal(DEFAULT_PAGE_SIZE, 50);
  });

  test('empty values fall back to the defaults', () => {
    assert.deepEqual(parsePagination(parameters('page=&page_size='), 50), { page: 0, pageSize: 50 });
  });

  test('explicit values', () => {
    assert.deepEqual(parsePagination(parameters('page=3&page_size=20'), 50), { page: 3, pageSize: 20 });
    assert.deepEqual(parsePagination(parameters('page=%203%20&page_size=+20+'), 50), { page: 3, pageSize: 20 });
  });

  test('the 10,000 cap: (page + 1) × page_size may reach but not pass it', () => {
    assert.equal(MAX_RESULT_WINDOW, 10_000);
    assert.deepEqual(parsePagination(parameters('page=0&page_size=10000'), 50), { page: 0, pageSize: 10_000 });
    assert.deepEqual(parsePagination(parameters('page=199&page_size=50'), 50), { page: 199, pageSize: 50 });
    assert.deepEqual(parsePagination(parameters('page=1&page_size=5000'), 50), { page: 1, pageSize: 5000 });
    throwsValidation(() => parsePagination(parameters('page=200&page_size=50'), 50), /10000/);
    throwsValidation(() => parsePagination(parameters('page=0&page_size=10001'), 50), /10000/);
    throwsValidation(() => parsePagination(parameters('page=1&page_size=5001'), 50), /10000/);
    throwsValidation(() => parsePagination(parameters('page=200'), 50), /10000/);
  });

  test('huge values are refused, not overflowed', () => {
    throwsValidation(() => parsePagination(parameters('page=999999999&page_size=999999999'), 50), /10000/);
    throwsValidation(() => parsePagination(parameters('page=99999999999999999999'), 50), /page/);
  });

  test('page_size 0 is refused', () => {
    throwsValidation(() => parsePagination(parameters('page_size=0'), 50), /page_size/);
  });

  test('page 0 is accepted (pages start at 0)', () => {
    assert.equal(parsePagination(parameters('page=0'), 50).page, 0);
  });

  test('negative and non-numeric values are refused', () => {
    for (const query of ['page=-1', 'page_size=-5', 'page=abc', 'page_size=1.5', 'page=1e3', 'page_size=0x10', 'page=%2B1', 'page_size=ten']) {
      throwsValidation(() => parsePagination(parameters(query), 50), /page/);
    }
  });

  test('a repeated parameter is refused', () => {
    throwsValidation(() => parsePagination(parameters('page=1&page=2'), 50), /page/);
    throwsValidation(() => parsePagination(parameters('page_size=1&page_size=1'), 50), /page_size/);
  });
});

describe('parseRangeQuery', () => {
  test('a minimal range query', () => {
    const query = parseRangeQuery(parameters(RANGE));
    assert.deepEqual(query.from, { text: '2024-01-01', millis: Date.UTC(2024, 0, 1) });
    assert.deepEqual(query.to, { text: '2024-02-01', millis: Date.UTC(2024, 1, 1) });
    assert.deepEqual(query.legal, { legal_basis: 'Law 133' });
    assert.equal(query.page, 0);
    assert.equal(query.pageSize, DEFAULT_PAGE_SIZE);
    assert.deepEqual(query.filter, []);
  });

  test('bounds with offsets sent percent-encoded', () => {
    const query = parseRangeQuery(
      parameters('event_time_from=2024-01-01T10%3A00%3A00%2B02%3A00&event_time_to=2024-01-01T10:00:00.1234567Z&legal_basis=x'),
    );
    assert.equal(query.from.millis, Date.UTC(2024, 0, 1, 8));
    assert.equal(query.to.millis, Date.UTC(2024, 0, 1, 10, 0, 0, 123));
  });

  test('legal parameters are trimmed; empty ones are dropped', () => {
    const query = parseRangeQuery(parameters(`${RANGE}&legal_reason=+audit+&user=&legal_entity=1003600000000&user_address=10.0.0.1`));
    assert.deepEqual(query.legal, { legal_basis: 'Law 133', legal_reason: 'audit', legal_entity: '1003600000000', user_address: '10.0.0.1' });
  });

  test('the filter is parsed from its raw form', () => {
    const query = parseRangeQuery(parameters(`${RANGE}&filter=subject=a%2Cb,user=u`));
    assert.deepEqual(query.filter, [
      { field: 'subject', value: 'a,b' },
      { field: 'user', value: 'u' },
    ]);
  });

  test('a legal parameter over 32,766 bytes in UTF-8 is refused naming it and the limit; 32,766 bytes are accepted', () => {
    for (const name of ['legal_basis', 'legal_reason', 'legal_entity', 'user', 'user_address']) {
      const range = `event_time_from=2024-01-01&event_time_to=2024-02-01${name === 'legal_basis' ? '' : '&legal_basis=x'}`;
      throwsValidation(() => parseRangeQuery(parameters(`${range}&${name}=${'a'.repeat(32_767)}`)), new RegExp(`^${name} is 32,767 bytes .*32,766 bytes`));
      throwsValidation(() => parseUidQuery(UID, parameters(`${name}=${'a'.repeat(32_767)}`)), new RegExp(`^${name} is 32,767 bytes`));
    }
    // 10,923 × "€" (3 bytes each) is 32,769 bytes in 10,923 characters
    throwsValidation(() => parseUidQuery(UID, parameters(`user=${'%E2%82%AC'.repeat(10_923)}`)), /^user is 32,769 bytes/);
    assert.equal(parseUidQuery(UID, parameters(`legal_reason=${'a'.repeat(32_766)}`)).legal.legal_reason?.length, 32_766);
    // trimmed first: the spaces around a value do not count
    assert.equal(parseUidQuery(UID, parameters(`legal_reason=+${'a'.repeat(32_766)}+`)).legal.legal_reason?.length, 32_766);
  });

  test('a control character in any parameter read is refused naming the parameter', () => {
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&legal_reason=a%00`)), /^Query parameter legal_reason holds the control character U\+0000 at position 2;/);
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&user=%0D%0A`)), /^Query parameter user holds the control character U\+000D/);
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&user_address=%09x`)), /user_address.*U\+0009/);
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&legal_entity=%C2%9B`)), /legal_entity.*U\+009B/);
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&filter=user=%7F`)), /filter.*U\+007F/);
    throwsValidation(() => parseUidQuery(UID, parameters('legal_basis=%1B')), /legal_basis.*U\+001B/);
    // a parameter MLog does not read is still ignored
    assert.deepEqual(parseRangeQuery(parameters(`${RANGE}&unknown=%00`)).legal, { legal_basis: 'Law 133' });
  });

  test('a filter percent-encoded as a whole', () => {
    const query = parseRangeQuery(parameters(`${RANGE}&filter=event_type%3DX%2Cuser%3DY`));
    assert.deepEqual(query.filter, [
      { field: 'event_type', value: 'X' },
      { field: 'user', value: 'Y' },
    ]);
  });

  test('pagination applies with its 10,000 cap', () => {
    const query = parseRangeQuery(parameters(`${RANGE}&page=2&page_size=100`));
    assert.equal(query.page, 2);
    assert.equal(query.pageSize, 100);
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&page=100&page_size=100`)), /10000/);
  });

  test('missing legal_basis is refused', () => {
    throwsValidation(() => parseRangeQuery(parameters('event_time_from=2024-01-01&event_time_to=2024-02-01')), /legal_basis/);
    throwsValidation(() => parseRangeQuery(parameters('event_time_from=2024-01-01&event_time_to=2024-02-01&legal_basis=+')), /legal_basis/);
  });

  test('an unencoded "+" offset in a time bound is read as "+", not as a space', () => {
    const query = parseRangeQuery(parameters('event_time_from=2024-01-01T10:00:00+02:00&event_time_to=2024-01-01T12:00:00+03&legal_basis=x'));
    assert.equal(query.from.millis, Date.UTC(2024, 0, 1, 8));
    assert.equal(query.to.millis, Date.UTC(2024, 0, 1, 9));
  });

  test('missing event_time_from or event_time_to is refused', () => {
    throwsValidation(() => parseRangeQuery(parameters('event_time_to=2024-02-01&legal_basis=x')), /event_time_from/);
    throwsValidation(() => parseRangeQuery(parameters('event_time_from=2024-01-01&legal_basis=x')), /event_time_to/);
    throwsValidation(() => parseRangeQuery(parameters('event_time_from=&event_time_to=2024-02-01&legal_basis=x')), /event_time_from/);
  });

  test('a malformed bound is refused, naming it', () => {
    throwsValidation(() => parseRangeQuery(parameters('event_time_from=2024-02-30&event_time_to=2024-03-01&legal_basis=x')), /event_time_from/);
    throwsValidation(() => parseRangeQuery(parameters('event_time_from=2024-01-01&event_time_to=tomorrow&legal_basis=x')), /event_time_to/);
  });

  test('from equal to or after to is refused', () => {
    throwsValidation(() => parseRangeQuery(parameters('event_time_from=2024-01-01&event_time_to=2024-01-01&legal_basis=x')), /event_time_from/);
    throwsValidation(() => parseRangeQuery(parameters('event_time_from=2024-02-01&event_time_to=2024-01-01&legal_basis=x')), /before/);
    // the same instant written in two zones is still an empty range
    throwsValidation(
      () => parseRangeQuery(parameters('event_time_from=2024-01-01T02:00:00%2B02:00&event_time_to=2024-01-01T00:00:00Z&legal_basis=x')),
      /before/,
    );
  });

  test('one millisecond of range is enough', () => {
    const query = parseRangeQuery(parameters('event_time_from=2024-01-01T00:00:00.000Z&event_time_to=2024-01-01T00:00:00.001Z&legal_basis=x'));
    assert.equal(query.to.millis - query.from.millis, 1);
  });

  test('repeated parameters are refused', () => {
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&legal_basis=y`)), /legal_basis/);
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&event_time_from=2024-01-02`)), /event_time_from/);
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&filter=a=1&filter=b=2`)), /filter/);
  });

  test('a bad filter is refused', () => {
    throwsValidation(() => parseRangeQuery(parameters(`${RANGE}&filter=novalue`)));
  });
});

describe('parseUidQuery', () => {
  test('a UID query defaults to one page of 10,000', () => {
    const query = parseUidQuery(UID, parameters(''));
    assert.equal(query.uid, UID);
    assert.equal(query.page, 0);
    assert.equal(query.pageSize, DEFAULT_UID_PAGE_SIZE);
    assert.equal(DEFAULT_UID_PAGE_SIZE, 10_000);
    assert.deepEqual(query.legal, {});
  });

  test('the UID is lower-cased', () => {
    assert.equal(parseUidQuery(UID.toUpperCase(), parameters('')).uid, UID);
  });

  test('legal parameters and pagination are read', () => {
    const query = parseUidQuery(UID, parameters('legal_basis=Law&user=ion&page=1&page_size=10'));
    assert.deepEqual(query.legal, { legal_basis: 'Law', user: 'ion' });
    assert.equal(query.page, 1);
    assert.equal(query.pageSize, 10);
  });

  test('page 1 with the default UID page size passes the cap', () => {
    throwsValidation(() => parseUidQuery(UID, parameters('page=1')), /10000/);
  });

  test('a bad UID is refused', () => {
    for (const uid of ['', 'abc', `${UID}x`, UID.replace(/-/g, ''), `{${UID}}`, UID.replace('3', 'g'), ' '.repeat(36), `${UID} `]) {
      throwsValidation(() => parseUidQuery(uid, parameters('')), /UID/);
    }
  });
});
