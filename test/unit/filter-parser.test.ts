import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_FILTER_PAIRS, parseFilter } from '../../src/events/filter-parser.js';
import { MAX_FULL_TEXT_WORDS, MAX_KEYWORD_PARAMETER_BYTES } from '../../src/events/query-limits.js';
import { ValidationError } from '../../src/errors/mlog-error.js';

function throwsValidation(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

describe('parseFilter', () => {
  test('a=1,b=2', () => {
    assert.deepEqual(parseFilter('a=1,b=2'), [
      { field: 'a', value: '1' },
      { field: 'b', value: '2' },
    ]);
  });

  test('a single pair', () => {
    assert.deepEqual(parseFilter('event_type=MPass.Login'), [{ field: 'event_type', value: 'MPass.Login' }]);
  });

  test('a value carrying %2C and %3D keeps "," and "=" inside the value', () => {
    assert.deepEqual(parseFilter('subject=a%2Cb%3Dc,user=u'), [
      { field: 'subject', value: 'a,b=c' },
      { field: 'user', value: 'u' },
    ]);
    assert.deepEqual(parseFilter('subject=a%2cb%3dc'), [{ field: 'subject', value: 'a,b=c' }]);
  });

  test('a literal "=" after the first stays in the value', () => {
    assert.deepEqual(parseFilter('event_message=x=y=z'), [{ field: 'event_message', value: 'x=y=z' }]);
    assert.deepEqual(parseFilter('a=,b=='), [
      { field: 'a', value: '' },
      { field: 'b', value: '=' },
    ]);
  });

  test('a repeated field gives one pair per value, in order', () => {
    assert.deepEqual(parseFilter('user=a,user=b,event_type=X,user=c'), [
      { field: 'user', value: 'a' },
      { field: 'user', value: 'b' },
      { field: 'event_type', value: 'X' },
      { field: 'user', value: 'c' },
    ]);
  });

  test('"+" is decoded as a space', () => {
    assert.deepEqual(parseFilter('event_message=hello+world'), [{ field: 'event_message', value: 'hello world' }]);
    assert.deepEqual(parseFilter('a=1%2B1'), [{ field: 'a', value: '1+1' }]);
  });

  test('multi-byte percent-encoding is decoded as UTF-8', () => {
    assert.deepEqual(parseFilter('subject_name=%C8%98tefan'), [{ field: 'subject_name', value: 'Ștefan' }]);
  });

  test('dotted field names pass through', () => {
    assert.deepEqual(parseFilter('request.headers.accept=json'), [{ field: 'request.headers.accept', value: 'json' }]);
  });

  test('the field name is percent-decoded and trimmed', () => {
    assert.deepEqual(parseFilter('event%5Ftype=X,%20user%20=u'), [
      { field: 'event_type', value: 'X' },
      { field: 'user', value: 'u' },
    ]);
  });

  test('a whole filter percent-encoded is decoded once, then split', () => {
    assert.deepEqual(parseFilter('event_type%3DX%2Cuser%3DY'), [
      { field: 'event_type', value: 'X' },
      { field: 'user', value: 'Y' },
    ]);
    assert.deepEqual(parseFilter('event_type%3dX%2cuser%3dY'), [
      { field: 'event_type', value: 'X' },
      { field: 'user', value: 'Y' },
    ]);
  });

  test('a whole-encoded filter whose value was itself encoded keeps "," in the value', () => {
    assert.deepEqual(parseFilter('subject%3Da%252Cb%2Cuser%3DY'), [
      { field: 'subject', value: 'a,b' },
      { field: 'user', value: 'Y' },
    ]);
  });

  test('empty pairs (stray commas) are skipped; an empty filter gives no pairs', () => {
    assert.deepEqual(parseFilter('a=1,,b=2,'), [
      { field: 'a', value: '1' },
      { field: 'b', value: '2' },
    ]);
    assert.deepEqual(parseFilter(''), []);
  });

  test('a pair without "=" is refused', () => {
    throwsValidation(() => parseFilter('a=1,b'), /"b"/);
    throwsValidation(() => parseFilter('justtext'), /=/);
  });

  test('an empty field name is refused', () => {
    throwsValidation(() => parseFilter('=x'), /field name/);
    throwsValidation(() => parseFilter('a=1,%20=x'), /field name/);
  });

  test('malformed percent-encoding is refused as a ValidationError', () => {
    for (const raw of ['a=%ZZ', 'a=%', 'a=100%', '%E0%A4=x', 'a=%E0%A4%A', 'a=%C3']) {
      throwsValidation(() => parseFilter(raw), /percent-encoding/);
    }
  });

  test(`${MAX_FILTER_PAIRS} pairs are accepted, one more is refused`, () => {
    const pairs = (count: number) => Array.from({ length: count }, (_, i) => `f${i}=v${i}`).join(',');
    assert.equal(parseFilter(pairs(MAX_FILTER_PAIRS)).length, MAX_FILTER_PAIRS);
    throwsValidation(() => parseFilter(pairs(MAX_FILTER_PAIRS + 1)), new RegExp(String(MAX_FILTER_PAIRS)));
  });

  test('a value over 32,766 bytes in UTF-8 is refused naming the filter, the field and the limit; 32,766 bytes are accepted', () => {
    throwsValidation(() => parseFilter(`user=${'u'.repeat(MAX_KEYWORD_PARAMETER_BYTES + 1)}`), /^The filter value of user is 32,767 bytes long in UTF-8; the limit is 32,766 bytes\.$/);
    throwsValidation(() => parseFilter(`a=1,doc.id=${'%C3%A9'.repeat(16_384)}`), /^The filter value of doc\.id is 32,768 bytes/);
    throwsValidation(() => parseFilter(`event_message=${'m'.repeat(MAX_KEYWORD_PARAMETER_BYTES + 1)}`), /event_message is 32,767 bytes/);
    assert.equal(parseFilter(`user=${'u'.repeat(MAX_KEYWORD_PARAMETER_BYTES)}`)[0]?.value.length, MAX_KEYWORD_PARAMETER_BYTES);
  });

  test(`the event_message values of one filter hold at most ${MAX_FULL_TEXT_WORDS} words together`, () => {
    // one-letter words, so that 15,000 of them stay under the 32,766-byte limit of a value
    const words = (count: number): string => Array.from({ length: count }, (_, n) => String.fromCharCode(97 + (n % 26))).join('+');
    assert.equal(parseFilter(`event_message=${words(MAX_FULL_TEXT_WORDS)}`).length, 1);
    throwsValidation(
      () => parseFilter(`event_message=${words(15_000)}`),
      new RegExp(`^The filter's event_message values hold 15,000 words; MLog searches at most ${MAX_FULL_TEXT_WORDS} words of event_message in one filter\\.$`),
    );
    throwsValidation(() => parseFilter(`event_message=${words(300)},event_message=${words(300)}`), /600 words/);
    // words of other fields do not count
    assert.equal(parseFilter(`event_message=${words(MAX_FULL_TEXT_WORDS)},user=${words(2_000)}`).length, 2);
  });

  test('a control character in a field or value is refused, also when the whole filter was encoded once more', () => {
    throwsValidation(() => parseFilter('user=a%0Ab'), /^The filter value of user holds the control character U\+000A at position 2;/);
    throwsValidation(() => parseFilter('us%00er=a'), /^A filter field name holds the control character U\+0000/);
    throwsValidation(() => parseFilter('user%3Da%250D'), /^The filter value of user holds the control character U\+000D/);
    throwsValidation(() => parseFilter('%09user=a'), /U\+0009/);
  });
});
