import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuerySyntaxError } from '../../src/errors/mlog-error.js';
import { parseQuery, type QueryNode } from '../../src/search/query-language.js';
import {
  AUDIT_QUERY_SCHEMA,
  buildConsoleQuery,
  PERSONAL_DATA_QUERY_SCHEMA,
  REJECTION_QUERY_SCHEMA,
  type ConsoleQuerySchema,
} from '../../src/storage/console-query-builder.js';

function dsl(text: string, schema?: ConsoleQuerySchema): unknown {
  return buildConsoleQuery(parseQuery(text), schema);
}

function refused(text: string, schema?: ConsoleQuerySchema): QuerySyntaxError {
  try {
    dsl(text, schema);
  } catch (error) {
    assert.ok(error instanceof QuerySyntaxError, `expected a QuerySyntaxError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`At column ${error.column}: `), error.message);
    return error;
  }
  assert.fail(`${text} was accepted`);
}

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

describe('buildConsoleQuery: events', () => {
  test('the empty query is match_all', () => {
    assert.deepEqual(dsl(''), { match_all: {} });
  });

  test('a keyword field: term for a value or a phrase, prefix, exists, range', () => {
    assert.deepEqual(dsl('user:alice'), { term: { user: { value: 'alice' } } });
    assert.deepEqual(dsl('subject_name:"Ion Popescu"'), { term: { subject_name: { value: 'Ion Popescu' } } });
    assert.deepEqual(dsl('request.method:GET'), { term: { 'request.method': { value: 'GET' } } }, "an IS's own fields are keywords");
    assert.deepEqual(dsl('event_type:MPass.*'), { prefix: { event_type: { value: 'MPass.' } } });
    assert.deepEqual(dsl('event_correlation:*'), { exists: { field: 'event_correlation' } });
    assert.deepEqual(dsl('user >= m'), { range: { user: { gte: 'm' } } });
    assert.deepEqual(dsl('user < "n o"'), { range: { user: { lt: 'n o' } } });
  });

  test('bare words are a match with every word required; a phrase is a match_phrase; both on event_message', () => {
    assert.deepEqual(dsl('login failed'), { match: { event_message: { query: 'login failed', operator: 'and' } } });
    assert.deepEqual(dsl('"login failed"'), { match_phrase: { event_message: { query: 'login failed' } } });
    assert.deepEqual(dsl('event_message:timeout'), { match: { event_message: { query: 'timeout', operator: 'and' } } });
    assert.deepEqual(dsl('event_message:"timed out"'), { match_phrase: { event_message: { query: 'timed out' } } });
    assert.deepEqual(dsl('event_message:*'), { exists: { field: 'event_message' } });
  });

  test('a date is the span it names: a UTC day, a second, a millisecond', () => {
    const start = day('2026-01-01');
    assert.deepEqual(dsl('event_time:2026-01-01'), { range: { event_time: { gte: start, lt: start + 86_400_000, format: 'epoch_millis' } } });
    assert.deepEqual(dsl('event_time:"2026-01-01T10:00:00Z"'), { range: { event_time: { gte: start + 36_000_000, lt: start + 36_001_000, format: 'epoch_millis' } } });
    assert.deepEqual(dsl('event_time:"2026-01-01T10:00:00.250+02:00"'), { range: { event_time: { gte: start + 28_800_250, lt: start + 28_800_251, format: 'epoch_millis' } } });
  });

  test('date comparisons: > after the span, >= from its start, < before its start, <= to its end', () => {
    const start = day('2026-01-01');
    const end = start + 86_400_000;
    assert.deepEqual(dsl('event_time > 2026-01-01'), { range: { event_time: { gte: end, format: 'epoch_millis' } } });
    assert.deepEqual(dsl('event_time >= 2026-01-01'), { range: { event_time: { gte: start, format: 'epoch_millis' } } });
    assert.deepEqual(dsl('event_time < 2026-01-01'), { range: { event_time: { lt: start, format: 'epoch_millis' } } });
    assert.deepEqual(dsl('event_time <= 2026-01-01'), { range: { event_time: { lt: end, format: 'epoch_millis' } } });
    assert.deepEqual(dsl('@received >= "2026-01-01T00:00:00Z"'), { range: { '@received': { gte: start, format: 'epoch_millis' } } });
  });

  test('a malformed or impossible date is refused with the column of the value', () => {
    const error = refused('user:a and event_time >= "2026-13-01"');
    assert.equal(error.column, 26);
    assert.equal(error.message, 'At column 26: the date "2026-13-01" for event_time is not a real date (2026-13-01 does not exist); write a date as YYYY-MM-dd[THH:mm:ss[.fraction][Z|±HH[mm]|±HH:mm]].');
    assert.equal(refused('event_time:yesterday').column, 12);
    assert.equal(refused('event_time:(2026-01-01 or 2026-02-30)').column, 27);
  });

  test('and is bool.filter, not is bool.must_not, or is bool.should with minimum_should_match 1', () => {
    assert.deepEqual(dsl('user:a and not subject:b'), {
      bool: { filter: [{ term: { user: { value: 'a' } } }, { bool: { must_not: [{ term: { subject: { value: 'b' } } }] } }] },
    });
    assert.deepEqual(dsl('user:a or subject:b'), {
      bool: { should: [{ term: { user: { value: 'a' } } }, { term: { subject: { value: 'b' } } }], minimum_should_match: 1 },
    });
  });

  test('values of one keyword field joined by or are one terms query', () => {
    assert.deepEqual(dsl('user:(alice or bob or "c d")'), { terms: { user: ['alice', 'bob', 'c d'] } });
    assert.deepEqual(dsl('user:alice or user:bob'), { terms: { user: ['alice', 'bob'] } });
    assert.equal((dsl('user:(alice or bo*)') as { bool?: unknown }).bool !== undefined, true, 'a prefix among them keeps the should');
    assert.deepEqual(dsl('event_message:(a or b)'), {
      bool: {
        should: [{ match: { event_message: { query: 'a', operator: 'and' } } }, { match: { event_message: { query: 'b', operator: 'and' } } }],
        minimum_should_match: 1,
      },
    });
  });

  test('event_details and the stored JWS are not searchable; neither is anything under them', () => {
    for (const query of ['event_details:x', 'event_details.amount:5', 'event_details:*', '@jws.payload:x', '@line > 3']) {
      assert.match(refused(query).message, /is stored as sent but not indexed, so .* cannot be searched; search another field\.$/, query);
    }
    assert.equal(refused('user:a or event_details.x:1').column, 27, 'the column of the value');
    assert.equal(refused('user:a or event_details.x:1').message, 'At column 27: event_details is stored as sent but not indexed, so event_details.x cannot be searched; search another field.');
  });

  test('wildcards and comparisons only where the field\'s type has them', () => {
    assert.equal(refused('event_message:fail*').message, 'At column 15: event_message is searched by words; a wildcard (*) works only on keyword fields.');
    assert.equal(refused('event_time:2026*').message, 'At column 12: event_time is a date; a wildcard (*) works only on keyword fields.');
    assert.match(refused('event_message > a').message, /^At column 17: event_message is searched by words; a comparison/);
    assert.match(refused('@signed:yes').message, /^At column 9: @signed is true or false, and "yes" is neither\.$/);
    assert.deepEqual(dsl('@signed:TRUE'), { term: { '@signed': { value: true } } });
  });

  test('values are data: characters with meaning to Lucene reach Elasticsearch as they are, and no query_string is ever built', () => {
    assert.deepEqual(dsl('user:"a OR b* AND (c:d) \\\\"'), { term: { user: { value: 'a OR b* AND (c:d) \\' } } });
    assert.deepEqual(dsl('"{\\"script\\": 1} /re.*/"'), { match_phrase: { event_message: { query: '{"script": 1} /re.*/' } } });
  });
});

describe('buildConsoleQuery: the other scopes', () => {
  test('personal data has no full text: bare words are refused, fields are keywords and dates', () => {
    assert.equal(refused('alice', PERSONAL_DATA_QUERY_SCHEMA).message, 'At column 1: this scope has no full-text field to search bare words in; write field:value.');
    assert.deepEqual(dsl('subject:123', PERSONAL_DATA_QUERY_SCHEMA), { term: { subject: { value: '123' } } });
    assert.equal((dsl('event_time:2026-01-01', PERSONAL_DATA_QUERY_SCHEMA) as { range?: unknown }).range !== undefined, true);
  });

  test('rejections: bare words search reason; status and body_bytes are numbers; the body is not searchable', () => {
    assert.deepEqual(dsl('bad signature', REJECTION_QUERY_SCHEMA), { match: { reason: { query: 'bad signature', operator: 'and' } } });
    assert.deepEqual(dsl('status:413', REJECTION_QUERY_SCHEMA), { term: { status: { value: 413 } } });
    assert.deepEqual(dsl('status >= 500', REJECTION_QUERY_SCHEMA), { range: { status: { gte: 500 } } });
    assert.equal(refused('status:abc', REJECTION_QUERY_SCHEMA).message, 'At column 8: status is a number, and "abc" is not one.');
    assert.equal(refused('status:4*', REJECTION_QUERY_SCHEMA).message, 'At column 8: status is a number; a wildcard (*) works only on keyword fields.');
    assert.match(refused('body_excerpt:x', REJECTION_QUERY_SCHEMA).message, /body_excerpt is stored as sent but not indexed/);
    assert.deepEqual(dsl('reduced:false', REJECTION_QUERY_SCHEMA), { term: { reduced: { value: false } } });
  });

  test("MLog's audit: bare words search event_message, the rest are keywords", () => {
    assert.deepEqual(dsl('retention', AUDIT_QUERY_SCHEMA), { match: { event_message: { query: 'retention', operator: 'and' } } });
    assert.deepEqual(dsl('event_type:MLog.Admin.Query', AUDIT_QUERY_SCHEMA), { term: { event_type: { value: 'MLog.Admin.Query' } } });
  });
});

// ---- property: every tree of searchable fields compiles ----

const valueText = (minLength: number) => fc.string({ unit: fc.constantFrom('a', 'Z', '1', ' ', '*', '"', '\\', '(', ':', 'é', '🙂'), minLength, maxLength: 6 });
const keywordField = fc.constantFrom('user', 'subject', 'event_type', 'request.method', '@is');
const dateField = fc.constantFrom('event_time', '@received');
const dateValue = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((at) => fc.constantFrom(at.toISOString().slice(0, 10), at.toISOString().slice(0, 19) + 'Z', at.toISOString(), at.toISOString().slice(0, 19) + '+03:00'));
const operator = fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const);

const searchableLeaf: fc.Arbitrary<QueryNode> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), value: valueText(1), phrase: fc.boolean(), column: fc.constant(1) }),
  fc.record({ kind: fc.constant('match' as const), field: keywordField, value: valueText(0), phrase: fc.boolean(), column: fc.constant(1) }),
  fc.record({ kind: fc.constant('match' as const), field: fc.constant('event_message'), value: valueText(0), phrase: fc.boolean(), column: fc.constant(1) }),
  fc.record({ kind: fc.constant('match' as const), field: dateField, value: dateValue, phrase: fc.boolean(), column: fc.constant(1) }),
  fc.record({ kind: fc.constant('prefix' as const), field: keywordField, value: valueText(1), column: fc.constant(1) }),
  fc.record({ kind: fc.constant('exists' as const), field: fc.oneof(keywordField, dateField, fc.constant('event_message')), column: fc.constant(1) }),
  fc.record({ kind: fc.constant('range' as const), field: keywordField, operator, value: valueText(0), column: fc.constant(1) }),
  fc.record({ kind: fc.constant('range' as const), field: dateField, operator, value: dateValue, column: fc.constant(1) }),
);

const searchableTree: fc.Arbitrary<QueryNode> = fc.letrec<{ node: QueryNode }>((self) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    searchableLeaf,
    fc.record({ kind: fc.constant('not' as const), child: self('node') }),
    fc.record({ kind: fc.constant('and' as const), children: fc.array(self('node'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('or' as const), children: fc.array(self('node'), { minLength: 2, maxLength: 3 }) }),
  ),
})).node;

/** Every key of a DSL object, at any depth. */
function keys(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => keys(item, into));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      into.add(key);
      keys(inner, into);
    }
  }
  return into;
}

describe('buildConsoleQuery: properties', () => {
  test('any tree over searchable fields compiles, and never to query_string, simple_query_string, wildcard, regexp or script', () => {
    fc.assert(
      fc.property(searchableTree, (node) => {
        const used = keys(buildConsoleQuery(node));
        for (const forbidden of ['query_string', 'simple_query_string', 'wildcard', 'regexp', 'script']) assert.ok(!used.has(forbidden), forbidden);
      }),
      { numRuns: 2000 },
    );
  });

  test('any parsed text either compiles or is refused with a QuerySyntaxError', () => {
    const pieces = fc.constantFrom('user:a', 'event_time:', 'event_time >= ', '2026-02-30', '2026-01-01', 'event_details.x:', 'event_message:', '@signed:', 'x*', ' and ', ' or ', 'not ', '(', ')', '"', '*', 'true');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 10 }), (parts) => {
        const text = parts.join('');
        try {
          buildConsoleQuery(parseQuery(text));
        } catch (error) {
          assert.ok(error instanceof QuerySyntaxError, `${JSON.stringify(text)} threw ${String(error)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
