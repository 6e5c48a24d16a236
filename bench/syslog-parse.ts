/**
 * `npm run bench:syslog-parse`: what parsing a syslog message and mapping it to its /register body
 * costs, in this process, without a listener or Elasticsearch: typical RFC 5424 and RFC 3164 lines,
 * a JSON event carried in MSG, and a 64 KiB message; then parsing, mapping and the ingest pipeline's
 * checks together, with the mapped event handed over as JSON text or as an object. Prints messages per
 * second and µs per message; asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import type { EventStore } from '../src/events/event-store-type.js';
import { IngestService } from '../src/events/ingest-service.js';
import { createLogger } from '../src/logging/logger.js';
import { Metrics } from '../src/metrics/metrics.js';
import type { RejectionRecorder } from '../src/rejections/rejection-recorder.js';
import { prepareCreate } from '../src/storage/bulk-batcher.js';
import type { SystemStore } from '../src/systems/system-store-type.js';
import { SystemRegistry, type KnownSystem } from '../src/systems/system-registry.js';
import { SyslogDoor } from '../src/syslog/syslog-door.js';
import { syslogRegistration, syslogRegistrationBody } from '../src/syslog/syslog-event.js';
import { parseSyslogMessage } from '../src/syslog/syslog-message.js';
import { localSyslogSystem } from './syslog-scenario.js';

const ROUNDS = 50_000;

const receivedAt = new Date();
const cases: Array<[string, string, string, number?]> = [
  [
    'RFC 5424, logger with timeQuality and mlog@32473',
    '<156>1 2026-11-28T10:49:10.582206+00:00 web-01 billing 4123 INVOICE [timeQuality tzKnown="1" isSynced="0"][mlog@32473 event_type="Billing.Invoice.Issued" user="2000000000001" legal_basis="Law 133/2011"] invoice 42 issued for 1,250.00 MDL',
    'UTC',
  ],
  ['RFC 5424, rsyslog RSYSLOG_SyslogProtocol23Format', '<155>1 2026-11-28T10:49:24.721268+00:00 web-01 sshd 4123 - -  Accepted publickey for deploy from 10.0.0.7 port 52144 ssh2\n', 'UTC'],
  ['RFC 3164 with HOSTNAME and TAG[PID], zone Europe/Chisinau', '<38>Nov 28 10:49:10 web-01 sshd[4123]: Accepted publickey for deploy from 10.0.0.7 port 52144 ssh2', 'Europe/Chisinau'],
  ['RFC 5424 carrying a JSON event in MSG', '<134>1 2026-11-28T10:49:10Z web-01 app - - - {"event_time":"2026-11-28T10:49:10Z","event_type":"MPass.User.Authenticated","user":"2000000000001","event_message":"login"}', 'UTC'],
  ['RFC 5424 with a 64 KiB MSG', `<134>1 2026-11-28T10:49:10Z web-01 app - - - ${'x'.repeat(64 * 1024 - 50)}`, 'UTC', 500],
];

console.log(`syslog parse + map, ${ROUNDS.toLocaleString('en-US')} rounds each (node ${process.version})`);
for (const [name, text, timezone, rounds = ROUNDS] of cases) {
  const once = () => {
    const parsed = parseSyslogMessage(text, { receivedAt, timezone });
    if (!parsed.ok) throw new Error(`${name}: ${parsed.reason}`);
    return syslogRegistrationBody(parsed.message, receivedAt).length;
  };
  for (let i = 0; i < Math.min(rounds, 2_000); i++) once();
  let bytes = 0;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) bytes += once();
  const seconds = (performance.now() - started) / 1000;
  const micros = (seconds * 1e6) / rounds;
  console.log(`${Math.round(rounds / seconds).toLocaleString('en-US').padStart(12)} messages/s ${micros.toFixed(2).padStart(9)} µs/message  ${name}${bytes === 0 ? ' (empty)' : ''}`);
}

// The door's whole work on a message short of the socket and Elasticsearch: parse, map, and the ingest
// pipeline's checks and documents (IngestService.registerEach, groups of 500, with a store that keeps
// nothing), the mapped event handed over as JSON text (as before) or as the object it is (now).
const GROUP = 500;
const GROUPS = 40;
const discard: EventStore = {
  writeAll: async () => {},
  search: () => Promise.reject(new Error('not used')),
  fieldTypes: () => Promise.reject(new Error('not used')),
  prepareIndex: async () => {},
};
const ingest = new IngestService(discard, createLogger('error', true));
const caller = { system: { code: 'bench', require_signature: false }, isAllowedAddress: () => true, isSyslogAddress: () => false, syslogTimezone: 'UTC', certificatesBySerial: new Map() } as unknown as KnownSystem;
const pipelineCases = cases.slice(0, 3);
const pipeline = async (text: string, timezone: string, asObject: boolean): Promise<number> => {
  const calls = [];
  for (let i = 0; i < GROUP; i++) {
    const parsed = parseSyslogMessage(text, { receivedAt, timezone });
    if (!parsed.ok) throw new Error(parsed.reason);
    const registration = asObject ? syslogRegistration(parsed.message, receivedAt) : { body: syslogRegistrationBody(parsed.message, receivedAt) };
    calls.push({ ...('event' in registration ? registration : { body: Buffer.from(registration.body, 'utf8') }), receivedAt });
  }
  const outcomes = await ingest.registerEach(caller, calls);
  return outcomes.filter((outcome) => outcome.ok).length;
};
console.log(`\nparse + map + ingest pipeline (registerEach, groups of ${GROUP}, a store that keeps nothing), ${(GROUP * GROUPS).toLocaleString('en-US')} messages each, alternately`);
for (const [name, text, timezone] of pipelineCases) {
  const micros: Record<'text' | 'object', number[]> = { text: [], object: [] };
  for (let round = 0; round < 6; round++) {
    for (const asObject of [false, true]) {
      let stored = 0;
      const cpu = process.cpuUsage();
      for (let group = 0; group < GROUPS; group++) stored += await pipeline(text, timezone, asObject);
      const used = process.cpuUsage(cpu);
      if (stored !== GROUP * GROUPS) throw new Error(`${name}: ${stored} of ${GROUP * GROUPS} accepted`);
      if (round > 0) micros[asObject ? 'object' : 'text'].push((used.user + used.system) / (GROUP * GROUPS));
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  console.log(`  as JSON text ${median(micros.text).toFixed(2).padStart(7)} µs CPU/message   as the event object ${median(micros.object).toFixed(2).padStart(7)} µs CPU/message  ${name}`);
}

// The same, through the door: SyslogDoor.storeGroup for a plain-TCP peer (identification from the
// registry in memory, parse, map, the ingest pipeline, counting), the store serialising each document
// as its bulk line (prepareCreate) and keeping nothing.
const system = localSyslogSystem('bench', 'Benchmark', receivedAt.toISOString());
const serialising: EventStore = {
  writeAll: async (documents) => {
    for (const document of documents) prepareCreate(`mlog-bench-${document.id.slice(0, 2)}`, document.id, document.document);
  },
  search: () => Promise.reject(new Error('not used')),
  fieldTypes: () => Promise.reject(new Error('not used')),
  prepareIndex: async () => {},
};
const quiet = createLogger('error', true);
const systems = { list: async () => [system] } as unknown as SystemStore;
const door = new SyslogDoor({
  registry: new SystemRegistry(systems, quiet, 3_600),
  ingest: new IngestService(serialising, quiet),
  rejections: { record: () => {} } as unknown as RejectionRecorder,
  metrics: new Metrics(),
  logger: quiet,
  maxMessageBytes: 64 * 1024,
});
const peer = { door: 'tcp' as const, sourceAddress: '127.0.0.1' };
console.log(`\nSyslogDoor.storeGroup (plain TCP peer; groups of ${GROUP}; the store serialises the bulk lines and keeps nothing), ${(GROUP * GROUPS).toLocaleString('en-US')} messages a round, median of 5 rounds`);
for (const [name, text] of pipelineCases.filter(([, , timezone]) => timezone === 'UTC')) {
  const data = Buffer.from(text, 'utf8');
  const micros: number[] = [];
  for (let round = 0; round < 6; round++) {
    const cpu = process.cpuUsage();
    for (let group = 0; group < GROUPS; group++) {
      const outcomes = await door.storeGroup(peer, Array.from({ length: GROUP }, () => ({ data, receivedAt: new Date() })), () => {});
      if (outcomes.some((outcome) => outcome.kind !== 'stored')) throw new Error(`${name}: ${JSON.stringify(outcomes.find((outcome) => outcome.kind !== 'stored'))}`);
    }
    const used = process.cpuUsage(cpu);
    if (round > 0) micros.push((used.user + used.system) / (GROUP * GROUPS));
  }
  micros.sort((a, b) => a - b);
  console.log(`  ${(micros[2] as number).toFixed(2).padStart(7)} µs CPU/message  ${name}`);
}
