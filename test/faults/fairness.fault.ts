/**
 * One noisy system cannot starve the others: the IS "noisy" keeps MLOG_MAX_IN_FLIGHT_PER_IS calls in
 * flight, each a 256 KB batch of ~5,800 tiny events, while the IS "quiet" registers one event at a
 * time. Prints the quiet system's latency (p50/p95/p99), what each system had acknowledged against
 * what Elasticsearch holds, and MLog's peak and idle RSS; asserts that nothing acknowledged is lost.
 * Speed is printed, never asserted (it depends on the machine); docs/reliability.md records it.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { test } from 'node:test';
import { RssSampler, readRssBytes } from '../../bench/rss-sampler.js';
import { FIGURES_FILE, makePki, MLogProcess, post, ScenarioElasticsearch, scenarioCode, sleep, type Pki } from './fault-harness.js';
import type { IssuedCertificate } from '../../scripts/dev-pki.js';
import { appendFileSync } from 'node:fs';

const FLOOD_CONCURRENCY = Number(process.env.MLOG_FAIRNESS_FLOOD_CONCURRENCY ?? 128);
const MEASURE_MS = Number(process.env.MLOG_FAIRNESS_SECONDS ?? 30) * 1000;
const BODY_LIMIT = 262_144;
const TINY_EVENT = '{"event_time":"2025-06-01","event_type":"x"}\n';
const FLOOD_EVENTS = Math.floor(BODY_LIMIT / TINY_EVENT.length);
const FLOOD_BODY = TINY_EVENT.repeat(FLOOD_EVENTS);

interface Tally {
  /** Events of each acknowledged UID. */
  acknowledged: Map<string, number>;
  statuses: Record<string, number>;
}

function tally(): Tally {
  return { acknowledged: new Map(), statuses: {} };
}

function count(into: Tally, status: string): void {
  into.statuses[status] = (into.statuses[status] ?? 0) + 1;
}

async function call(port: number, pki: Pki, agent: Agent, body: string, client: IssuedCertificate, events: number, into: Tally): Promise<number> {
  const sentAt = performance.now();
  let status: string;
  try {
    const answer = await post(port, pki, agent, body, {}, client);
    status = String(answer.status);
    if (answer.status === 200) into.acknowledged.set((JSON.parse(answer.body) as { UID: string }).UID, events);
  } catch {
    status = 'connection error';
  }
  count(into, status);
  return performance.now() - sentAt;
}

/** Events Elasticsearch holds for each UID of `code`. */
async function storedByUid(es: ScenarioElasticsearch, code: string): Promise<Map<string, number>> {
  await es.es('POST', `/mlog-${code}-*/_refresh`);
  const stored = new Map<string, number>();
  let after: unknown;
  for (;;) {
    const page = await es.es('POST', `/mlog-${code}-*/_search`, {
      size: 0,
      aggs: { uids: { composite: { size: 5_000, sources: [{ uid: { terms: { field: '@uid' } } }], ...(after === undefined ? {} : { after }) } } },
    });
    const buckets = (page?.aggregations?.uids?.buckets ?? []) as { key: { uid: string }; doc_count: number }[];
    for (const bucket of buckets) stored.set(bucket.key.uid, bucket.doc_count);
    after = page?.aggregations?.uids?.after_key;
    if (buckets.length < 5_000 || after === undefined) break;
  }
  return stored;
}

function lost(acknowledged: Map<string, number>, stored: Map<string, number>): number {
  let missing = 0;
  for (const [uid, events] of acknowledged) missing += Math.max(0, events - (stored.get(uid) ?? 0));
  return missing;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);
}

test('one system flooding at its in-flight limit does not starve another; nothing acknowledged is lost', { timeout: 300_000 }, async () => {
  const es = await ScenarioElasticsearch.start(9770);
  const pki = await makePki(['quiet']);
  let mlog: MLogProcess | undefined;
  try {
    mlog = await MLogProcess.start(es.url, pki, { env: { MLOG_WRITE_DEADLINE_SECONDS: '10' } });
    const noisy = scenarioCode('noisy');
    const quiet = scenarioCode('quiet');
    const quietCertificate = pki.others[0] as IssuedCertificate;
    await mlog.addSystem(noisy, pki.client);
    await mlog.addSystem(quiet, quietCertificate);
    const port = mlog.publicPort;
    const sampler = new RssSampler(mlog.child.pid as number);
    const noisyTally = tally();
    const quietTally = tally();
    const noisyAgent = new Agent({ keepAlive: true, maxSockets: FLOOD_CONCURRENCY });
    const quietAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Both systems' first calls (indices created, certificates cached) before anything is measured.
    await call(port, pki, quietAgent, TINY_EVENT, quietCertificate, 1, quietTally);
    await call(port, pki, noisyAgent, FLOOD_BODY, pki.client, FLOOD_EVENTS, noisyTally);
    sampler.reset();

    let flooding = true;
    const flood = async () => {
      while (flooding) {
        const before = noisyTally.statuses['200'] ?? 0;
        await call(port, pki, noisyAgent, FLOOD_BODY, pki.client, FLOOD_EVENTS, noisyTally);
        // Refused (429/503): a short pause, as a client honouring Retry-After loosely would.
        if ((noisyTally.statuses['200'] ?? 0) === before) await sleep(100);
      }
    };
    const flooders = Array.from({ length: FLOOD_CONCURRENCY }, flood);
    await sleep(3_000);
    const latencies: number[] = [];
    const until = Date.now() + MEASURE_MS;
    while (Date.now() < until) {
      latencies.push(await call(port, pki, quietAgent, TINY_EVENT, quietCertificate, 1, quietTally));
      await sleep(50);
    }
    flooding = false;
    await Promise.all(flooders);
    const peakRss = sampler.peak();
    await sleep(5_000);
    const idleRss = readRssBytes(mlog.child.pid as number) ?? 0;
    sampler.stop();
    noisyAgent.destroy();
    quietAgent.destroy();

    const noisyStored = await storedByUid(es, noisy);
    const quietStored = await storedByUid(es, quiet);
    latencies.sort((a, b) => a - b);
    const figures = {
      scenario: 'fairness',
      floodConcurrency: FLOOD_CONCURRENCY,
      floodEventsPerCall: FLOOD_EVENTS,
      quietCalls: latencies.length,
      quietP50Ms: percentile(latencies, 50),
      quietP95Ms: percentile(latencies, 95),
      quietP99Ms: percentile(latencies, 99),
      quietMaxMs: Math.round(latencies.at(-1) ?? Number.NaN),
      quietStatuses: quietTally.statuses,
      noisyStatuses: noisyTally.statuses,
      noisyEventsAcknowledged: sum(noisyTally.acknowledged.values()),
      noisyEventsStored: sum(noisyStored.values()),
      noisyEventsLost: lost(noisyTally.acknowledged, noisyStored),
      quietEventsAcknowledged: sum(quietTally.acknowledged.values()),
      quietEventsStored: sum(quietStored.values()),
      quietEventsLost: lost(quietTally.acknowledged, quietStored),
      peakRssMB: Math.round(peakRss / 1024 / 1024),
      idleRssMB: Math.round(idleRss / 1024 / 1024),
      at: new Date().toISOString(),
    };
    appendFileSync(FIGURES_FILE, `${JSON.stringify(figures)}\n`);
    process.stdout.write(`\n${JSON.stringify(figures, null, 2)}\n`);
    assert.equal(figures.noisyEventsLost, 0, 'acknowledged events of the noisy system missing');
    assert.equal(figures.quietEventsLost, 0, 'acknowledged events of the quiet system missing');
    assert.ok(figures.quietEventsAcknowledged > 1, 'the quiet system registered nothing while the other flooded');
  } finally {
    if (mlog !== undefined && mlog.child.exitCode === null && mlog.child.signalCode === null) {
      mlog.kill('SIGTERM');
      await mlog.exited;
    }
    await es.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  }
});
