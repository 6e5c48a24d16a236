import { existsSync, readFileSync } from 'node:fs';
import type peggy from 'peggy';
import { daysInMonth } from '../events/event-time.js';

/**
 * One syslog message, parsed (docs/syslog.md, "From a syslog message to an event"): RFC 5424, else
 * RFC 3164. The syslog door de-frames a connection's bytes into messages and hands each one here; the
 * peggy grammar beside this module reads the structure, this module checks the values and assumes
 * RFC 3164's year and zone.
 */

export interface SyslogMessage {
  format: 'rfc5424' | 'rfc3164';
  facility: number; // 0..23
  severity: number; // 0..7
  /** ISO 8601 with an offset (RFC 3164: the year and zone assumed as docs/syslog.md states); undefined for RFC 5424's NILVALUE. */
  timestamp: string | undefined;
  hostname?: string;
  appName?: string;
  procId?: string;
  msgId?: string;
  structuredData: { id: string; params: { name: string; value: string }[] }[];
  /** MSG: a UTF-8 BOM removed, one trailing newline (and CR) trimmed. */
  message: string;
}

export type SyslogParse = { ok: true; message: SyslogMessage } | { ok: false; reason: string; column: number };

/** RFC 5424's longest header fields, in characters (all printable US-ASCII). */
export const RFC5424_FIELD_LIMITS = { HOSTNAME: 255, 'APP-NAME': 48, PROCID: 128, MSGID: 32 } as const;

/** RFC 5424's longest SD-ID and PARAM-NAME. */
export const SD_NAME_LIMIT = 32;

/** The most digits of a timestamp's fraction that MLog's event_time keeps. */
const FRACTION_LIMIT = 9;

// ---------------------------------------------------------------- the grammar's raw tree

interface RawPri {
  text: string;
  offset: number;
}

interface RawField {
  value: string;
  offset: number;
}

interface RawStamp {
  text: string;
  offset: number;
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  fraction: string | null;
  zone: string;
}

interface RawBsdStamp {
  bsd: true;
  text: string;
  offset: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

interface RawSdElement {
  id: RawField;
  params: { name: string; value: string; offset: number }[];
  offset: number;
}

interface Raw5424 {
  format: 'rfc5424';
  pri: RawPri;
  version: RawPri;
  timestamp: RawStamp | { invalid: string; offset: number } | null;
  hostname: RawField | null;
  appName: RawField | null;
  procId: RawField | null;
  msgId: RawField | null;
  structuredData: RawSdElement[];
  /** The offset where MSG begins: MSG is the rest of the text. */
  message: number;
}

interface Raw3164 {
  format: 'rfc3164';
  pri: RawPri | null;
  timestamp: RawStamp | RawBsdStamp | null;
  hostname: string | null;
  tag: string | null;
  procId: string | null;
  /** The offset where the content begins: the content is the rest of the text. */
  content: number;
}

/**
 * The parser `npm run build` compiled from the grammar into a module beside this one (dist/), else
 * (run from src/ through tsx) generated from the grammar as this module loads.
 */
const compiledParser = new URL('./syslog.peggy.js', import.meta.url);
const parser: peggy.Parser = existsSync(compiledParser)
  ? ((await import(compiledParser.href)) as peggy.Parser)
  : (await import('peggy')).default.generate(readFileSync(new URL('./syslog.peggy', import.meta.url), 'utf8'), { output: 'parser', grammarSource: 'syslog.peggy' });

/** A refusal with its 1-based column, thrown out of the grammar's actions and the checks below. */
class Refusal {
  constructor(
    readonly column: number,
    readonly reason: string,
  ) {}
}

function refuse(offset: number, reason: string): never {
  throw new Refusal(offset + 1, reason);
}

// ---------------------------------------------------------------- parsing

/** Parses one syslog message (one frame's content, already de-framed): RFC 5424, else RFC 3164. `timezone` is the system's syslog_timezone (IANA name, default 'UTC'). */
export function parseSyslogMessage(text: string, context: { receivedAt: Date; timezone: string }): SyslogParse {
  const trimmed = trimOneNewline(text);
  try {
    const raw = parseHeader(trimmed);
    const rest = trimmed.slice(raw.format === 'rfc5424' ? raw.message : raw.content);
    const message = raw.format === 'rfc5424' ? from5424(raw, rest) : from3164(raw, rest, context);
    return { ok: true, message };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.reason, column: error.column };
    if (error instanceof parser.SyntaxError) {
      // The grammar reads any text as RFC 3164 content at worst: this is a defect, reported plainly.
      const offset = error.location.start.offset;
      return { ok: false, reason: `the message cannot be read at column ${offset + 1}`, column: offset + 1 };
    }
    throw error;
  }
}

/**
 * The grammar's raw tree of `text`, read up to where MSG begins. Peggy's library mode (`peg$library`,
 * the interface peggy's own imported grammars use) answers where the parse stopped instead of
 * requiring the end of the input; the grammar's last rules stop at MSG, which is the rest of the text.
 * The parse runs with peggy's expectations off (`peg$silentFails`): a PEG tries and drops alternatives
 * all along a message, and recording what each one expected costs ~10 % of a parse. Only a failed
 * parse (a defect: the grammar reads any text) needs them; it is parsed again with them to be described.
 */
function parseHeader(text: string): Raw5424 | Raw3164 {
  const result = parser.parse(text, QUIET_PARSE) as unknown as LibraryResult;
  if (result.peg$result !== result.peg$FAILED) return result.peg$result as Raw5424 | Raw3164;
  const described = parser.parse(text, DESCRIBED_PARSE) as unknown as LibraryResult;
  if (described.peg$result === described.peg$FAILED) (described.peg$throw as () => never)();
  return described.peg$result as Raw5424 | Raw3164;
}

/** The parser's options, made once: library mode, `refuse` for the grammar's actions, expectations off or on. */
const QUIET_PARSE = { refuse, peg$library: true, peg$silentFails: 1 } as peggy.ParserOptions;
const DESCRIBED_PARSE = { refuse, peg$library: true } as peggy.ParserOptions;

/** What peggy's library mode answers. */
interface LibraryResult {
  peg$result: unknown;
  peg$FAILED: unknown;
  peg$throw?: () => never;
}

/** One trailing "\n" or "\r\n" removed (RSYSLOG_SyslogProtocol23Format ends MSG with one inside the frame). */
function trimOneNewline(text: string): string {
  if (!text.endsWith('\n')) return text;
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.slice(0, -1);
}

function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function priority(pri: RawPri): { facility: number; severity: number } {
  if (pri.text === '') refuse(pri.offset, 'the PRI <> holds no number: write <facility × 8 + severity>, 0 to 191');
  const value = pri.text.length > 3 ? Infinity : Number(pri.text);
  if (value > 191) refuse(pri.offset, `the PRI <${shorten(pri.text)}> is over 191`);
  return { facility: value >> 3, severity: value & 7 };
}

function from5424(raw: Raw5424, msg: string): SyslogMessage {
  const { facility, severity } = priority(raw.pri);
  if (raw.version.text !== '1') {
    refuse(raw.version.offset, `the VERSION ${raw.version.text} at column ${raw.version.offset + 1} is not supported: MLog reads VERSION 1 (RFC 5424)`);
  }
  let timestamp: string | undefined;
  if (raw.timestamp !== null) {
    if ('invalid' in raw.timestamp) {
      refuse(
        raw.timestamp.offset,
        `the TIMESTAMP "${shorten(raw.timestamp.invalid)}" at column ${raw.timestamp.offset + 1} is not in the form YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm), or "-"`,
      );
    }
    timestamp = checkStamp(raw.timestamp, 'TIMESTAMP');
  }
  const message: SyslogMessage = { format: 'rfc5424', facility, severity, timestamp, structuredData: [], message: withoutBom(msg) };
  const hostname = headerField(raw.hostname, 'HOSTNAME');
  const appName = headerField(raw.appName, 'APP-NAME');
  const procId = headerField(raw.procId, 'PROCID');
  const msgId = headerField(raw.msgId, 'MSGID');
  if (hostname !== undefined) message.hostname = hostname;
  if (appName !== undefined) message.appName = appName;
  if (procId !== undefined) message.procId = procId;
  if (msgId !== undefined) message.msgId = msgId;
  for (const element of raw.structuredData) {
    if (element.id.value.length > SD_NAME_LIMIT) {
      refuse(element.id.offset, `the SD-ID "${shorten(element.id.value)}" at column ${element.id.offset + 1} is ${element.id.value.length} characters long; RFC 5424 allows ${SD_NAME_LIMIT}`);
    }
    for (const param of element.params) {
      if (param.name.length > SD_NAME_LIMIT) {
        refuse(param.offset, `the PARAM-NAME "${shorten(param.name)}" at column ${param.offset + 1} is ${param.name.length} characters long; RFC 5424 allows ${SD_NAME_LIMIT}`);
      }
    }
    message.structuredData.push({ id: element.id.value, params: element.params.map(({ name, value }) => ({ name, value })) });
  }
  return message;
}

const PRINTABLE_US_ASCII = /^[\x21-\x7e]+$/;

function headerField(field: RawField | null, name: keyof typeof RFC5424_FIELD_LIMITS): string | undefined {
  if (field === null) return undefined;
  const limit = RFC5424_FIELD_LIMITS[name];
  if (field.value.length > limit) {
    refuse(field.offset, `the ${name} at column ${field.offset + 1} is ${field.value.length} characters long; RFC 5424 allows ${limit}`);
  }
  if (!PRINTABLE_US_ASCII.test(field.value)) {
    const at = [...field.value].findIndex((character) => !PRINTABLE_US_ASCII.test(character));
    const character = [...field.value][at] ?? '';
    const shown = /^[\x20-\x7e]$/.test(character) || character.length > 1 || character.charCodeAt(0) > 0x9f ? `"${character}"` : `U+${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    refuse(field.offset, `the ${name} at column ${field.offset + 1} holds ${shown}, which is not printable US-ASCII (RFC 5424)`);
  }
  return field.value;
}

/** An RFC 3339 stamp as written, once its date, time and offset are checked to be real and within event_time's syntax. */
function checkStamp(stamp: RawStamp, name: string): string {
  const where = `the ${name} "${shorten(stamp.text)}" at column ${stamp.offset + 1}`;
  if (stamp.fraction !== null && stamp.fraction.length - 1 > FRACTION_LIMIT) {
    refuse(stamp.offset, `${where} has a fraction of ${stamp.fraction.length - 1} digits; MLog keeps ${FRACTION_LIMIT}`);
  }
  if (stamp.year < 1 || stamp.month < 1 || stamp.month > 12 || stamp.day < 1 || stamp.day > daysInMonth(stamp.year, stamp.month)) {
    refuse(stamp.offset, `${where} is not a real date`);
  }
  if (stamp.hour > 23 || stamp.minute > 59 || stamp.second > 59) refuse(stamp.offset, `${where} is not a real time of day`);
  if (stamp.zone !== 'Z') {
    const hours = Number(stamp.zone.slice(1, 3));
    const minutes = Number(stamp.zone.slice(4, 6));
    if (minutes > 59 || hours * 60 + minutes > 18 * 60) refuse(stamp.offset, `${where} has the offset ${stamp.zone}, beyond ±18:00`);
  }
  return stamp.text;
}

function from3164(raw: Raw3164, content: string, context: { receivedAt: Date; timezone: string }): SyslogMessage {
  // RFC 3164 section 4.3.3: a message without a PRI is user.notice (13), all of it content.
  const { facility, severity } = raw.pri === null ? { facility: 1, severity: 5 } : priority(raw.pri);
  let timestamp: string | undefined;
  if (raw.timestamp !== null) {
    timestamp = 'bsd' in raw.timestamp ? assumeYearAndZone(raw.timestamp, context) : checkStamp(raw.timestamp, 'timestamp');
  }
  const message: SyslogMessage = { format: 'rfc3164', facility, severity, timestamp, structuredData: [], message: withoutBom(content) };
  if (raw.hostname !== null) message.hostname = raw.hostname;
  if (raw.tag !== null) message.appName = raw.tag;
  if (raw.procId !== null && raw.procId !== '') message.procId = raw.procId;
  return message;
}

// ---------------------------------------------------------------- RFC 3164's year and zone

const DAY_MILLIS = 86_400_000;

/**
 * "Mmm dd hh:mm:ss" as an instant: the wall-clock time in `timezone`, in the latest year (of the year
 * after receipt, the year of receipt and the year before, as the zone counts them) in which the stamp
 * is at most one day after receipt and the date exists. A Dec 31 stamp received on Jan 1 is last
 * year's; a Jan 1 stamp received late on Dec 31 (the sender's clock a little ahead) is next year's.
 */
function assumeYearAndZone(stamp: RawBsdStamp, context: { receivedAt: Date; timezone: string }): string {
  const where = `the timestamp "${stamp.text}" at column ${stamp.offset + 1}`;
  if (stamp.day > 31 || stamp.hour > 23 || stamp.minute > 59 || stamp.second > 59) refuse(stamp.offset, `${where} is not a real date and time`);
  const zone = zoneOf(context.timezone, stamp.offset);
  const received = context.receivedAt.getTime();
  const yearOfReceipt = new Date(received + offsetAt(zone, received) * 60_000).getUTCFullYear();
  for (const year of [yearOfReceipt + 1, yearOfReceipt, yearOfReceipt - 1]) {
    if (stamp.day > daysInMonth(year, stamp.month)) continue;
    const { instant, offsetMinutes } = fromWallClock(zone, year, stamp);
    if (instant - received > DAY_MILLIS) continue;
    return formatStamp(year, stamp, offsetMinutes);
  }
  return refuse(stamp.offset, `${where} is not a real date in ${yearOfReceipt} or ${yearOfReceipt - 1}`);
}

function formatStamp(year: number, stamp: RawBsdStamp, offsetMinutes: number): string {
  const two = (value: number) => value.toString().padStart(2, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  const zone = offsetMinutes === 0 ? 'Z' : `${sign}${two(Math.floor(absolute / 60))}:${two(absolute % 60)}`;
  return `${year.toString().padStart(4, '0')}-${two(stamp.month)}-${two(stamp.day)}T${two(stamp.hour)}:${two(stamp.minute)}:${two(stamp.second)}${zone}`;
}

/** A time zone: UTC done by arithmetic, any other by Intl, its formatter made once per name. */
type Zone = 'UTC' | Intl.DateTimeFormat;

const zones = new Map<string, Zone>();

function zoneOf(name: string, offset: number): Zone {
  const known = zones.get(name);
  if (known !== undefined) return known;
  let zone: Zone;
  if (name === 'UTC' || name === 'Etc/UTC') zone = 'UTC';
  else {
    try {
      zone = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      return refuse(offset, `the system's syslog_timezone "${shorten(name)}" is not an IANA time zone, so the timestamp's zone cannot be assumed`);
    }
  }
  if (zones.size < 1_000) zones.set(name, zone);
  return zone;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(zone: Zone, instant: number): WallClock {
  if (zone === 'UTC') {
    const date = new Date(instant);
    return {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
    };
  }
  const clock: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of zone.formatToParts(instant)) {
    if (part.type in clock) clock[part.type as keyof WallClock] = Number(part.value);
  }
  return clock;
}

const QUARTER_HOUR = 900_000;

/** Offsets by zone and quarter hour: zones change their offset on a quarter hour, and Intl is slow. */
const offsets = new Map<Intl.DateTimeFormat, Map<number, number>>();

/** Minutes east of UTC that `zone` is at `instant`. */
function offsetAt(zone: Zone, instant: number): number {
  if (zone === 'UTC') return 0;
  const quarter = Math.floor(instant / QUARTER_HOUR);
  let known = offsets.get(zone);
  if (known === undefined) offsets.set(zone, (known = new Map()));
  const cached = known.get(quarter);
  if (cached !== undefined) return cached;
  const start = quarter * QUARTER_HOUR;
  const clock = wallClock(zone, start);
  const offset = Math.round((Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second) - start) / 60_000);
  if (known.size >= 10_000) known.clear();
  known.set(quarter, offset);
  return offset;
}

/** The instant a wall-clock time in `zone` names (in a skipped hour, the offset before the change), and the zone's offset then. */
function fromWallClock(zone: Zone, year: number, stamp: RawBsdStamp): { instant: number; offsetMinutes: number } {
  const date = new Date(0);
  date.setUTCFullYear(year, stamp.month - 1, stamp.day);
  date.setUTCHours(stamp.hour, stamp.minute, stamp.second, 0);
  const asUtc = date.getTime();
  if (zone === 'UTC') return { instant: asUtc, offsetMinutes: 0 };
  const first = offsetAt(zone, asUtc);
  let instant = asUtc - first * 60_000;
  const second = offsetAt(zone, instant);
  if (second !== first) {
    const again = asUtc - second * 60_000;
    if (offsetAt(zone, again) === second) instant = again;
  }
  return { instant, offsetMinutes: offsetAt(zone, instant) };
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
