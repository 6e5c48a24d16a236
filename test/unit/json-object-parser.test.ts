import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_NESTING_DEPTH, parseJsonObject } from '../../src/json/json-object-parser.js';

function ok(text: string): Record<string, unknown> {
  const result = parseJsonObject(text);
  assert.ok(result.ok, `expected ${text.slice(0, 80)} to parse, got ${JSON.stringify(result)}`);
  return result.value;
}

function refused(text: string): string {
  const result = parseJsonObject(text);
  assert.equal(result.ok, false, `expected ${text.slice(0, 80)} to be refused`);
  assert.ok(!result.ok);
  return result.reason;
}

/** depth levels of nested objects: {"a":{"a":...{"a":1}...}} */
function nestedObjects(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{"a":1}${'}'.repeat(depth - 1)}`;
}

describe('parseJsonObject: objects', () => {
  test('a flat object', () => {
    assert.deepEqual(ok('{"event_time":"2024-01-01","event_type":"X","n":1,"b":true,"z":null}'), {
      event_time: '2024-01-01',
      event_type: 'X',
      n: 1,
      b: true,
      z: null,
    });
  });

  test('an empty object', () => {
    assert.deepEqual(ok('{}'), {});
  });

  test('nested objects and arrays are kept as sent', () => {
    assert.deepEqual(ok('{"a":{"b":[1,"x",{"c":false}]},"d":[]}'), { a: { b: [1, 'x', { c: false }] }, d: [] });
  });

  test('surrounding whitespace is fine', () => {
    assert.deepEqual(ok('  {"a":1}\n'), { a: 1 });
  });

  test('the same key in sibling objects is not a duplicate', () => {
    assert.deepEqual(ok('{"a":{"x":1},"b":{"x":2}}'), { a: { x: 1 }, b: { x: 2 } });
    assert.deepEqual(ok('{"list":[{"x":1},{"x":2}]}'), { list: [{ x: 1 }, { x: 2 }] });
  });

  test('a key equal to its parent is not a duplicate', () => {
    assert.deepEqual(ok('{"a":{"a":{"a":1}}}'), { a: { a: { a: 1 } } });
  });

  test('strings containing ":" are not mistaken for members', () => {
    assert.deepEqual(ok('{"url":"http://x:80/a:b","t":"10:00:00"}'), { url: 'http://x:80/a:b', t: '10:00:00' });
  });

  test('strings containing escaped quotes are not mistaken for member ends', () => {
    const text = '{"a":"say \\"b\\":1, \\"a\\": 2","b":"x"}';
    assert.deepEqual(ok(text), { a: 'say "b":1, "a": 2', b: 'x' });
  });

  test('strings ending in an escaped backslash', () => {
    assert.deepEqual(ok('{"a":"C:\\\\dir\\\\","b":"\\\\","c":":"}'), { a: 'C:\\dir\\', b: '\\', c: ':' });
  });

  test('keys containing ":" and escaped quotes', () => {
    assert.deepEqual(ok('{"a:b":1,"a\\"b":2,"a":3}'), { 'a:b': 1, 'a"b': 2, a: 3 });
  });

  test('brackets inside strings do not count towards depth', () => {
    const deepInString = `{"a":"${'{['.repeat(50)}"}`;
    assert.deepEqual(ok(deepInString), { a: '{['.repeat(50) });
  });

  test('a key named __proto__ is kept as data', () => {
    const value = ok('{"__proto__":{"x":1},"y":2}');
    assert.ok(Object.hasOwn(value, '__proto__'));
    assert.equal(value.y, 2);
  });

  test(`nesting of exactly ${MAX_NESTING_DEPTH} levels is accepted`, () => {
    ok(nestedObjects(MAX_NESTING_DEPTH));
  });
});

describe('parseJsonObject: not an object', () => {
  test('an array is refused with a reason', () => {
    assert.match(refused('[{"a":1}]'), /array/);
  });

  test('null is refused with a reason', () => {
    assert.match(refused('null'), /null/);
  });

  test('a string is refused with a reason', () => {
    assert.match(refused('"{\\"a\\":1}"'), /string/);
  });

  test('numbers and booleans are refused', () => {
    assert.match(refused('42'), /number/);
    assert.match(refused('true'), /boolean/);
  });

  test('every non-object reason says a JSON object is expected', () => {
    for (const text of ['[]', 'null', '"x"', '1']) assert.match(refused(text), /not a JSON object/);
  });
});

describe('parseJsonObject: invalid JSON', () => {
  test('syntax errors are refused as not valid JSON', () => {
    for (const text of ['', '{', '{"a":1', '{"a":1,}', "{'a':1}", '{a:1}', '{"a":1}}', '{"a":1} {"b":2}', '{"a":undefined}', '{"a":01}', '{"a":"\u0001"}']) {
      assert.match(refused(text), /not valid JSON/, JSON.stringify(text));
    }
  });
});

describe('parseJsonObject: duplicate keys', () => {
  test('at the top level, naming the key', () => {
    assert.match(refused('{"a":1,"a":2}'), /"a"/);
    assert.match(refused('{"a":1,"a":2}'), /more than once/);
  });

  test('at the top level even when the values are equal', () => {
    assert.match(refused('{"event_type":"X","event_type":"X"}'), /"event_type"/);
  });

  test('nested, naming the dotted path', () => {
    const reason = refused('{"a":{"b":1,"b":2}}');
    assert.match(reason, /"a\.b"/);
  });

  test('deeply nested, naming the dotted path', () => {
    assert.match(refused('{"x":1,"a":{"b":{"c":1,"d":2,"c":3}}}'), /"a\.b\.c"/);
  });

  test('a duplicate whose first value was an object', () => {
    assert.match(refused('{"a":{"x":1},"a":{"y":2}}'), /"a"/);
  });

  test('inside an array of objects', () => {
    const reason = refused('{"list":[{"x":1},{"y":1,"y":2}]}');
    assert.match(reason, /more than once/);
    assert.match(reason, /list/);
    assert.match(reason, /y/);
  });

  test('a key spelled with a unicode escape is the same key', () => {
    assert.match(refused('{"a":1,"\\u0061":2}'), /"a"/);
  });

  test('a duplicate after strings with ":" and escaped quotes is still found', () => {
    assert.match(refused('{"s":"a:b \\"c\\" \\\\","k":1,"k":2}'), /"k"/);
  });
});

describe('parseJsonObject: nesting depth', () => {
  test(`objects nested ${MAX_NESTING_DEPTH + 1} levels deep are refused, saying the limit`, () => {
    const reason = refused(nestedObjects(MAX_NESTING_DEPTH + 1));
    assert.match(reason, new RegExp(String(MAX_NESTING_DEPTH)));
  });

  test('arrays count towards the depth', () => {
    const text = `{"a":${'['.repeat(MAX_NESTING_DEPTH)}1${']'.repeat(MAX_NESTING_DEPTH)}}`;
    assert.match(refused(text), /levels deep/);
  });

  test('a very deep text is refused without a stack overflow', () => {
    assert.match(refused(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), /levels deep/);
  });
});
