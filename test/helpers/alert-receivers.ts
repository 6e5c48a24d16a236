/**
 * The far ends of MLog's alert channels, real and started by a test: a webhook receiver (node:http)
 * and an SMTP server (smtp-server) that keep what they received.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';

export interface ReceivedCall {
  path: string;
  headers: IncomingHttpHeaders;
  /** The exact bytes received, as the signature covers them. */
  body: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: Record<string, any> | undefined;
}

/** A webhook receiver: each path answers the statuses set for it in turn (the last one repeats; 200 when none is set). */
export class WebhookReceiver {
  readonly received: ReceivedCall[] = [];
  private readonly server: Server;
  private readonly statuses = new Map<string, number[]>();

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const path = request.url ?? '';
        let json: Record<string, any> | undefined;
        try {
          json = JSON.parse(body.toString('utf8')) as Record<string, any>;
        } catch {
          json = undefined;
        }
        this.received.push({ path, headers: request.headers, body, json });
        const queue = this.statuses.get(path) ?? [200];
        const status = queue.length > 1 ? (queue.shift() as number) : (queue[0] as number);
        response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** `path` answers these statuses, one per call, the last one repeating. */
  answer(path: string, ...statuses: number[]): void {
    this.statuses.set(path, statuses);
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** The calls whose body names the alert rule `ruleId`, in the order received. */
  forRule(ruleId: string): ReceivedCall[] {
    return this.received.filter((call) => call.json?.rule?.id === ruleId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
}

/** An SMTP server on 127.0.0.1 (no TLS, no authentication) that keeps every message. */
export class MailSink {
  readonly mails: ReceivedMail[] = [];
  private readonly server: SMTPServer;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const from = session.envelope.mailFrom;
          this.mails.push({ from: from === false ? undefined : from.address, to: session.envelope.rcptTo.map((to) => to.address), raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      },
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** smtp://127.0.0.1:<port>, for MLOG_SMTP_URL. */
  url(): string {
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  /** The messages whose subject contains `text` (quoted-printable and folded subjects read as text). */
  withSubject(text: string): ReceivedMail[] {
    return this.mails.filter((mail) => subjectOf(mail).includes(text));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The Subject header of a message, unfolded. */
export function subjectOf(mail: ReceivedMail): string {
  const header = mail.raw.split(/\r?\n\r?\n/)[0] ?? '';
  const match = /^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(header);
  return (match?.[1] ?? '').replace(/\r?\n[ \t]/g, ' ');
}

/** The body of a message as read: quoted-printable soft breaks and escapes undone. */
export function readableMail(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Polls `check` every 100 ms until it gives something (not undefined or false); fails after `boundMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, boundMs = 30_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${boundMs} ms: ${what}`);
    await sleep(100);
  }
}
