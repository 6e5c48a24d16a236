import { createHmac, timingSafeEqual } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AlertChannel, AlertNotification } from './alert-notifier-type.js';
import { describeFailure, ruleLink, type ChannelSender, type DeliveryOutcome } from './alert-delivery.js';

/** The version of the webhook body; a receiver can refuse one it does not know. */
export const WEBHOOK_BODY_VERSION = 1;

/** `sha256=<hex HMAC-SHA256 of the exact body bytes with the channel's secret>`: the X-MLog-Signature header. */
export function webhookSignature(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** True when `header` is the signature of `body` with `secret` (compared in constant time): what a receiver checks. */
export function verifyWebhookSignature(body: string | Buffer, secret: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(webhookSignature(body, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The JSON body of a webhook: the notification as it is, its body version, and the link to the rule in the console when MLOG_CONSOLE_URL is set. */
export function webhookBody(notification: AlertNotification, consoleUrl?: string): string {
  const link = ruleLink(consoleUrl, notification.rule.id);
  return JSON.stringify({
    mlog_alert: WEBHOOK_BODY_VERSION,
    id: notification.id,
    kind: notification.kind,
    rule: notification.rule,
    group: notification.group,
    value: notification.value,
    since: notification.since,
    window: notification.window,
    at: notification.at,
    events: notification.events.slice(0, 100),
    ...(link === undefined ? {} : { link }),
  });
}

/** The host (and port) of a URL, without its credentials, path or query: what the records name. */
export function urlHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an unreadable URL';
  }
}

/**
 * Webhooks: a JSON POST with Content-Type, X-MLog-Signature and X-MLog-Delivery (the notification
 * id, the same on every retry so a receiver can drop a repeat). Any 2xx is delivered; anything else
 * (a redirect included: redirects are not followed), a network error or no answer within `timeoutMs`
 * is a failed attempt. Credentials in the URL are sent as HTTP Basic authentication.
 */
export class WebhookSender implements ChannelSender {
  constructor(private readonly settings: { timeoutMs: number; consoleUrl?: string }) {}

  target(channel: AlertChannel): string {
    return channel.kind === 'webhook' ? urlHost(channel.url) : '';
  }

  async send(notification: AlertNotification, channel: AlertChannel, signal: AbortSignal): Promise<DeliveryOutcome> {
    if (channel.kind !== 'webhook') return { delivered: false, error: 'not a webhook channel', permanent: true };
    let url: URL;
    try {
      url = new URL(channel.url);
    } catch {
      return { delivered: false, error: 'the URL cannot be read', permanent: true };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { delivered: false, error: 'only http and https URLs are accepted', permanent: true };
    const headers: Record<string, string> = {};
    if (url.username !== '' || url.password !== '') {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    const body = Buffer.from(webhookBody(notification, this.settings.consoleUrl), 'utf8');
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    try {
      const status = await post(url, body, {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': 'MLog-Alerts',
        'x-mlog-signature': webhookSignature(body, channel.secret),
        'x-mlog-delivery': notification.id,
      }, AbortSignal.any([signal, timeout]));
      if (status >= 200 && status < 300) return { delivered: true, httpStatus: status };
      return { delivered: false, error: `HTTP ${status}`, httpStatus: status };
    } catch (error) {
      if (timeout.aborted) return { delivered: false, error: `no answer within ${this.settings.timeoutMs / 1000} s` };
      return { delivered: false, error: describeFailure(error) };
    }
  }
}

/** One POST with node:http(s) (which follows no redirect); resolves with the answer's status once the answer is read (and dropped), rejects on a network error or when `signal` aborts. */
function post(url: URL, body: Buffer, headers: Record<string, string>, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', headers, signal }, (response) => {
      response.on('error', reject);
      response.on('end', () => resolve(response.statusCode ?? 0));
      // Only the status counts: the answer's body is read and dropped.
      response.resume();
    });
    request.on('error', reject);
    request.end(body);
  });
}
