import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEventSearchBody, INTERNAL_FIELDS_HIDDEN_FROM_ANSWERS } from '../../src/storage/event-query-builder.js';
import type { EventSearch } from '../../src/events/event-store-type.js';

type Clause = Record<string, unknown>;

interface Body {
  query: { bool: { filter: Clause[]; must?: Clause[]; must_not?: Clause[] } };
  sort: Clause[];
  from: number;
  size: number;
  track_total_hits: unknown;
  _source: { excludes: string[] };
}

function body(search: Partial<EventSearch>): Body {
  return buildEventSearchBody({ isCode: 'mpass', conditions: [], from: 0, size: 50, order: 'newest-first', ...search }) as unknown as Body;
}

describe('buildEventSearchBody', () => {
  test('always filters on @is, even with nothing else', () => {
    const built = body({ isCode: 'mpay' });
    assert.deepEqual(built.query.bool.filter, [{ term: { '@is': 'mpay' } }]);
    assert.equal(built.query.bool.must, undefined);
  });

  test('a UID becomes a term on @uid', () => {
    const built = body({ uid: '3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b' });
    assert.deepEqual(built.query.bool.filter, [{ term: { '@is': 'mpass' } }, { term: { '@uid': '3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b' } }]);
  });

  test('an excluded UID (the query\'s own record) becomes a must_not on @uid; none otherwise', () => {
    assert.equal(body({}).query.bool.must_not, undefined);
    assert.deepEqual(body({ excludeUid: 'u-1' }).query.bool.must_not, [{ term: { '@uid': 'u-1' } }]);
  });

  test('a range is gte from, lt to, in epoch millis', () => {
    const fromMillis = Date.UTC(2024, 0, 1);
    const toMillis = Date.UTC(2024, 1, 1);
    const built = body({ range: { fromMillis, toMillis } });
    assert.deepEqual(built.query.bool.filter, [
      { term: { '@is': 'mpass' } },
      { range: { event_time: { gte: fromMillis, lt: toMillis, format: 'epoch_millis' } } },
    ]);
  });

  test('exact conditions become terms filters, one per field, with every value', () => {
    const built = body({
      conditions: [
        { field: 'user', values: ['a', 'b'], match: 'exact' },
        { field: 'request.method', values: ['GET'], match: 'exact' },
      ],
    });
    assert.deepEqual(built.query.bool.filter.slice(1), [{ terms: { user: ['a', 'b'] } }, { terms: { 'request.method': ['GET'] } }]);
    assert.equal(built.query.bool.must, undefined);
  });

  test('full-text conditions become match clauses, any of the values, all words of each', () => {
    const built = body({ conditions: [{ field: 'event_message', values: ['login failed', 'timeout'], match: 'full-text' }] });
    assert.deepEqual(built.query.bool.filter, [{ term: { '@is': 'mpass' } }]);
    assert.deepEqual(built.query.bool.must, [
      {
        bool: {
          should: [
            { match: { event_message: { query: 'login failed', operator: 'and' } } },
            { match: { event_message: { query: 'timeout', operator: 'and' } } },
          ],
          minimum_should_match: 1,
        },
      },
    ]);
  });

  test('full-text and exact together keep the @is filter', () => {
    const built = body({
      conditions: [
        { field: 'event_message', values: ['x'], match: 'full-text' },
        { field: 'user', values: ['u'], match: 'exact' },
      ],
    });
    assert.deepEqual(built.query.bool.filter, [{ term: { '@is': 'mpass' } }, { terms: { user: ['u'] } }]);
    assert.equal(built.query.bool.must?.length, 1);
  });

  test('newest first: event_time desc, then @id asc', () => {
    assert.deepEqual(body({ order: 'newest-first' }).sort, [{ event_time: { order: 'desc' } }, { '@id': { order: 'asc' } }]);
  });

  test('registration order: @id asc', () => {
    assert.deepEqual(body({ order: 'registration-order' }).sort, [{ '@id': { order: 'asc' } }]);
  });

  test('from and size are passed; the total is exact', () => {
    const built = body({ from: 150, size: 50 });
    assert.equal(built.from, 150);
    assert.equal(built.size, 50);
    assert.equal(built.track_total_hits, true);
  });

  test('MLog internal fields are kept out of answers, @uid is not', () => {
    const excludes = body({})._source.excludes;
    for (const field of ['@jws', '@jws_ref', '@is', '@id', '@received', '@signed', '@kid', '@alg', '@line']) {
      assert.ok(excludes.includes(field), field);
    }
    assert.ok(!excludes.includes('@uid'));
    assert.deepEqual(excludes, INTERNAL_FIELDS_HIDDEN_FROM_ANSWERS);
  });
});
