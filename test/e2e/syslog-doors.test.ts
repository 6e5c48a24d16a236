/**
 * The syslog door end to end, with real peers: Debian's rsyslogd forwarding over TLS (omfwd, gtls,
 * the system's client certificate) and over RELP (omrelp with TLS), util-linux `logger`, and sockets
 * sending exact bytes where a source address or a frame must be chosen. Stored events are read back
 * over GET /query with the system's certificate; refusals through GET /admin/rejections.
 */
import assert from 'node:assert/strict';
import { randomUUID, X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { inspectionClient, monthOf, searchDocuments } from '../helpers/elasticsearch-inspection.js';
import { closed, logger, loggerBytes, relpFrame, RelpAnswers, Rsyslog, tcpSyslogClient, tlsSyslogClient, waitFor } from '../helpers/syslog-peers.js';
import { TestMLog, uniqueLoopbackAddress, type TestSystem } from '../helpers/test-mlog.js';

type Event = Record<string, any>;

let mlog: TestMLog;
const peers: Rsyslog[] = [];

before(async () => {
  mlog = await TestMLog.start({ MLOG_SYSLOG_MAX_MESSAGE_BYTES: '2048' }, { syslog: ['tls', 'relp', 'tcp'] });
});

after(async () => {
  for (const peer of peers) await peer.stop();
  await mlog.stop();
});

/** The system's events of the last and next day, over GET /query (MLog's own records of the queries left out). */
async function queryEvents(is: TestSystem): Promise<Event[]> {
  const from = new Date(Date.now() - 86_400_000).toISOString();
  const to = new Date(Date.now() + 86_400_000).toISOString();
  const answer = await is.call(`/query?event_time_from=${encodeURIComponent(from)}&event_time_to=${encodeURIComponent(to)}&legal_basis=Syslog+test&page_size=500`);
  if (answer.status === 404) return [];
  assert.equal(answer.status, 200, answer.text);
  return (answer.json.result as Event[]).filter((event) => event.event_type !== 'MLog.ClientQuery');
}

/** Waits until `count` events of the system hold `marker` in their message. */
function eventsWith(is: TestSystem, marker: string, count = 1): Promise<Event[]> {
  return waitFor(`${count} events with ${marker}`, async () => {
    const found = (await queryEvents(is)).filter((event) => String(event.event_message ?? '').includes(marker));
    return found.length >= count ? found : undefined;
  });
}

/** Waits until the system's refusals recorded (GET /admin/rejections) satisfy `enough`. */
function rejectionsOf(code: string, enough: (found: Event[]) => boolean): Promise<Event[]> {
  return waitFor(`rejections of ${code}`, async () => {
    const answer = await mlog.callAdmin(`/admin/rejections?system=${code}`);
    assert.equal(answer.status, 200, answer.text);
    // Only the syslog doors' refusals (GET /query answering 404 before the events arrive is recorded too).
    const found = (answer.json.result as Event[]).filter((record) => /^(SYSLOG|RELP)/.test(String(record.method)));
    return enough(found) ? found : undefined;
  });
}

/** The system's message counters of one door, from /metrics (mlog_syslog_messages_total by outcome). */
async function messageCounts(code: string, door: string): Promise<Record<string, number>> {
  const metrics = await mlog.callAdmin('/metrics', { token: null });
  assert.equal(metrics.status, 200);
  const counts: Record<string, number> = {};
  for (const match of metrics.text.matchAll(/^mlog_syslog_messages_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((label) => [label[1], label[2]]));
    if (labels.system === code && labels.door === door) counts[labels.outcome as string] = Number(match[2]);
  }
  return counts;
}

describe('syslog over TLS (RFC 5425)', () => {
  test('rsyslog forwards logger\'s messages with the system certificate; every mapped field comes back from /query', async () => {
    const is = await mlog.addSystem();
    const rsyslog = await Rsyslog.start(mlog.dir, {
      global: `DefaultNetstreamDriverCAFile="${mlog.ca.certPath}" DefaultNetstreamDriverCertFile="${is.certificate.certPath}" DefaultNetstreamDriverKeyFile="${is.certificate.keyPath}"`,
      actions: `action(type="omfwd" target="127.0.0.1" port="${mlog.syslogPorts.tls}" protocol="tcp" StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/certvalid" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`,
    });
    peers.push(rsyslog);
    const marker = randomUUID();
    await logger(rsyslog.inputPort, ['--rfc5424', '-t', 'billing', '--msgid', 'Invoice', '-p', 'local3.warning', '--sd-id', 'audit@32473', '--sd-param', 'ref="A-17"', `invoice paid ${marker}`]);
    const [stored] = await eventsWith(is, marker).catch((error: Error) => {
      throw new Error(`${error.message}; rsyslogd said: ${rsyslog.log}`);
    });
    assert.ok(stored);
    assert.equal(stored.event_message, `invoice paid ${marker}`, 'the newline rsyslog ends MSG with is trimmed');
    assert.equal(stored.event_type, 'billing.Invoice');
    assert.equal(stored.event_level, 'warning');
    assert.equal(stored.syslog.facility, 'local3');
    assert.equal(stored.syslog.sd['audit@32473'].ref, 'A-17');
    assert.ok(Array.isArray(stored.event_source) && stored.event_source.some((part: string) => part.startsWith('billing')), JSON.stringify(stored.event_source));
    assert.ok(Math.abs(Date.parse(stored.event_time) - Date.now()) < 120_000, `event_time ${stored.event_time} is the message's timestamp`);
  });

  test('an accepted connection has its system\'s index of this month created before any message arrives', async () => {
    const is = await mlog.addSystem();
    const index = `mlog-${is.code}-${monthOf(new Date())}`;
    assert.equal(await inspectionClient().indices.exists({ index }), false);
    const socket = await tlsSyslogClient(mlog.syslogPorts.tls as number, mlog.ca.certPem, is.certificate);
    await waitFor(`the index ${index}`, async () => ((await inspectionClient().indices.exists({ index })) ? true : undefined));
    socket.end();
    const mapping = await inspectionClient().indices.getMapping({ index });
    assert.equal(mapping[index]?.mappings.properties?.event_time?.type, 'date', 'created with MLog\'s index template');
  });

  test('an unregistered certificate is refused: the connection is closed and the refusal recorded with its fingerprint', async () => {
    const stranger = await mlog.issueCertificate('stranger');
    const socket = await tlsSyslogClient(mlog.syslogPorts.tls as number, mlog.ca.certPem, stranger);
    const fingerprint = new X509Certificate(stranger.certPem).fingerprint256;
    socket.write('<13>1 - h app - - - must not be stored\n');
    await closed(socket);
    const found = await waitFor('the refusal of the stranger', async () => {
      const records = await searchDocuments('mlog_rejections-*', { term: { certificate_fingerprint: fingerprint } });
      return records.length > 0 ? records : undefined;
    });
    assert.equal(found[0]?.source.status, 401);
    assert.equal(found[0]?.source.method, 'SYSLOG-TLS');
    assert.match(String(found[0]?.source.reason), /not registered to any information system/);
  });

  test('an oversized message is skipped and a malformed one recorded; the connection goes on and the next message is stored', async () => {
    const is = await mlog.addSystem();
    const socket = await tlsSyslogClient(mlog.syslogPorts.tls as number, mlog.ca.certPem, is.certificate);
    const marker = randomUUID();
    const frame = (text: string) => `${Buffer.byteLength(text)} ${text}`;
    socket.write(frame(`<14>1 2026-11-28T10:00:00Z host app - - - ${'x'.repeat(3000)}`));
    socket.write(frame('<999>1 - host app - - - the PRI is out of range'));
    socket.write(frame(`<14>1 - host app 1 Next - after both ${marker}`));
    const [stored] = await eventsWith(is, marker);
    assert.equal(stored?.event_type, 'app.Next');
    assert.ok(!socket.destroyed, 'the connection is still open');
    socket.end();
    const refusals = await rejectionsOf(is.code, (found) => found.length >= 2);
    const statuses = refusals.map((record) => record.status).sort();
    assert.deepEqual(statuses, [400, 413]);
    assert.match(String(refusals.find((record) => record.status === 413)?.reason), /over MLOG_SYSLOG_MAX_MESSAGE_BYTES \(2048\)/);
    assert.deepEqual(await messageCounts(is.code, 'tls'), { received: 3, stored: 1, refused: 2 });
  });

  test('a broken frame closes the connection and is recorded; what came before it is stored', async () => {
    const is = await mlog.addSystem();
    const socket = await tlsSyslogClient(mlog.syslogPorts.tls as number, mlog.ca.certPem, is.certificate);
    const marker = randomUUID();
    const text = `<14>1 - host app - - - before the break ${marker}`;
    socket.write(`${Buffer.byteLength(text)} ${text}x7 not a length`);
    await closed(socket);
    await eventsWith(is, marker);
    const [record] = await rejectionsOf(is.code, (found) => found.length >= 1);
    assert.equal(record?.status, 400);
    assert.match(String(record?.reason), /The connection was closed: .*message length/);
  });

  test('a JSON event in MSG is the event; for a require_signature system only a JWS is stored', async () => {
    const is = await mlog.addSystem({ require_signature: true });
    const socket = await tlsSyslogClient(mlog.syslogPorts.tls as number, mlog.ca.certPem, is.certificate);
    const marker = randomUUID();
    const unsigned = JSON.stringify({ event_time: new Date().toISOString(), event_type: 'Test.Unsigned', event_message: `unsigned ${marker}` });
    const signed = await is.sign({ event_time: new Date().toISOString(), event_type: 'Test.Signed', event_message: `signed ${marker}` });
    socket.write(`<14>1 - host app - - - ${unsigned}\n<14>1 - host app - - - ${signed}\n`);
    const [stored] = await eventsWith(is, marker);
    assert.equal(stored?.event_type, 'Test.Signed');
    const [record] = await rejectionsOf(is.code, (found) => found.length >= 1);
    assert.equal(record?.status, 401);
    assert.match(String(record?.reason), /must sign its events/);
    assert.equal((await queryEvents(is)).filter((event) => event.event_type === 'Test.Unsigned').length, 0);
    socket.end();
  });
});

describe('RELP over TLS', () => {
  test('open is answered with the offers; syslog with 200 OK once stored (queried right after), 500 with the reason when refused, in order', async () => {
    const is = await mlog.addSystem();
    const socket = await tlsSyslogClient(mlog.syslogPorts.relp as number, mlog.ca.certPem, is.certificate);
    const answers = new RelpAnswers(socket);
    socket.write(relpFrame(1, 'open', 'relp_version=0\nrelp_software=test\ncommands=syslog'));
    const opened = await answers.next();
    assert.equal(opened.txnr, 1);
    assert.equal(opened.command, 'rsp');
    assert.match(opened.data, /^200 OK\nrelp_version=0\nrelp_software=MLog\ncommands=syslog$/);
    const marker = randomUUID();
    socket.write(Buffer.concat([relpFrame(2, 'syslog', `<14>1 - host app - Acked - stored ${marker}\n`), relpFrame(3, 'syslog', '<14>1 - host app - - - {"event_type":"Test.NoTime"}'), relpFrame(4, 'syslog', `<14>1 - host app - Acked - second ${marker}`)]));
    const second = await answers.next();
    assert.equal(second.txnr, 2);
    assert.match(second.data, /^200 OK [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'the UID of the registration follows OK');
    const byUid = await is.call(`/query/${second.data.slice('200 OK '.length)}`);
    assert.equal(byUid.status, 200, byUid.text);
    assert.ok(byUid.text.includes(`stored ${marker}`), 'GET /query/{uid} finds the acknowledged message by the UID of its answer');
    const stored = (await queryEvents(is)).filter((event) => String(event.event_message).includes(marker));
    assert.equal(stored.length >= 1, true, 'an acknowledged message is found at once');
    assert.equal(stored.find((event) => event.event_message === `stored ${marker}`)?.event_type, 'app.Acked');
    const third = await answers.next();
    assert.equal(third.txnr, 3);
    assert.match(third.data, /^500 .*event_time/);
    const fourth = await answers.next();
    assert.equal(fourth.txnr, 4);
    assert.match(fourth.data, /^200 OK [0-9a-f-]{36}$/);
    assert.notEqual(fourth.data, second.data, 'each message is its own registration, with its own UID');
    socket.write(relpFrame(5, 'close', ''));
    const closing = await answers.next();
    assert.equal(closing.txnr, 5);
    await closed(socket);
    assert.deepEqual(await messageCounts(is.code, 'relp'), { received: 3, stored: 2, refused: 1 });
  });

  test('rsyslog omrelp sends with the system certificate: every message it had acknowledged is stored', async () => {
    const is = await mlog.addSystem();
    const c = is.certificate;
    const rsyslog = await Rsyslog.start(mlog.dir, {
      modules: 'module(load="omrelp")',
      actions: `action(type="omrelp" target="127.0.0.1" port="${mlog.syslogPorts.relp}" tls="on" tls.caCert="${mlog.ca.certPath}" tls.myCert="${c.certPath}" tls.myPrivKey="${c.keyPath}" tls.authMode="name" tls.permittedPeer=["localhost"] template="RSYSLOG_SyslogProtocol23Format")`,
    });
    peers.push(rsyslog);
    const marker = randomUUID();
    for (let index = 0; index < 5; index++) await logger(rsyslog.inputPort, ['--rfc5424', '-t', 'relay', '--msgid', 'Sent', `message ${index} ${marker}`]);
    const stored = await eventsWith(is, marker, 5).catch((error: Error) => {
      throw new Error(`${error.message}; rsyslogd said: ${rsyslog.log}`);
    });
    assert.deepEqual(stored.map((event) => event.event_message).sort(), [0, 1, 2, 3, 4].map((index) => `message ${index} ${marker}`));
    assert.ok(stored.every((event) => event.event_type === 'relay.Sent'));
  });
});

describe('syslog settings of a system (administration API)', () => {
  test('syslog_addresses and syslog_timezone are stored and answered; an address that is not an IP or CIDR, or an unknown zone, is refused with 400 naming the field', async () => {
    const is = await mlog.addSystem({ syslog_addresses: ['10.9.0.0/16'], syslog_timezone: 'Europe/Chisinau' });
    const shown = await mlog.callAdmin(`/admin/systems/${is.code}`);
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(shown.json.system.syslog_addresses, ['10.9.0.0/16']);
    assert.equal(shown.json.system.syslog_timezone, 'Europe/Chisinau');
    const badAddress = await mlog.callAdmin(`/admin/systems/${is.code}`, { method: 'PATCH', body: JSON.stringify({ syslog_addresses: ['10.9.0.0/99'] }) });
    assert.equal(badAddress.status, 400);
    assert.match(badAddress.json.message, /syslog_addresses contains "10\.9\.0\.0\/99", which is not an IP address or CIDR range/);
    const badZone = await mlog.callAdmin(`/admin/systems/${is.code}`, { method: 'PATCH', body: JSON.stringify({ syslog_timezone: 'Mars/Olympus' }) });
    assert.equal(badZone.status, 400);
    assert.match(badZone.json.message, /syslog_timezone "Mars\/Olympus" is not a time zone MLog knows/);
  });
});

describe('syslog over plain TCP', () => {
  test('logger\'s RFC 5424 (octet counting) and RFC 3164 (newline) bytes are stored from an address in syslog_addresses, refused from another', async () => {
    const address = uniqueLoopbackAddress();
    const is = await mlog.addSystem({ syslog_addresses: [address], syslog_timezone: 'Europe/Chisinau' });
    const marker = randomUUID();
    const rfc5424 = await loggerBytes(['--octet-count', '--rfc5424', '-t', 'plain', '--msgid', 'Counted', `counted ${marker}`]);
    const rfc3164 = await loggerBytes(['--rfc3164', '-t', 'legacy', `newline ${marker}`]);
    assert.match(rfc5424.toString(), /^\d+ <13>1 /, 'logger sent an octet-counted RFC 5424 message');
    assert.match(rfc3164.toString(), /^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /, 'logger sent an RFC 3164 message');

    const counted = await tcpSyslogClient(mlog.syslogPorts.tcp as number, address);
    counted.end(rfc5424);
    const newline = await tcpSyslogClient(mlog.syslogPorts.tcp as number, address);
    newline.end(rfc3164.toString().endsWith('\n') ? rfc3164 : Buffer.concat([rfc3164, Buffer.from('\n')]));
    const stored = await eventsWith(is, marker, 2);
    const fromCounted = stored.find((event) => event.event_message === `counted ${marker}`);
    const fromNewline = stored.find((event) => event.event_message === `newline ${marker}`);
    assert.equal(fromCounted?.event_type, 'plain.Counted');
    assert.equal(fromNewline?.event_type, 'legacy.Log');
    assert.equal(fromNewline?.event_level, 'notice');
    // RFC 3164 carries no zone: the stamp logger wrote in UTC is read in the system's syslog_timezone (UTC+2 in November).
    const stamp = /^<13>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)/.exec(rfc3164.toString())?.[1] ?? '';
    const [hours, minutes, seconds] = stamp.slice(7).split(':');
    assert.equal(String(fromNewline?.event_time).slice(11, 25), `${hours}:${minutes}:${seconds}+02:00`.slice(0, 14), String(fromNewline?.event_time));
    assert.deepEqual(fromCounted?.event_source, [hostname(), fromCounted?.event_source?.[1]]);
    assert.match(String(fromCounted?.event_source?.[1]), /^plain(\[\d+\])?$/);

    const other = uniqueLoopbackAddress();
    const stranger = await tcpSyslogClient(mlog.syslogPorts.tcp as number, other);
    stranger.write(rfc5424);
    await closed(stranger);
    const refusals = await waitFor('the refusal of the unregistered address', async () => {
      const records = await searchDocuments('mlog_rejections-*', { term: { source_address: other } });
      return records.length > 0 ? records : undefined;
    });
    assert.equal(refusals[0]?.source.status, 403);
    assert.equal(refusals[0]?.source.method, 'SYSLOG-TCP');
    assert.match(String(refusals[0]?.source.reason), new RegExp(`No information system lists ${other.replace(/\./g, '\\.')} in its syslog_addresses`));
  });
});
