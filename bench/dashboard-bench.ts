/**
 * The render time of a six-panel dashboard through the console API (POST
 * /console/api/dashboards/<id>/render with a signed-in administrator's session: role check, six
 * aggregations, the MLog.Admin.DashboardViewed record), against the same six aggregations read
 * straight from storage (ElasticsearchDashboardData, no HTTP, no audit), alternately in the same run.
 * Used by `npm run bench` (scenario "dashboards") and `npm run bench:dashboards`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from '@elastic/elasticsearch';
import { AdminAccounts } from '../src/admins/admin-accounts.js';
import { validateDashboard } from '../src/dashboards/dashboard.js';
import { parseQuery } from '../src/search/query-language.js';
import { ElasticsearchAccountStore } from '../src/storage/elasticsearch-account-store.js';
import { ElasticsearchAuditLog } from '../src/storage/elasticsearch-audit-log.js';
import { ElasticsearchConsoleSearchStore } from '../src/storage/elasticsearch-console-search-store.js';
import { ElasticsearchDashboardData } from '../src/storage/elasticsearch-dashboard-data.js';
import { percentile, type LoadResult } from './load-runner.js';

/** Six panels over one IS: the kinds a dashboard is made of, each an aggregation over every event of the range. */
export function benchDashboard(code: string, prefix: string): Record<string, unknown> {
  const scope = { kind: 'events', systems: [code] };
  const place = (index: number) => ({ x: (index % 2) * 6, y: Math.floor(index / 2) * 8, w: 6, h: 8 });
  return {
    title: `Bench ${code} ${randomBytes(3).toString('hex')}`,
    panels: [
      { id: 'types-over-time', title: 'Event types over time', grid: place(0), scope, query: '', visualisation: { kind: 'counts-over-time', split_field: 'event_type', top_n: 5 } },
      { id: 'top-types', title: 'Top event types', grid: place(1), scope, query: '', visualisation: { kind: 'top-values', field: 'event_type', top_n: 10, display: 'bar' } },
      { id: 'count', title: 'Events', grid: place(2), scope, query: '', visualisation: { kind: 'metric', metric: 'count' } },
      { id: 'users', title: 'Distinct users', grid: place(3), scope, query: '', visualisation: { kind: 'metric', metric: 'distinct', field: 'user' } },
      { id: 'legal-basis', title: 'Legal bases', grid: place(4), scope, query: `event_type:${prefix}.PersonalData.*`, visualisation: { kind: 'top-values', field: 'legal_basis', top_n: 10, display: 'table' } },
      { id: 'channels-over-time', title: 'Online events', grid: place(5), scope, query: 'channel:online', visualisation: { kind: 'counts-over-time', top_n: 5 } },
    ],
  };
}

function resultOf(latencies: number[], seconds: number): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  return {
    unitsPerSecond: latencies.length / seconds,
    callsPerSecond: latencies.length / seconds,
    calls: latencies.length,
    units: latencies.length,
    seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
    failures: {},
  };
}

export interface DashboardBenchResult {
  /** Through the console API. */
  mlog: LoadResult;
  /** The six aggregations straight from storage. */
  direct: LoadResult;
}

/**
 * Signs in to the console of the MLog listening on `adminUrl` as a new administrator, saves the
 * six-panel dashboard, then renders it `runs` times (after `warmup` unmeasured renders), one at a
 * time, alternating with the direct reads. `from`–`to` is the range rendered.
 */
export async function measureDashboardRender(options: {
  elasticsearchUrl: string;
  adminUrl: string;
  code: string;
  prefix: string;
  from: number;
  to: number;
  runs: number;
  warmup: number;
}): Promise<DashboardBenchResult> {
  const client = new Client({ node: options.elasticsearchUrl, requestTimeout: 120_000 });
  try {
    const username = `bench-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(18).toString('base64url');
    await new AdminAccounts(new ElasticsearchAccountStore(client), new ElasticsearchAuditLog(client)).add({ username, role: 'administrator', password }, 'bench');
    const signIn = await fetch(`${options.adminUrl}/console/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (signIn.status !== 200) throw new Error(`signing in failed: ${signIn.status} ${await signIn.text()}`);
    const cookie = (signIn.headers.getSetCookie().find((line) => line.startsWith('mlog_console=')) ?? '').split(';')[0] ?? '';
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const headers = { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrfToken };
    const definition = benchDashboard(options.code, options.prefix);
    const created = await fetch(`${options.adminUrl}/console/api/dashboards`, { method: 'POST', headers, body: JSON.stringify(definition) });
    if (created.status !== 201) throw new Error(`saving the dashboard failed: ${created.status} ${await created.text()}`);
    const { id } = (await created.json()) as { id: string };
    const range = JSON.stringify({ from: new Date(options.from).toISOString(), to: new Date(options.to).toISOString() });

    const viaMLog = async (): Promise<void> => {
      const answer = await fetch(`${options.adminUrl}/console/api/dashboards/${id}/render`, { method: 'POST', headers, body: range });
      const body = (await answer.json()) as { panels?: { error?: { message: string } }[] };
      const failed = body.panels?.find((panel) => panel.error !== undefined);
      if (answer.status !== 200 || failed !== undefined) throw new Error(`render failed: ${answer.status} ${failed?.error?.message ?? JSON.stringify(body).slice(0, 200)}`);
    };
    const data = new ElasticsearchDashboardData(client, new ElasticsearchConsoleSearchStore(client));
    const panels = validateDashboard(definition).panels;
    const timeRange = { fromMillis: options.from, toMillis: options.to };
    const direct = async (): Promise<void> => {
      await Promise.all(
        panels.map(async (panel) => {
          const request = { scope: panel.scope, query: parseQuery(panel.query), range: timeRange };
          const previous = { ...request, range: { fromMillis: 2 * options.from - options.to, toMillis: options.from } };
          const visualisation = panel.visualisation;
          switch (visualisation.kind) {
            case 'counts-over-time':
              return data.countsOverTime(request, visualisation.split_field === undefined ? undefined : { field: visualisation.split_field, topN: visualisation.top_n });
            case 'top-values':
              return data.topValues(request, visualisation.field, visualisation.top_n);
            case 'metric':
              return visualisation.metric === 'count'
                ? Promise.all([data.count(request), data.count(previous)])
                : Promise.all([data.distinctCount(request, visualisation.field), data.distinctCount(previous, visualisation.field)]);
            default:
              return undefined;
          }
        }),
      );
    };

    for (let run = 0; run < options.warmup; run++) {
      await viaMLog();
      await direct();
    }
    const mlogLatencies: number[] = [];
    const directLatencies: number[] = [];
    let mlogMs = 0;
    let directMs = 0;
    for (let run = 0; run < options.runs; run++) {
      let started = performance.now();
      await viaMLog();
      const mlogTook = performance.now() - started;
      started = performance.now();
      await direct();
      const directTook = performance.now() - started;
      mlogLatencies.push(mlogTook);
      directLatencies.push(directTook);
      mlogMs += mlogTook;
      directMs += directTook;
    }
    return { mlog: resultOf(mlogLatencies, mlogMs / 1000), direct: resultOf(directLatencies, directMs / 1000) };
  } finally {
    await client.close();
  }
}
