import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuerySyntaxError, ValidationError } from '../../src/errors/mlog-error.js';
import {
  closestFields,
  MAX_QUERY_CLAUSES,
  MAX_QUERY_DEPTH,
  MAX_QUERY_LENGTH,
  parseQuery,
  printQuery,
  type QueryNode,
  type RangeOperator,
} from '../../src/search/query-language.js';
import { PREDEFINED_FIELDS } from '../../src/events/predefined-fields.js';

const KNOWN = [...PREDEFINED_FIELDS, '@received', '@is', 'request.method', 'request.headers.accept', 'not', 'or'];

/** The tree without the columns, which printing moves. */
function shape(node: QueryNode): unknown {
  return JSON.parse(JSON.stringify(node, (key, value: unknown) => (key === 'column' ? undefined : value)));
}

function parsed(text: string): unknown {
  return shape(parseQuery(text, KNOWN));
}

const text = (value: string, phrase = false) => ({ kind: 'text', value, phrase });
const match = (field: string, value: string, phrase = false) => ({ kind: 'match', field, value, phrase });
const and = (...children: unknown[]) => ({ kind: 'and', children });
const or = (...children: unknown[]) => ({ kind: 'or', children });
const not = (child: unknown) => ({ kind: 'not', child });

/** The QuerySyntaxError `text` raises, checked to be one. */
function refusal(query: string, knownFields: readonly string[] | undefined = KNOWN): QuerySyntaxError {
  try {
    parseQuery(query, knownFields);
  } catch (error) {
    assert.ok(error instanceof QuerySyntaxError, `expected a QuerySyntaxError for ${JSON.stringify(query)}, got ${String(error)}`);
    assert.ok(error instanceof ValidationError, 'a query error is a 400');
    assert.match(error.message, new RegExp(`^(At column ${error.column}: |The query )`));
    return error;
  }
  assert.fail(`${JSON.stringify(query)} was accepted`);
}

describe('parseQuery: terms', () => {
  test('the empty query, and one of only whitespace, match everything', () => {
    assert.deepEqual(parseQuery(''), { kind: 'all' });
    assert.deepEqual(parseQuery(' \t\r\n '), { kind: 'all' });
  });

  test('field:value, with the column of the value', () => {
    assert.deepEqual(parseQuery('user:alice'), { kind: 'match', field: 'user', value: 'alice', phrase: false, column: 6 });
    assert.deepEqual(parsed('event_type:MPass.Login'), match('event_type', 'MPass.Login'));
  });

  test('dotted names for nested fields, and MLog\'s @ fields', () => {
    assert.deepEqual(parsed('request.headers.accept:json'), match('request.headers.accept', 'json'));
    assert.deepEqual(parsed('@is:mpass'), match('@is', 'mpass'));
  });

  test('field:"a phrase", with escaped quotes and backslashes inside', () => {
    assert.deepEqual(parsed('subject_name:"Ion Popescu"'), match('subject_name', 'Ion Popescu', true));
    assert.deepEqual(parsed('event_message:"say \\"hi\\" \\\\ ok"'), match('event_message', 'say "hi" \\ ok', true));
    assert.deepEqual(parsed('user:""'), match('user', '', true));
    assert.deepEqual(parsed('user:"a*b (c) or:d"'), match('user', 'a*b (c) or:d', true), 'everything in a phrase is literal');
  });

  test('a backslash escapes any character of a value', () => {
    assert.deepEqual(parsed('user:a\\:b\\(c\\)\\ d\\"e\\\\f\\*'), match('user', 'a:b(c) d"e\\f*'));
    assert.deepEqual(parsed('user:\\x'), match('user', 'x'));
  });

  test('field:val* is a prefix; field:* is "has a value"; \\* is a literal asterisk', () => {
    assert.deepEqual(parseQuery('event_type:MPass.*'), { kind: 'prefix', field: 'event_type', value: 'MPass.', column: 12 });
    assert.deepEqual(parseQuery('user:*'), { kind: 'exists', field: 'user', column: 6 });
    assert.deepEqual(parsed('user:\\*'), match('user', '*'));
    assert.deepEqual(parsed('user:a\\**'), { kind: 'prefix', field: 'user', value: 'a*' });
  });

  test('ranges with each comparison, quoted or bare, with or without whitespace', () => {
    const cases: Array<[string, RangeOperator]> = [['>=', 'gte'], ['<=', 'lte'], ['>', 'gt'], ['<', 'lt']];
    for (const [symbol, operator] of cases) {
      assert.deepEqual(parsed(`event_time ${symbol} "2026-01-01"`), { kind: 'range', field: 'event_time', operator, value: '2026-01-01' });
      assert.deepEqual(parsed(`event_time${symbol}2026-01-01T10:00:00Z`), { kind: 'range', field: 'event_time', operator, value: '2026-01-01T10:00:00Z' });
    }
    assert.equal(parseQuery('@received >= "2026-01-01"').kind, 'range');
    assert.deepEqual(parsed('event_time:2026-01-01T10:00:00Z'), match('event_time', '2026-01-01T10:00:00Z'), 'a value may hold ":"');
    assert.deepEqual(parseQuery('user < bob'), { kind: 'range', field: 'user', operator: 'lt', value: 'bob', column: 8 });
  });

  test('bare words are one full-text term; a quoted phrase is a phrase', () => {
    assert.deepEqual(parseQuery('login failed'), { kind: 'text', value: 'login failed', phrase: false, column: 1 });
    assert.deepEqual(parsed('  login \t failed  '), text('login failed'));
    assert.deepEqual(parseQuery('"login failed"'), { kind: 'text', value: 'login failed', phrase: true, column: 1 });
    assert.deepEqual(parsed('login "failed badly"'), and(text('login'), text('failed badly', true)));
  });

  test('a term next to another without an operator is an and', () => {
    assert.deepEqual(parsed('user:alice failed'), and(match('user', 'alice'), text('failed')));
    assert.deepEqual(parsed('failed user:alice again'), and(text('failed'), match('user', 'alice'), text('again')));
    assert.deepEqual(parsed('(a) (b)'), text('a b'), 'two bare words are one full-text term, parenthesised or not');
  });
});

describe('parseQuery: operators', () => {
  test('and, or and not, in any case', () => {
    assert.deepEqual(parsed('a and b'), and(text('a'), text('b')));
    assert.deepEqual(parsed('a AND b'), and(text('a'), text('b')));
    assert.deepEqual(parsed('a Or b'), or(text('a'), text('b')));
    assert.deepEqual(parsed('NOT a'), not(text('a')));
    assert.deepEqual(parsed('not not a'), not(not(text('a'))));
  });

  test('not binds tighter than and, and tighter than or', () => {
    assert.deepEqual(parsed('a or b and c'), or(text('a'), and(text('b'), text('c'))));
    assert.deepEqual(parsed('a and b or c'), or(and(text('a'), text('b')), text('c')));
    assert.deepEqual(parsed('not a and b'), and(not(text('a')), text('b')));
    assert.deepEqual(parsed('not a or b'), or(not(text('a')), text('b')));
    assert.deepEqual(parsed('a or b or c'), or(text('a'), text('b'), text('c')));
    assert.deepEqual(parsed('a and b and c'), and(text('a'), text('b'), text('c')));
  });

  test('parentheses group, and keep their grouping', () => {
    assert.deepEqual(parsed('(a or b) and c'), and(or(text('a'), text('b')), text('c')));
    assert.deepEqual(parsed('not (a or b)'), not(or(text('a'), text('b'))));
    assert.deepEqual(parsed('(a and b) and c'), and(and(text('a'), text('b')), text('c')));
    assert.deepEqual(parsed('((( a )))'), text('a'));
  });

  test('field:(…) gives the field to every value inside, with and, or, not and parentheses', () => {
    assert.deepEqual(parsed('user:(alice or bob)'), or(match('user', 'alice'), match('user', 'bob')));
    assert.deepEqual(parsed('user:(alice and not "bob b")'), and(match('user', 'alice'), not(match('user', 'bob b', true))));
    assert.deepEqual(parsed('user:(a or (b and c*))'), or(match('user', 'a'), and(match('user', 'b'), { kind: 'prefix', field: 'user', value: 'c' })));
    assert.deepEqual(parsed('user:(a b)'), and(match('user', 'a'), match('user', 'b')));
    assert.deepEqual(parsed('user:( * )'), { kind: 'exists', field: 'user' });
    const group = parseQuery('user:(alice or bob)');
    assert.ok(group.kind === 'or');
    assert.deepEqual(group.children.map((child) => (child as { column: number }).column), [7, 16], 'each value keeps its own column');
  });

  test('a keyword followed by ":" or a comparison is a field name; an escaped keyword is a word', () => {
    assert.deepEqual(parsed('not:x'), match('not', 'x'));
    assert.deepEqual(parsed('or : x and not:y'), and(match('or', 'x'), match('not', 'y')));
    assert.deepEqual(parsed('\\and'), text('and'));
    assert.deepEqual(parsed('a \\or b'), text('a or b'));
    assert.deepEqual(parsed('user:and'), match('user', 'and'), 'a single value after ":" is never an operator');
    assert.deepEqual(parsed('android or notary'), or(text('android'), text('notary')), 'words that start with a keyword are words');
  });

  test('whitespace anywhere: around ":", comparisons, parentheses, and as tabs and new lines', () => {
    assert.deepEqual(parsed('user : alice'), match('user', 'alice'));
    assert.deepEqual(parsed('\n( user:alice\tor\r\nuser:bob )\n'), or(match('user', 'alice'), match('user', 'bob')));
    assert.deepEqual(parsed('user:(\talice\nor bob )'), or(match('user', 'alice'), match('user', 'bob')));
    assert.deepEqual(parsed('a\u00a0and\u3000b'), and(text('a'), text('b')));
  });
});

describe('parseQuery: errors name the column and what was expected', () => {
  test('a field with nothing after ":"', () => {
    const error = refusal('user:');
    assert.equal(error.message, "At column 6: expected a value, a quoted phrase or '(' after 'user:' but found the end of the query.");
    assert.equal(error.column, 6);
    assert.deepEqual(error.expected, ['a value', 'a quoted phrase', "'('"]);
  });

  test('an unclosed parenthesis', () => {
    assert.equal(refusal('(a or b').message, "At column 8: expected ')', 'and' or 'or' after 'b' but found the end of the query.");
    assert.equal(refusal('user:(a or b').column, 13);
  });

  test('a closing parenthesis without an opening one', () => {
    assert.equal(refusal('a) or b').message, "At column 2: expected 'and', 'or' or the end of the query after 'a' but found ')'.");
  });

  test('an operator with nothing after it', () => {
    assert.equal(refusal('a and').message, "At column 6: expected a word, field:value, a quoted phrase, '(' or 'not' after 'and' but found the end of the query.");
    assert.equal(refusal('a or ').column, 6);
    assert.equal(refusal('not').column, 4);
    assert.equal(refusal('user:(a or)').message, "At column 11: expected a value, a quoted phrase, '(' or 'not' after 'or' but found ')'.");
  });

  test('empty parentheses', () => {
    assert.equal(refusal('()').message, "At column 2: expected a word, field:value, a quoted phrase, '(' or 'not' after '(' but found ')'.");
    assert.equal(refusal('user:()').column, 7);
  });

  test('an unterminated phrase', () => {
    assert.equal(refusal('user:"abc').message, `At column 10: expected '"' to close the quoted phrase after 'user:"abc' but found the end of the query.`);
    assert.equal(refusal('"abc \\"').column, 8);
  });

  test('a backslash at the end', () => {
    assert.equal(refusal('user:a\\').message, "At column 8: expected a character after '\\' but found the end of the query.");
  });

  test('a comparison without a value', () => {
    assert.equal(refusal('event_time >=').message, 'At column 14: expected a value or a quoted phrase after \'>=\' but found the end of the query.');
  });

  test('an and or an or where a term must start', () => {
    assert.equal(refusal('and').message, 'At column 1: \'and\' is an operator and needs a search term on each side; write \\and to search for the word "and".');
    assert.equal(refusal('OR b').message, 'At column 1: \'OR\' is an operator and needs a search term on each side; write \\or to search for the word "or".');
    assert.equal(refusal('a or or b').column, 6);
    assert.equal(refusal('a and (and b)').column, 8);
    assert.equal(refusal('not or').column, 5);
    assert.equal(refusal('user:(a or and)').column, 12);
  });

  test('a leading wildcard, with the column of the value', () => {
    const error = refusal('user:x or user:*lice');
    assert.equal(error.column, 16);
    assert.equal(error.message, 'At column 16: the value "*lice" of user starts with a wildcard (*), which MLog does not search; a wildcard may only end a value, as in user:abc*.');
    assert.equal(refusal('user:(a or *b)').column, 12);
  });

  test('a wildcard inside a value, with the column of the star', () => {
    const error = refusal('user:al*ce');
    assert.equal(error.column, 8);
    assert.match(error.message, /a wildcard \(\*\) may only end a value, as in user:abc\*; write \\\* for a literal asterisk\.$/);
    assert.equal(refusal('user:a**').column, 7);
  });

  test('a wildcard in a bare word or a range', () => {
    assert.match(refusal('fail*').message, /^At column 5: a wildcard \(\*\) needs a field, as in event_type:MPass\.\*/);
    assert.equal(refusal('*').column, 1);
    assert.match(refusal('user > a*').message, /^At column 9: a range value may not hold a wildcard/);
  });

  test('the found text is the token at the fault, cut at 20 characters', () => {
    assert.match(refusal('a ) bcdefghijklmnopqrstuvwxyz').message, /but found '\)'\.$/);
    assert.match(refusal('(a) )abcdefghijklmnopqrstuvwxyz').message, /but found '\)abcdefghijklmnopqrs…'\.$/);
  });

  test('columns count UTF-16 units from the start of the text, across lines', () => {
    assert.equal(refusal('a and\nb and\nuser:').column, 18);
    assert.equal(refusal('"é🙂" and (').column, 12);
  });
});

describe('parseQuery: known fields', () => {
  test('an unknown field names the closest known ones, with the column of the field', () => {
    const error = refusal('user:a and usr:b');
    assert.equal(error.column, 12);
    assert.equal(error.message, 'At column 12: there is no field "usr" here; did you mean "user"?');
    assert.deepEqual(error.suggestions, ['user']);
    assert.deepEqual(refusal('event_tyep:x').suggestions, ['event_type']);
    assert.deepEqual(refusal('subjet_type:x').suggestions, ['subject_type']);
  });

  test('at most three suggestions, nearest first; none when nothing is near', () => {
    const suggestions = refusal('object_nme:x').suggestions ?? [];
    assert.ok(suggestions.length >= 1 && suggestions.length <= 3, suggestions.join());
    assert.equal(suggestions[0], 'object_name');
    const far = refusal('zzzzzzzzzz:x');
    assert.deepEqual(far.suggestions, []);
    assert.equal(far.message, 'At column 1: there is no field "zzzzzzzzzz" here; the field list shows the fields this scope has.');
  });

  test('the field of a range, an exists and a group is checked too', () => {
    assert.deepEqual(refusal('evnt_time >= 2026-01-01').suggestions, ['event_time']);
    assert.equal(refusal('a or usr:*').column, 6);
    assert.equal(refusal('usr:(a or b)').column, 1);
  });

  test('without a list of known fields any field is accepted; bare words never name a field', () => {
    assert.deepEqual(shape(parseQuery('anything.at.all:x')), match('anything.at.all', 'x'));
    assert.deepEqual(parsed('usr'), text('usr'));
  });

  test('closestFields is case-insensitive and a prefix counts', () => {
    assert.deepEqual(closestFields('USER', ['user', 'subject']), ['user']);
    assert.deepEqual(closestFields('correlation', ['event_correlation', 'user']), ['event_correlation']);
  });
});

describe('parseQuery: limits', () => {
  test('a query longer than MAX_QUERY_LENGTH', () => {
    const error = refusal('a'.repeat(MAX_QUERY_LENGTH + 1));
    assert.equal(error.message, `The query is ${(MAX_QUERY_LENGTH + 1).toLocaleString('en-US')} characters long; the limit is ${MAX_QUERY_LENGTH.toLocaleString('en-US')}.`);
    assert.deepEqual(parsed('a'.repeat(MAX_QUERY_LENGTH)), text('a'.repeat(MAX_QUERY_LENGTH)));
  });

  test('parentheses nested deeper than MAX_QUERY_DEPTH, with the column of the first one too deep', () => {
    const deep = `${'('.repeat(MAX_QUERY_DEPTH + 1)}a${')'.repeat(MAX_QUERY_DEPTH + 1)}`;
    const error = refusal(deep);
    assert.equal(error.column, MAX_QUERY_DEPTH + 1);
    assert.match(error.message, /parentheses are nested more than 32 deep/);
    assert.deepEqual(parsed(`${'('.repeat(MAX_QUERY_DEPTH)}a${')'.repeat(MAX_QUERY_DEPTH)}`), text('a'));
    assert.deepEqual(parsed(`"${'('.repeat(100)}"`), text('('.repeat(100), true), 'parentheses in a phrase are text');
    refusal('('.repeat(MAX_QUERY_LENGTH));
  });

  test('long chains of not and of operators parse without exhausting the stack', () => {
    assert.equal(parseQuery(`${'not '.repeat(1500)}a`).kind, 'not');
    assert.equal(parseQuery(Array.from({ length: 400 }, (_, i) => `user:u${i}`).join(' or ')).kind, 'or');
  });

  test('more than MAX_QUERY_CLAUSES terms and words', () => {
    const words = Array.from({ length: MAX_QUERY_CLAUSES + 1 }, () => 'word').join(' ');
    assert.match(refusal(words).message, /^The query holds 513 terms and words; MLog searches at most 512 in one query\.$/);
    assert.equal(parseQuery(Array.from({ length: MAX_QUERY_CLAUSES }, () => 'word').join(' ')).kind, 'text');
    assert.match(refusal(Array.from({ length: 200 }, () => 'user:a or event_message:"b c"').join(' or ')).message, /^The query holds 600 terms/);
  });
});

describe('printQuery', () => {
  test('prints the shortest text that parses back, parenthesising only nested and/or', () => {
    assert.equal(printQuery(parseQuery('(a OR b) and not (c and d) and user:(x or y*)')), '(a or b) and not (c and d) and (user:x or user:y*)');
    assert.equal(printQuery(parseQuery('user:"a \\"b"')), 'user:"a \\"b"');
    assert.equal(printQuery(parseQuery('\\and \\(x')), '\\and \\(x');
    assert.equal(printQuery(parseQuery('event_time>="2026-01-01"')), 'event_time >= 2026-01-01');
    assert.equal(printQuery(parseQuery('not (login failed)')), 'not (login failed)', 'not of several words keeps its parentheses');
  });
});

// ---- property tests ----

const FIELDS = ['user', 'subject', 'event_type', 'event_message', 'event_time', 'request.method', 'not', 'or'];
/** Characters that stress the lexer: specials, whitespace, letters of the keywords, non-ASCII. */
const CHARACTERS = ['a', 'n', 'd', 'o', 'r', 't', 'Z', '1', '.', '-', '_', '@', 'é', '🙂', '(', ')', ':', '"', '\\', '*', ' ', '\t', '\n', '<', '>', '=', '\u00a0'];
const valueText = (minLength: number) => fc.string({ unit: fc.constantFrom(...CHARACTERS), minLength, maxLength: 8 });
const field = fc.constantFrom(...FIELDS);

const leaf: fc.Arbitrary<QueryNode> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), value: valueText(1), phrase: fc.constant(false), column: fc.constant(0) }),
  fc.record({ kind: fc.constant('text' as const), value: valueText(0), phrase: fc.constant(true), column: fc.constant(0) }),
  fc.record({ kind: fc.constant('match' as const), field, value: valueText(1), phrase: fc.constant(false), column: fc.constant(0) }),
  fc.record({ kind: fc.constant('match' as const), field, value: valueText(0), phrase: fc.constant(true), column: fc.constant(0) }),
  fc.record({ kind: fc.constant('prefix' as const), field, value: valueText(1), column: fc.constant(0) }),
  fc.record({ kind: fc.constant('exists' as const), field, column: fc.constant(0) }),
  fc.record({ kind: fc.constant('range' as const), field, operator: fc.constantFrom<RangeOperator>('gt', 'gte', 'lt', 'lte'), value: valueText(0), column: fc.constant(0) }),
);

const tree: fc.Arbitrary<QueryNode> = fc.letrec<{ node: QueryNode }>((self) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ kind: fc.constant('not' as const), child: self('node') }),
    fc.record({ kind: fc.constant('and' as const), children: fc.array(self('node'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('or' as const), children: fc.array(self('node'), { minLength: 2, maxLength: 3 }) }),
  ),
})).node;

/** Text made of the language's own pieces, so that many samples parse and the rest fail in interesting places. */
const queryText = fc
  .array(fc.oneof(fc.constantFrom('and', 'OR', 'not', '(', ')', ':', '*', '"', '\\', ' ', '>=', '<', 'user', 'usr', 'event_time', '2026-01-01', 'x*', 'a.b'), valueText(1)), {
    maxLength: 14,
  })
  .map((parts) => parts.join(''));

describe('parseQuery: properties', () => {
  test('a printed tree parses back to the same tree', () => {
    fc.assert(
      fc.property(tree, (node) => {
        assert.deepEqual(shape(parseQuery(printQuery(node))), shape(node));
      }),
      { numRuns: 3000 },
    );
  });

  test('any text is either parsed or refused with a QuerySyntaxError whose column lies within the text', () => {
    fc.assert(
      fc.property(fc.oneof(queryText, fc.string({ unit: 'binary', maxLength: 40 })), (query) => {
        try {
          parseQuery(query, KNOWN);
        } catch (error) {
          assert.ok(error instanceof QuerySyntaxError, `${JSON.stringify(query)} threw ${String(error)}`);
          assert.ok(error.column >= 1 && error.column <= query.length + 1, `column ${error.column} of ${JSON.stringify(query)}`);
          assert.ok(error.message.startsWith(`At column ${error.column}: `), error.message);
        }
      }),
      { numRuns: 5000 },
    );
  });

  test('whatever parses prints to text that parses to the same tree', () => {
    fc.assert(
      fc.property(queryText, (query) => {
        let node: QueryNode;
        try {
          node = parseQuery(query);
        } catch {
          return;
        }
        assert.deepEqual(shape(parseQuery(printQuery(node))), shape(node), `${JSON.stringify(query)} → ${JSON.stringify(printQuery(node))}`);
      }),
      { numRuns: 5000 },
    );
  });
});
