/** The pure parts of alert notifications: the webhook signature and body, the backoff, the e-mail message, the outbox ids and the channel checks. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AlertNotification } from '../../src/alerts/alert-notifier-type.js';
import { channelProblems } from '../../src/alerts/channel-problems.js';
import { emailMessage, smtpHost } from '../../src/alerts/email-channel.js';
import { outboxEntryId } from '../../src/alerts/outbox-notifier.js';
import { MAX_RETRY_DELAY_MS, nextAttemptAt, retryDelayMs } from '../../src/alerts/retry-backoff.js';
import { urlHost, verifyWebhookSignature, webhookBody, webhookSignature } from '../../src/alerts/webhook-channel.js';

const notification: AlertNotification = {
  id: 'r1:alice:3:fired',
  kind: 'fired',
  rule: { id: 'r1', name: 'Brute force <on> MPass', type: 'threshold' },
  group: 'alice',
  value: 27,
  since: '2026-03-02T10:15:00.000Z',
  window: { from: '2026-03-02T10:10:00.000Z', to: '2026-03-02T10:15:00.000Z' },
  events: Array.from({ length: 120 }, (_, index) => ({ index: 'mlog-mpass-2026.03', id: `ev-${index}` })),
  at: '2026-03-02T10:15:04.000Z',
};

describe('the webhook signature', () => {
  test('is the HMAC-SHA256 of the body with the secret, in hex after "sha256=" (RFC 4231-style known answer)', () => {
    assert.equal(webhookSignature('The quick brown fox jumps over the lazy dog', 'key'), 'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  });

  test('verifies with the secret, and not with another secret, another body or no header', () => {
    const body = webhookBody(notification);
    const header = webhookSignature(body, 'the-secret');
    assert.equal(verifyWebhookSignature(body, 'the-secret', header), true);
    assert.equal(verifyWebhookSignature(body, 'another-secret', header), false);
    assert.equal(verifyWebhookSignature(`${body} `, 'the-secret', header), false);
    assert.equal(verifyWebhookSignature(body, 'the-secret', undefined), false);
    assert.equal(verifyWebhookSignature(body, 'the-secret', 'sha256=00'), false);
  });

  test('the body carries the notification, at most 100 events, and the link only when the console address is known', () => {
    const plain = JSON.parse(webhookBody(notification));
    assert.equal(plain.mlog_alert, 1);
    assert.equal(plain.id, notification.id);
    assert.equal(plain.events.length, 100);
    assert.equal(plain.link, undefined);
    assert.equal(JSON.parse(webhookBody(notification, 'https://mlog.example.gov/console')).link, 'https://mlog.example.gov/console/alerts?rule=r1');
  });

  test('records name the host only: no credentials, path or query', () => {
    assert.equal(urlHost('https://user:pw@hooks.example.gov:8443/path?token=t'), 'hooks.example.gov:8443');
    assert.equal(smtpHost('smtps://user:pw@smtp.example.gov:465'), 'smtp.example.gov:465');
    assert.equal(smtpHost(undefined), 'SMTP not configured');
  });
});

describe('the retry backoff', () => {
  test('doubles from the first delay, with jitter in the upper half', () => {
    assert.equal(retryDelayMs(1, 1000, () => 0), 500);
    assert.equal(retryDelayMs(1, 1000, () => 1), 1000);
    assert.equal(retryDelayMs(2, 1000, () => 1), 2000);
    assert.equal(retryDelayMs(4, 1000, () => 0.5), 6000);
    for (let attempt = 1; attempt < 8; attempt += 1) {
      const delay = retryDelayMs(attempt, 1000);
      assert.ok(delay >= 500 * 2 ** (attempt - 1) && delay <= 1000 * 2 ** (attempt - 1), `attempt ${attempt}: ${delay}`);
    }
  });

  test('never waits more than five minutes, however many attempts failed', () => {
    assert.equal(retryDelayMs(50, 5000, () => 1), MAX_RETRY_DELAY_MS);
    assert.equal(retryDelayMs(1_000_000, 5000, () => 1), MAX_RETRY_DELAY_MS);
  });

  test('the next attempt never passes the give-up time, and there is none from then on', () => {
    const now = new Date('2026-03-02T10:00:00.000Z');
    const giveUp = new Date('2026-03-02T10:00:03.000Z');
    assert.equal(nextAttemptAt(now, giveUp, 1, 1000, () => 1)?.toISOString(), '2026-03-02T10:00:01.000Z');
    assert.equal(nextAttemptAt(now, giveUp, 5, 1000, () => 1)?.toISOString(), giveUp.toISOString());
    assert.equal(nextAttemptAt(giveUp, giveUp, 1, 1000), undefined);
    assert.equal(nextAttemptAt(new Date(giveUp.getTime() + 1), giveUp, 1, 1000), undefined);
  });
});

describe('the e-mail of a notification', () => {
  test('names the rule, group, value, window and events in text and HTML, escaping the HTML', () => {
    const message = emailMessage(notification, 'https://mlog.example.gov/console/');
    assert.equal(message.subject, '[MLog] Alert fired: Brute force <on> MPass (alice)');
    for (const part of ['Group: alice', 'Value: 27', 'Window: 2026-03-02T10:10:00.000Z to 2026-03-02T10:15:00.000Z', 'mlog-mpass-2026.03/ev-0', 'mlog-mpass-2026.03/ev-99', 'Triggering events (100 of 120)', 'https://mlog.example.gov/console/alerts?rule=r1']) {
      assert.ok(message.text.includes(part), part);
    }
    assert.ok(!message.text.includes('ev-100'), 'at most 100 events');
    assert.ok(message.html.includes('Brute force &#60;on&#62; MPass') && !message.html.includes('<on>'), 'the rule name is escaped in HTML');
    assert.ok(message.html.includes('<code>mlog-mpass-2026.03/ev-5</code>'));
  });

  test('a recovery and a group-less rule read as such; a subject holds no line break', () => {
    const message = emailMessage({ ...notification, kind: 'recovered', group: '', rule: { ...notification.rule, name: 'Two\r\nlines' } });
    assert.equal(message.subject, '[MLog] Alert recovered: Two lines');
    assert.ok(message.text.includes('recovered (was active since 2026-03-02T10:15:00.000Z)'));
    assert.ok(!message.text.includes('Group:'));
  });
});

describe('outbox entry ids', () => {
  test('one per notification and channel; the secret does not count, the order of recipients does not either', () => {
    const hook = { kind: 'webhook' as const, url: 'https://hooks.example.gov/a', secret: 's1' };
    assert.equal(outboxEntryId('n1', hook), outboxEntryId('n1', { ...hook, secret: 's2' }));
    assert.notEqual(outboxEntryId('n1', hook), outboxEntryId('n2', hook));
    assert.notEqual(outboxEntryId('n1', hook), outboxEntryId('n1', { ...hook, url: 'https://hooks.example.gov/b' }));
    assert.equal(outboxEntryId('n1', { kind: 'email', to: ['a@example.gov', 'B@example.gov'] }), outboxEntryId('n1', { kind: 'email', to: ['b@example.gov', 'a@example.gov'] }));
    assert.match(outboxEntryId('n1', hook), /^[0-9a-f]{64}$/);
  });
});

describe('channelProblems', () => {
  const smtp = { smtp: { url: 'smtp://127.0.0.1:25', from: 'mlog@example.gov' } };

  test('accepts webhooks and e-mail when SMTP is configured', () => {
    assert.deepEqual(channelProblems([{ kind: 'webhook', url: 'https://hooks.example.gov/x', secret: 's' }, { kind: 'email', to: ['soc@example.gov'] }], smtp), []);
    assert.deepEqual(channelProblems([], {}), []);
  });

  test('refuses an e-mail channel when SMTP is not configured, naming the channel and the settings', () => {
    assert.deepEqual(channelProblems([{ kind: 'webhook', url: 'https://hooks.example.gov/x', secret: 's' }, { kind: 'email', to: ['soc@example.gov'] }], {}), [
      'channels[1] is an e-mail channel, but MLOG_SMTP_URL and MLOG_SMTP_FROM are not both set: MLog cannot send e-mail.',
    ]);
  });

  test('names the path of each malformed part', () => {
    assert.deepEqual(channelProblems([{ kind: 'webhook', url: 'ftp://x', secret: '' }, { kind: 'email', to: ['soc@example.gov', 'not an address'] }, { kind: 'sms' }, null], smtp), [
      'channels[0].url must be an http or https URL of at most 2000 characters.',
      'channels[0].secret must be a text of 1 to 1000 characters (the key of the X-MLog-Signature HMAC).',
      'channels[1].to[1] must be an e-mail address such as security@example.gov.',
      'channels[2].kind must be "webhook" or "email".',
      'channels[3] must be an object with "kind": "webhook" or "email".',
    ]);
    assert.deepEqual(channelProblems('x', smtp), ['channels must be a list of channels (webhook or email).']);
    assert.deepEqual(channelProblems([{ kind: 'email', to: [] }], smtp), ['channels[0].to must be a list of 1 to 20 e-mail addresses.']);
  });
});
