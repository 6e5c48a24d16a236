import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findEventProblem } from '../../src/events/event-validator.js';
import { MAX_FIELD_DEPTH, MAX_FIELD_NAME_BYTES, MAX_STRING_BYTES, PREDEFINED_FIELDS } from '../../src/events/predefined-fields.js';

type Event = Record<string, unknown>;

const base: Event = { event_time: '2024-03-01T10:00:00Z', event_type: 'MPass.Login' };

function event(extra: Event): Event {
  return { ...base, ...extra };
}

function problem(value: Event): string {
  const reason = findEventProblem(value);
  assert.notEqual(reason, undefined, `expected ${JSON.stringify(value).slice(0, 120)} to be refused`);
  return reason as string;
}

function fine(value: Event): void {
  assert.equal(findEventProblem(value), undefined);
}

describe('findEventProblem: event_time and event_type', () => {
  test('a minimal event is accepted', () => {
    fine(base);
  });

  test('event_time missing', () => {
    assert.match(problem({ event_type: 'X' }), /event_time/);
    assert.match(problem({ event_type: 'X' }), /missing/);
  });

  test('event_type missing', () => {
    assert.match(problem({ event_time: '2024-01-01' }), /event_type/);
    assert.match(problem({ event_time: '2024-01-01' }), /missing/);
  });

  test('both missing: an empty object is refused', () => {
    problem({});
  });

  test('event_type empty', () => {
    assert.match(problem(event({ event_type: '' })), /event_type/);
  });

  test('event_type of spaces only counts as empty', () => {
    assert.match(problem(event({ event_type: '   ' })), /event_type must not be empty/);
  });

  test('event_type not a string', () => {
    for (const value of [1, true, null, ['X'], { name: 'X' }]) {
      assert.match(problem(event({ event_type: value })), /event_type/, JSON.stringify(value));
    }
  });

  test('event_time not a string', () => {
    for (const value of [1709287200000, null, ['2024-01-01'], { at: '2024-01-01' }]) {
      assert.match(problem(event({ event_time: value })), /event_time/, JSON.stringify(value));
    }
  });

  test('event_time malformed or not a real instant, quoting the value', () => {
    for (const value of ['2024-02-30', '2024-01-01 10:00:00', 'yesterday', '', '2024-01-01T10:00']) {
      const reason = problem(event({ event_time: value }));
      assert.match(reason, /event_time/, value);
      assert.ok(reason.includes(`"${value}"`), reason);
    }
  });

  test('a long malformed event_time is truncated in the reason', () => {
    const reason = problem(event({ event_time: 'x'.repeat(1000) }));
    assert.match(reason, /event_time/);
    assert.ok(reason.length < 300, reason);
  });

  test('every accepted event_time form passes', () => {
    for (const value of ['2024-03-01', '2024-03-01T10:00:00', '2024-03-01T10:00:00.1234567+02:00', '2024-03-01T10:00:00-0530', '2024-03-01T10:00:00+02']) {
      fine(event({ event_time: value }));
    }
  });
});

describe('findEventProblem: reserved names', () => {
  test('_x and @x at the top level', () => {
    assert.match(problem(event({ _x: 1 })), /"_x"/);
    assert.match(problem(event({ '@x': 1 })), /"@x"/);
    assert.match(problem(event({ '@uid': 'mine' })), /reserved/);
    assert.match(problem(event({ _id: 'mine' })), /reserved/);
  });

  test('nested, naming the dotted path', () => {
    assert.match(problem(event({ a: { b: { _x: 1 } } })), /"a\.b\._x"/);
    assert.match(problem(event({ a: { '@x': 1 } })), /"a\.@x"/);
  });

  test('inside arrays of objects', () => {
    const reason = problem(event({ list: [{ ok: 1 }, { '@x': 2 }] }));
    assert.match(reason, /@x/);
    assert.match(reason, /reserved/);
    assert.match(problem(event({ list: [[{ _y: 1 }]] })), /_y/);
  });

  test('inside event_details too', () => {
    assert.match(problem(event({ event_details: { _x: 1 } })), /reserved/);
  });

  test('names that merely contain _ or @ are fine', () => {
    fine(event({ a_b: 1, 'mail@host': 'x', x_: { 'y@': 2 } }));
  });

  test('an empty field name is refused', () => {
    problem(event({ '': 1 }));
    problem(event({ a: { ' ': 1 } }));
  });
});

describe('findEventProblem: field names that can be stored and queried', () => {
  test('a dotted name of exactly 256 UTF-8 bytes is accepted, 257 refused, naming the field shortened and the limit', () => {
    assert.equal(MAX_FIELD_NAME_BYTES, 256);
    fine(event({ ['a'.repeat(256)]: 1 }));
    fine(event({ ['a'.repeat(100)]: { ['b'.repeat(155)]: 1 } }));
    const reason = problem(event({ ['a'.repeat(100)]: { ['b'.repeat(156)]: 1 } }));
    assert.match(reason, /257 bytes/);
    assert.match(reason, /limit is 256 bytes/);
    assert.match(reason, /"a{64}…"/, 'the name is shortened in the message');
  });

  test('a 250,000-character name is refused without quoting it whole', () => {
    const reason = problem(event({ ['x'.repeat(250_000)]: 1 }));
    assert.ok(reason.length < 400, reason);
    assert.match(reason, /250000 bytes/);
  });

  test('names are counted in UTF-8 bytes', () => {
    fine(event({ ['ș'.repeat(128)]: 1 }));
    assert.match(problem(event({ ['ș'.repeat(128)]: { a: 1 } })), /258 bytes/);
  });

  test(`${MAX_FIELD_DEPTH} parts are accepted, ${MAX_FIELD_DEPTH + 1} refused, counting dotted names and objects together`, () => {
    const dotted = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`).join('.');
    fine(event({ [dotted(MAX_FIELD_DEPTH)]: 1 }));
    assert.match(problem(event({ [dotted(MAX_FIELD_DEPTH + 1)]: 1 })), /nested 21 levels deep.*limit is 20/);
    assert.match(problem(event({ a: { b: { [dotted(MAX_FIELD_DEPTH - 1)]: 1 } } })), /"a\.b\.p0\.p1.*nested 21 levels/);
  });

  test('empty parts: ".x", "x.", "x..y" are refused naming the field', () => {
    for (const name of ['.x', 'x.', 'x..y', '.', 'x. .y']) {
      const reason = problem(event({ [name]: 1 }));
      assert.ok(reason.includes(`"${name}"`), reason);
      assert.match(reason, /empty part/);
    }
    assert.match(problem(event({ outer: { 'x.': 1 } })), /"outer\.x\." has an empty part/);
  });

  test('a reserved part of a dotted name is refused like a nested reserved name', () => {
    assert.match(problem(event({ 'a.@kid': 1 })), /"a\.@kid" is reserved/);
    assert.match(problem(event({ 'a._id': 1 })), /"a\._id" is reserved/);
  });

  test('two spellings of one field are refused, naming both', () => {
    const reason = problem(event({ 'a.b': 1, a: { b: 2 } }));
    assert.match(reason, /"a\.b" and "a\.b" both name the field a\.b/);
    assert.match(problem(event({ x: { 'y.z': 1 }, 'x.y': { z: 2 } })), /both name the field x\.y\.z/);
  });

  test('a field given a value and nested fields is refused, naming both', () => {
    assert.match(problem(event({ mix: [1, 'a', { z: 1 }] })), /field mix is given both a value \(by "mix\[0\]"\) and nested fields \(by "mix\[2\]"\)/);
    assert.match(problem(event({ a: 1, 'a.b': 2 })), /field a is given both a value \(by "a"\) and nested fields \(by "a\.b"\)/);
    assert.match(problem(event({ 'a.b': 2, a: 1 })), /field a is given both a value \(by "a"\) and nested fields \(by "a\.b"\)/);
    assert.match(problem(event({ list: [{ k: 1 }, { k: { deeper: 1 } }] })), /field list\.k is given both/);
  });

  test('a predefined field mixing values and objects keeps its own message', () => {
    assert.match(problem(event({ subject: ['ok', { a: 1 }] })), /field subject must be a string, number or boolean/);
  });

  test('a dotted name under a predefined field is refused', () => {
    assert.match(problem(event({ 'user.name': 'x' })), /"user\.name" puts a nested field under user/);
    assert.match(problem(event({ 'event_type.x': 'x' })), /under event_type/);
  });

  test('arrays of objects, objects reached by two spellings, null and event_details stay accepted', () => {
    fine(event({ items: [{ id: 1, tags: ['a'] }, { id: 2, tags: [] }] }));
    fine(event({ a: { c: 1 }, 'a.b': 2 }));
    fine(event({ 'request.method': 'GET', request: { path: '/x' } }));
    fine(event({ q: null, 'q.r': 1 }));
    fine(event({ event_details: { mix: [1, { z: 1 }], 'a.b': 1, a: { b: 2 } }, 'event_details.x': [1, { y: 2 }] }));
  });
});

describe('findEventProblem: string length in UTF-8 bytes', () => {
  test(`${MAX_STRING_BYTES} is 32,766`, () => {
    assert.equal(MAX_STRING_BYTES, 32_766);
  });

  test('an ASCII string of 32,766 bytes is accepted, 32,767 refused', () => {
    fine(event({ note: 'a'.repeat(32_766) }));
    const reason = problem(event({ note: 'a'.repeat(32_767) }));
    assert.match(reason, /note/);
    assert.match(reason, /32767/);
    assert.match(reason, /32766/);
  });

  test('2-byte characters (ă) are counted in bytes', () => {
    const exact = 'ă'.repeat(16_383);
    assert.equal(Buffer.byteLength(exact, 'utf8'), 32_766);
    fine(event({ note: exact }));
    problem(event({ note: `${exact}a` }));
    problem(event({ note: 'ă'.repeat(16_384) }));
  });

  test('3-byte characters (€) are counted in bytes', () => {
    const exact = '€'.repeat(10_922);
    assert.equal(Buffer.byteLength(exact, 'utf8'), 32_766);
    fine(event({ note: exact }));
    assert.match(problem(event({ note: `${exact}a` })), /32767/);
  });

  test('4-byte characters (emoji) are counted in bytes', () => {
    const emoji = '😀'.repeat(8_191); // 32,764 bytes
    fine(event({ note: `${emoji}aa` }));
    problem(event({ note: `${emoji}aaa` }));
    problem(event({ note: '😀'.repeat(8_192) }));
  });

  test('predefined fields are limited too', () => {
    problem(event({ event_message: 'm'.repeat(32_767) }));
    problem(event({ event_type: 'T'.repeat(32_767) }));
  });

  test('strings at depth and inside arrays are checked, naming the path', () => {
    assert.match(problem(event({ a: { b: 'x'.repeat(32_767) } })), /a\.b/);
    const inArray = problem(event({ tags: ['short', 'x'.repeat(32_767)] }));
    assert.match(inArray, /tags\[1\]/);
    assert.match(problem(event({ list: [{ v: '€'.repeat(10_923) }] })), /list\[0\]\.v/);
    fine(event({ tags: ['x'.repeat(32_766), 'y'.repeat(32_766)] }));
  });

  test('event_details strings are limited too', () => {
    problem(event({ event_details: 'd'.repeat(32_767) }));
    problem(event({ event_details: { text: 'd'.repeat(32_767) } }));
  });
});

describe('findEventProblem: predefined fields as objects', () => {
  const objectable = PREDEFINED_FIELDS.filter((name) => name !== 'event_details' && name !== 'event_time' && name !== 'event_type');

  test('an object in a predefined field other than event_details is refused, naming the field', () => {
    for (const name of objectable) {
      assert.match(problem(event({ [name]: { a: 1 } })), new RegExp(`\\b${name}\\b`), name);
    }
  });

  test('an array holding an object in a predefined field is refused', () => {
    assert.match(problem(event({ subject: ['ok', { a: 1 }] })), /subject/);
    assert.match(problem(event({ user: [['nested']] })), /user/);
  });

  test('values and arrays of values in predefined fields are accepted', () => {
    fine(event({ subject: ['2001001234567', '2001001234568'], user: 'u', event_level: 3, object: true, legal_basis: null }));
  });

  test('event_details may be anything', () => {
    for (const value of [{ a: { b: [1, { c: 2 }] } }, [1, 'two', { three: 3 }], 'text', 42, true, null]) {
      fine(event({ event_details: value }));
    }
  });

  test('custom nested objects and arrays are accepted', () => {
    fine(event({ request: { method: 'GET', headers: { accept: 'json' }, ids: [1, 2] }, items: [{ id: 1 }, { id: 2 }], flag: false, n: 1.5 }));
  });
});

describe('findEventProblem: numbers a double cannot hold exactly', () => {
  test('integers beyond 2^53 − 1 are refused with the field path; the largest safe integer is accepted', () => {
    assert.match(problem(event({ nested: { account: 2 ** 53 } })) ?? '', /nested\.account .*send it as a string/);
    assert.equal(findEventProblem(event({ account: Number.MAX_SAFE_INTEGER })), undefined);
    assert.equal(findEventProblem(event({ ratio: 0.1, negative: -Number.MAX_SAFE_INTEGER })), undefined);
  });

  test('a number outside the double range (parsed as Infinity) is refused', () => {
    assert.match(problem(JSON.parse('{"event_time":"2024-01-01","event_type":"X","huge":[1, 1e400]}')) ?? '', /huge\[1\] holds a number too large/);
  });

  test('a predefined field holding an object is described as "an object"', () => {
    assert.match(problem(event({ subject: { id: 1 } })) ?? '', /not an object/);
  });
});
