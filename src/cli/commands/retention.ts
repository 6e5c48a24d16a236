import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { commandLineActor } from '../../audit/command-line-actor.js';
import { loadRetentionConfig } from '../../config/config.js';
import { ConflictError } from '../../errors/mlog-error.js';
import { AUDIT_INDEX } from '../../composition/index.js';
import { INDEX_DELETED_EVENT, type RetentionJob, type RetentionProgress, type RetentionReport } from '../../jobs/retention-job.js';
import { retentionCutoff, type RetentionPlanEntry } from '../../jobs/retention-policy.js';
import type { CliContext, Output } from '../cli-context.js';
import { collect } from '../option-parsers.js';

/** 1536 → "1.5 KiB" (binary units, as Elasticsearch counts them). */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 'B';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function plural(value: number, one: string, many: string): string {
  return `${count(value)} ${value === 1 ? one : many}`;
}

function totals(entries: readonly RetentionPlanEntry[]): { indices: number; docs: number; bytes: number } {
  return {
    indices: entries.length,
    docs: entries.reduce((sum, entry) => sum + entry.docs, 0),
    bytes: entries.reduce((sum, entry) => sum + entry.bytes, 0),
  };
}

/** "12 documents, 3.4 KiB" */
function volume(entries: readonly RetentionPlanEntry[]): string {
  const { docs, bytes } = totals(entries);
  return `${plural(docs, 'document', 'documents')}, ${formatBytes(bytes)}`;
}

/** "2 indices, 12 documents, 3.4 KiB" */
function sizeOf(entries: readonly RetentionPlanEntry[]): string {
  return `${plural(entries.length, 'index', 'indices')}, ${volume(entries)}`;
}

function owner(entry: RetentionPlanEntry): string {
  return entry.kind === 'events' ? (entry.code ?? '') : entry.kind === 'personaldata' ? '(personal data)' : '(rejections)';
}

/** Columns padded to their widest cell; numeric columns right-aligned. */
function printTable(output: Output, header: string[], rows: string[][], rightAligned: ReadonlySet<number>): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  output.out(line(header));
  for (const row of rows) output.out(line(row));
}

function printPlan(output: Output, report: RetentionReport, months: { personalDataMonths: number; rejectionsMonths: number }): void {
  const day = (months: number) => retentionCutoff(report.at, months).toISOString().slice(0, 10);
  output.out(
    `Retention at ${report.at.toISOString()}: each IS keeps its retention_months; personal data ${months.personalDataMonths} months (cut-off ${day(months.personalDataMonths)}); rejections ${months.rejectionsMonths} months (cut-off ${day(months.rejectionsMonths)}).`,
  );
  if (report.plan.length === 0) {
    output.out('No managed index found.');
    return;
  }
  output.out('');
  printTable(
    output,
    ['INDEX', 'IS', 'MONTH', 'DOCS', 'SIZE', 'DECISION', 'REASON'],
    report.plan.map((entry) => [entry.index, owner(entry), entry.month, count(entry.docs), formatBytes(entry.bytes), entry.decision, entry.reason]),
    new Set([3, 4]),
  );
  output.out('');
  output.out(`To delete: ${sizeOf(report.toDelete)}.`);
  output.out(`To keep:   ${sizeOf(report.kept)}.`);
}

function describeEntry(entry: RetentionPlanEntry): Record<string, unknown> {
  return {
    index: entry.index,
    kind: entry.kind,
    ...(entry.code === undefined ? {} : { is_code: entry.code }),
    month: entry.month,
    docs: entry.docs,
    bytes: entry.bytes,
    decision: entry.decision,
    reason: entry.reason,
    ...(entry.retentionMonths === undefined ? {} : { retention_months: entry.retentionMonths }),
    ...(entry.cutoff === undefined ? {} : { cutoff: entry.cutoff.toISOString() }),
    ...(entry.deletableFrom === undefined ? {} : { deletable_from: entry.deletableFrom.toISOString() }),
  };
}

/** Progress of an executing run: a bar on a terminal, one plain line per index otherwise. */
function progressDisplay(output: Output): { onProgress: (progress: RetentionProgress) => void; finish: () => void } {
  if (output.interactive === true) {
    const bar = new cliProgress.SingleBar(
      { format: 'Deleting [{bar}] {value}/{total} indices | {index}', stream: process.stdout, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    let active = false;
    return {
      onProgress(progress) {
        if (progress.type === 'started') {
          if (progress.total === 0) return;
          bar.start(progress.total, 0, { index: '' });
          active = true;
        } else bar.update(progress.done, { index: progress.type === 'failed' ? `FAILED ${progress.entry.index}` : progress.entry.index });
      },
      finish() {
        if (active) bar.stop();
      },
    };
  }
  return {
    onProgress(progress) {
      if (progress.type === 'started') {
        if (progress.total > 0) output.out(`Deleting ${plural(progress.total, 'index', 'indices')} (${plural(progress.docs, 'document', 'documents')}, ${formatBytes(progress.bytes)})…`);
      } else if (progress.type === 'deleted') {
        output.out(`[${progress.done}/${progress.total}] deleted ${progress.entry.index} (${plural(progress.entry.docs, 'document', 'documents')}, ${formatBytes(progress.entry.bytes)})`);
      } else {
        output.out(`[${progress.done}/${progress.total}] FAILED ${progress.entry.index}: ${progress.error}`);
      }
    },
    finish() {},
  };
}

function printSummary(output: Output, report: RetentionReport): void {
  const seconds = (report.durationMs / 1000).toFixed(1);
  const failed = report.failures.length;
  output.out(
    `Deleted ${count(report.deleted.length)} of ${count(report.toDelete.length)} ${report.toDelete.length === 1 ? 'index' : 'indices'} past retention (${volume(report.deleted)}) in ${seconds} s; kept ${plural(report.kept.length, 'index', 'indices')}; ${plural(failed, 'failure', 'failures')}.`,
  );
  for (const failure of report.failures) output.out(`  failed: ${failure.index}: ${failure.error}`);
  if (report.stopped !== undefined) output.out(`Stopped early: ${report.stopped}.`);
  if (report.deleted.length > 0) output.out(`Each deletion is recorded as ${INDEX_DELETED_EVENT} in ${AUDIT_INDEX}.`);
}

/** `mlog retention plan|run`: what retention would delete, and deleting it. */
export function retentionCommands(program: Command, context: CliContext): void {
  const { output } = context;
  type Settings = ReturnType<typeof loadRetentionConfig>;
  /** Checks the retention settings first (a wrong one stops the command before any connection), then runs `action` with a job. */
  const withJob = <T>(indices: string[] | undefined, action: (job: RetentionJob, settings: Settings) => Promise<T>): Promise<T> => {
    const settings = loadRetentionConfig(context.env);
    return context.withServices((services) => action(services.retention, settings), { retention: settings, ...(indices === undefined ? {} : { retentionIndices: indices }) });
  };
  const indexOption = ['--index <names>', 'only these indices (names or wildcards; repeat or comma-separate); the rules still apply'] as const;

  const retention = program
    .command('retention')
    .description('Delete the monthly indices past their retention (each IS its retention_months; personaldata-* and mlog_rejections-* their own).');

  retention
    .command('plan')
    .description('Show what a retention run would delete now, per index, with document counts and sizes. Changes nothing.')
    .option('--json', 'print JSON')
    .option(...indexOption, collect)
    .action(async (options: { json?: boolean; index?: string[] }) => {
      const { report, settings } = await withJob(options.index, async (job, settings) => ({ report: await job.run({ execute: false, runBy: commandLineActor(context.env) }), settings }));
      if (options.json === true) {
        output.out(
          JSON.stringify(
            {
              at: report.at.toISOString(),
              personal_data_months: settings.personalDataMonths,
              rejections_months: settings.rejectionsMonths,
              indices: report.plan.map(describeEntry),
              to_delete: totals(report.toDelete),
              to_keep: totals(report.kept),
            },
            null,
            2,
          ),
        );
        return;
      }
      printPlan(output, report, settings);
    });

  retention
    .command('run')
    .description('Delete the indices past retention. Without --yes, a dry run: prints the plan and deletes nothing.')
    .option('--yes', 'really delete')
    .option(...indexOption, collect)
    .action(async (options: { yes?: boolean; index?: string[] }) => {
      const runBy = commandLineActor(context.env);
      if (options.yes !== true) {
        const { report, settings } = await withJob(options.index, async (job, settings) => ({ report: await job.run({ execute: false, runBy }), settings }));
        printPlan(output, report, settings);
        output.out('');
        const scope = options.index === undefined ? '' : ` --index '${options.index.join(',')}'`;
        output.out(
          report.toDelete.length === 0
            ? 'Dry run: nothing was deleted, and nothing is past retention.'
            : `Dry run: nothing was deleted. ${sizeOf(report.toDelete)} would be deleted; to delete them, run: mlog retention run --yes${scope}`,
        );
        return;
      }

      const display = progressDisplay(output);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      let report: RetentionReport;
      try {
        report = await withJob(options.index, (job) => job.run({ execute: true, runBy, onProgress: display.onProgress, signal: controller.signal }));
      } finally {
        display.finish();
        process.off('SIGINT', interrupt);
      }
      if (report.skipped !== undefined) throw new ConflictError(`Skipped: ${report.skipped}. Nothing was deleted.`);
      printSummary(output, report);
      if (report.failures.length > 0) throw new Error(`${plural(report.failures.length, 'deletion', 'deletions')} failed (listed above).`);
    });
}
