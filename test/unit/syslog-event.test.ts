import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findEventProblem } from '../../src/events/event-validator.js';
import { parseJsonObject } from '../../src/json/json-object-parser.js';
import { isCompactJws } from '../../src/auth/compact-jws.js';
import { FACILITY_KEYWORDS, isEventLines, mappedEventLine, SEVERITY_KEYWORDS, syslogRegistration, syslogRegistrationBody } from '../../src/syslog/syslog-event.js';
import { parseSyslogMessage, type SyslogMessage } from '../../src/syslog/syslog-message.js';

const RECEIVED = new Date('2025-06-15T12:00:00.250Z');

function message(text: string): SyslogMessage {
  const result = parseSyslogMessage(text, { receivedAt: RECEIVED, timezone: 'UTC' });
  if (!result.ok) assert.fail(`expected ${JSON.stringify(text)} to parse: ${result.reason}`);
  return result.message;
}

/**
 * What the door hands the ingest pipeline for a parsed message, as the JSON body /register would read:
 * the mapped event object must be exactly the event its JSON line parses to (members, values, order).
 */
function registeredAs(parsedMessage: SyslogMessage): string {
  const registration = syslogRegistration(parsedMessage, RECEIVED);
  if ('body' in registration) {
    assert.equal(registration.body, syslogRegistrationBody(parsedMessage, RECEIVED));
    return registration.body;
  }
  const line = mappedEventLine(parsedMessage, RECEIVED);
  const parsed = parseJsonObject(line);
  if (!parsed.ok) assert.fail(`the mapped event was handed over as an object, but its line ${line} ${parsed.reason}`);
  assert.deepEqual(registration.event, parsed.value);
  assert.deepEqual(Object.keys(registration.event), Object.keys(parsed.value), 'members in the order of the JSON line');
  return line;
}

/** The mapped event of a syslog line, checked to be one JSON line that MLog's own rules accept. */
function mapped(text: string): Record<string, unknown> {
  const body = registeredAs(message(text));
  assert.ok(!body.includes('\n'), 'the mapped event is one line');
  const parsed = parseJsonObject(body);
  if (!parsed.ok) assert.fail(`the body ${body} is not a JSON object: ${parsed.reason}`);
  assert.equal(findEventProblem(parsed.value), undefined, `MLog refuses ${body}`);
  return parsed.value;
}

/** MLog's reason for refusing the body of a syslog line, as /register would give it. */
function refusal(text: string): string {
  const body = registeredAs(message(text));
  const parsed = parseJsonObject(body);
  const reason = parsed.ok ? findEventProblem(parsed.value) : parsed.reason;
  assert.notEqual(reason, undefined, `expected ${body} to be refused`);
  return reason as string;
}

describe('the mapped event', () => {
  test('every field of an RFC 5424 message with structured data', () => {
    assert.deepEqual(
      mapped('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 8710 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] \uFEFFAn application event log entry...'),
      {
        event_time: '2003-10-11T22:14:15.003Z',
        event_type: 'evntslog.ID47',
        event_level: 'notice',
        event_source: ['mymachine.example.com', 'evntslog[8710]'],
        event_message: 'An application event log entry...',
        syslog: {
          facility: 'local4',
          sd: { 'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' }, 'examplePriority@32473': { class: 'high' } },
        },
      },
    );
  });

  test('event_time: the TIMESTAMP as written, its fraction and offset kept; the receipt time when NILVALUE', () => {
    assert.equal(mapped('<13>1 2003-08-24T05:14:15.000003-07:00 - - - - -').event_time, '2003-08-24T05:14:15.000003-07:00');
    assert.equal(mapped('<13>1 - - - - - -').event_time, '2025-06-15T12:00:00.250Z');
    assert.equal(mapped('no header at all').event_time, '2025-06-15T12:00:00.250Z');
  });

  test('event_type: mlog@<PEN> event_type, else APP-NAME.MSGID, else APP-NAME.Log, else Syslog.Log or Syslog.MSGID', () => {
    assert.equal(mapped('<13>1 - - app - ID [mlog@32473 event_type="MPass.User.Authenticated"] x').event_type, 'MPass.User.Authenticated');
    assert.equal(mapped('<13>1 - - app - ID [mlog@1 event_type="A.B"] x').event_type, 'A.B');
    assert.equal(mapped('<13>1 - - app - ID [other@32473 event_type="A.B"] x').event_type, 'app.ID');
    assert.equal(mapped('<13>1 - - app - - - x').event_type, 'app.Log');
    assert.equal(mapped('<13>1 - - - - ID - x').event_type, 'Syslog.ID');
    assert.equal(mapped('<13>1 - - - - - - x').event_type, 'Syslog.Log');
    assert.equal(mapped('<13>Jun 15 11:00:00 host postfix/smtpd[7]: x').event_type, 'postfix/smtpd.Log');
  });

  test('event_level: the keyword of each severity', () => {
    for (let severity = 0; severity < 8; severity++) {
      assert.equal(mapped(`<${8 + severity}>1 - - - - - -`).event_level, SEVERITY_KEYWORDS[severity]);
    }
    assert.deepEqual([...SEVERITY_KEYWORDS], ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']);
  });

  test('syslog.facility: the keyword of each facility', () => {
    for (let facility = 0; facility < 24; facility++) {
      assert.deepEqual(mapped(`<${facility * 8 + 6}>1 - - - - - -`).syslog, { facility: FACILITY_KEYWORDS[facility] });
    }
    assert.equal(FACILITY_KEYWORDS[4], 'auth');
    assert.equal(FACILITY_KEYWORDS[10], 'authpriv');
    assert.equal(FACILITY_KEYWORDS[23], 'local7');
  });

  test('event_source: HOSTNAME and APP-NAME[PROCID], each when present', () => {
    assert.deepEqual(mapped('<13>1 - web-01 sshd 4123 - -').event_source, ['web-01', 'sshd[4123]']);
    assert.deepEqual(mapped('<13>1 - web-01 sshd - - -').event_source, ['web-01', 'sshd']);
    assert.equal(mapped('<13>1 - web-01 - 4123 - -').event_source, 'web-01');
    assert.equal(mapped('<13>1 - - sshd 4123 - -').event_source, 'sshd[4123]');
    assert.equal(mapped('<13>1 - - - 4123 - -').event_source, undefined);
  });

  test('event_message: MSG trimmed; left out when empty', () => {
    assert.equal(mapped('<13>1 - - - - - -  legacy message from rsyslog\n').event_message, 'legacy message from rsyslog');
    assert.equal(mapped('<13>1 - - - - - - first line\n  at second line').event_message, 'first line\n  at second line');
    assert.equal('event_message' in mapped('<13>1 - - - - - -'), false);
    assert.equal('event_message' in mapped('<13>1 - - - - - -   '), false);
  });

  test('mlog@<PEN> parameters: predefined and custom fields, as strings, repeated ones as arrays; they replace mapped fields', () => {
    const event = mapped(
      '<13>1 2025-06-15T10:00:00Z host app - - [mlog@32473 event_type="Demo.PersonalData.Access" user="2000000000001" legal_basis="Law 133/2011" amount="12.50" doc.id="A-1" tag="a" tag="b" event_level="high"] text',
    );
    assert.deepEqual(event, {
      event_time: '2025-06-15T10:00:00Z',
      event_type: 'Demo.PersonalData.Access',
      event_level: 'high',
      event_source: ['host', 'app'],
      event_message: 'text',
      user: '2000000000001',
      legal_basis: 'Law 133/2011',
      amount: '12.50',
      'doc.id': 'A-1',
      tag: ['a', 'b'],
      syslog: { facility: 'user' },
    });
  });

  test('other structured data: syslog.sd.<SD-ID>.<PARAM>, repeated parameters and elements merged into arrays', () => {
    const event = mapped('<13>1 - - - - - [origin ip="10.0.0.1" ip="10.0.0.2" software="rsyslogd"][timeQuality tzKnown="1"][origin ip="10.0.0.3"][empty]');
    assert.deepEqual(event.syslog, {
      facility: 'user',
      sd: { origin: { ip: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], software: 'rsyslogd' }, timeQuality: { tzKnown: '1' }, empty: {} },
    });
  });

  test('RFC 3164: TAG for APP-NAME, PID for PROCID, the assumed timestamp', () => {
    assert.deepEqual(mapped('<38>Jun 15 11:59:00 web-01 sshd[4123]: Accepted publickey for deploy'), {
      event_time: '2025-06-15T11:59:00Z',
      event_type: 'sshd.Log',
      event_level: 'info',
      event_source: ['web-01', 'sshd[4123]'],
      event_message: 'Accepted publickey for deploy',
      syslog: { facility: 'auth' },
    });
  });
});

describe('what MLog refuses downstream, with /register\'s own reason', () => {
  test('an event_type given twice makes an array, which event_type may not be', () => {
    assert.equal(refusal('<13>1 - - - - - [mlog@1 event_type="A" event_type="B"]'), 'event_type must be a string');
  });

  test('an event_time parameter that is not MLog\'s syntax', () => {
    assert.equal(refusal('<13>1 - - - - - [mlog@1 event_time="yesterday"]'), 'event_time "yesterday" is not in the form YYYY-MM-dd[THH:mm:ss[.fraction][Z|±HH[mm]|±HH:mm]]');
  });

  test('a reserved name, in mlog@ or in other structured data', () => {
    assert.equal(refusal('<13>1 - - - - - [mlog@1 _id="x"]'), 'field name "_id" is reserved: names starting with "_" or "@" are not accepted');
    assert.equal(refusal('<13>1 - - - - - [__proto__ a="1"]'), 'field name "syslog.sd.__proto__" is reserved: names starting with "_" or "@" are not accepted');
  });

  test('a parameter named syslog collides with MLog\'s own field', () => {
    assert.equal(refusal('<13>1 - - - - - [mlog@1 syslog="x"]'), 'has the key "syslog" more than once');
    assert.match(refusal('<13>1 - - - - - [mlog@1 syslog.facility="x"]'), /syslog\.facility/);
  });

  test('a MSG over 32,766 UTF-8 bytes', () => {
    assert.equal(refusal(`<13>1 - - - - - - ${'ă'.repeat(20_000)}`), 'field event_message is 40000 bytes long in UTF-8; the limit is 32766 bytes');
  });
});

describe('the object handed to the ingest pipeline', () => {
  test('a mapped message is handed over as its event object; names such as __proto__ stay own members', () => {
    const registration = syslogRegistration(message('<13>1 - host app - - [mlog@1 __proto__="x" constructor="y" 5="z"] text'), RECEIVED);
    assert.ok('event' in registration);
    assert.deepEqual(Object.keys(registration.event), ['5', 'event_time', 'event_type', 'event_level', 'event_source', 'event_message', '__proto__', 'constructor', 'syslog']);
    assert.equal(Object.getPrototypeOf(registration.event), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(registration.event, '__proto__')?.value, 'x');
    assert.equal(findEventProblem(registration.event), 'field name "__proto__" is reserved: names starting with "_" or "@" are not accepted');
  });

  test('a parameter named syslog keeps the JSON line, which /register refuses for the key given twice', () => {
    const registration = syslogRegistration(message('<13>1 - - - - - [mlog@1 syslog="x"] text'), RECEIVED);
    assert.deepEqual(registration, { body: '{"event_time":"2025-06-15T12:00:00.250Z","event_type":"Syslog.Log","event_level":"notice","event_message":"text","syslog":"x","syslog":{"facility":"user"}}' });
  });

  test('MSG holding JSON or JWS lines is handed over as the body it is', () => {
    const event = '{"event_time":"2025-06-15T10:00:00Z","event_type":"Demo.Hello"}';
    assert.deepEqual(syslogRegistration(message(`<13>1 - - - - - - ${event}`), RECEIVED), { body: event });
  });
});

describe('JSON and JWS in MSG are the event itself', () => {
  const event = '{"event_time":"2025-06-15T10:00:00Z","event_type":"Demo.Hello","event_message":"hi"}';
  const jws = 'eyJhbGciOiJSUzI1NiJ9.eyJldmVudF90eXBlIjoiRGVtby5IZWxsbyJ9.c2lnbmF0dXJl';

  test('one JSON object, whatever the header says', () => {
    assert.equal(syslogRegistrationBody(message(`<13>1 - host app - ID [mlog@1 user="x"] ${event}`), RECEIVED), event);
    assert.equal(syslogRegistrationBody(message(`<13>Jun 15 11:59:00 host app: ${event}`), RECEIVED), event);
  });

  test('several lines of JSON objects and compact JWS, blank lines between', () => {
    const text = `${event}\n\n${jws}\n  ${event}  `;
    assert.equal(syslogRegistrationBody(message(`<13>1 - - - - - - ${text}`), RECEIVED), text);
  });

  test('a JSON object that is broken is still passed on, so /register refuses it with its reason', () => {
    assert.equal(syslogRegistrationBody(message('<13>1 - - - - - - {"event_type": }'), RECEIVED), '{"event_type": }');
  });

  test('text with a line that is neither is mapped, braces and all', () => {
    const event2 = mapped(`<13>1 - - app - - - ${event}\nand a line of text`);
    assert.equal(event2.event_message, `${event}\nand a line of text`);
    assert.equal(mapped('<13>1 - - app - - - {braces} in text').event_message, '{braces} in text');
    assert.equal(mapped('<13>1 - - app - - - a.b.c').event_message, 'a.b.c');
  });
});

describe('any parsed message', () => {
  const printable = fc.stringMatching(/^[!-~]{1,12}$/).filter((text) => text !== '-');
  const sdName = fc.stringMatching(/^[!#-<>-\\^-~]{1,10}$/);
  const value = fc.string({ maxLength: 20 });
  const escape = (text: string) => text.replace(/[\\"\]]/g, (character) => `\\${character}`);
  const element = fc.record({ id: fc.oneof(sdName, fc.constantFrom('mlog@32473', 'origin', 'timeQuality')), params: fc.array(fc.record({ name: fc.oneof(sdName, fc.constantFrom('event_type', 'event_time', 'user', 'syslog')), value }), { maxLength: 4 }) });
  const header = fc.record({
    pri: fc.integer({ min: 0, max: 191 }),
    timestamp: fc.oneof(fc.constant('-'), fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString())),
    hostname: fc.oneof(fc.constant('-'), printable),
    appName: fc.oneof(fc.constant('-'), printable),
    procId: fc.oneof(fc.constant('-'), printable),
    msgId: fc.oneof(fc.constant('-'), printable),
    sd: fc.array(element, { maxLength: 3 }),
    msg: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('{"event_time":"2025-01-01","event_type":"A"}')),
  });

  test('maps to a body that MLog accepts, or refuses with a plain reason (property)', () => {
    fc.assert(
      fc.property(header, (parts) => {
        const sd = parts.sd.length === 0 ? '-' : parts.sd.map(({ id, params }) => `[${id}${params.map((param) => ` ${param.name}="${escape(param.value)}"`).join('')}]`).join('');
        const text = `<${parts.pri}>1 ${parts.timestamp} ${parts.hostname} ${parts.appName} ${parts.procId} ${parts.msgId} ${sd} ${parts.msg}`;
        const parsed = parseSyslogMessage(text, { receivedAt: RECEIVED, timezone: 'UTC' });
        assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.reason}`);
        // What the grammar read back is what was written.
        assert.deepEqual(
          parsed.message.structuredData,
          parts.sd.map(({ id, params }) => ({ id, params: params.map(({ name, value }) => ({ name, value })) })),
        );
        const body = registeredAs(parsed.message);
        const lines = body.split('\n').filter((line) => line.trim() !== '');
        for (const line of lines) {
          const json = parseJsonObject(line.trim());
          const reason = json.ok ? findEventProblem(json.value) : json.reason;
          if (reason !== undefined) assert.ok(/[a-z]/.test(reason) && reason.length > 8, `a plain reason for ${line}: ${reason}`);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  test('with names MLog can store, always maps to an event MLog accepts (property)', () => {
    const safeName = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/).filter((name) => name !== 'syslog');
    const safe = fc.record({
      pri: fc.integer({ min: 0, max: 191 }),
      appName: fc.oneof(fc.constant('-'), printable),
      msgId: fc.oneof(fc.constant('-'), printable),
      sd: fc.array(fc.record({ id: fc.oneof(safeName, fc.constant('mlog@32473')), params: fc.array(fc.record({ name: safeName, value }), { maxLength: 4 }) }), { maxLength: 3 }),
      msg: fc.string({ maxLength: 40 }).filter((text) => !text.trim().startsWith('{')),
    });
    fc.assert(
      fc.property(safe, (parts) => {
        const sd = parts.sd.length === 0 ? '-' : parts.sd.map(({ id, params }) => `[${id}${params.map((param) => ` ${param.name}="${escape(param.value)}"`).join('')}]`).join('');
        const text = `<${parts.pri}>1 - host ${parts.appName} - ${parts.msgId} ${sd} ${parts.msg}`;
        const event = mapped(text);
        assert.equal(event.event_level, SEVERITY_KEYWORDS[parts.pri & 7]);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('docs/syslog.md', () => {
  test('its two examples: the frames and the events they become', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/syslog.md', import.meta.url), 'utf8');
    const start = doc.indexOf('### An example');
    const end = doc.indexOf('\n## ', start);
    const section = doc.slice(start, end === -1 ? undefined : end);
    const blocks = [...section.matchAll(/```[a-z]*\n([^`]*?)\n```/g)].map((match) => match[1]!);
    assert.equal(blocks.length, 5, 'the logger command, a frame, its event, a line, its event');
    const [frame, frameEvent, line, lineEvent] = blocks.slice(1);
    const space = frame!.indexOf(' ');
    const content = frame!.slice(space + 1);
    assert.equal(Number(frame!.slice(0, space)), Buffer.byteLength(content), 'the octet count of the frame');
    const receivedAt = new Date('2026-11-28T08:49:11Z');
    const first = parseSyslogMessage(content, { receivedAt, timezone: 'UTC' });
    const second = parseSyslogMessage(line!, { receivedAt, timezone: 'Europe/Chisinau' });
    assert.ok(first.ok && second.ok);
    assert.equal(syslogRegistrationBody(first.message, receivedAt), frameEvent);
    assert.equal(syslogRegistrationBody(second.message, receivedAt), lineEvent);
  });
});

describe('isEventLines', () => {
  /** The rule as docs/syslog.md states it, line by line: every non-blank line a JSON object or a compact JWS. */
  function everyLineAnEvent(text: string): boolean {
    const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
    return lines.length > 0 && lines.every((line) => (line.startsWith('{') && line.endsWith('}')) || (line.startsWith('ey') && isCompactJws(line)));
  }

  test('answers as the line-by-line rule for any text, those it answers without reading every line included', () => {
    const piece = fc.constantFrom('{', '}', '{"a":1}', 'eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln', 'e', 'ey', 'text', ' ', '\t', '\n', '\r', '\u00a0', '\ufeff', '\u2028', 'x');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join('')), (text) => {
        assert.equal(isEventLines(text), everyLineAnEvent(text), JSON.stringify(text));
      }),
      { numRuns: 3000 },
    );
  });

  test('a first non-blank line after blank ones decides as the first line would', () => {
    assert.equal(isEventLines('\u00a0\n \t{"event_type":"A.B"}\n'), true);
    assert.equal(isEventLines('\u2028{"event_type":"A.B"}'), true);
    assert.equal(isEventLines(' \n  invoice 42 paid'), false);
    assert.equal(isEventLines(' \n\t '), false);
    assert.equal(isEventLines('{"a":1}\nplain text'), false);
  });
});
