import { InvalidArgumentError, type Command } from 'commander';
import { commandLineActor } from '../../audit/command-line-actor.js';
import { MAX_RESULT_WINDOW } from '../../events/query-parameters.js';
import { buildRejectionQuery, parseTimeOption, type StoredRejection } from '../../rejections/rejection-search.js';
import type { CliContext } from '../cli-context.js';
import { wholeNumber } from '../option-parsers.js';

const DEFAULT_LIMIT = 50;
/** Longest reason printed in the table; --json prints it whole. */
const REASON_WIDTH = 120;

function limit(value: string): number {
  const number = wholeNumber(value);
  if (number < 1 || number > MAX_RESULT_WINDOW) throw new InvalidArgumentError(`must be from 1 to ${MAX_RESULT_WINDOW}.`);
  return number;
}

function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

/** The source address as people write it: "::ffff:10.0.0.1" is 10.0.0.1. */
function address(text: string): string {
  return text.startsWith('::ffff:') ? text.slice(7) : text;
}

/** `mlog rejections list`: refused public-API calls from the rejections index, newest first. */
export function rejectionCommands(program: Command, context: CliContext): void {
  const { output } = context;
  const rejections = program.command('rejections').description('Search the refused calls (4xx) of the public API.');

  rejections
    .command('list')
    .description('List refused calls, newest first (default: the last 24 hours).')
    .option('--system <code>', 'only the calls of this IS')
    .option('--from <time>', 'refused at or after (YYYY-MM-dd[THH:mm:ss[.fraction][Z|±HH:mm]]); default 24 hours before --to or now')
    .option('--to <time>', 'refused before (same syntax); default no upper bound')
    .option('--status <status>', 'only this HTTP status (400 to 499)')
    .option('--limit <n>', `how many to show (1 to ${MAX_RESULT_WINDOW})`, limit, DEFAULT_LIMIT)
    .option('--json', 'print JSON: the matching count and the rejections as stored')
    .action(async (options: { system?: string; from?: string; to?: string; status?: string; limit: number; json?: boolean }) => {
      const query = buildRejectionQuery(
        {
          system: options.system,
          status: options.status,
          from: options.from === undefined ? undefined : parseTimeOption(options.from, '--from'),
          to: options.to === undefined ? undefined : parseTimeOption(options.to, '--to'),
          page: 0,
          pageSize: options.limit,
        },
        new Date(),
      );
      const page = await context.withServices((services) => services.rejectionSearch.page(query, { user: commandLineActor(context.env) }));
      if (options.json === true) {
        output.out(JSON.stringify({ 'record-count': page.total, rejections: page.rejections }, null, 2));
        return;
      }
      const window = `${new Date(query.fromMillis).toISOString()} to ${query.toMillis === undefined ? 'now' : new Date(query.toMillis).toISOString()}`;
      if (page.total === 0) {
        output.out(`No refused call${query.system === undefined ? '' : ` of "${query.system}"`} from ${window}.`);
        return;
      }
      printTable(context, page.rejections);
      output.out(`${page.rejections.length} of ${page.total} refused call${page.total === 1 ? '' : 's'} from ${window}${page.rejections.length < page.total ? ' (raise --limit or narrow the window for more)' : ''}.`);
    });
}

function printTable(context: CliContext, rows: StoredRejection[]): void {
  const isWidth = Math.max(2, ...rows.map((row) => (row.is ?? '-').length));
  const addressWidth = Math.max(7, ...rows.map((row) => address(row.source_address).length));
  context.output.out(`${'TIME'.padEnd(24)} ${'STATUS'.padEnd(6)} ${'IS'.padEnd(isWidth)} ${'ADDRESS'.padEnd(addressWidth)} REASON`);
  for (const row of rows) {
    context.output.out(
      `${row['@received'].padEnd(24)} ${String(row.status).padEnd(6)} ${(row.is ?? '-').padEnd(isWidth)} ${address(row.source_address).padEnd(addressWidth)} ${oneLine(row.reason, REASON_WIDTH)}`,
    );
  }
}
