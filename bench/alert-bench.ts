/**
 * The cost of evaluating alert rules: MLog as its own process (bench/mlog-under-test.ts), events of
 * several IS seeded through _bulk, then 200 mixed rules (threshold with and without group_by,
 * absence of a system and of a query, new value, refusals) created through /admin/alert-rules.
 *
 * Time is compressed: MLog's alerts tick runs every `tickSeconds` and every rule's schedule is every
 * second, so each tick evaluates all 200 rules — one round of what a per-minute schedule does once a
 * minute. MLog's CPU seconds (user + system, from /proc, the whole process tree) are read over the
 * idle phase (the same MLog, its tick running, before any of the bench's rules exists) and over the measured rounds; a round's cost
 * is the CPU of the loaded phase less the idle rate over the same time, divided by the rounds; the
 * share of one core at a per-minute schedule is that cost over 60 s. Each round's duration is the
 * scheduler's own "job finished" record of the alerts job. Used by `npm run bench` (scenario
 * "alerts") and `npm run bench:alerts`. Asserts nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from './load-runner.js';
import { MLogUnderTest, type MLogTls } from './mlog-under-test.js';
import { seedSystem } from './query-bench.js';
import { processTree, readCpuSeconds } from './rss-sampler.js';

export interface AlertBenchOptions {
  elasticsearchUrl: string;
  tls: MLogTls;
  /** Events seeded, split over the systems. */
  events: number;
  rules: number;
  /** Seconds between two ticks (each a round of every rule). */
  tickSeconds: number;
  /** Rounds measured, after `warmupRounds` unmeasured ones (the first firings are among those). */
  rounds: number;
  warmupRounds: number;
  idleSeconds: number;
  runId: string;
  log: (line: string) => void;
}

export interface AlertBenchResult {
  rules: number;
  events: number;
  systems: string[];
  rounds: number;
  /** CPU seconds of one round of every rule, idle subtracted. */
  cpuSecondsPerRound: number;
  /** cpuSecondsPerRound / 60: the share of one core the rules take at a per-minute schedule. */
  shareAtPerMinute: number;
  /** MLog's CPU share with no rule (its tick running, nothing to evaluate). */
  idleShare: number;
  /** MLog's CPU share while rounds ran back to back every tickSeconds (idle included). */
  loadedShare: number;
  /** Round durations (ms), from the scheduler's records. */
  roundP50: number;
  roundP95: number;
  roundMax: number;
  /** Rules whose state says they were evaluated in the measured rounds (all of them, unless a round failed some). */
  rulesEvaluated: number;
  /** Rules that fired at least once (they are evaluated like the others; their firings fell in the warm-up). */
  rulesActive: number;
  /** Rules already in Elasticsearch before the bench created its own (evaluated on their own schedules, in the idle phase too). */
  otherRules: number;
  /** MLog's warnings and errors while measured. */
  warnings: string[];
}

const PREFIXES = ['MPass', 'MPay', 'MSign', 'MConnect'] as const;

function treeCpuSeconds(pid: number): number {
  let seconds = 0;
  for (const each of processTree(pid)) seconds += readCpuSeconds(each) ?? 0;
  return seconds;
}

/** The `index`th of the rule mix over `systems`: a seventh of each kind, thresholds that fire and that do not. */
export function benchRule(index: number, systems: readonly { code: string; prefix: string }[]): Record<string, unknown> {
  const system = systems[index % systems.length] as { code: string; prefix: string };
  const scope = { kind: 'events', systems: [system.code] };
  const common = { name: `Bench rule ${index} (${system.code})`, schedule: '* * * * * *', channels: [] };
  switch (index % 7) {
    case 0:
      return { ...common, type: 'threshold', params: { scope, query: `event_type:${system.prefix}.PersonalData.Access`, window_minutes: 60, comparator: '>', value: index % 2 === 0 ? 10 : 1_000_000 } };
    case 1:
      return { ...common, type: 'threshold', params: { scope, query: 'channel:online AND event_level:error', window_minutes: 15, group_by: 'event_source', comparator: '>', value: 5 } };
    case 2:
      return { ...common, type: 'threshold', params: { scope: { kind: 'events', systems: [] }, query: `event_type:${system.prefix}.*`, window_minutes: 60, group_by: 'user', comparator: '>=', value: 3 } };
    case 3:
      return { ...common, type: 'absence', params: { system: system.code, duration_minutes: 60 } };
    case 4:
      return { ...common, type: 'absence', params: { scope, query: `event_type:${system.prefix}.Payment.*`, duration_minutes: 30 } };
    case 5:
      return { ...common, type: 'new-value', params: { scope, query: `event_type:${system.prefix}.PersonalData.Access`, field: index % 2 === 0 ? 'legal_entity' : 'legal_basis', lookback_days: 30 } };
    default:
      return { ...common, type: 'refusals', params: { ...(index % 2 === 0 ? { system: system.code } : {}), causes: ['refused', 'signature'], window_minutes: 5, threshold: 10 } };
  }
}

/** Seeds, starts MLog, measures idle, creates the rules and measures the rounds; stops MLog. */
export async function measureAlertCost(options: AlertBenchOptions): Promise<AlertBenchResult> {
  const { log } = options;
  const mlog = await MLogUnderTest.start(options.elasticsearchUrl, options.tls, {
    MLOG_ALERTS_SCHEDULE: `*/${options.tickSeconds} * * * * *`,
    // The scheduler's "job finished" records (with their duration) are at info.
    MLOG_LOG_LEVEL: 'info',
  });
  const durations: number[] = [];
  const warnings: string[] = [];
  let counting = false;
  let roundsSeen = 0;
  mlog.onLine((line) => {
    let record: { level?: string; message?: string; job?: string; durationMs?: number };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      return;
    }
    if (record.job === 'alerts' && record.message === 'job finished' && typeof record.durationMs === 'number') {
      roundsSeen++;
      if (counting) durations.push(record.durationMs);
    }
    if (counting && (record.level === 'warn' || record.level === 'error')) warnings.push(line.slice(0, 300));
  });
  const ids: string[] = [];
  try {
    const systems = PREFIXES.map((prefix) => ({ code: `bench-alerts-${prefix.toLowerCase()}-${options.runId}`, prefix }));
    const perSystem = Math.ceil(options.events / systems.length);
    log(`alerts: seeding ${(perSystem * systems.length).toLocaleString('en')} events over ${systems.length} IS through _bulk`);
    for (const system of systems) await seedSystem(options.elasticsearchUrl, system.code, system.prefix, perSystem, log);

    // Idle: the same MLog, its tick running, none of the bench's rules (and, on a fresh Elasticsearch, no rule at all).
    const before = await mlog.call('GET', '/admin/alert-rules');
    const otherRules = (JSON.parse(before.body) as { rules: unknown[] }).rules.length;
    if (otherRules > 0) log(`alerts: ${otherRules} rules were there already; they are evaluated on their own schedules in both phases`);
    log(`alerts: idle CPU of MLog over ${options.idleSeconds} s (tick every ${options.tickSeconds} s, no rule)`);
    const idleStartCpu = treeCpuSeconds(mlog.pid);
    const idleStart = performance.now();
    await sleep(options.idleSeconds * 1000);
    const idleShare = (treeCpuSeconds(mlog.pid) - idleStartCpu) / ((performance.now() - idleStart) / 1000);

    log(`alerts: creating ${options.rules} rules through /admin/alert-rules`);
    for (let index = 0; index < options.rules; index++) {
      const answer = await mlog.call('POST', '/admin/alert-rules', benchRule(index, systems));
      if (answer.status !== 201) throw new Error(`creating rule ${index}: ${answer.status} ${answer.body.slice(0, 300)}`);
      ids.push((JSON.parse(answer.body) as { rule: { id: string } }).rule.id);
    }

    const wait = async (rounds: number): Promise<void> => {
      const target = roundsSeen + rounds;
      const deadline = Date.now() + (rounds + 2) * options.tickSeconds * 1000 + 600_000;
      while (roundsSeen < target) {
        if (Date.now() > deadline) throw new Error(`the alerts job finished ${roundsSeen} rounds, not ${target}:\n${mlog.log.slice(-2_000)}`);
        await sleep(200);
      }
    };
    log(`alerts: ${options.warmupRounds} warm-up rounds (the first firings), then ${options.rounds} measured rounds of ${options.rules} rules, a tick every ${options.tickSeconds} s`);
    await wait(options.warmupRounds);
    const measuredFrom = new Date();
    counting = true;
    const startCpu = treeCpuSeconds(mlog.pid);
    const start = performance.now();
    await wait(options.rounds);
    const cpu = treeCpuSeconds(mlog.pid) - startCpu;
    const seconds = (performance.now() - start) / 1000;
    counting = false;
    const rounds = durations.length;

    const listed = await mlog.call('GET', '/admin/alert-rules');
    const views = (JSON.parse(listed.body) as { rules: { id: string; state: { last_evaluated_to: string | null; active_groups: number } }[] }).rules.filter((rule) => ids.includes(rule.id));
    const rulesEvaluated = views.filter((rule) => rule.state.last_evaluated_to !== null && Date.parse(rule.state.last_evaluated_to) >= measuredFrom.getTime()).length;
    const rulesActive = views.filter((rule) => rule.state.active_groups > 0).length;

    const sorted = Float64Array.from(durations).sort();
    const cpuSecondsPerRound = Math.max(0, cpu - idleShare * seconds) / Math.max(1, rounds);
    return {
      rules: options.rules,
      events: perSystem * systems.length,
      systems: systems.map((system) => system.code),
      rounds,
      cpuSecondsPerRound,
      shareAtPerMinute: cpuSecondsPerRound / 60,
      idleShare,
      loadedShare: cpu / seconds,
      roundP50: percentile(sorted, 50),
      roundP95: percentile(sorted, 95),
      roundMax: sorted.at(-1) ?? 0,
      rulesEvaluated,
      rulesActive,
      otherRules,
      warnings,
    };
  } finally {
    // The bench's rules go, so the next run (or a test on the same Elasticsearch) starts without them.
    for (const id of ids) await mlog.call('DELETE', `/admin/alert-rules/${id}`).catch(() => undefined);
    await mlog.stop();
  }
}

/** The figures as lines for people. */
export function describeAlertCost(result: AlertBenchResult): string[] {
  return [
    `${result.rules} rules over ${result.events.toLocaleString('en')} seeded events of ${result.systems.length} IS; ${result.rounds} measured rounds; ${result.rulesEvaluated} rules evaluated in them, ${result.rulesActive} with an active alert${result.otherRules === 0 ? '' : `; ${result.otherRules} other rules present`}`,
    `one round of ${result.rules} rules: ${result.cpuSecondsPerRound.toFixed(3)} CPU s of MLog above idle; duration p50 ${result.roundP50.toFixed(0)} ms, p95 ${result.roundP95.toFixed(0)} ms, max ${result.roundMax.toFixed(0)} ms`,
    `every minute: ${(result.shareAtPerMinute * 100).toFixed(2)} % of one core (target < 10 %: ${result.shareAtPerMinute < 0.1 ? 'met' : 'NOT met'}); MLog idle (no rule): ${(result.idleShare * 100).toFixed(2)} % of one core, rounds back to back: ${(result.loadedShare * 100).toFixed(1)} %`,
  ];
}
