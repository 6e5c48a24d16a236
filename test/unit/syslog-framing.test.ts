import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelpFramer, relpResponse } from '../../src/syslog/relp-framing.js';
import { SyslogFramer, type SyslogFrame } from '../../src/syslog/syslog-framing.js';

const texts = (frames: SyslogFrame[]) => frames.map((frame) => (frame.kind === 'message' ? frame.data.toString() : frame.kind));

/** Feeds the bytes one at a time: a framer must not depend on how TCP cuts the stream. */
function byteByByte(framer: { push(chunk: Buffer): SyslogFrame[] }, text: string): SyslogFrame[] {
  return [...Buffer.from(text)].flatMap((byte) => framer.push(Buffer.from([byte])));
}

describe('syslog framing (RFC 6587)', () => {
  it('reads octet-counted frames, trimming the newline rsyslog ends MSG with, however the stream is cut', () => {
    const stream = '9 <13>1 - a\n11 <13>1 - bcd\n';
    assert.deepEqual(texts(new SyslogFramer(100).push(Buffer.from(stream))), ['<13>1 - a', '<13>1 - bcd']);
    assert.deepEqual(texts(byteByByte(new SyslogFramer(100), stream)), ['<13>1 - a', '<13>1 - bcd']);
  });

  it('reads newline-terminated messages, CRLF included, and skips empty lines', () => {
    const framer = new SyslogFramer(100);
    assert.equal(framer.framing, undefined);
    assert.deepEqual(texts(framer.push(Buffer.from('<13>one\r\n\n<13>two\n<13>thr'))), ['<13>one', '<13>two']);
    assert.equal(framer.framing, 'newline');
    assert.deepEqual(texts(framer.push(Buffer.from('ee\n'))), ['<13>three']);
  });

  it('skips an oversized octet-counted message by its count and reads the next one', () => {
    const framer = new SyslogFramer(10);
    const big = 'x'.repeat(25);
    const frames = byteByByte(framer, `25 ${big}5 <13>a`);
    assert.deepEqual(texts(frames), ['oversized', '<13>a']);
    assert.equal(frames[0]?.kind === 'oversized' && frames[0].bytes, 25);
  });

  it('skips an oversized newline-terminated message to its newline and reads the next one', () => {
    const framer = new SyslogFramer(10);
    const frames = [...framer.push(Buffer.from(`<13>${'y'.repeat(30)}`)), ...framer.push(Buffer.from(`${'y'.repeat(30)}\n<13>ok\n`))];
    assert.deepEqual(texts(frames), ['oversized', '<13>ok']);
  });

  it('breaks on bytes that no framing reads, and then reads nothing more', () => {
    const wrong = new SyslogFramer(100);
    const [first] = wrong.push(Buffer.from('hello\n'));
    assert.equal(first?.kind, 'broken');
    assert.match(first?.kind === 'broken' ? first.reason : '', /neither a digit/);
    const counted = new SyslogFramer(100);
    assert.deepEqual(texts(counted.push(Buffer.from('3 abc4x abcd'))), ['abc', 'broken']);
    assert.deepEqual(counted.push(Buffer.from('5 <13>a')), []);
  });
});

describe('RELP framing', () => {
  it('reads commands with and without data, whatever the cuts, trimming the trailing newline of the data', () => {
    const stream = '1 open 30 relp_version=0\ncommands=syslog\n2 syslog 7 <13>hi\n\n3 close 0\n';
    const expected = [
      { kind: 'command', txnr: 1, command: 'open', data: 'relp_version=0\ncommands=syslog' },
      { kind: 'command', txnr: 2, command: 'syslog', data: '<13>hi' },
      { kind: 'command', txnr: 3, command: 'close', data: '' },
    ];
    const show = (frames: ReturnType<RelpFramer['push']>) => frames.map((frame) => (frame.kind === 'command' ? { ...frame, data: frame.data.toString() } : frame));
    assert.deepEqual(show(new RelpFramer(100).push(Buffer.from(stream))), expected);
    const framer = new RelpFramer(100);
    assert.deepEqual(show([...Buffer.from(stream)].flatMap((byte) => framer.push(Buffer.from([byte])))), expected);
  });

  it('skips the data of an oversized command and goes on', () => {
    const framer = new RelpFramer(5);
    const frames = framer.push(Buffer.from(`4 syslog 12 ${'z'.repeat(12)}\n5 syslog 3 abc\n`));
    assert.deepEqual(frames.map((frame) => frame.kind), ['oversized', 'command']);
    assert.equal(frames[0]?.kind === 'oversized' && frames[0].txnr, 4);
  });

  it('breaks on a frame that is not RELP, or whose data does not end with a newline', () => {
    assert.equal(new RelpFramer(100).push(Buffer.from('GET / HTTP/1.1\r\n'))[0]?.kind, 'broken');
    assert.equal(new RelpFramer(100).push(Buffer.from('7 syslog 2 abX'))[0]?.kind, 'broken');
  });

  it('answers in the RELP frame syntax', () => {
    assert.equal(relpResponse(7, '200 OK').toString(), '7 rsp 6 200 OK\n');
    assert.equal(relpResponse(9, '').toString(), '9 rsp 0\n');
  });
});
