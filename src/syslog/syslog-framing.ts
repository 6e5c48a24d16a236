/**
 * Syslog over a stream (RFC 6587), de-framed: the framing is detected per connection from its first
 * byte — a digit means octet counting (`MSG-LEN SP SYSLOG-MSG`), `<` means newline-terminated
 * messages. Pure: bytes in, frames out; the listeners (syslog-listeners.ts) decide what to do with them.
 * A message's bytes are a view of the chunk it arrived in, not a copy: node hands each read its own
 * buffer (no `onread` buffer is reused), and a chunk lives until the last of its messages is answered.
 */

/** What a framer found in the bytes given so far. */
export type SyslogFrame =
  /** One message, its trailing newline (and CR) trimmed. */
  | { kind: 'message'; data: Buffer }
  /** A message longer than the limit, skipped (its first bytes kept for the rejection record); the framing goes on. */
  | { kind: 'oversized'; bytes: number; excerpt: Buffer }
  /** Bytes that no framing can read: the connection must be closed (nothing after them can be trusted). */
  | { kind: 'broken'; reason: string; excerpt: Buffer };

/** Bytes of a skipped or broken message kept for the rejection record. */
export const FRAME_EXCERPT_BYTES = 4096;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const LT = 0x3c;
const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;

/** A frame's content without one trailing LF (and a CR before it): RSYSLOG_SyslogProtocol23Format ends MSG with one. */
export function trimTrailingNewline(data: Buffer): Buffer {
  let end = data.length;
  if (end > 0 && data[end - 1] === LF) end--;
  if (end > 0 && data[end - 1] === CR) end--;
  return end === data.length ? data : data.subarray(0, end);
}

function excerptOf(data: Buffer): Buffer {
  return Buffer.from(data.subarray(0, FRAME_EXCERPT_BYTES));
}

/**
 * The de-framer of one connection. `push` takes the bytes as they arrive and returns the frames they
 * complete; after a `broken` frame it returns nothing more. Holds at most one message (up to
 * `maxMessageBytes`) plus what arrived with it.
 */
export class SyslogFramer {
  private mode: 'undecided' | 'octet-counting' | 'newline' = 'undecided';
  private pending: Buffer = Buffer.alloc(0);
  /** Octet counting: bytes of an oversized message still to skip. Newline: true while skipping to the next LF. */
  private skipBytes = 0;
  private skippingLine = false;
  private broken = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** The framing this connection uses, once its first byte has arrived. */
  get framing(): 'octet-counting' | 'newline' | undefined {
    return this.mode === 'undecided' ? undefined : this.mode;
  }

  push(chunk: Buffer): SyslogFrame[] {
    if (this.broken) return [];
    const frames: SyslogFrame[] = [];
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = Buffer.alloc(0);
    if (this.mode === 'undecided') {
      const start = data.findIndex((byte) => byte !== LF && byte !== CR && byte !== SP);
      if (start === -1) return frames;
      const first = data[start];
      if (isDigit(first)) this.mode = 'octet-counting';
      else if (first === LT) this.mode = 'newline';
      else return this.breakWith(frames, `the first byte (0x${(first ?? 0).toString(16).padStart(2, '0')}) is neither a digit (octet counting) nor "<" (a newline-terminated message, RFC 6587)`, data);
    }
    data = this.mode === 'octet-counting' ? this.octetCounted(data, frames) : this.newlineTerminated(data, frames);
    if (!this.broken) this.pending = data.length === 0 ? data : Buffer.from(data);
    return frames;
  }

  private breakWith(frames: SyslogFrame[], reason: string, data: Buffer): SyslogFrame[] {
    this.broken = true;
    this.pending = Buffer.alloc(0);
    frames.push({ kind: 'broken', reason, excerpt: excerptOf(data) });
    return frames;
  }

  /** Reads `MSG-LEN SP SYSLOG-MSG` frames; returns what is left unread. */
  private octetCounted(data: Buffer, frames: SyslogFrame[]): Buffer {
    let at = 0;
    for (;;) {
      if (this.skipBytes > 0) {
        const skipped = Math.min(this.skipBytes, data.length - at);
        this.skipBytes -= skipped;
        at += skipped;
        if (this.skipBytes > 0) return data.subarray(at);
      }
      // Line ends between frames are tolerated (some senders add one after each frame).
      while (at < data.length && (data[at] === LF || data[at] === CR)) at++;
      if (at >= data.length) return data.subarray(at);
      let digitsEnd = at;
      while (digitsEnd < data.length && isDigit(data[digitsEnd]) && digitsEnd - at < 10) digitsEnd++;
      if (digitsEnd === data.length) return data.subarray(at);
      if (data[digitsEnd] !== SP || digitsEnd === at || data[at] === 0x30) {
        this.breakWith(frames, `the frame at byte ${at} does not start with a message length (MSG-LEN: a number from 1, then a space, RFC 6587 octet counting)`, data.subarray(at));
        return Buffer.alloc(0);
      }
      const length = Number(data.subarray(at, digitsEnd).toString('latin1'));
      const start = digitsEnd + 1;
      if (length > this.maxMessageBytes) {
        frames.push({ kind: 'oversized', bytes: length, excerpt: excerptOf(data.subarray(start, start + Math.min(length, FRAME_EXCERPT_BYTES))) });
        this.skipBytes = length;
        at = start;
        continue;
      }
      if (data.length - start < length) return data.subarray(at);
      frames.push({ kind: 'message', data: trimTrailingNewline(data.subarray(start, start + length)) });
      at = start + length;
    }
  }

  /** Reads LF-terminated messages; returns what is left unread (a message not yet ended). */
  private newlineTerminated(data: Buffer, frames: SyslogFrame[]): Buffer {
    let at = 0;
    for (;;) {
      const end = data.indexOf(LF, at);
      if (this.skippingLine) {
        if (end === -1) return Buffer.alloc(0);
        this.skippingLine = false;
        at = end + 1;
        continue;
      }
      if (end === -1) {
        const rest = data.length - at;
        if (rest > this.maxMessageBytes) {
          frames.push({ kind: 'oversized', bytes: rest, excerpt: excerptOf(data.subarray(at)) });
          this.skippingLine = true;
          return Buffer.alloc(0);
        }
        return data.subarray(at);
      }
      const line = trimTrailingNewline(data.subarray(at, end + 1));
      if (line.length > this.maxMessageBytes) frames.push({ kind: 'oversized', bytes: line.length, excerpt: excerptOf(line) });
      else if (line.length > 0) frames.push({ kind: 'message', data: line });
      at = end + 1;
    }
  }
}
