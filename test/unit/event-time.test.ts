import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daysInMonth, parseEventTime } from '../../src/events/event-time.js';

/** Epoch millis computed independently of the parser (setUTCFullYear so years < 100 stay literal). */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millis = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime();
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function accepted(text: string): number {
  const result = parseEventTime(text);
  assert.ok(result.ok, `expected "${text.slice(0, 80)}" to be accepted, got ${JSON.stringify(result)}`);
  return result.epochMillis;
}

function refusedReason(text: string): string {
  const result = parseEventTime(text);
  assert.equal(result.ok, false, `expected "${text.slice(0, 80)}" to be refused`);
  assert.ok(!result.ok);
  assert.equal(typeof result.reason, 'string');
  assert.ok(result.reason.length > 0);
  return result.reason;
}

describe('parseEventTime: accepted forms and exact instants', () => {
  test('date only is midnight UTC', () => {
    assert.equal(accepted('2024-03-01'), Date.UTC(2024, 2, 1));
    assert.equal(accepted('1970-01-01'), 0);
  });

  test('date and time without zone is UTC', () => {
    assert.equal(accepted('2024-03-01T10:20:30'), Date.UTC(2024, 2, 1, 10, 20, 30));
  });

  test('Z is UTC', () => {
    assert.equal(accepted('2024-03-01T10:20:30Z'), Date.UTC(2024, 2, 1, 10, 20, 30));
  });

  test('+HH offset', () => {
    assert.equal(accepted('2024-03-01T10:00:00+02'), Date.UTC(2024, 2, 1, 8, 0, 0));
  });

  test('+HHmm offset', () => {
    assert.equal(accepted('2024-03-01T10:00:00+0200'), Date.UTC(2024, 2, 1, 8, 0, 0));
    assert.equal(accepted('2024-03-01T10:00:00+0530'), Date.UTC(2024, 2, 1, 4, 30, 0));
  });

  test('+HH:mm offset', () => {
    assert.equal(accepted('2024-03-01T10:00:00+02:00'), Date.UTC(2024, 2, 1, 8, 0, 0));
  });

  test('negative offsets with minutes move the instant later', () => {
    assert.equal(accepted('2024-03-01T10:00:00-05:30'), Date.UTC(2024, 2, 1, 15, 30, 0));
    assert.equal(accepted('2024-03-01T10:00:00-0530'), Date.UTC(2024, 2, 1, 15, 30, 0));
    assert.equal(accepted('2024-03-01T10:00:00-05'), Date.UTC(2024, 2, 1, 15, 0, 0));
  });

  test('zero offsets in every form are UTC', () => {
    const expected = Date.UTC(2024, 2, 1, 10);
    for (const zone of ['+00', '-00', '+0000', '+00:00', '-00:00']) {
      assert.equal(accepted(`2024-03-01T10:00:00${zone}`), expected, zone);
    }
  });

  test('offsets up to ±18:00 are accepted', () => {
    assert.equal(accepted('2024-03-01T10:00:00+18:00'), Date.UTC(2024, 2, 1, 10) - 18 * HOUR);
    assert.equal(accepted('2024-03-01T10:00:00-18:00'), Date.UTC(2024, 2, 1, 10) + 18 * HOUR);
    assert.equal(accepted('2024-03-01T10:00:00+17:59'), Date.UTC(2024, 2, 1, 10) - 17 * HOUR - 59 * MINUTE);
  });

  test('an offset crosses the day, month and year boundary', () => {
    assert.equal(accepted('2024-01-01T01:00:00+02:00'), Date.UTC(2023, 11, 31, 23, 0, 0));
    assert.equal(accepted('2023-12-31T23:00:00-02:00'), Date.UTC(2024, 0, 1, 1, 0, 0));
  });

  test('fractions of 1 to 9 digits; milliseconds kept, finer digits truncated', () => {
    const base = Date.UTC(2024, 2, 1, 10, 0, 0);
    const cases: Array<[string, number]> = [
      ['1', 100],
      ['12', 120],
      ['123', 123],
      ['1234', 123],
      ['12345', 123],
      ['123456', 123],
      ['1234567', 123],
      ['12345678', 123],
      ['123456789', 123],
      ['999999999', 999],
      ['0', 0],
      ['05', 50],
      ['000000001', 0],
    ];
    for (const [fraction, millis] of cases) {
      assert.equal(accepted(`2024-03-01T10:00:00.${fraction}Z`), base + millis, fraction);
      assert.equal(accepted(`2024-03-01T10:00:00.${fraction}`), base + millis, `${fraction} without zone`);
    }
  });

  test(".NET's 7-digit round-trip form with an offset", () => {
    assert.equal(accepted('2024-03-01T10:00:00.1234567+02:00'), Date.UTC(2024, 2, 1, 8, 0, 0, 123));
    assert.equal(accepted('2024-03-01T10:00:00.1234567Z'), Date.UTC(2024, 2, 1, 10, 0, 0, 123));
    assert.equal(accepted('2024-03-01T10:00:00.9876543-05:30'), Date.UTC(2024, 2, 1, 15, 30, 0, 987));
  });

  test('fraction with each zone form', () => {
    assert.equal(accepted('2024-03-01T10:00:00.5+02'), Date.UTC(2024, 2, 1, 8, 0, 0, 500));
    assert.equal(accepted('2024-03-01T10:00:00.5+0200'), Date.UTC(2024, 2, 1, 8, 0, 0, 500));
  });

  test('leap days: 2024-02-29 and 2000-02-29 exist', () => {
    assert.equal(accepted('2024-02-29'), Date.UTC(2024, 1, 29));
    assert.equal(accepted('2000-02-29T12:00:00Z'), Date.UTC(2000, 1, 29, 12));
  });

  test('last second of the day and month ends', () => {
    assert.equal(accepted('2024-12-31T23:59:59.999Z'), Date.UTC(2024, 11, 31, 23, 59, 59, 999));
    assert.equal(accepted('2024-04-30'), Date.UTC(2024, 3, 30));
    assert.equal(accepted('2023-02-28'), Date.UTC(2023, 1, 28));
  });

  test('years before 1970 and below 100 are literal', () => {
    assert.equal(accepted('1969-12-31T23:59:59Z'), -1000);
    assert.equal(accepted('0099-06-15'), utc(99, 6, 15));
    assert.equal(accepted('0001-01-01'), utc(1, 1, 1));
    assert.notEqual(accepted('0099-06-15'), Date.UTC(1999, 5, 15));
  });
});

describe('parseEventTime: refusals', () => {
  test('dates that do not exist', () => {
    for (const text of ['2024-02-30', '2023-02-29', '1900-02-29', '2100-02-29', '2024-04-31', '2024-01-32', '2024-01-00', '2024-00-10']) {
      refusedReason(text);
    }
  });

  test('a non-existent date says it is not a real date', () => {
    assert.match(refusedReason('2024-02-30'), /2024-02-30/);
  });

  test('month 13', () => {
    refusedReason('2024-13-01');
    refusedReason('2024-13-01T10:00:00Z');
  });

  test('hour 24, minute 60, second 60', () => {
    refusedReason('2024-01-01T24:00:00');
    refusedReason('2024-01-01T24:00:00Z');
    refusedReason('2024-01-01T10:60:00');
    refusedReason('2024-01-01T10:00:60');
    refusedReason('2024-06-30T23:59:60Z');
  });

  test('a 10-digit fraction', () => {
    refusedReason('2024-01-01T10:00:00.1234567890');
    refusedReason('2024-01-01T10:00:00.1234567890Z');
  });

  test('a dot without fraction digits', () => {
    refusedReason('2024-01-01T10:00:00.');
    refusedReason('2024-01-01T10:00:00.Z');
  });

  test('missing seconds', () => {
    refusedReason('2024-01-01T10:00');
    refusedReason('2024-01-01T10:00Z');
    refusedReason('2024-01-01T10:00+02:00');
  });

  test('a zone without a time', () => {
    refusedReason('2024-01-01Z');
    refusedReason('2024-01-01+02:00');
  });

  test('a lower-case t or a space instead of T', () => {
    refusedReason('2024-01-01t10:00:00Z');
    refusedReason('2024-01-01 10:00:00Z');
    refusedReason('2024-01-01 10:00:00');
  });

  test('a lower-case z', () => {
    refusedReason('2024-01-01T10:00:00z');
  });

  test('offsets beyond ±18:00 or malformed', () => {
    for (const zone of ['+18:01', '-18:01', '+19', '+1900', '+02:60', '+2', '+2:00', '+02:0', '+02:000', '+020', '02:00', '+02-00', '+ab:cd', 'ZZ', 'Z+02']) {
      refusedReason(`2024-01-01T10:00:00${zone}`);
    }
  });

  test('wrong separators and widths', () => {
    for (const text of ['2024/01/01', '20240101', '2024-1-01', '2024-01-1', '24-01-01', '2024-01-01T1:00:00', '2024-01-01T10.00.00', '02024-01-01', '2024-01-01T10:00:00 ']) {
      refusedReason(text);
    }
  });

  test('year zero', () => {
    refusedReason('0000-01-01');
  });

  test('garbage and empty', () => {
    for (const text of ['', ' ', 'now', 'yesterday', '1709287200000', 'null', '2024-01-01TXX:00:00', 'abcd-ef-gh', '٢٠٢٤-٠١-٠١']) {
      refusedReason(text);
    }
  });

  test('surrounding whitespace is not trimmed', () => {
    refusedReason(' 2024-01-01');
    refusedReason('2024-01-01\n');
  });

  test('very long strings are refused', () => {
    refusedReason(`2024-01-01T10:00:00.${'1'.repeat(100)}Z`);
    refusedReason(`2024-01-01T10:00:00Z${' '.repeat(60)}`);
  });

  test('a pathological 100k-character string is refused', () => {
    refusedReason(`2024-01-01T10:00:00.${'9'.repeat(100_000)}`);
    refusedReason('1'.repeat(100_000));
    refusedReason(`2024-01-01T10:00:00${'+'.repeat(100_000)}`);
  });
});

describe('daysInMonth', () => {
  test('February follows the Gregorian leap-year rule', () => {
    assert.equal(daysInMonth(2024, 2), 29);
    assert.equal(daysInMonth(2023, 2), 28);
    assert.equal(daysInMonth(2000, 2), 29);
    assert.equal(daysInMonth(1900, 2), 28);
  });

  test('30 and 31 day months; invalid month gives 0', () => {
    assert.equal(daysInMonth(2024, 4), 30);
    assert.equal(daysInMonth(2024, 12), 31);
    assert.equal(daysInMonth(2024, 13), 0);
  });
});
