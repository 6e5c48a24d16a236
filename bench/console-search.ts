/**
 * `npm run bench:console-search -- --elasticsearch <url> [--events 1000000] [--runs 40]`: the console's
 * Discover search (first page of 50, histogram, top 5 values of every keyword field) through
 * ConsoleSearchService — field list, point in time, search, and the MLog.Admin.Query record — against
 * the same Elasticsearch requests sent directly (point in time, the same search body, close), measured
 * alternately in the same run; then an export of the whole seeded month as CSV, in rows/s.
 * Seeds one IS through _bulk (bench/query-bench.ts) unless it already holds the events. Asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { Client } from '@elastic/elasticsearch';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../src/logging/logger.js';
import { ConsoleSearchService } from '../src/search/console-search-service.js';
import { parseQuery } from '../src/search/query-language.js';
import { buildConsoleQuery, EVENT_QUERY_SCHEMA } from '../src/storage/console-query-builder.js';
import { ElasticsearchAuditLog } from '../src/storage/elasticsearch-audit-log.js';
import { ElasticsearchConsoleSearchStore, FIELD_TOP_SAMPLE_SIZE, histogramInterval } from '../src/storage/elasticsearch-console-search-store.js';
import { eventIndexPattern } from '../src/storage/index-names.js';
import { installIndexTemplates } from '../src/storage/template-installer.js';
import { seedSystem } from './query-bench.js';

const positive = (value: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('a whole number above 0');
  return number;
};

const program = new Command()
  .requiredOption('--elasticsearch <url>', 'the Elasticsearch to seed and search')
  .option('--events <n>', 'events of the seeded IS', positive, 1_000_000)
  .option('--runs <n>', 'measured searches of each kind', positive, 40)
  .option('--query <text>', 'the console query', 'event_type:MPass.* and not legal_basis:none');
program.parse();
const options = program.opts<{ elasticsearch: string; events: number; runs: number; query: string }>();

const code = 'console-bench';
const client = new Client({ node: options.elasticsearch, requestTimeout: 120_000 });
const logger = createLogger('error', true);
const log = (line: string): void => console.log(line);

await installIndexTemplates(client, logger);
const existing = await client.count({ index: eventIndexPattern(code), ignore_unavailable: true, allow_no_indices: true });
if (existing.count < options.events) {
  if (existing.count > 0) await client.indices.delete({ index: eventIndexPattern(code) });
  log(`seeding ${options.events.toLocaleString('en')} events of ${code}`);
  const seeded = await seedSystem(options.elasticsearch, code, 'MPass', options.events, log);
  log(`  ${seeded.events.toLocaleString('en')} events in ${seeded.seconds.toFixed(0)} s`);
}
const to = Date.now() + 60_000;
const from = to - 31 * 86_400_000;
const store = new ElasticsearchConsoleSearchStore(client);
const service = new ConsoleSearchService(store, new ElasticsearchAuditLog(client), { findByCode: async () => undefined }, logger);
const actor = { username: 'bench', role: 'auditor' as const, purpose: { legal_basis: 'benchmark', reason: 'measuring the console' }, sessionId: 'bench', address: '127.0.0.1' };
const scope = { kind: 'events' as const, systems: [code] };
const body = { scope, query: options.query, from: new Date(from).toISOString(), to: new Date(to).toISOString(), size: 50 };

const fields = (await store.fields(scope)).filter((field) => field.type === 'keyword' || field.type === 'boolean').slice(0, 50).map((field) => field.name);
const [interval] = histogramInterval(to - from);
async function direct(): Promise<void> {
  const pit = await client.openPointInTime({ index: eventIndexPattern(code), keep_alive: '5m', ignore_unavailable: true });
  const answer = await client.search({
    pit: { id: pit.id, keep_alive: '5m' },
    size: 50,
    track_total_hits: true,
    sort: [{ event_time: { order: 'desc', unmapped_type: 'date' } }],
    query: {
      bool: {
        filter: [
          { range: { event_time: { gte: from, lt: to, format: 'epoch_millis' } } },
          { prefix: { _index: 'mlog-' } },
          { terms: { '@is': [code] } },
          buildConsoleQuery(parseQuery(options.query), EVENT_QUERY_SCHEMA),
        ],
      },
    },
    aggregations: {
      histogram: { date_histogram: { field: 'event_time', fixed_interval: interval, min_doc_count: 0, extended_bounds: { min: from, max: to - 1 }, hard_bounds: { min: from, max: to - 1 } } },
      sample: { sampler: { shard_size: FIELD_TOP_SAMPLE_SIZE }, aggregations: Object.fromEntries(fields.map((field, i) => [`f${i}`, { terms: { field, size: 5 } }])) },
    },
  });
  // As MLog does: a point in time that no cursor carries is closed at once; one that does is left to expire.
  if (answer.hits.hits.length < 50) await client.closePointInTime({ id: answer.pit_id ?? pit.id });
}
async function throughMLog(): Promise<number> {
  const answer = await service.search(actor, body);
  return answer.total;
}

const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;
const timings = { direct: [] as number[], mlog: [] as number[] };
for (let i = 0; i < 5; i++) {
  await direct();
  await throughMLog();
}
let total = 0;
for (let i = 0; i < options.runs; i++) {
  let started = performance.now();
  await direct();
  timings.direct.push(performance.now() - started);
  started = performance.now();
  total = await throughMLog();
  timings.mlog.push(performance.now() - started);
}
const p95 = { direct: percentile(timings.direct, 95), mlog: percentile(timings.mlog, 95) };
log(`Discover search over ${total.toLocaleString('en')} matches (${fields.length} field tops, histogram ${interval}), ${options.runs} runs each:`);
log(`  Elasticsearch directly  p50 ${percentile(timings.direct, 50).toFixed(0)} ms  p95 ${p95.direct.toFixed(0)} ms`);
log(`  MLog console search     p50 ${percentile(timings.mlog, 50).toFixed(0)} ms  p95 ${p95.mlog.toFixed(0)} ms  (${(p95.mlog / p95.direct).toFixed(2)} × direct; targets < 300 ms and ≤ 1.5 ×)`);

const started = performance.now();
const file = await service.export(actor, { ...body, query: '', format: 'csv' });
let rows = -2; // the header and the closing statement
let bytes = 0;
for await (const chunk of file.body) {
  bytes += chunk.length;
  for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) rows++;
}
const seconds = (performance.now() - started) / 1000;
log(`Export CSV: ${rows.toLocaleString('en')} rows, ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s = ${Math.round(rows / seconds).toLocaleString('en')} rows/s (target ≥ 20,000)`);
await client.close();
