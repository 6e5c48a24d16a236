import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSyslogMessage, type SyslogMessage } from '../../src/syslog/syslog-message.js';

const RECEIVED = new Date('2025-06-15T12:00:00Z');

function parsed(text: string, receivedAt = RECEIVED, timezone = 'UTC'): SyslogMessage {
  const result = parseSyslogMessage(text, { receivedAt, timezone });
  if (!result.ok) assert.fail(`expected ${JSON.stringify(text)} to parse, got: ${result.reason} (column ${result.column})`);
  return result.message;
}

function refused(text: string, receivedAt = RECEIVED, timezone = 'UTC'): { reason: string; column: number } {
  const result = parseSyslogMessage(text, { receivedAt, timezone });
  if (result.ok) assert.fail(`expected ${JSON.stringify(text)} to be refused, got ${JSON.stringify(result.message)}`);
  return { reason: result.reason, column: result.column };
}

describe('RFC 5424: the examples of section 6.5', () => {
  test('example 1: no structured data, a BOM before MSG', () => {
    assert.deepEqual(parsed("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8"), {
      format: 'rfc5424',
      facility: 4,
      severity: 2,
      timestamp: '2003-10-11T22:14:15.003Z',
      hostname: 'mymachine.example.com',
      appName: 'su',
      msgId: 'ID47',
      structuredData: [],
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  test('example 2: microseconds and a negative offset, no MSGID', () => {
    assert.deepEqual(parsed("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."), {
      format: 'rfc5424',
      facility: 20,
      severity: 5,
      timestamp: '2003-08-24T05:14:15.000003-07:00',
      hostname: '192.0.2.1',
      appName: 'myproc',
      procId: '8710',
      structuredData: [],
      message: "%% It's time to make the do-nuts.",
    });
  });

  test('example 3: one structured data element and a message', () => {
    const message = parsed(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \uFEFFAn application event log entry...',
    );
    assert.deepEqual(message.structuredData, [
      { id: 'exampleSDID@32473', params: [{ name: 'iut', value: '3' }, { name: 'eventSource', value: 'Application' }, { name: 'eventID', value: '1011' }] },
    ]);
    assert.equal(message.message, 'An application event log entry...');
    assert.equal(message.procId, undefined);
  });

  test('example 4: two elements and no MSG', () => {
    const message = parsed(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    );
    assert.deepEqual(
      message.structuredData.map((element) => element.id),
      ['exampleSDID@32473', 'examplePriority@32473'],
    );
    assert.deepEqual(message.structuredData[1]!.params, [{ name: 'class', value: 'high' }]);
    assert.equal(message.message, '');
  });
});

describe('RFC 5424: the header', () => {
  test('every field NILVALUE: only PRI and VERSION remain', () => {
    assert.deepEqual(parsed('<0>1 - - - - - -'), { format: 'rfc5424', facility: 0, severity: 0, timestamp: undefined, structuredData: [], message: '' });
  });

  test('PRI 191 is local7.debug; a PRI of one digit is read', () => {
    const highest = parsed('<191>1 - - - - - -');
    assert.deepEqual([highest.facility, highest.severity], [23, 7]);
    const low = parsed('<9>1 - - - - - -');
    assert.deepEqual([low.facility, low.severity], [1, 1]);
  });

  test('each header field is kept as written', () => {
    const message = parsed('<86>1 2025-06-15T10:00:00Z web-01.example.md sshd 4123 AUTH - x');
    assert.deepEqual([message.hostname, message.appName, message.procId, message.msgId], ['web-01.example.md', 'sshd', '4123', 'AUTH']);
  });

  test('timestamps: fractions of 1 to 9 digits, Z and ±hh:mm offsets, kept as written', () => {
    for (const stamp of ['2025-06-15T10:00:00Z', '2025-06-15T10:00:00.1Z', '2025-06-15T10:00:00.123456+02:00', '2025-06-15T10:00:00.123456789-11:30', '2024-02-29T23:59:59+18:00']) {
      assert.equal(parsed(`<13>1 ${stamp} - - - - -`).timestamp, stamp);
    }
  });

  test('MSG: one trailing newline and CR trimmed, not two; a BOM removed only at the start', () => {
    assert.equal(parsed('<13>1 - - - - - - line\n').message, 'line');
    assert.equal(parsed('<13>1 - - - - - - line\r\n').message, 'line');
    assert.equal(parsed('<13>1 - - - - - - line\n\n').message, 'line\n');
    assert.equal(parsed('<13>1 - - - - - - first\nsecond').message, 'first\nsecond');
    assert.equal(parsed('<13>1 - - - - - - \uFEFFa\uFEFFb').message, 'a\uFEFFb');
    assert.equal(parsed('<13>1 - - - - - -\n').message, '');
  });

  test('MSG keeps its spaces (rsyslog sends two before a legacy message)', () => {
    assert.equal(parsed('<13>1 - - - - - -  indented ').message, ' indented ');
  });

  test('MSG is the rest of the text, whatever it holds: 64 KiB of it, brackets, quotes and newlines', () => {
    const long = `${'x'.repeat(64 * 1024 - 40)}] "quoted" [not sd]\n{"a":1}`;
    const message = parsed(`<13>1 - host app - - [a b="c"] ${long}`);
    assert.equal(message.message, long);
    assert.deepEqual(message.structuredData, [{ id: 'a', params: [{ name: 'b', value: 'c' }] }]);
  });
});

describe('RFC 5424: structured data', () => {
  test('\\", \\\\ and \\] are escapes; a backslash before anything else is kept', () => {
    const message = parsed('<13>1 - - - - - [a b="q\\"s\\\\b\\]e\\n" c=""] m');
    assert.deepEqual(message.structuredData, [{ id: 'a', params: [{ name: 'b', value: 'q"s\\b]e\\n' }, { name: 'c', value: '' }] }]);
    assert.equal(message.message, 'm');
  });

  test('an unescaped ] inside the quotes, UTF-8 and spaces in a value are read', () => {
    const message = parsed('<13>1 - - - - - [a b="x] y" c="Chișinău, ţară"]');
    assert.deepEqual(message.structuredData[0]!.params, [{ name: 'b', value: 'x] y' }, { name: 'c', value: 'Chișinău, ţară' }]);
  });

  test('an element without parameters, and a parameter given twice', () => {
    const message = parsed('<13>1 - - - - - [origin][x@1 k="1" k="2"]');
    assert.deepEqual(message.structuredData, [
      { id: 'origin', params: [] },
      { id: 'x@1', params: [{ name: 'k', value: '1' }, { name: 'k', value: '2' }] },
    ]);
  });

  test('what follows a space after the elements is MSG, brackets and all', () => {
    assert.equal(parsed('<13>1 - - - - - [a] [b c="d"]').message, '[b c="d"]');
    assert.equal(parsed('<13>1 - - - - - - [a]').message, '[a]');
  });
});

describe('RFC 5424: malformed messages, with the reason and column', () => {
  const cases: Array<[string, string, number]> = [
    ['<200>1 - - - - - -', 'the PRI <200> is over 191', 1],
    ['<1000>1 - - - - - -', 'the PRI <1000> is over 191', 1],
    ['<2>2 - - - - - -', 'the VERSION 2 at column 4 is not supported: MLog reads VERSION 1 (RFC 5424)', 4],
    ['<13>1 2025-06-15 - - - - -', 'the TIMESTAMP "2025-06-15" at column 7 is not in the form YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm), or "-"', 7],
    ['<13>1 2025-06-15T10:00:00 - - - - -', 'the TIMESTAMP "2025-06-15T10:00:00" at column 7 is not in the form YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm), or "-"', 7],
    ['<13>1 2025-02-29T10:00:00Z - - - - -', 'the TIMESTAMP "2025-02-29T10:00:00Z" at column 7 is not a real date', 7],
    ['<13>1 2025-06-15T24:00:00Z - - - - -', 'the TIMESTAMP "2025-06-15T24:00:00Z" at column 7 is not a real time of day', 7],
    ['<13>1 2016-12-31T23:59:60Z - - - - -', 'the TIMESTAMP "2016-12-31T23:59:60Z" at column 7 is not a real time of day', 7],
    ['<13>1 2025-06-15T10:00:00.1234567890Z - - - - -', 'the TIMESTAMP "2025-06-15T10:00:00.1234567890Z" at column 7 has a fraction of 10 digits; MLog keeps 9', 7],
    ['<13>1 2025-06-15T10:00:00+18:30 - - - - -', 'the TIMESTAMP "2025-06-15T10:00:00+18:30" at column 7 has the offset +18:30, beyond ±18:00', 7],
    ['<13>1 - - - -', 'the message ends at column 14, before its MSGID (RFC 5424: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA follow the VERSION, "-" for a field with no value)', 14],
    ['<13>1 ', 'the message ends at column 7, before its TIMESTAMP (RFC 5424: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA follow the VERSION, "-" for a field with no value)', 7],
    ['<13>1 - - ', 'the message ends at column 11, before its APP-NAME (RFC 5424: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA follow the VERSION, "-" for a field with no value)', 11],
    ['<13>1 -  app - - -', 'the HOSTNAME at column 9 is empty (two spaces); write "-" for a field with no value', 9],
    ['<13>1 - - - - - hello', 'the STRUCTURED-DATA at column 17 must be "-" or elements in square brackets, [id name="value"]; found "hello"', 17],
    ['<13>1 - - - - - ', 'the STRUCTURED-DATA at column 17 is empty: write "-" when there is none', 17],
    ['<13>1 - host app - - [exampleSDID@32473 iut="3" eventSource="App"', 'the structured data element at column 22 is not closed by "]"', 22],
    ['<13>1 - - - - - [a b="c" d="e]', 'the value of the structured data parameter d at column 26 is not closed by a double quote', 26],
    ['<13>1 - - - - - [a b=c]', 'the value of the structured data parameter b at column 22 is not in double quotes: write b="value"', 22],
    ['<13>1 - - - - - [a b]', 'the structured data parameter b at column 20 has no value: write b="value"', 20],
    ['<13>1 - - - - - [a ]', 'a structured data parameter at column 20 has no name: write name="value"', 20],
    ['<13>1 - - - - - []', 'the structured data element at column 17 has no SD-ID', 18],
    ['<13>1 - - - - - [a b="c"x]', 'the structured data element at column 17 holds "x" at column 25, where a space and name="value", or "]", should be', 25],
    ['<13>1 - - - - - [a]x', 'the structured data ends at column 19 and is followed by "x": a space must separate it from the MSG', 20],
    ['<13>1 - - - - -msg', 'the message ends at column 19, before its STRUCTURED-DATA (RFC 5424: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA follow the VERSION, "-" for a field with no value)', 19],
    [`<13>1 - - ${'a'.repeat(49)} - - -`, 'the APP-NAME at column 11 is 49 characters long; RFC 5424 allows 48', 11],
    [`<13>1 - - - - ${'m'.repeat(33)} -`, 'the MSGID at column 15 is 33 characters long; RFC 5424 allows 32', 15],
    ['<13>1 - hôst - - - -', 'the HOSTNAME at column 9 holds "ô", which is not printable US-ASCII (RFC 5424)', 9],
    ['<13>1 - host\tname - - - -', 'the HOSTNAME at column 9 holds U+0009, which is not printable US-ASCII (RFC 5424)', 9],
    [`<13>1 - - - - - [${'s'.repeat(33)}]`, `the SD-ID "${'s'.repeat(33)}" at column 18 is 33 characters long; RFC 5424 allows 32`, 18],
    ['<>1 - - - - - -', 'the PRI <> holds no number: write <facility × 8 + severity>, 0 to 191', 1],
  ];
  for (const [text, reason, column] of cases) {
    test(`${JSON.stringify(text).slice(0, 60)} → ${reason.slice(0, 50)}`, () => {
      assert.deepEqual(refused(text), { reason, column });
    });
  }
});

describe('RFC 3164: the examples of section 5.4', () => {
  test('example 1: TIMESTAMP HOSTNAME TAG: content', () => {
    assert.deepEqual(parsed("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"), {
      format: 'rfc3164',
      facility: 4,
      severity: 2,
      timestamp: '2024-10-11T22:14:15Z',
      hostname: 'mymachine',
      appName: 'su',
      structuredData: [],
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  test('example 2: no PRI: user.notice, the whole text is the content, receipt time', () => {
    assert.deepEqual(parsed('Use the BFG!'), { format: 'rfc3164', facility: 1, severity: 5, timestamp: undefined, structuredData: [], message: 'Use the BFG!' });
  });

  test('example 3: a space-padded day, an address for HOSTNAME, no TAG', () => {
    const message = parsed('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!');
    assert.equal(message.timestamp, '2025-02-05T17:32:18Z');
    assert.equal(message.hostname, '10.0.0.99');
    assert.equal(message.appName, undefined);
    assert.equal(message.message, 'Use the BFG!');
  });

  test('example 4: what follows the timestamp is read as HOSTNAME then content', () => {
    const message = parsed("<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.");
    assert.deepEqual([message.facility, message.severity, message.timestamp, message.hostname], [20, 5, '2024-08-24T05:34:00Z', 'CST']);
    assert.equal(message.message, "1987 mymachine myproc[10]: %% It's time to make the do-nuts.");
  });

  test('example 5: no valid timestamp after the PRI: everything after it is the content', () => {
    const message = parsed("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!");
    assert.equal(message.format, 'rfc3164');
    assert.equal(message.timestamp, undefined);
    assert.equal(message.hostname, undefined);
    assert.equal(message.message, "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!");
  });
});

describe('RFC 3164: the forms met in practice', () => {
  test('TAG[PID]: after HOSTNAME', () => {
    const message = parsed('<38>Jun 15 11:59:00 web-01 sshd[4123]: Accepted publickey for deploy');
    assert.deepEqual([message.hostname, message.appName, message.procId, message.message], ['web-01', 'sshd', '4123', 'Accepted publickey for deploy']);
  });

  test('no HOSTNAME (rsyslog forwarding /dev/log, logger to a local socket)', () => {
    const message = parsed('<13>Jun 15 11:59:00 postfix/smtpd[77]: connect from unknown');
    assert.deepEqual([message.hostname, message.appName, message.procId, message.message], [undefined, 'postfix/smtpd', '77', 'connect from unknown']);
  });

  test('TAG without PID; a day written with two digits; the colon left out after [PID]', () => {
    assert.deepEqual(pick(parsed('<13>Jun 05 11:59:00 host cron: job done')), [undefined, '2025-06-05T11:59:00Z', 'host', 'cron', 'job done']);
    assert.deepEqual(pick(parsed('<13>Jun 15 11:59:00 host app[9] text')), ['9', '2025-06-15T11:59:00Z', 'host', 'app', 'text']);
  });

  test('an RFC 3339 timestamp (RSYSLOG_ForwardFormat) is taken as written', () => {
    const message = parsed('<13>2025-06-15T11:59:00.123456+03:00 host app: x');
    assert.deepEqual([message.timestamp, message.hostname, message.appName, message.message], ['2025-06-15T11:59:00.123456+03:00', 'host', 'app', 'x']);
  });

  test('a PRI and nothing else, a timestamp and nothing else', () => {
    assert.deepEqual(parsed('<13>'), { format: 'rfc3164', facility: 1, severity: 5, timestamp: undefined, structuredData: [], message: '' });
    const stampOnly = parsed('<13>Jun 15 11:59:00');
    assert.deepEqual([stampOnly.timestamp, stampOnly.hostname, stampOnly.message], ['2025-06-15T11:59:00Z', undefined, '']);
  });

  test('the content is the rest of the text after the header, spaces kept, even after two spaces where HOSTNAME would be', () => {
    assert.equal(parsed('<13>Jun 15 11:59:00  two spaces before it').message, ' two spaces before it');
    assert.equal(parsed(`<13>Jun 15 11:59:00 host app[7]: ${'y'.repeat(70_000)}`).message.length, 70_000);
    assert.equal(parsed('<13>Jun 15 11:59:00 host').hostname, 'host');
  });

  test('text that only looks like a PRI is content', () => {
    assert.equal(parsed('<html> is not a PRI').message, '<html> is not a PRI');
  });

  test('refused: a PRI over 191, an impossible time or date', () => {
    assert.deepEqual(refused('<192>Jun 15 11:59:00 host app: x'), { reason: 'the PRI <192> is over 191', column: 1 });
    assert.deepEqual(refused('<13>Jun 15 24:00:00 host app: x'), { reason: 'the timestamp "Jun 15 24:00:00" at column 5 is not a real date and time', column: 5 });
    assert.deepEqual(refused('<13>Feb 30 10:00:00 host app: x'), { reason: 'the timestamp "Feb 30 10:00:00" at column 5 is not a real date in 2025 or 2024', column: 5 });
  });

  function pick(message: SyslogMessage): unknown[] {
    return [message.procId, message.timestamp, message.hostname, message.appName, message.message];
  }
});

describe("RFC 3164's year and zone", () => {
  const stamp = (text: string, receivedAt: string, timezone = 'UTC') => parsed(`<13>${text} host app: x`, new Date(receivedAt), timezone).timestamp;

  test('the year of receipt', () => {
    assert.equal(stamp('Jun 15 11:59:00', '2025-06-15T12:00:00Z'), '2025-06-15T11:59:00Z');
  });

  test('a Dec 31 stamp received on Jan 1 is last year', () => {
    assert.equal(stamp('Dec 31 23:59:58', '2026-01-01T00:00:03Z'), '2025-12-31T23:59:58Z');
  });

  test('a stamp more than a day after receipt is last year; up to a day after is this year', () => {
    assert.equal(stamp('Jun 17 12:00:01', '2025-06-15T12:00:00Z'), '2024-06-17T12:00:01Z');
    assert.equal(stamp('Jun 16 12:00:00', '2025-06-15T12:00:00Z'), '2025-06-16T12:00:00Z');
    assert.equal(stamp('Jun 16 12:00:01', '2025-06-15T12:00:00Z'), '2024-06-16T12:00:01Z');
  });

  test("a Jan 1 stamp received on Dec 31 (the sender's clock ahead) is next year", () => {
    assert.equal(stamp('Jan  1 00:00:05', '2025-12-31T23:59:50Z'), '2026-01-01T00:00:05Z');
  });

  test('Feb 29 received in a year without one is the last leap year before it, when that is last year', () => {
    assert.equal(stamp('Feb 29 10:00:00', '2025-03-01T00:00:00Z'), '2024-02-29T10:00:00Z');
  });

  test("the system's syslog_timezone: its offset on that date, summer and winter", () => {
    assert.equal(stamp('Jul  1 12:00:00', '2025-07-01T12:00:00Z', 'Europe/Chisinau'), '2025-07-01T12:00:00+03:00');
    assert.equal(stamp('Jan 10 12:00:00', '2025-01-10T12:00:00Z', 'Europe/Chisinau'), '2025-01-10T12:00:00+02:00');
    assert.equal(stamp('Jan 10 12:00:00', '2025-01-10T12:00:00Z', 'America/St_Johns'), '2025-01-10T12:00:00-03:30');
  });

  test('the year is the year of receipt in that zone: 23:30 UTC on Dec 31 is already Jan 1 in Chisinau', () => {
    assert.equal(stamp('Jan  1 01:00:00', '2025-12-31T23:30:00Z', 'Europe/Chisinau'), '2026-01-01T01:00:00+02:00');
  });

  test('an unknown time zone is refused, naming it', () => {
    assert.deepEqual(refused('<13>Jun 15 11:59:00 host app: x', RECEIVED, 'Mars/Olympus'), {
      reason: `the system's syslog_timezone "Mars/Olympus" is not an IANA time zone, so the timestamp's zone cannot be assumed`,
      column: 5,
    });
  });
});

describe('any text', () => {
  test('is parsed or refused with a reason and a column inside it, never thrown', () => {
    const syslogish = fc.stringMatching(/^<[0-9]{0,4}>[0-9 ]{0,3}[-0-9T:.Z+ ]{0,30}[a-z\- ]{0,12}(\[[a-z@0-9 ="\\\]]{0,20}\]?)?.{0,10}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), syslogish), (text) => {
        const result = parseSyslogMessage(text, { receivedAt: RECEIVED, timezone: 'UTC' });
        if (result.ok) {
          assert.ok(result.message.facility >= 0 && result.message.facility <= 23);
          assert.ok(result.message.severity >= 0 && result.message.severity <= 7);
        } else {
          assert.ok(result.reason.length > 10, result.reason);
          assert.ok(result.column >= 1 && result.column <= text.length + 1, `column ${result.column} of ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
