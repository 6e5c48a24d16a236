/** The benchmark's one table: figures, MLog's CPU, the generator's, ratio to the references (writes) or to Elasticsearch (queries), target, met. */
import type { CpuFigures } from './cpu-window.js';
import type { LoadResult } from './load-runner.js';

export interface ReportRow {
  scenario: string;
  result: LoadResult;
  unit: 'events/s' | 'queries/s' | 'renders/s' | 'rules/s' | 'messages/s';
  /** MLog's peak RSS during the scenario, bytes; undefined for Elasticsearch-only rows. */
  rssBytes?: number;
  /** MLog's CPU during the scenario, share of one core (ingest rows: the measured window; query rows: warm-up included). */
  cpu?: number;
  /** CPU of the measured window (ingest and reference rows): MLog's per call, and the load generator's own share. */
  window?: CpuFigures;
  /** e.g. "0.93 × bulk100" or "p99 2.1 × ES". */
  ratio?: string;
  target?: string;
  met?: boolean;
}

function number(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '—';
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

export function failuresOf(result: LoadResult): string {
  const entries = Object.entries(result.failures);
  return entries.length === 0 ? '' : entries.map(([outcome, n]) => `${n}× ${outcome}`).join(', ');
}

/** MLog's CPU seconds in the measured window ÷ the calls answered in it, in µs. */
export function cpuPerCallMicros(row: Pick<ReportRow, 'result' | 'window'>): number | undefined {
  const seconds = row.window?.serverSeconds;
  return seconds === undefined || row.result.calls === 0 ? undefined : (seconds / row.result.calls) * 1e6;
}

/** µs per call; for calls of several events (batches) also per event. */
function cpuPerCall(row: ReportRow): string {
  const micros = cpuPerCallMicros(row);
  if (micros === undefined) return '—';
  const eventsPerCall = row.result.calls === 0 ? 0 : row.result.units / row.result.calls;
  return eventsPerCall > 1.5 ? `${number(micros)} µs (${number(micros / eventsPerCall)}/event)` : `${number(micros)} µs`;
}

/** The generator's CPU as a share of the machine's cores, flagged when its event loop was saturated. */
function generatorCpu(window: CpuFigures | undefined): string {
  if (window === undefined) return '—';
  return `${Math.round(window.generatorShare * 100)}%${window.clientBound ? ' CLIENT-BOUND' : ''}`;
}

/** The table as Markdown-compatible text (it reads in a terminal and pastes into docs/performance.md). */
export function formatReport(rows: ReportRow[]): string {
  const header = ['scenario', 'rate', 'p50 ms', 'p95 ms', 'p99 ms', 'MLog RSS MB', 'MLog CPU', 'MLog CPU/call', 'load gen CPU', 'ratio', 'target', 'met?'];
  const lines = rows.map((row) => [
    row.scenario,
    `${number(row.result.unitsPerSecond)} ${row.unit}`,
    ms(row.result.p50),
    ms(row.result.p95),
    ms(row.result.p99),
    row.rssBytes === undefined ? '—' : number(row.rssBytes / 1024 / 1024),
    row.cpu === undefined ? '—' : `${Math.round(row.cpu * 100)}%`,
    cpuPerCall(row),
    generatorCpu(row.window),
    row.ratio ?? '—',
    row.target ?? '—',
    row.met === undefined ? '—' : row.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] as string).length)));
  const format = (cells: string[]): string => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? `${'-'.repeat(width + 1)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  const notes = [
    ...rows.filter((row) => failuresOf(row.result) !== '').map((row) => `  ${row.scenario}: failed calls in the measured window: ${failuresOf(row.result)}`),
    ...rows
      .filter((row) => row.window?.clientBound === true)
      .map((row) => `  ${row.scenario}: the load generator's event loop was busy ${Math.round((row.window?.generatorLoop ?? 0) * 100)}% of the window: the rate is bound by the client, not by the server`),
  ];
  return [format(header), rule, ...lines.map(format), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}
