import type { AlertChannel, AlertNotification } from './alert-notifier-type.js';

/** What became of one attempt at delivering a notification to one channel. */
export type DeliveryOutcome =
  | { delivered: true; httpStatus?: number }
  /** `error` is short and safe to record: a status, an error code, never a secret, a body or a URL's credentials. `permanent`: retrying cannot help (e.g. SMTP is not configured). */
  | { delivered: false; error: string; httpStatus?: number; permanent?: boolean };

/** Sends notifications over one kind of channel. */
export interface ChannelSender {
  /** One attempt, bounded by the sender's timeout; never throws. */
  send(notification: AlertNotification, channel: AlertChannel, signal: AbortSignal): Promise<DeliveryOutcome>;
  /** Where it goes, safe to record: the webhook's host, the SMTP server's host. */
  target(channel: AlertChannel): string;
}

/** The words of a notification's kind, for subjects and messages. */
export function kindWords(kind: AlertNotification['kind']): string {
  return kind === 'fired' ? 'Alert fired' : kind === 'recovered' ? 'Alert recovered' : 'Alert still active';
}

/** The link to the rule in the console (its history and the events behind it), when the console's address is configured. */
export function ruleLink(consoleUrl: string | undefined, ruleId: string): string | undefined {
  if (consoleUrl === undefined) return undefined;
  const base = consoleUrl.endsWith('/') ? consoleUrl : `${consoleUrl}/`;
  return new URL(`alerts?rule=${encodeURIComponent(ruleId)}`, base).toString();
}

/** "<index>/<id>" of each triggering event, as mlog_audit records them (at most 100). */
export function eventRefs(notification: AlertNotification): string[] {
  return notification.events.slice(0, 100).map((event) => `${event.index}/${event.id}`);
}

/** A short description of a thrown error that is safe to record: its code or name, never its message (which can quote a URL or a server's answer). */
export function describeFailure(error: unknown): string {
  if (error === null || typeof error !== 'object') return 'error';
  const { name, code, cause } = error as { name?: unknown; code?: unknown; cause?: unknown };
  if (name === 'TimeoutError') return 'timed out';
  if (name === 'AbortError') return 'aborted';
  if (typeof code === 'string') return code;
  if (cause !== undefined && cause !== error) {
    const inner = describeFailure(cause);
    if (inner !== 'error') return inner;
  }
  return typeof name === 'string' ? name : 'error';
}
