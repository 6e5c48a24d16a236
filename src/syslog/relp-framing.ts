/**
 * RELP frames as rsyslog's `omrelp` (librelp) sends them: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`.
 * Pure: bytes in, frames out; and the answers MLog sends back (`rsp`, `serverclose`).
 */
import { trimTrailingNewline } from './syslog-framing.js';

export type RelpFrame =
  /** One command; `data` without the trailing newline rsyslog puts at the end of a syslog message. */
  | { kind: 'command'; txnr: number; command: string; data: Buffer }
  /** A command whose data is longer than the limit: skipped (its framing kept), to be answered with an error. */
  | { kind: 'oversized'; txnr: number; command: string; bytes: number }
  /** Bytes that are not RELP: the connection must be closed. */
  | { kind: 'broken'; reason: string; excerpt: Buffer };

/** What MLog offers in its answer to `open` (omrelp refuses a bare "200 OK"). */
export const RELP_OFFERS = 'relp_version=0\nrelp_software=MLog\ncommands=syslog';

const LF = 0x0a;
/** TXNR is 1 to 9 digits; DATALEN is 1 to 9 digits; COMMAND is 1 to 32 letters (RELP). */
const HEADER = /^(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})(?=[ \n])/;
/** The longest a header can be (9 + 1 + 32 + 1 + 9 + 1 bytes). */
const MAX_HEADER_BYTES = 53;

/** One RELP answer frame: `TXNR rsp DATALEN DATA LF`. */
export function relpResponse(txnr: number, text: string): Buffer {
  const data = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`${txnr} rsp ${data.length}${data.length === 0 ? '' : ' '}`, 'latin1'), data, Buffer.from('\n')]);
}

/** The frame by which the server closes the session (`0 serverclose 0`). */
export const RELP_SERVERCLOSE = Buffer.from('0 serverclose 0\n', 'latin1');

/** The de-framer of one RELP connection; after a `broken` frame it returns nothing more. */
export class RelpFramer {
  private pending: Buffer = Buffer.alloc(0);
  private skip: { txnr: number; command: string; bytes: number; left: number } | undefined;
  private broken = false;

  constructor(private readonly maxDataBytes: number) {}

  push(chunk: Buffer): RelpFrame[] {
    if (this.broken) return [];
    const frames: RelpFrame[] = [];
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    for (;;) {
      if (this.skip !== undefined) {
        const skipped = Math.min(this.skip.left, data.length - at);
        this.skip.left -= skipped;
        at += skipped;
        if (this.skip.left > 0) break;
        frames.push({ kind: 'oversized', txnr: this.skip.txnr, command: this.skip.command, bytes: this.skip.bytes });
        this.skip = undefined;
      }
      while (at < data.length && (data[at] === LF || data[at] === 0x0d)) at++;
      if (at >= data.length) break;
      const head = data.subarray(at, Math.min(data.length, at + MAX_HEADER_BYTES + 1)).toString('latin1');
      const match = HEADER.exec(head);
      if (match === null) {
        // Not yet complete, or not RELP: only a header that cannot become valid breaks the connection.
        if (data.length - at <= MAX_HEADER_BYTES && /^\d{0,9}( [A-Za-z]{0,32}( \d{0,9})?)?$/.test(head)) break;
        this.broken = true;
        frames.push({ kind: 'broken', reason: `the bytes at ${at} are not a RELP frame header (TXNR COMMAND DATALEN)`, excerpt: Buffer.from(data.subarray(at, at + 4096)) });
        this.pending = Buffer.alloc(0);
        return frames;
      }
      const [whole, txnrText, command = '', lengthText] = match;
      const txnr = Number(txnrText);
      const length = Number(lengthText);
      const dataStart = at + whole.length + (length > 0 ? 1 : 0);
      if (length > this.maxDataBytes) {
        // The data and its trailing LF are skipped; the command is answered with an error.
        this.skip = { txnr, command, bytes: length, left: length + 1 };
        at = dataStart;
        continue;
      }
      if (data.length < dataStart + length + 1) break;
      if (data[dataStart + length] !== LF) {
        this.broken = true;
        frames.push({ kind: 'broken', reason: `the RELP frame ${txnr} does not end with a newline after its ${length} bytes of data`, excerpt: Buffer.from(data.subarray(at, at + 4096)) });
        this.pending = Buffer.alloc(0);
        return frames;
      }
      frames.push({ kind: 'command', txnr, command, data: trimTrailingNewline(Buffer.from(data.subarray(dataStart, dataStart + length))) });
      at = dataStart + length + 1;
    }
    this.pending = at >= data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at));
    return frames;
  }
}

