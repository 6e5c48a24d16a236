/**
 * The syslog doors as adapters of the event-rules contract (test/contracts/event-rules-contract.ts):
 * one call of the contract is one syslog message whose MSG is the call's body — JSON lines, or JWS
 * lines, or one JWS over several events — which docs/syslog.md ("JSON and JWS pass-through") makes
 * the event(s) themselves, under every rule of /register. Each message carries a unique MSGID, which
 * the pass-through does not store, but which MLog's rejection record keeps in its excerpt.
 *
 * What the contract reads from an answer, and where each adapter finds it honestly:
 * - RELP answers every message: `200 OK <UID>` (the registration's UID) or `500 <reason>` (MLog's
 *   reason, word for word). The status of a refusal (400, 401 …) is not in the RELP answer; it is
 *   read from the refusal's record in the rejections index (found by the MSGID in its excerpt).
 * - Syslog over TLS answers nothing. The connection is closed by MLog only once every message it
 *   read has its outcome, so after the adapter's one message and the close: either the system's
 *   indices hold a registration UID not seen before (the contract sends one call at a time per
 *   system, so that UID is this call's), or the refusal is recorded with its status and reason.
 * `timestamp` of the envelope is the moment of the outcome: the refusal's `@received`, or the time
 * the adapter saw the answer or the stored events.
 */
import { randomUUID } from 'node:crypto';
import { eventIndexPattern, searchDocuments } from '../helpers/elasticsearch-inspection.js';
import { closed, RelpAnswers, relpFrame, tlsSyslogClient, waitFor } from '../helpers/syslog-peers.js';
import type { HttpAnswer, TestMLog, TestSystem } from '../helpers/test-mlog.js';
import type { Event, RegisterDoor } from './register-doors.js';

/** What MSG holds: the events as JSON lines, each as a JWS line, or one JWS over all of them. */
export type SyslogBody = 'json-lines' | 'jws-lines' | 'jws-payload';

const lines = (events: Event[]) => events.map((event) => JSON.stringify(event)).join('\n');

async function bodyOf(kind: SyslogBody, system: TestSystem, events: Event[]): Promise<string> {
  if (kind === 'json-lines') return lines(events);
  if (kind === 'jws-lines') return (await Promise.all(events.map((event) => system.sign(event)))).join('\n');
  return system.sign(lines(events));
}

const BODY_NAMES: Record<SyslogBody, string> = { 'json-lines': 'JSON lines', 'jws-lines': 'one JWS per line', 'jws-payload': 'one JWS over several events' };

function origin(kind: SyslogBody): RegisterDoor['origin'] {
  if (kind === 'jws-payload') return (position, count) => (count === 1 ? 'Line 1' : `Line 1, event ${position + 1} of the signed payload`);
  return (position) => `Line ${position + 1}`;
}

function envelope(status: number, fields: Record<string, unknown>, at: number): HttpAnswer {
  const json = { status: String(status), ...fields, timestamp: String(at) };
  return { status, headers: {}, text: JSON.stringify(json), json };
}

/** The refusal MLog recorded for the message whose MSGID is `marker`. */
async function recordedRefusal(system: TestSystem, marker: string): Promise<{ status: number; reason: string; at: number }> {
  return waitFor(`the refusal of message ${marker}`, async () => {
    const records = await searchDocuments('mlog_rejections-*', { bool: { filter: [{ term: { is: system.code } }] } }, 1_000);
    const record = records.find((found) => String(found.source.body_excerpt ?? '').includes(marker));
    return record === undefined ? undefined : { status: Number(record.source.status), reason: String(record.source.reason), at: Date.parse(String(record.source['@received'])) };
  });
}

/** The contract's shared parts of a syslog adapter: the MLog it runs on, the message of one call. */
function syslogDoor(kind: SyslogBody, door: 'tls' | 'relp', name: string, send: (mlog: TestMLog, system: TestSystem, message: string, marker: string) => Promise<HttpAnswer>): RegisterDoor {
  let mlog: TestMLog | undefined;
  return {
    name: `${name}, ${BODY_NAMES[kind]} in MSG`,
    ...(kind === 'json-lines' ? {} : { system: { require_signature: true } }),
    // The contract's largest call holds four events of ~32 KB each.
    environment: { MLOG_SYSLOG_MAX_MESSAGE_BYTES: String(1024 * 1024) },
    syslog: [door],
    attach(started) {
      mlog = started;
    },
    async send(system, events) {
      if (mlog === undefined) throw new Error('the syslog adapter was not attached to its MLog');
      const marker = randomUUID().replace(/-/g, '');
      const message = `<14>1 - contract-host contract - ${marker} - ${await bodyOf(kind, system, events)}`;
      return send(mlog, system, message, marker);
    },
    origin: origin(kind),
  };
}

/** Syslog over TLS (RFC 5425), octet-counted: one connection per call, closed by MLog once the message has its outcome. */
export function syslogTlsDoor(kind: SyslogBody): RegisterDoor {
  const seen = new Map<string, Set<string>>();
  return syslogDoor(kind, 'tls', 'syslog over TLS', async (mlog, system, message, marker) => {
    const socket = await tlsSyslogClient(mlog.syslogPorts.tls as number, mlog.ca.certPem, system.certificate);
    socket.end(`${Buffer.byteLength(message)} ${message}`);
    await closed(socket);
    const known = seen.get(system.code) ?? new Set<string>();
    seen.set(system.code, known);
    const fresh = await searchDocuments(eventIndexPattern(system.code), { bool: { must_not: [{ terms: { '@uid': [...known] } }] } }, 1_000);
    const uids = [...new Set(fresh.map((document) => String(document.source['@uid'])))];
    for (const uid of uids) known.add(uid);
    if (uids.length > 1) throw new Error(`one message made ${uids.length} registrations: ${uids.join(', ')}`);
    if (uids.length === 1) return envelope(200, { message: 'Events stored', UID: uids[0] }, Date.now());
    const refusal = await recordedRefusal(system, marker);
    return envelope(refusal.status, { message: refusal.reason }, refusal.at);
  });
}

/** RELP over TLS: one session per call (open, the message, close); the answer's code and text. */
export function relpDoor(kind: SyslogBody): RegisterDoor {
  return syslogDoor(kind, 'relp', 'RELP over TLS', async (mlog, system, message, marker) => {
    const socket = await tlsSyslogClient(mlog.syslogPorts.relp as number, mlog.ca.certPem, system.certificate);
    try {
      const answers = new RelpAnswers(socket);
      socket.write(relpFrame(1, 'open', 'relp_version=0\nrelp_software=contract\ncommands=syslog'));
      const opened = await answers.next();
      if (!opened.data.startsWith('200 OK')) throw new Error(`RELP open refused: ${opened.data}`);
      socket.write(relpFrame(2, 'syslog', message));
      const answer = await answers.next();
      const at = Date.now();
      socket.write(relpFrame(3, 'close', ''));
      await answers.next();
      const stored = /^200 OK (\S+)$/.exec(answer.data);
      if (stored !== null) return envelope(200, { message: 'Events stored', UID: stored[1] }, at);
      const refused = /^500 ([\s\S]*)$/.exec(answer.data);
      if (refused === null) throw new Error(`unexpected RELP answer: ${answer.data}`);
      // RELP says only 500; the status MLog gave the refusal is in its record.
      const recorded = await recordedRefusal(system, marker);
      if (recorded.reason !== refused[1]) throw new Error(`the RELP answer "${refused[1]}" and the recorded reason "${recorded.reason}" differ`);
      return envelope(recorded.status, { message: refused[1] }, at);
    } finally {
      socket.end();
    }
  });
}
