/**
 * `npm run bench:syslog-cpu -- --elasticsearch <url>`: MLog's CPU per syslog message through the
 * door's whole work short of the socket, with what stays in memory while Elasticsearch answers: 4
 * connections' worth of groups of 500 (8 groups of each on their way, as the listeners do) go through
 * `SyslogDoor.storeGroup` — parse, map, the ingest pipeline, the evidence log's `@hash` and leaves, the
 * Elasticsearch event store's group commit — into a real Elasticsearch. The garbage collector's share
 * is counted as it is under load (the messages in flight survive until their bulk is answered), which
 * `npm run bench:syslog-parse` (a store that keeps nothing) leaves out. Run it with MLog's node flags
 * (`node --max-semi-space-size=8 --max-old-space-size=1536 --import tsx bench/syslog-door-cpu.ts`) to
 * measure what bin/mlog-server runs. Prints µs of CPU (user + system) per message per round and the
 * median; asserts nothing.
 */
import { Client } from '@elastic/elasticsearch';
import { Command, InvalidArgumentError } from 'commander';
import { performance } from 'node:perf_hooks';
import { IngestService } from '../src/events/ingest-service.js';
import { EvidenceEventStore } from '../src/evidence/evidence-event-store.js';
import { EvidenceLog } from '../src/evidence/evidence-log.js';
import { createLogger } from '../src/logging/logger.js';
import { Metrics } from '../src/metrics/metrics.js';
import type { RejectionRecorder } from '../src/rejections/rejection-recorder.js';
import { ElasticsearchEventStore } from '../src/storage/elasticsearch-event-store.js';
import { GROUPS_IN_FLIGHT_PER_CONNECTION, MESSAGES_PER_GROUP, SyslogDoor, type MessageOutcome } from '../src/syslog/syslog-door.js';
import type { SystemStore } from '../src/systems/system-store-type.js';
import { SystemRegistry } from '../src/systems/system-registry.js';
import { localSyslogSystem, syslogMessage } from './syslog-scenario.js';

const whole = (value: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('a whole number above 0');
  return number;
};

const program = new Command()
  .name('npm run bench:syslog-cpu --')
  .requiredOption('--elasticsearch <url>', 'the Elasticsearch the messages are stored in (index mlog-syslogcpu-<month>)')
  .option('--rounds <n>', 'measured rounds of 20,000 messages, after one not measured', whole, 4);
program.parse();
const options = program.opts<{ elasticsearch: string; rounds: number }>();

const CONNECTIONS = 4;
const GROUPS_PER_CONNECTION = 10;
const now = new Date().toISOString();
const system = localSyslogSystem('syslogcpu', 'Syslog CPU benchmark', now);
const quiet = createLogger('error', true);
const client = new Client({ node: options.elasticsearch });
const door = new SyslogDoor({
  registry: new SystemRegistry({ list: async () => [system] } as unknown as SystemStore, quiet, 3_600),
  ingest: new IngestService(new EvidenceEventStore(new ElasticsearchEventStore(client, quiet, { deadlineMs: 60_000 }), new EvidenceLog()), quiet),
  rejections: { record: () => {} } as unknown as RejectionRecorder,
  metrics: new Metrics(),
  logger: quiet,
  maxMessageBytes: 64 * 1024,
});
const peer = { door: 'tcp' as const, sourceAddress: '127.0.0.1' };
const marker = `cpu-${Date.now()}`;
let serial = 0;

/** One connection: its groups stored GROUPS_IN_FLIGHT_PER_CONNECTION at a time, as the listeners store them. */
async function connection(): Promise<void> {
  let started = 0;
  const lane = async () => {
    while (started < GROUPS_PER_CONNECTION) {
      started++;
      const receivedAt = new Date();
      const messages = Array.from({ length: MESSAGES_PER_GROUP }, () => ({ data: Buffer.from(syslogMessage(marker, serial++), 'utf8'), receivedAt }));
      const outcomes = await door.storeGroup(peer, messages, () => {});
      const failed = outcomes.find((outcome: MessageOutcome) => outcome.kind !== 'stored');
      if (failed !== undefined) throw new Error(`a message was not stored: ${JSON.stringify(failed)}`);
    }
  };
  await Promise.all(Array.from({ length: GROUPS_IN_FLIGHT_PER_CONNECTION }, lane));
}

const messagesPerRound = CONNECTIONS * GROUPS_PER_CONNECTION * MESSAGES_PER_GROUP;
console.log(`SyslogDoor.storeGroup into ${options.elasticsearch} with the evidence log: ${CONNECTIONS} connections × ${GROUPS_IN_FLIGHT_PER_CONNECTION} groups of ${MESSAGES_PER_GROUP} on their way, ${messagesPerRound.toLocaleString('en-US')} messages a round (node ${process.version} ${process.execArgv.join(' ')})`);
const micros: number[] = [];
for (let round = 0; round <= options.rounds; round++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, connection));
  const used = process.cpuUsage(cpu);
  const perMessage = (used.user + used.system) / messagesPerRound;
  if (round > 0) micros.push(perMessage);
  const rate = messagesPerRound / ((performance.now() - started) / 1000);
  console.log(`  round ${round}: ${Math.round(rate).toLocaleString('en-US').padStart(7)} messages/s ${perMessage.toFixed(1).padStart(7)} µs CPU/message${round === 0 ? ' (warm-up, not counted)' : ''}`);
}
micros.sort((a, b) => a - b);
console.log(`median ${(micros[Math.floor(micros.length / 2)] as number).toFixed(1)} µs CPU/message`);
await client.close();
