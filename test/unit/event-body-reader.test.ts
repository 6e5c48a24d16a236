import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCompactJws } from '../../src/auth/compact-jws.js';
import { decodeBody, readBodyLines } from '../../src/events/event-body-reader.js';
import { ValidationError } from '../../src/errors/mlog-error.js';

const JWS = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjFhMmIifQ.eyJldmVudF90eXBlIjoiWCJ9.c2lnbmF0dXJlLV8';
const EVENT = '{"event_time":"2024-01-01","event_type":"X"}';

function throwsValidation(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.match(error.message, message);
    return true;
  });
}

describe('isCompactJws', () => {
  test('three base64url segments', () => {
    assert.equal(isCompactJws(JWS), true);
    assert.equal(isCompactJws('a.b.c'), true);
    assert.equal(isCompactJws('A-_z.0-9_.x'), true);
  });

  test('an empty signature segment is still the JWS shape (checked later)', () => {
    assert.equal(isCompactJws('a.b.'), true);
  });

  test('empty header or payload', () => {
    assert.equal(isCompactJws('.b.c'), false);
    assert.equal(isCompactJws('a..c'), false);
    assert.equal(isCompactJws('..'), false);
  });

  test('wrong number of segments', () => {
    assert.equal(isCompactJws('a.b'), false);
    assert.equal(isCompactJws('a'), false);
    assert.equal(isCompactJws(''), false);
    assert.equal(isCompactJws('a.b.c.d'), false);
    assert.equal(isCompactJws('a.b.c.d.e'), false);
  });

  test('characters outside base64url', () => {
    for (const text of ['a+b.c.d', 'a/b.c.d', 'ab=.c.d', 'a.b.c=', 'a b.c.d', 'a.b.c\n', '{"a":1}.b.c', 'ä.b.c']) {
      assert.equal(isCompactJws(text), false, text);
    }
  });
});

describe('readBodyLines', () => {
  test('a single JSON line', () => {
    assert.deepEqual(readBodyLines(EVENT), [{ number: 1, text: EVENT, kind: 'json' }]);
  });

  test('a single JWS line', () => {
    assert.deepEqual(readBodyLines(JWS), [{ number: 1, text: JWS, kind: 'jws' }]);
  });

  test('surrounding whitespace and a trailing newline are dropped', () => {
    assert.deepEqual(readBodyLines(`  ${EVENT}  \n`), [{ number: 1, text: EVENT, kind: 'json' }]);
  });

  test('a batch with blank lines and CRLF keeps the real line numbers', () => {
    const body = `${EVENT}\r\n\r\n${JWS}\r\n   \r\n\t\r\n{"event_time":"2024-01-02","event_type":"Y"}\r\n`;
    assert.deepEqual(readBodyLines(body), [
      { number: 1, text: EVENT, kind: 'json' },
      { number: 3, text: JWS, kind: 'jws' },
      { number: 6, text: '{"event_time":"2024-01-02","event_type":"Y"}', kind: 'json' },
    ]);
  });

  test('no line keeps a carriage return', () => {
    for (const line of readBodyLines(`${EVENT}\r\n${JWS}\r\n`)) assert.ok(!line.text.includes('\r'));
  });

  test('signed and unsigned mixed', () => {
    const kinds = readBodyLines(`${JWS}\n${EVENT}\n${JWS}`).map((line) => line.kind);
    assert.deepEqual(kinds, ['jws', 'json', 'jws']);
  });

  test('a line starting with { is passed on as JSON even if malformed (parsed later)', () => {
    assert.deepEqual(readBodyLines('{not json'), [{ number: 1, text: '{not json', kind: 'json' }]);
  });

  test('a line that is neither names its line number', () => {
    throwsValidation(() => readBodyLines(`${EVENT}\n\nhello world\n${EVENT}`), /Line 3\b/);
    throwsValidation(() => readBodyLines('event_time=2024-01-01&event_type=X'), /Line 1\b/);
    throwsValidation(() => readBodyLines(`${EVENT}\r\n${JWS}.extra`), /Line 2\b/);
  });

  test('a JSON array line is refused with a hint', () => {
    throwsValidation(() => readBodyLines(`[${EVENT}]`), /Line 1\b.*array/);
  });

  test('a JSON string or number line is refused', () => {
    throwsValidation(() => readBodyLines('"x"'), /Line 1\b/);
    throwsValidation(() => readBodyLines('42'), /Line 1\b/);
  });

  test('an empty body is refused', () => {
    for (const body of ['', '\n', '\r\n\r\n', '   \n\t\n']) {
      throwsValidation(() => readBodyLines(body), /empty/);
    }
  });
});

describe('decodeBody', () => {
  test('UTF-8 text is decoded, multi-byte characters included', () => {
    const text = '{"event_type":"Înregistrare","sum":"5€"}';
    assert.equal(decodeBody(new TextEncoder().encode(text)), text);
  });

  test('an empty body decodes to an empty string', () => {
    assert.equal(decodeBody(new Uint8Array()), '');
  });

  test('invalid UTF-8 is refused', () => {
    throwsValidation(() => decodeBody(Uint8Array.from([0x7b, 0xff, 0x7d])), /UTF-8/);
    throwsValidation(() => decodeBody(Uint8Array.from([0xc3])), /UTF-8/); // truncated sequence
    throwsValidation(() => decodeBody(Uint8Array.from([0xed, 0xa0, 0x80])), /UTF-8/); // encoded surrogate
  });

  test('Latin-1 bytes (a non-UTF-8 client) are refused, not mangled', () => {
    // {"a":"â"} in ISO-8859-1: 0xe2 followed by a quote is not a UTF-8 sequence
    throwsValidation(() => decodeBody(Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x22, 0x7d])), /UTF-8/);
  });
});
