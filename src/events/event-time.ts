/**
 * The event_time syntax of MLog: YYYY-MM-dd[THH:mm:ss[.fraction][Z|±HH[mm]|±HH:mm]], the fraction 1 to 9
 * digits, no zone meaning UTC. Parsed by hand in one left-to-right pass (no backtracking regular
 * expression), so a pathological string is refused in time proportional to its length, capped at 64.
 */
export const EVENT_TIME_SYNTAX = 'YYYY-MM-dd[THH:mm:ss[.fraction][Z|±HH[mm]|±HH:mm]]';

export type EventTimeResult = { ok: true; epochMillis: number } | { ok: false; reason: string };

const MAX_LENGTH = 64;

function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return -1;
    value = value * 10 + (code - 48);
  }
  return value;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The UTC month of an instant, "yyyy.MM" (the month suffix of monthly indices). */
export function utcMonth(at: Date): string {
  return `${at.getUTCFullYear().toString().padStart(4, '0')}.${(at.getUTCMonth() + 1).toString().padStart(2, '0')}`;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

const malformed: EventTimeResult = { ok: false, reason: `is not in the form ${EVENT_TIME_SYNTAX}` };

/** Parses an event_time string into epoch milliseconds (a fraction past milliseconds is truncated). */
export function parseEventTime(text: string): EventTimeResult {
  if (text.length < 10 || text.length > MAX_LENGTH) return malformed;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 0 || month < 0 || day < 0 || text[4] !== '-' || text[7] !== '-') return malformed;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: `is not a real date (${text.slice(0, 10)} does not exist)` };
  }
  let hour = 0;
  let minute = 0;
  let second = 0;
  let millis = 0;
  let offsetMinutes = 0;
  let at = 10;
  if (at < text.length) {
    if (text[at] !== 'T' || text.length < 19 || text[13] !== ':' || text[16] !== ':') return malformed;
    hour = digits(text, 11, 2);
    minute = digits(text, 14, 2);
    second = digits(text, 17, 2);
    if (hour < 0 || minute < 0 || second < 0) return malformed;
    if (hour > 23 || minute > 59 || second > 59) {
      return { ok: false, reason: `is not a real time of day (${text.slice(11, 19)})` };
    }
    at = 19;
    if (text[at] === '.') {
      const start = ++at;
      while (at < text.length && at - start < 10) {
        const code = text.charCodeAt(at);
        if (code < 48 || code > 57) break;
        at++;
      }
      const count = at - start;
      if (count < 1 || count > 9) return malformed;
      millis = Number(text.slice(start, start + Math.min(count, 3)).padEnd(3, '0'));
    }
    if (at < text.length) {
      const zone = text.slice(at);
      const parsed = parseZone(zone);
      if (parsed === undefined) return malformed;
      offsetMinutes = parsed;
    }
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return { ok: true, epochMillis: date.getTime() - offsetMinutes * 60_000 };
}

/** Z, ±HH, ±HHmm or ±HH:mm → offset in minutes east of UTC; undefined when malformed or beyond ±18:00. */
function parseZone(zone: string): number | undefined {
  if (zone === 'Z') return 0;
  const sign = zone[0] === '+' ? 1 : zone[0] === '-' ? -1 : 0;
  if (sign === 0) return undefined;
  let hours: number;
  let minutes = 0;
  if (zone.length === 3) {
    hours = digits(zone, 1, 2);
  } else if (zone.length === 5) {
    hours = digits(zone, 1, 2);
    minutes = digits(zone, 3, 2);
  } else if (zone.length === 6 && zone[3] === ':') {
    hours = digits(zone, 1, 2);
    minutes = digits(zone, 4, 2);
  } else {
    return undefined;
  }
  if (hours < 0 || minutes < 0 || minutes > 59 || hours * 60 + minutes > 18 * 60) return undefined;
  return sign * (hours * 60 + minutes);
}
