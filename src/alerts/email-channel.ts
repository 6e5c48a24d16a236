import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { AlertChannel, AlertNotification } from './alert-notifier-type.js';
import { describeFailure, eventRefs, kindWords, ruleLink, type ChannelSender, type DeliveryOutcome } from './alert-delivery.js';

export interface EmailSettings {
  /** MLOG_SMTP_URL (smtp:// or smtps://, credentials allowed): never logged nor recorded. */
  smtpUrl?: string;
  /** MLOG_SMTP_FROM. */
  from?: string;
  timeoutMs: number;
  consoleUrl?: string;
}

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The subject, plain text and HTML of the e-mail of a notification: the rule, the group, the value, the window and the triggering events. */
export function emailMessage(notification: AlertNotification, consoleUrl?: string): EmailMessage {
  const { rule } = notification;
  const group = notification.group === '' ? '' : ` (${oneLine(notification.group)})`;
  const subject = `[MLog] ${kindWords(notification.kind)}: ${oneLine(rule.name)}${group}`;
  const link = ruleLink(consoleUrl, rule.id);
  const refs = eventRefs(notification);
  const rows: [string, string][] = [
    ['Rule', `${rule.name} (${rule.type}, id ${rule.id})`],
    ['State', notification.kind === 'recovered' ? `recovered (was active since ${notification.since})` : `active since ${notification.since}`],
    ...(notification.group === '' ? [] : ([['Group', notification.group]] as [string, string][])),
    ['Value', String(notification.value)],
    ['Window', `${notification.window.from} to ${notification.window.to}`],
    ['Evaluated at', notification.at],
    ['Notification', notification.id],
    ...(link === undefined ? [] : ([['In the console', link]] as [string, string][])),
  ];
  const eventsTitle = `Triggering events (${refs.length}${notification.events.length > refs.length ? ` of ${notification.events.length}` : ''}):`;
  const text = [
    `${kindWords(notification.kind)}: ${rule.name}${group}`,
    '',
    ...rows.map(([name, value]) => `${name}: ${value}`),
    '',
    refs.length === 0 ? 'No triggering events are listed.' : eventsTitle,
    ...refs.map((ref) => `  ${ref}`),
    '',
    '-- MLog',
  ].join('\n');
  const html = [
    `<h2>${escapeHtml(`${kindWords(notification.kind)}: ${rule.name}${group}`)}</h2>`,
    '<table>',
    ...rows.map(([name, value]) => `<tr><th align="left">${escapeHtml(name)}</th><td>${name === 'In the console' ? `<a href="${escapeHtml(value)}">${escapeHtml(value)}</a>` : escapeHtml(value)}</td></tr>`),
    '</table>',
    refs.length === 0 ? '<p>No triggering events are listed.</p>' : `<p>${escapeHtml(eventsTitle)}</p><ul>${refs.map((ref) => `<li><code>${escapeHtml(ref)}</code></li>`).join('')}</ul>`,
    '<p>-- MLog</p>',
  ].join('\n');
  return { subject, text, html };
}

/** The SMTP server's host and port, without credentials: what the records name. */
export function smtpHost(smtpUrl: string | undefined): string {
  if (smtpUrl === undefined) return 'SMTP not configured';
  try {
    return new URL(smtpUrl).host;
  } catch {
    return 'an unreadable SMTP URL';
  }
}

/** E-mail over SMTP with nodemailer, one message to every address of the channel. Without MLOG_SMTP_URL and MLOG_SMTP_FROM every attempt fails, and is not retried. */
export class EmailSender implements ChannelSender {
  private transport: Transporter<SMTPTransport.SentMessageInfo> | undefined;

  constructor(private readonly settings: EmailSettings) {}

  target(): string {
    return smtpHost(this.settings.smtpUrl);
  }

  async send(notification: AlertNotification, channel: AlertChannel, signal: AbortSignal): Promise<DeliveryOutcome> {
    if (channel.kind !== 'email') return { delivered: false, error: 'not an e-mail channel', permanent: true };
    const { smtpUrl, from } = this.settings;
    if (smtpUrl === undefined || from === undefined) return { delivered: false, error: 'MLOG_SMTP_URL and MLOG_SMTP_FROM are not both set', permanent: true };
    if (signal.aborted) return { delivered: false, error: 'aborted' };
    try {
      const timeoutMs = this.settings.timeoutMs;
      const options: SMTPTransport.Options & { url: string } = { url: smtpUrl, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs };
      this.transport ??= nodemailer.createTransport(options);
      const message = emailMessage(notification, this.settings.consoleUrl);
      await this.transport.sendMail({ from, to: channel.to, ...message, headers: { 'X-MLog-Delivery': notification.id } });
      return { delivered: true };
    } catch (error) {
      const responseCode = (error as { responseCode?: unknown }).responseCode;
      return { delivered: false, error: typeof responseCode === 'number' ? `${describeFailure(error)} (SMTP ${responseCode})` : describeFailure(error) };
    }
  }

  close(): void {
    this.transport?.close();
    this.transport = undefined;
  }
}
