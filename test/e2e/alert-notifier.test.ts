/**
 * The alert notifier as the composition builds it, on the real Elasticsearch, delivering to a real
 * webhook receiver (node:http) and a real SMTP server (smtp-server) started here: the signed body,
 * retries with their failures recorded in mlog_audit, giving up, one delivery per notification and
 * channel (enqueued twice, or by two instances), and delivery after a restart.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import type { AlertChannel, AlertNotification } from '../../src/alerts/alert-notifier-type.js';
import { outboxEntryId } from '../../src/alerts/outbox-notifier.js';
import { ALERT_OUTBOX_INDEX, AUDIT_INDEX } from '../../src/storage/index-names.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { TestMLog } from '../helpers/test-mlog.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A webhook receiver: answers each request with the next status of `statuses` (the last one repeats) and keeps what it received. */
class Receiver {
  readonly received: Received[] = [];
  private readonly server: Server;
  private statuses: number[] = [200];

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
        const status = this.statuses.length > 1 ? (this.statuses.shift() as number) : (this.statuses[0] as number);
        // 0: no answer at all.
        if (status === 0) return;
        response.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:1/elsewhere' } : {}).end('{}');
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  answer(...statuses: number[]): void {
    this.statuses = statuses;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((request) => request.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Mail {
  from: string | undefined;
  to: string[];
  raw: string;
  user: string | undefined;
}

/** The body of a message as read: quoted-printable soft breaks and escapes undone. */
function readable(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, boundMs = 30_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${boundMs} ms: ${what}`);
    await sleep(100);
  }
}

/** MLog's own records of a notification, oldest first. */
async function records(notificationId: string, eventType?: string): Promise<Record<string, any>[]> {
  const client = inspectionClient();
  await client.indices.refresh({ index: AUDIT_INDEX });
  const found = await client.search<Record<string, any>>({
    index: AUDIT_INDEX,
    size: 100,
    sort: [{ '@received': 'asc' }],
    query: { bool: { filter: [{ term: { notification_id: notificationId } }, ...(eventType === undefined ? [] : [{ term: { event_type: eventType } }])] } },
  });
  return found.hits.hits.map((hit) => hit._source as Record<string, any>);
}

async function outboxStatus(notificationId: string, channel: AlertChannel): Promise<string | undefined> {
  const found = await inspectionClient().get<{ status: string }>({ index: ALERT_OUTBOX_INDEX, id: outboxEntryId(notificationId, channel) }, { ignore: [404] });
  return found.found ? found._source?.status : undefined;
}

let sequence = 0;
function notification(fields: Partial<AlertNotification> = {}): AlertNotification {
  const ruleId = `rule-${randomBytes(4).toString('hex')}`;
  sequence += 1;
  return {
    id: `${ruleId}:alice:${sequence}:fired`,
    kind: 'fired',
    rule: { id: ruleId, name: 'Brute force on MPass', type: 'threshold' },
    group: 'alice',
    value: 27,
    since: '2026-03-02T10:15:00.000Z',
    window: { from: '2026-03-02T10:10:00.000Z', to: '2026-03-02T10:15:00.000Z' },
    events: [
      { index: 'mlog-mpass-2026.03', id: 'ev-1' },
      { index: 'mlog-mpass-2026.03', id: 'ev-2' },
    ],
    at: '2026-03-02T10:15:04.000Z',
    ...fields,
  };
}

const SECRET = 'webhook-secret-0123456789';
const SMTP_PASSWORD = `smtp-${randomBytes(6).toString('hex')}`;

describe('alert notifications: webhook and e-mail, from the outbox', () => {
  const receiver = new Receiver();
  const mails: Mail[] = [];
  let smtp: SMTPServer;
  let smtpPort = 0;
  let mlog: TestMLog;
  let environment: Record<string, string>;

  before(async () => {
    await receiver.listen();
    smtp = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'mlog' && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username });
        else callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const from = session.envelope.mailFrom;
          mails.push({
            from: from === false ? undefined : from.address,
            to: session.envelope.rcptTo.map((to) => to.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            user: typeof session.user === 'string' ? session.user : undefined,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as AddressInfo).port;
    environment = {
      // The test starts and stops the notifier itself: no alert tick takes the lease (and starts it) meanwhile.
      MLOG_ALERTS_SCHEDULE: 'off',
      MLOG_ALERT_RETRY_MINUTES: '0.15',
      MLOG_ALERT_RETRY_FIRST_DELAY_SECONDS: '0.4',
      MLOG_ALERT_DELIVERY_TIMEOUT_SECONDS: '3',
      MLOG_SMTP_URL: `smtp://mlog:${SMTP_PASSWORD}@127.0.0.1:${smtpPort}`,
      MLOG_SMTP_FROM: 'MLog alerts <mlog@example.gov>',
      MLOG_CONSOLE_URL: 'https://mlog.example.gov/console/',
    };
    mlog = await TestMLog.start(environment);
    mlog.mlog.alertNotifier.start();
  });

  after(async () => {
    await mlog?.stop();
    await receiver.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await closeInspectionClient();
  });

  test('a webhook gets the notification as JSON, signed with the channel secret, and the delivery is recorded with its events', async () => {
    const sent = notification();
    const channel: AlertChannel = { kind: 'webhook', url: receiver.url('/signed?token=query-secret'), secret: SECRET };
    await mlog.mlog.alertNotifier.enqueue(sent, [channel]);
    const [request] = await waitFor('the webhook call', () => (receiver.at('/signed?token=query-secret').length > 0 ? receiver.at('/signed?token=query-secret') : undefined));
    assert.ok(request !== undefined);

    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-mlog-delivery'], sent.id);
    const body = JSON.parse(request.body.toString('utf8'));
    assert.equal(body.mlog_alert, 1);
    assert.equal(body.id, sent.id);
    assert.equal(body.kind, 'fired');
    assert.deepEqual(body.rule, sent.rule);
    assert.equal(body.group, 'alice');
    assert.equal(body.value, 27);
    assert.deepEqual(body.window, sent.window);
    assert.deepEqual(body.events, sent.events);
    assert.equal(body.link, `https://mlog.example.gov/console/alerts?rule=${sent.rule.id}`);

    const signature = request.headers['x-mlog-signature'];
    assert.equal(signature, `sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`, 'the signature verifies with the secret, over the exact bytes');
    assert.notEqual(signature, `sha256=${createHmac('sha256', 'another-secret-0123456789').update(request.body).digest('hex')}`, 'and not with another secret');

    const [notified] = await waitFor('the delivery record', async () => {
      const found = await records(sent.id, 'MLog.Alert.Notified');
      return found.length > 0 ? found : undefined;
    });
    assert.ok(notified !== undefined);
    assert.equal(notified.rule_id, sent.rule.id);
    assert.equal(notified.rule_name, sent.rule.name);
    assert.equal(notified.group, 'alice');
    assert.equal(notified.channel, 'webhook');
    assert.equal(notified.host, `127.0.0.1:${new URL(channel.url).port}`, 'the host only: no path, no query');
    assert.equal(notified.attempt, 1);
    assert.deepEqual(notified.event_refs, ['mlog-mpass-2026.03/ev-1', 'mlog-mpass-2026.03/ev-2']);
    const recorded = JSON.stringify(await records(sent.id));
    assert.ok(!recorded.includes(SECRET) && !recorded.includes('query-secret'), 'neither the secret nor the query is recorded');
    assert.equal(await waitFor('the entry delivered', async () => ((await outboxStatus(sent.id, channel)) === 'delivered' ? 'delivered' : undefined)), 'delivered');
  });

  test('a receiver answering 500 twice gets the notification on the third attempt; both failures are recorded', async () => {
    const sent = notification();
    receiver.answer(500, 500, 200);
    await mlog.mlog.alertNotifier.enqueue(sent, [{ kind: 'webhook', url: receiver.url('/flaky'), secret: SECRET }]);
    await waitFor('the delivery record', async () => ((await records(sent.id, 'MLog.Alert.Notified')).length > 0 ? true : undefined));
    receiver.answer(200);

    assert.equal(receiver.at('/flaky').length, 3);
    assert.ok(receiver.at('/flaky').every((request) => request.headers['x-mlog-delivery'] === sent.id), 'every attempt carries the same delivery id');
    const failures = await records(sent.id, 'MLog.Alert.NotificationFailed');
    assert.deepEqual(
      failures.map((failure) => [failure.attempt, failure.http_status, failure.error, failure.will_retry]),
      [
        [1, 500, 'HTTP 500', true],
        [2, 500, 'HTTP 500', true],
      ],
    );
    const [notified] = await records(sent.id, 'MLog.Alert.Notified');
    assert.equal(notified?.attempt, 3);
  });

  test('a receiver that always fails (a redirect: not followed) is given up after the retry period, each failure recorded', async () => {
    const sent = notification();
    const channel: AlertChannel = { kind: 'webhook', url: receiver.url('/redirecting'), secret: SECRET };
    receiver.answer(302);
    try {
      await mlog.mlog.alertNotifier.enqueue(sent, [channel]);
      const failures = await waitFor('the last failure', async () => {
        const found = await records(sent.id, 'MLog.Alert.NotificationFailed');
        return found.some((failure) => failure.will_retry === false) ? found : undefined;
      }, 60_000);
      assert.ok(failures.length >= 3, `retried with backoff (${failures.length} attempts)`);
      assert.deepEqual(
        failures.map((failure) => failure.attempt),
        failures.map((_, index) => index + 1),
      );
      assert.ok(failures.slice(0, -1).every((failure) => failure.will_retry === true && failure.http_status === 302));
      assert.equal(receiver.at('/elsewhere').length, 0, 'the redirect is not followed');
      assert.equal(await outboxStatus(sent.id, channel), 'failed');
      const attempts = receiver.at('/redirecting').length;
      assert.equal(attempts, failures.length);
      const first = new Date(failures[0]?.event_time).getTime();
      const last = new Date(failures.at(-1)?.event_time).getTime();
      assert.ok(last - first <= 0.15 * 60_000 + 10_000, 'no attempt after the retry period (9 s, plus one attempt and its record)');
      assert.equal((await records(sent.id, 'MLog.Alert.Notified')).length, 0);
      await sleep(1_500);
      assert.equal(receiver.at('/redirecting').length, attempts, 'nothing more once given up');
    } finally {
      receiver.answer(200);
    }
  });

  test('a network failure is retried too, and recorded by its error code', async () => {
    const sent = notification();
    await mlog.mlog.alertNotifier.enqueue(sent, [{ kind: 'webhook', url: 'http://127.0.0.1:9/closed', secret: SECRET }]);
    const [failure] = await waitFor('a failure record', async () => {
      const found = await records(sent.id, 'MLog.Alert.NotificationFailed');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(failure?.error, 'ECONNREFUSED');
    assert.equal(failure?.will_retry, true);
    assert.equal(failure?.http_status, undefined);
  });

  test('a receiver that does not answer within the attempt timeout fails the attempt, recorded', async () => {
    const sent = notification();
    receiver.answer(0, 200);
    await mlog.mlog.alertNotifier.enqueue(sent, [{ kind: 'webhook', url: receiver.url('/silent'), secret: SECRET }]);
    await waitFor('the delivery on the second attempt', async () => ((await records(sent.id, 'MLog.Alert.Notified')).length > 0 ? true : undefined));
    const failures = await records(sent.id, 'MLog.Alert.NotificationFailed');
    assert.deepEqual(
      failures.map((failure) => [failure.attempt, failure.error, failure.will_retry]),
      [[1, 'no answer within 3 s', true]],
    );
    assert.equal(receiver.at('/silent').length, 2);
  });

  test('the same notification enqueued twice is delivered once per channel', async () => {
    const sent = notification();
    const channels: AlertChannel[] = [
      { kind: 'webhook', url: receiver.url('/twice-a'), secret: SECRET },
      { kind: 'webhook', url: receiver.url('/twice-b'), secret: SECRET },
    ];
    await mlog.mlog.alertNotifier.enqueue(sent, channels);
    await mlog.mlog.alertNotifier.enqueue(sent, channels);
    await waitFor('both deliveries recorded', async () => ((await records(sent.id, 'MLog.Alert.Notified')).length >= 2 ? true : undefined));
    await mlog.mlog.alertNotifier.enqueue(sent, channels);
    await sleep(1_000);
    assert.equal(receiver.at('/twice-a').length, 1);
    assert.equal(receiver.at('/twice-b').length, 1);
    assert.equal((await records(sent.id, 'MLog.Alert.Notified')).length, 2);
  });

  test('e-mail reaches the SMTP server: From, To, subject, and a text and HTML body naming the rule, group, value, window and events', async () => {
    const sent = notification({ group: 'bob', value: 42 });
    await mlog.mlog.alertNotifier.enqueue(sent, [{ kind: 'email', to: ['soc@example.gov', 'dpo@example.gov'] }]);
    const mail = await waitFor('the e-mail', () => mails.find((candidate) => candidate.raw.includes(sent.id)));
    assert.equal(mail.user, 'mlog', 'signed in with the credentials of MLOG_SMTP_URL');
    assert.equal(mail.from, 'mlog@example.gov');
    assert.deepEqual(mail.to, ['soc@example.gov', 'dpo@example.gov']);
    const [head = '', ...rest] = mail.raw.split(/\r?\n\r?\n/);
    assert.match(head, /^From: MLog alerts <mlog@example\.gov>$/m);
    assert.match(head, /^To: soc@example\.gov, dpo@example\.gov$/m);
    assert.match(head, /^Subject: \[MLog\] Alert fired: Brute force on MPass \(bob\)$/m);
    assert.match(head, /^X-MLog-Delivery: /im);
    const body = readable(rest.join('\n\n'));
    assert.match(body, /Content-Type: text\/plain/);
    assert.match(body, /Content-Type: text\/html/);
    for (const expected of ['Rule: Brute force on MPass (threshold', 'Group: bob', 'Value: 42', 'Window: 2026-03-02T10:10:00.000Z to 2026-03-02T10:15:00.000Z', 'mlog-mpass-2026.03/ev-1', 'mlog-mpass-2026.03/ev-2', '<th align="left">Value</th><td>42</td>', `https://mlog.example.gov/console/alerts?rule=${sent.rule.id}`]) {
      assert.ok(body.includes(expected), `the body holds ${expected}`);
    }
    const [notified] = await waitFor('the delivery record', async () => {
      const found = await records(sent.id, 'MLog.Alert.Notified');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(notified?.channel, 'email');
    assert.equal(notified?.host, `127.0.0.1:${smtpPort}`);
    assert.ok(!JSON.stringify(notified).includes(SMTP_PASSWORD), 'the SMTP password is not recorded');
  });

  test('a notification waiting in the outbox is delivered by the next MLog once the notifier runs again', async () => {
    await mlog.mlog.alertNotifier.stop();
    const sent = notification();
    const channel: AlertChannel = { kind: 'webhook', url: receiver.url('/after-restart'), secret: SECRET };
    await mlog.mlog.alertNotifier.enqueue(sent, [channel]);
    await sleep(1_000);
    assert.equal(receiver.at('/after-restart').length, 0, 'nothing is sent while the notifier is stopped');
    assert.equal(await outboxStatus(sent.id, channel), 'pending');
    await mlog.stop();

    mlog = await TestMLog.start(environment);
    mlog.mlog.alertNotifier.start();
    await waitFor('the delivery after the restart, recorded', async () => ((await records(sent.id, 'MLog.Alert.Notified')).length > 0 ? true : undefined));
    assert.equal(receiver.at('/after-restart').length, 1);
    assert.equal((await records(sent.id, 'MLog.Alert.Notified')).length, 1);
  });

  test('two running instances deliver each notification once', async () => {
    const second = await TestMLog.start(environment);
    try {
      second.mlog.alertNotifier.start();
      const batch = Array.from({ length: 12 }, () => notification());
      const channel = (index: number): AlertChannel => ({ kind: 'webhook', url: receiver.url(`/two-instances-${index}`), secret: SECRET });
      await Promise.all(batch.flatMap((sent, index) => [mlog.mlog.alertNotifier.enqueue(sent, [channel(index)]), second.mlog.alertNotifier.enqueue(sent, [channel(index)])]));
      await waitFor('every delivery, recorded', async () => {
        for (const sent of batch) if ((await records(sent.id, 'MLog.Alert.Notified')).length === 0) return undefined;
        return true;
      });
      await sleep(1_000);
      for (const [index, sent] of batch.entries()) {
        assert.equal(receiver.at(`/two-instances-${index}`).length, 1, `notification ${index} is delivered once`);
        assert.equal((await records(sent.id, 'MLog.Alert.Notified')).length, 1);
      }
    } finally {
      await second.stop();
    }
  });
});

describe('alert e-mail without SMTP configured', () => {
  let mlog: TestMLog;
  before(async () => {
    mlog = await TestMLog.start({ MLOG_ALERTS_SCHEDULE: 'off', MLOG_ALERT_RETRY_MINUTES: '1' });
    mlog.mlog.alertNotifier.start();
  });
  after(async () => {
    await mlog?.stop();
    await closeInspectionClient();
  });

  test('the notification is given up at once, the failure recorded', async () => {
    const sent = notification();
    await mlog.mlog.alertNotifier.enqueue(sent, [{ kind: 'email', to: ['soc@example.gov'] }]);
    const [failure] = await waitFor('the failure record', async () => {
      const found = await records(sent.id, 'MLog.Alert.NotificationFailed');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(failure?.channel, 'email');
    assert.equal(failure?.will_retry, false);
    assert.match(String(failure?.error), /MLOG_SMTP_URL/);
    assert.equal(failure?.attempt, 1);
  });
});
