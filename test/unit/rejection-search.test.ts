import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/errors/mlog-error.js';
import { DEFAULT_PAGE_SIZE } from '../../src/events/query-parameters.js';
import { buildRejectionQuery, DEFAULT_REJECTION_WINDOW_MS, parseRejectionSearch, parseTimeOption } from '../../src/rejections/rejection-search.js';
import { bodyExcerpt, buildRejectionSearchBody, rejectionDocument } from '../../src/storage/elasticsearch-rejection-store.js';

const NOW = new Date('2026-03-10T12:00:00Z');

function throwsValidation(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

describe('parseRejectionSearch', () => {
  test('no parameter: the last 24 hours, every IS and status, first page', () => {
    assert.deepEqual(parseRejectionSearch('', NOW), { fromMillis: NOW.getTime() - DEFAULT_REJECTION_WINDOW_MS, page: 0, pageSize: DEFAULT_PAGE_SIZE });
  });

  test('system, status, from, to, page and page_size', () => {
    assert.deepEqual(parseRejectionSearch('system=mpass&status=403&from=2026-03-01&to=2026-03-02T00:00:00%2B02:00&page=2&page_size=10', NOW), {
      system: 'mpass',
      status: 403,
      fromMillis: Date.UTC(2026, 2, 1),
      toMillis: Date.UTC(2026, 2, 1, 22),
      page: 2,
      pageSize: 10,
    });
  });

  test('only "to": the 24 hours before it', () => {
    const query = parseRejectionSearch('to=2026-03-05', NOW);
    assert.equal(query.toMillis, Date.UTC(2026, 2, 5));
    assert.equal(query.fromMillis, Date.UTC(2026, 2, 4));
  });

  test('only "from": no upper bound', () => {
    const query = parseRejectionSearch('from=2026-01-01', NOW);
    assert.equal(query.fromMillis, Date.UTC(2026, 0, 1));
    assert.equal(query.toMillis, undefined);
  });

  test('malformed values are refused with 400', () => {
    throwsValidation(() => parseRejectionSearch('system=Not%20A%20Code', NOW), /system "Not A Code" is not an IS code/);
    throwsValidation(() => parseRejectionSearch('status=200', NOW), /from 400 to 499/);
    throwsValidation(() => parseRejectionSearch('status=4xx', NOW), /from 400 to 499/);
    throwsValidation(() => parseRejectionSearch('from=yesterday', NOW), /^from "yesterday" is not in the form/);
    throwsValidation(() => parseRejectionSearch('from=2026-03-02&to=2026-03-01', NOW), /from \(2026-03-02\) must be before to/);
    throwsValidation(() => parseRejectionSearch('page=100&page_size=100', NOW), /may not pass 10000/);
    throwsValidation(() => parseRejectionSearch('system=a&system=b', NOW), /given 2 times/);
  });
});

describe('buildRejectionQuery from the command line', () => {
  test('times in the event_time syntax', () => {
    const query = buildRejectionQuery({ from: parseTimeOption('2026-03-01T10:00:00+02:00', '--from'), page: 0, pageSize: 5 }, NOW);
    assert.equal(query.fromMillis, Date.UTC(2026, 2, 1, 8));
    throwsValidation(() => parseTimeOption('2026-02-30', '--from'), /^--from "2026-02-30" is not a real date/);
  });
});

describe('buildRejectionSearchBody', () => {
  test('@received range, IS and status as exact terms, newest first with a stable tie-break', () => {
    const body = buildRejectionSearchBody({ system: 'mpass', status: 401, fromMillis: 1, toMillis: 2, page: 2, pageSize: 10 });
    assert.deepEqual(body.query, {
      bool: {
        filter: [{ range: { '@received': { gte: 1, lt: 2, format: 'epoch_millis' } } }, { term: { is: 'mpass' } }, { term: { status: 401 } }],
      },
    });
    assert.deepEqual(body.sort, [{ '@received': { order: 'desc', unmapped_type: 'date' } }, { request_id: { order: 'asc', unmapped_type: 'keyword' } }]);
    assert.equal(body.from, 20);
    assert.equal(body.size, 10);
    assert.equal(body.track_total_hits, true);
  });
});

describe('bodyExcerpt', () => {
  test('at most 4,096 bytes of UTF-8, never a broken character', () => {
    assert.equal(bodyExcerpt(undefined), undefined);
    assert.equal(bodyExcerpt(''), undefined);
    assert.equal(bodyExcerpt('a'.repeat(5000)), 'a'.repeat(4096));
    const twoByte = `a${'ș'.repeat(3000)}`; // 1 + 6,000 bytes: the 4,096th byte starts a character
    const excerpt = bodyExcerpt(Buffer.from(twoByte)) as string;
    assert.ok(Buffer.byteLength(excerpt) <= 4096);
    assert.equal(excerpt, twoByte.slice(0, 2048));
    assert.ok(!excerpt.includes('\ufffd'));
  });

  test('bytes that are not UTF-8 still give at most 4,096 bytes', () => {
    const excerpt = bodyExcerpt(Buffer.alloc(5000, 0xff)) as string;
    assert.ok(Buffer.byteLength(excerpt) <= 4096, `${Buffer.byteLength(excerpt)} bytes`);
    assert.ok(excerpt.length > 1000);
  });
});

describe('rejectionDocument', () => {
  test('every text is cut to its documented length in UTF-8, never inside a character', () => {
    const long = `/x${'€'.repeat(20_000)}`; // 3 bytes each
    const document = rejectionDocument({
      at: new Date('2026-01-02T03:04:05Z'),
      status: 404,
      reason: `There is no GET ${long}`,
      sourceAddress: long,
      method: long,
      path: long,
      requestId: long,
      system: long,
      certificateFingerprint: long,
    });
    for (const field of ['path', 'method', 'source_address', 'request_id', 'is', 'certificate_fingerprint']) {
      const value = document[field] as string;
      assert.ok(Buffer.byteLength(value) <= 1024 && Buffer.byteLength(value) > 1020, `${field}: ${Buffer.byteLength(value)} bytes`);
      assert.ok(long.startsWith(value) && !value.includes('\ufffd'), `${field} is a prefix of whole characters`);
    }
    const reason = document.reason as string;
    assert.ok(Buffer.byteLength(reason) <= 4096 && Buffer.byteLength(reason) > 4092);
    assert.ok(`There is no GET ${long}`.startsWith(reason));
  });

  test('body_bytes is the size of what was sent when only its beginning is kept, else the size of the body; method and path absent when unknown', () => {
    const base = { at: new Date('2026-01-02T03:04:05Z'), status: 431, reason: 'too large', sourceAddress: '127.0.0.1', requestId: 'r' };
    const excerpt = rejectionDocument({ ...base, body: Buffer.alloc(4096, 0x61), bodyBytes: 16_384 });
    assert.equal(excerpt.body_bytes, 16_384);
    assert.equal(excerpt.body_excerpt, 'a'.repeat(4096));
    assert.equal(excerpt.method, undefined);
    assert.equal(excerpt.path, undefined);
    assert.equal(rejectionDocument({ ...base, body: Buffer.alloc(10, 0x61) }).body_bytes, 10);
  });
});
