/**
 * Syslog messages exactly as real senders write them: util-linux `logger` over TCP (RFC 5424 with
 * octet counting, RFC 3164 with newlines) and rsyslog's RSYSLOG_SyslogProtocol23Format, captured by a
 * node:net server in the test, de-framed per RFC 6587, then parsed and mapped.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findEventProblem } from '../../src/events/event-validator.js';
import { parseJsonObject } from '../../src/json/json-object-parser.js';
import { syslogRegistrationBody } from '../../src/syslog/syslog-event.js';
import { parseSyslogMessage, type SyslogMessage } from '../../src/syslog/syslog-message.js';

const run = promisify(execFile);
const LOGGER = '/usr/bin/logger';
const RSYSLOGD = '/usr/sbin/rsyslogd';

/** A TCP receiver that keeps every byte each connection sent. */
class Capture {
  private readonly server: Server;
  private readonly received: Buffer[] = [];
  private waiters: Array<() => void> = [];

  constructor() {
    this.server = createServer((socket) => {
      socket.on('data', (chunk) => {
        this.received.push(chunk);
        for (const wake of this.waiters) wake();
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves with everything received once `done` holds for it (the test's own timeout bounds the wait). */
  async until(done: (text: string) => boolean): Promise<string> {
    for (;;) {
      const text = Buffer.concat(this.received).toString('utf8');
      if (done(text)) return text;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.waiters = [];
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** RFC 6587 octet-counted frames: "LEN SP MSG", LEN counting UTF-8 bytes. */
function octetCountedFrames(bytes: Buffer): string[] {
  const frames: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at);
    const length = Number(bytes.subarray(at, space).toString('ascii'));
    assert.ok(Number.isInteger(length) && length > 0, `a frame length at byte ${at}`);
    frames.push(bytes.subarray(space + 1, space + 1 + length).toString('utf8'));
    at = space + 1 + length;
  }
  return frames;
}

function parse(text: string, receivedAt = new Date()): SyslogMessage {
  const result = parseSyslogMessage(text, { receivedAt, timezone: 'UTC' });
  if (!result.ok) assert.fail(`${JSON.stringify(text)}: ${result.reason} (column ${result.column})`);
  return result.message;
}

function mapped(message: SyslogMessage, receivedAt = new Date()): Record<string, unknown> {
  const body = syslogRegistrationBody(message, receivedAt);
  const json = parseJsonObject(body);
  if (!json.ok) assert.fail(`${body}: ${json.reason}`);
  assert.equal(findEventProblem(json.value), undefined);
  return json.value;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

describe('util-linux logger', { skip: !existsSync(LOGGER) && `${LOGGER} is not installed` }, () => {
  /** The bytes logger sent, run with `args` against a fresh receiver ("PORT" replaced by its port). */
  async function sent(args: string[], marker: string): Promise<Buffer> {
    const capture = new Capture();
    const port = await capture.listen();
    try {
      await run(LOGGER, args.map((arg) => (arg === 'PORT' ? String(port) : arg)));
      return Buffer.from(await capture.until((text) => text.includes(marker)), 'utf8');
    } finally {
      await capture.close();
    }
  }

  test('RFC 5424 over TCP with octet counting: header, timeQuality and mlog@32473 structured data, MSG', async () => {
    const sentAfter = Date.now();
    const bytes = await sent(['--rfc5424', '--tcp', '--octet-count', '--server', '127.0.0.1', '--port', 'PORT', '-t', 'app', '--msgid', 'ID', '-p', 'local3.warning', '--sd-id', 'mlog@32473', '--sd-param', 'event_type="X.Y"', '--sd-param', 'user="2000000000001"', 'text with ünïcode'], 'ünïcode');
    const frames = octetCountedFrames(bytes);
    assert.equal(frames.length, 1);
    const frame = frames[0];
    const message = parse(frame!);
    assert.equal(message.format, 'rfc5424');
    assert.deepEqual([message.facility, message.severity, message.appName, message.msgId, message.procId], [19, 4, 'app', 'ID', undefined]);
    assert.match(message.timestamp ?? '', ISO_WITH_OFFSET);
    assert.ok(Math.abs(Date.parse(message.timestamp!) - sentAfter) < 60_000, `${message.timestamp} is the time logger sent it`);
    assert.ok((message.hostname ?? '').length > 0);
    assert.deepEqual(message.structuredData.map((element) => element.id), ['timeQuality', 'mlog@32473']);
    assert.equal(message.message, 'text with ünïcode');

    const event = mapped(message);
    assert.equal(event.event_type, 'X.Y');
    assert.equal(event.user, '2000000000001');
    assert.equal(event.event_level, 'warning');
    assert.equal(event.event_time, message.timestamp);
    assert.deepEqual(event.event_source, [message.hostname, 'app']);
    assert.equal(event.event_message, 'text with ünïcode');
    assert.deepEqual(event.syslog, { facility: 'local3', sd: { timeQuality: (event.syslog as { sd: { timeQuality: unknown } }).sd.timeQuality } });
    assert.ok('tzKnown' in ((event.syslog as { sd: { timeQuality: object } }).sd.timeQuality));
  });

  test('RFC 3164 over TCP, newline-terminated: HOSTNAME, TAG[PID], the year assumed', async () => {
    const receivedAt = new Date();
    const line = (await sent(['--rfc3164', '--tcp', '--server', '127.0.0.1', '--port', 'PORT', '-t', 'legacy', '-i', '-p', 'auth.err', 'old style line'], 'old style line\n')).toString('utf8');
    assert.match(line, /^<35>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} \S+ legacy\[[0-9]+\]: old style line\n$/);
    const message = parse(line, receivedAt);
    assert.equal(message.format, 'rfc3164');
    assert.deepEqual([message.facility, message.severity, message.appName, message.message], [4, 3, 'legacy', 'old style line']);
    assert.match(message.procId ?? '', /^[0-9]+$/);
    assert.ok(Math.abs(Date.parse(message.timestamp!) - receivedAt.getTime()) < 60_000, `${message.timestamp} is this year's stamp`);
    const event = mapped(message, receivedAt);
    assert.equal(event.event_type, 'legacy.Log');
    assert.equal(event.event_level, 'err');
    assert.deepEqual(event.event_source, [message.hostname, `legacy[${message.procId}]`]);
    assert.deepEqual(event.syslog, { facility: 'auth' });
  });

  test('RFC 5424 without time (--rfc5424=notime): the receipt time', async () => {
    const receivedAt = new Date('2025-06-15T12:00:00.000Z');
    const [frame] = octetCountedFrames(await sent(['--rfc5424=notq,notime', '--tcp', '--octet-count', '--server', '127.0.0.1', '--port', 'PORT', '-t', 'app', 'no time'], 'no time'));
    const message = parse(frame!, receivedAt);
    assert.equal(message.timestamp, undefined);
    assert.deepEqual(message.structuredData, []);
    assert.equal(mapped(message, receivedAt).event_time, '2025-06-15T12:00:00.000Z');
  });
});

describe("rsyslog's RSYSLOG_SyslogProtocol23Format", { skip: !existsSync(RSYSLOGD) && `${RSYSLOGD} is not installed` }, () => {
  test('octet-counted over TCP, MSG ending with a newline inside the frame', async (t) => {
    const capture = new Capture();
    const port = await capture.listen();
    const directory = mkdtempSync(join(tmpdir(), 'mlog-syslog-rsyslog-'));
    const socket = join(directory, 'log.sock');
    writeFileSync(
      join(directory, 'rsyslog.conf'),
      [
        `global(workDirectory="${directory}")`,
        'module(load="imuxsock" SysSock.Use="off")',
        `input(type="imuxsock" Socket="${socket}")`,
        `action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`,
        '',
      ].join('\n'),
    );
    const rsyslog = spawn(RSYSLOGD, ['-n', '-f', join(directory, 'rsyslog.conf'), '-i', join(directory, 'rsyslogd.pid')], { stdio: 'ignore' });
    t.after(async () => {
      rsyslog.kill('SIGTERM');
      await capture.close();
      rmSync(directory, { recursive: true, force: true });
    });
    while (!existsSync(socket)) await new Promise((resolve) => setTimeout(resolve, 50));
    await run(LOGGER, ['-u', socket, '-t', 'billing', '-i', '-p', 'local5.info', 'invoice 42 issued']);
    const bytes = Buffer.from(await capture.until((text) => text.includes('invoice 42 issued')), 'utf8');
    const [frame] = octetCountedFrames(bytes);
    assert.ok(frame!.endsWith('invoice 42 issued\n'), `rsyslog ends MSG with a newline: ${JSON.stringify(frame)}`);
    const message = parse(frame!);
    assert.equal(message.format, 'rfc5424');
    assert.deepEqual([message.facility, message.severity, message.appName], [21, 6, 'billing']);
    assert.match(message.procId ?? '', /^[0-9]+$/);
    assert.match(message.timestamp ?? '', ISO_WITH_OFFSET);
    assert.ok(!message.message.endsWith('\n'));
    const event = mapped(message);
    assert.equal(event.event_message, 'invoice 42 issued');
    assert.equal(event.event_type, 'billing.Log');
    assert.equal(event.event_level, 'info');
    assert.deepEqual(event.syslog, { facility: 'local5' });
  });
});
