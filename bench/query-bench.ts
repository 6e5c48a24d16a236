/**
 * Queries over an IS holding many events: `GET /query/{uid}` and a range query with two filters and a
 * page of 50 through MLog, against the same search (buildEventSearchBody, EVENT_SEARCH_FILTER_PATH) sent straight to
 * Elasticsearch. The IS is seeded straight through `_bulk` into its index mlog-<code>-<yyyy.MM> with
 * MLog's document shape (buildRegistrationDocuments), which is much faster than through /register.
 */
import { randomUUID } from 'node:crypto';
import { buildRegistrationDocuments } from '../src/events/stored-event.js';
import { clientQueryRecordDocuments, describeClientQuery } from '../src/events/query-service.js';
import { hashedEventText, LOG_FIELD, POSITION_FIELD } from '../src/evidence/event-hash.js';
import { buildEventSearchBody, EVENT_SEARCH_FILTER_PATH } from '../src/storage/event-query-builder.js';
import type { EventSearch } from '../src/events/event-store-type.js';
import { eventIndexName, eventIndexPattern, indexNameOf } from '../src/storage/index-names.js';
import { ACTIONS, generateEvent, LEGAL_BASES, Random } from './event-generator.js';
import { HttpClient, runLoad, type LoadResult, type MtlsClient } from './load-runner.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Seeded events spread over this many days before now. */
const SEED_DAYS = 30;
/** Events per seeded call (one @uid). */
const EVENTS_PER_CALL = 5;

export interface SeededSystem {
  code: string;
  prefix: string;
  /** A sample of the seeded calls' UIDs. */
  uids: string[];
  events: number;
  fromMillis: number;
  seconds: number;
}

/** Writes `events` events of IS `code` through _bulk (translog async and no refresh while seeding, restored after). */
export async function seedSystem(elasticsearchUrl: string, code: string, prefix: string, events: number, log: (line: string) => void): Promise<SeededSystem> {
  const started = Date.now();
  const es = new HttpClient(elasticsearchUrl, 4);
  const receivedAt = new Date();
  const index = eventIndexName(code, receivedAt);
  const fromMillis = Date.now() - SEED_DAYS * DAY_MS;
  const random = new Random(7);
  const uids: string[] = [];
  const calls = Math.ceil(events / EVENTS_PER_CALL);
  const keepEvery = Math.max(1, Math.floor(calls / 5_000));
  try {
    // The index comes from MLog's template (MLog installed it at start); seeding relaxes it, then restores it.
    await es.request('PUT', `/${index}`, '{}');
    await es.json('PUT', `/${index}/_settings`, { index: { refresh_interval: '-1', 'translog.durability': 'async' } });
    let written = 0;
    let nextLog = Date.now() + 10_000;
    const perRequest = 400; // calls per _bulk: 2,000 events
    const worker = async (): Promise<void> => {
      for (;;) {
        const first = written;
        if (first >= calls) return;
        written = Math.min(calls, first + perRequest);
        let body = '';
        for (let call = first; call < written; call++) {
          const uid = randomUUID();
          if (call % keepEvery === 0) uids.push(uid);
          const accepted = Array.from({ length: EVENTS_PER_CALL }, (_, n) => ({
            event: generateEvent(random, { prefix }, { at: fromMillis + random.next() * SEED_DAYS * DAY_MS }),
            origin: `Line ${n + 1}`,
            line: n + 1,
          }));
          for (const doc of buildRegistrationDocuments(accepted, { uid, isCode: code, receivedAt })) {
            if (indexNameOf(doc.target) !== index) continue; // the personaldata projections are not needed for these queries
            body += `{"create":{"_index":"${index}","_id":"${doc.id}"}}\n${JSON.stringify(doc.document)}\n`;
          }
        }
        const answer = await es.request('POST', '/_bulk?refresh=false&filter_path=errors,items.*.error', body, 'application/x-ndjson');
        if (answer.status !== 200 || answer.body.includes('"errors":true')) throw new Error(`seeding ${index}: ${answer.status} ${answer.body.slice(0, 500)}`);
        if (Date.now() > nextLog) {
          log(`  seeded ${(written * EVENTS_PER_CALL).toLocaleString('en')} of ${events.toLocaleString('en')} events`);
          nextLog = Date.now() + 10_000;
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    await es.json('PUT', `/${index}/_settings`, { index: { refresh_interval: '1s', 'translog.durability': 'request' } });
    await es.json('POST', `/${index}/_flush`);
    // Merged down once, like an index that has been written for a month and settled: otherwise the
    // merges that seeding left pending run during the measurements (started by the first writes — the
    // queries' own MLog.ClientQuery records) and charge their CPU to whichever query runs then.
    const merging = Date.now();
    const { task } = (await es.json('POST', `/${index}/_forcemerge?max_num_segments=1&wait_for_completion=false`)) as { task: string };
    // Polled: on a busy machine the merge outlasts a _tasks wait, which then answers 500 (timeout), not "completed": false.
    while (!((await es.json('GET', `/_tasks/${task}`)) as { completed: boolean }).completed) await new Promise((resolve) => setTimeout(resolve, 5_000));
    log(`  force-merged ${index} in ${((Date.now() - merging) / 1000).toFixed(0)} s`);
    await es.json('POST', `/${index}/_refresh`);
    const count = (await es.json('GET', `/${index}/_count`)) as { count: number };
    return { code, prefix, uids, events: count.count, fromMillis, seconds: (Date.now() - started) / 1000 };
  } finally {
    es.close();
  }
}

/** One range query of the benchmark: a random day of the seeded span, event_type and legal_basis filters, page of 50. */
interface RangeCase {
  fromMillis: number;
  toMillis: number;
  eventType: string;
  legalBasis: string;
}

function rangeCase(random: Random, seeded: SeededSystem): RangeCase {
  const fromMillis = seeded.fromMillis + random.int(0, SEED_DAYS - 1) * DAY_MS;
  return { fromMillis, toMillis: fromMillis + DAY_MS, eventType: `${seeded.prefix}.${random.pick(ACTIONS)}`, legalBasis: random.pick(LEGAL_BASES) };
}

function rangeSearch(code: string, c: RangeCase): EventSearch {
  return {
    isCode: code,
    range: { fromMillis: c.fromMillis, toMillis: c.toMillis },
    conditions: [
      { field: 'event_type', values: [c.eventType], match: 'exact' },
      { field: 'legal_basis', values: [c.legalBasis], match: 'exact' },
    ],
    from: 0,
    size: 50,
    order: 'newest-first',
  };
}

function rangePath(c: RangeCase): string {
  const filter = `event_type=${encodeURIComponent(c.eventType)},legal_basis=${encodeURIComponent(c.legalBasis)}`;
  const from = encodeURIComponent(new Date(c.fromMillis).toISOString());
  const to = encodeURIComponent(new Date(c.toMillis).toISOString());
  return `/query?event_time_from=${from}&event_time_to=${to}&legal_basis=Benchmark&filter=${filter}&page_size=50`;
}

export interface QueryTimings {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export type QueryKind = 'uid' | 'range';
/**
 * Where a query goes: straight to Elasticsearch (the search alone), to Elasticsearch with the query's
 * record (the search and, at the same time, a `_bulk` of the MLog.ClientQuery document MLog writes for
 * it, into the same index: what Elasticsearch must do for each query MLog answers, with no MLog in
 * between), or through MLog.
 */
export type QueryTarget = 'elasticsearch' | 'elasticsearch-with-record' | 'mlog';

/**
 * The query loads over a seeded IS: by UID or by range, straight to Elasticsearch (alone or with each
 * query's record) or through MLog. Every measurement of one kind replays the same random sequence of UIDs / ranges (one seeded
 * generator per connection), so Elasticsearch and MLog are asked the same questions.
 */
export class QueryBench {
  private readonly es: HttpClient;
  private readonly searchPath: string;

  constructor(
    elasticsearchUrl: string,
    private readonly mlog: MtlsClient,
    private readonly seeded: SeededSystem,
    private readonly timings: QueryTimings,
  ) {
    // Twice the callers' connections: with its record, each query is two requests at once.
    this.es = new HttpClient(elasticsearchUrl, timings.concurrency * 2);
    // The search MLog sends (storage/elasticsearch-event-store.ts): the same parameters and filter_path.
    this.searchPath = `/${eventIndexPattern(seeded.code)}/_search?ignore_unavailable=true&allow_no_indices=true&filter_path=${EVENT_SEARCH_FILTER_PATH}`;
  }

  /**
   * Closed loop over `timings.concurrency` connections, or paced at `ratePerSecond` calls started per
   * second; `onWindow` is told when the measured window starts and ends (a CpuWindow's edge).
   */
  measure(kind: QueryKind, target: QueryTarget, ratePerSecond?: number, onWindow?: (edge: 'start' | 'end') => void): Promise<LoadResult> {
    const randoms = Array.from({ length: this.timings.concurrency }, (_, worker) => new Random(1000 + worker));
    const calls = {
      uid: { elasticsearch: this.elasticsearchUid, 'elasticsearch-with-record': this.withRecord(this.elasticsearchUid), mlog: this.mlogUid },
      range: { elasticsearch: this.elasticsearchRange, 'elasticsearch-with-record': this.withRecord(this.elasticsearchRange), mlog: this.mlogRange },
    } as const;
    const call = calls[kind][target];
    return runLoad({
      concurrency: this.timings.concurrency,
      warmupMs: this.timings.warmupMs,
      durationMs: this.timings.durationMs,
      ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
      ...(onWindow === undefined ? {} : { onWindow }),
      call: async (worker) => {
        const answer = await call(randoms[worker] as Random);
        if (answer.status !== 200) return { ok: false, units: 0, outcome: String(answer.status) };
        return answer.found ? { ok: true, units: 1, outcome: '200' } : { ok: false, units: 0, outcome: 'no hits' };
      },
    });
  }

  close(): void {
    this.es.close();
  }

  private recordsWritten = 0;

  /**
   * The query sent together with the record MLog writes for it: the MLog.ClientQuery document MLog
   * builds (clientQueryRecordDocuments, with @log, @position and @hash as the evidence log sets them),
   * created in the IS's index of this month by a `_bulk` of its own, as MLog's group commit sends a
   * lone record. The call ends when both have answered, as MLog's answer waits for both.
   */
  private withRecord(search: (random: Random) => Promise<{ status: number; found: boolean }>): (random: Random) => Promise<{ status: number; found: boolean }> {
    return async (random) => {
      const receivedAt = new Date();
      const description = describeClientQuery({ from: '', to: '', basis: 'Benchmark', reason: '', filter: [], page: 0, pageSize: 50 });
      const [doc] = clientQueryRecordDocuments({ code: this.seeded.code, idno: '1000000000000' }, { legal_basis: 'Benchmark' }, description, receivedAt, randomUUID());
      if (doc === undefined) throw new Error('no record document was built');
      doc.document[LOG_FIELD] = 'bench-query-records';
      doc.document[POSITION_FIELD] = this.recordsWritten++;
      const { text } = hashedEventText(doc.document);
      const bulk = `{"create":{"_index":"${eventIndexName(this.seeded.code, receivedAt)}","_id":"${doc.id}"}}\n${text}\n`;
      const [answer, recorded] = await Promise.all([search(random), this.es.request('POST', '/_bulk?filter_path=errors', bulk, 'application/x-ndjson')]);
      if (recorded.status !== 200 || recorded.body.includes('"errors":true')) return { status: recorded.status === 200 ? 500 : recorded.status, found: false };
      return answer;
    };
  }

  private hitsOf(body: string): number {
    // With no hit, the filter_path leaves hits.hits out.
    return (JSON.parse(body) as { hits?: { hits?: unknown[] } }).hits?.hits?.length ?? 0;
  }

  private readonly elasticsearchUid = async (random: Random): Promise<{ status: number; found: boolean }> => {
    const search: EventSearch = { isCode: this.seeded.code, uid: random.pick(this.seeded.uids), conditions: [], from: 0, size: 10_000, order: 'registration-order' };
    const answer = await this.es.request('POST', this.searchPath, JSON.stringify(buildEventSearchBody(search)));
    return { status: answer.status, found: answer.status === 200 && this.hitsOf(answer.body) === EVENTS_PER_CALL };
  };

  private readonly mlogUid = async (random: Random): Promise<{ status: number; found: boolean }> => {
    const answer = await this.mlog.request('GET', `/query/${random.pick(this.seeded.uids)}`);
    return { status: answer.status, found: answer.status === 200 };
  };

  private readonly elasticsearchRange = async (random: Random): Promise<{ status: number; found: boolean }> => {
    const search = rangeSearch(this.seeded.code, rangeCase(random, this.seeded));
    const answer = await this.es.request('POST', this.searchPath, JSON.stringify(buildEventSearchBody(search)));
    return { status: answer.status, found: answer.status === 200 && this.hitsOf(answer.body) > 0 };
  };

  private readonly mlogRange = async (random: Random): Promise<{ status: number; found: boolean }> => {
    const answer = await this.mlog.request('GET', rangePath(rangeCase(random, this.seeded)));
    return { status: answer.status, found: answer.status === 200 };
  };
}
