import type { AlertChannel } from './alert-notifier-type.js';

/** What channelProblems needs to know of the configuration: whether e-mail can be sent. */
export interface ChannelConfig {
  smtp?: { url?: string; from?: string };
}

/** The most channels one rule may have, and the most addresses of one e-mail channel. */
export const MAX_CHANNELS = 10;
export const MAX_EMAIL_RECIPIENTS = 20;
const MAX_SECRET_LENGTH = 1000;
const MAX_URL_LENGTH = 2000;
/** An address as a person writes it: something, "@", a domain with a dot; no spaces, commas or angle brackets. */
const EMAIL_ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;

/**
 * Why a rule's channels cannot be used, one plain-English message per problem naming the path
 * ("channels[1].url must be …"); empty when they can. Checks their shape (a webhook's http or https
 * URL and its secret, an e-mail channel's addresses) and the configuration (an e-mail channel needs
 * MLOG_SMTP_URL and MLOG_SMTP_FROM). The rule API refuses a rule with problems (400).
 */
export function channelProblems(channels: unknown, config: ChannelConfig): string[] {
  if (!Array.isArray(channels)) return ['channels must be a list of channels (webhook or email).'];
  if (channels.length > MAX_CHANNELS) return [`channels has ${channels.length} channels; at most ${MAX_CHANNELS} are accepted.`];
  const problems: string[] = [];
  channels.forEach((channel: unknown, index) => {
    const path = `channels[${index}]`;
    if (channel === null || typeof channel !== 'object' || Array.isArray(channel)) {
      problems.push(`${path} must be an object with "kind": "webhook" or "email".`);
      return;
    }
    const { kind, url, secret, to } = channel as Record<string, unknown>;
    if (kind === 'webhook') {
      if (typeof url !== 'string' || url.length > MAX_URL_LENGTH || !isHttpUrl(url)) problems.push(`${path}.url must be an http or https URL of at most ${MAX_URL_LENGTH} characters.`);
      if (typeof secret !== 'string' || secret.length === 0 || secret.length > MAX_SECRET_LENGTH) problems.push(`${path}.secret must be a text of 1 to ${MAX_SECRET_LENGTH} characters (the key of the X-MLog-Signature HMAC).`);
    } else if (kind === 'email') {
      if (!Array.isArray(to) || to.length === 0 || to.length > MAX_EMAIL_RECIPIENTS) problems.push(`${path}.to must be a list of 1 to ${MAX_EMAIL_RECIPIENTS} e-mail addresses.`);
      else
        to.forEach((address: unknown, position) => {
          if (typeof address !== 'string' || address.length > 254 || !EMAIL_ADDRESS.test(address)) problems.push(`${path}.to[${position}] must be an e-mail address such as security@example.gov.`);
        });
      if (config.smtp?.url === undefined || config.smtp.from === undefined) problems.push(`${path} is an e-mail channel, but MLOG_SMTP_URL and MLOG_SMTP_FROM are not both set: MLog cannot send e-mail.`);
    } else {
      problems.push(`${path}.kind must be "webhook" or "email".`);
    }
  });
  return problems;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The channels of a rule, once channelProblems found none. */
export function isChannelList(channels: unknown, config: ChannelConfig): channels is AlertChannel[] {
  return channelProblems(channels, config).length === 0;
}
