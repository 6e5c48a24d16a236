import { isCompactJws } from '../auth/compact-jws.js';
import type { SyslogMessage } from './syslog-message.js';

/**
 * From a parsed syslog message to the body of a registration (docs/syslog.md, "From a syslog message
 * to an event"). The body then goes through the same ingest pipeline as /register, which validates it:
 * nothing here refuses, so a message that cannot make a valid event is refused there, with /register's
 * own reason.
 */

/** The keyword of each severity, 0 to 7, as rsyslog and syslog(3) name them; event_level holds it. */
export const SEVERITY_KEYWORDS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

/** The keyword of each facility, 0 to 23, as rsyslog names them; syslog.facility holds it. */
export const FACILITY_KEYWORDS = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'audit',
  'alert',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

/** The structured data element whose parameters are event fields: mlog@ and any private enterprise number. */
const MLOG_SD_ID = /^mlog@[0-9]+$/;

/** The event_type of a message that names neither its type (mlog@<PEN> event_type) nor its APP-NAME. */
export const DEFAULT_APP_NAME = 'Syslog';

/** The second part of the event_type when there is no MSGID. */
export const DEFAULT_MSG_ID = 'Log';

/** The first character that String.prototype.trim keeps (\s is trim's white space and line terminators). */
const FIRST_NON_BLANK = /\S/;

/** True when every non-blank line of `text` is a JSON object ("{…}") or a compact JWS whose header is a JSON object, as /register reads its body. */
export function isEventLines(text: string): boolean {
  // The first non-blank line starts at the first character that is not white space: a message whose
  // text starts otherwise than "{" or "e" (most of them) is answered without splitting it into lines.
  const first = text.search(FIRST_NON_BLANK);
  if (first === -1) return false;
  const code = text.charCodeAt(first);
  if (code !== 123 /* { */ && code !== 101 /* e */) return false;
  let lines = 0;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const json = trimmed.charCodeAt(0) === 123 /* { */ && trimmed.charCodeAt(trimmed.length - 1) === 125; /* } */
    // A JWS header is a JSON object, so its base64url starts "ey": a line such as "a.b.c" stays text.
    if (!json && !(trimmed.startsWith('ey') && isCompactJws(trimmed))) return false;
    lines++;
  }
  return lines > 0;
}

/** The /register body for one parsed message: MSG itself when it is a JSON object or a compact JWS (one or several lines); otherwise the mapped event as one JSON line (docs/syslog.md). */
export function syslogRegistrationBody(message: SyslogMessage, receivedAt: Date): string {
  if (isEventLines(message.message)) return message.message;
  return mappedEventLine(message, receivedAt);
}

/**
 * What one parsed message registers: MSG as a /register body when it is a JSON object or a compact
 * JWS (one or several lines), otherwise the mapped event as an object, which the ingest pipeline
 * validates as it would the same event sent as one JSON line, without writing it as JSON text and
 * reading it back. A message that names a parameter `syslog` in mlog@<PEN> keeps the JSON line, whose
 * key given twice /register refuses with its own reason.
 */
export function syslogRegistration(message: SyslogMessage, receivedAt: Date): { body: string } | { event: Record<string, unknown> } {
  if (isEventLines(message.message)) return { body: message.message };
  const mapped = mapMessage(message, receivedAt);
  if (Object.hasOwn(mapped.fields, 'syslog')) return { body: lineOf(mapped) };
  // The mapped fields are the event: the members JSON.parse makes of its line, in the same order.
  const event = mapped.fields;
  event.syslog = mapped.syslog;
  return { event };
}

/**
 * The mapped event as one JSON line. Members are written in order; a parameter of mlog@<PEN> named
 * after a mapped field (event_time, event_type, event_level, event_source, event_message) replaces it,
 * one named `syslog` is written beside MLog's own, so /register refuses the key given twice.
 */
export function mappedEventLine(message: SyslogMessage, receivedAt: Date): string {
  return lineOf(mapMessage(message, receivedAt));
}

/**
 * A message's mapped fields and the `syslog` object written after them. The fields are an object built
 * as JSON.parse builds one (each member an own property, even one named __proto__; a name given again
 * keeps its place), so the event handed over is the object its JSON line parses to.
 */
interface MappedMessage {
  fields: Record<string, unknown>;
  syslog: Record<string, unknown>;
}

function lineOf(mapped: MappedMessage): string {
  let line = '{';
  for (const name of Object.keys(mapped.fields)) line += `${JSON.stringify(name)}:${JSON.stringify(mapped.fields[name])},`;
  return `${line}"syslog":${JSON.stringify(mapped.syslog)}}`;
}

function defineMember(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

function mapMessage(message: SyslogMessage, receivedAt: Date): MappedMessage {
  const fields: Record<string, unknown> = {
    event_time: message.timestamp ?? receivedAt.toISOString(),
    event_type: `${message.appName ?? DEFAULT_APP_NAME}.${message.msgId ?? DEFAULT_MSG_ID}`,
    event_level: SEVERITY_KEYWORDS[message.severity] ?? String(message.severity),
  };
  const source: string[] = [];
  if (message.hostname !== undefined) source.push(message.hostname);
  if (message.appName !== undefined) source.push(message.procId === undefined ? message.appName : `${message.appName}[${message.procId}]`);
  if (source.length > 0) fields.event_source = source.length === 1 ? source[0] : source;
  // Trimmed: rsyslog's %msg% keeps the space that followed the TAG's colon.
  const text = message.message.trim();
  if (text !== '') fields.event_message = text;

  const syslog: Record<string, unknown> = { facility: FACILITY_KEYWORDS[message.facility] ?? String(message.facility) };
  if (message.structuredData.length === 0) return { fields, syslog };
  // Maps, not plain objects, so that an SD-ID or PARAM-NAME such as __proto__ stays a name.
  let given: Map<string, string[]> | undefined;
  let sd: Map<string, Map<string, string[]>> | undefined;
  for (const element of message.structuredData) {
    let params: Map<string, string[]> | undefined;
    if (MLOG_SD_ID.test(element.id)) params = given ??= new Map();
    else {
      sd ??= new Map();
      params = sd.get(element.id);
      if (params === undefined) sd.set(element.id, (params = new Map()));
    }
    for (const { name, value } of element.params) {
      const values = params.get(name);
      if (values === undefined) params.set(name, [value]);
      else values.push(value);
    }
  }
  if (given !== undefined) for (const [name, values] of given) defineMember(fields, name, oneOrMany(values));
  if (sd !== undefined) {
    const elements: Record<string, unknown> = {};
    for (const [id, params] of sd) {
      const members: Record<string, unknown> = {};
      for (const [name, values] of params) defineMember(members, name, oneOrMany(values));
      defineMember(elements, id, members);
    }
    syslog.sd = elements;
  }
  return { fields, syslog };
}

function oneOrMany(values: string[]): string | string[] {
  return values.length === 1 ? values[0]! : values;
}
