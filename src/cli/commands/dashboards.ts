import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { commandLineActor } from '../../audit/command-line-actor.js';
import type { Editor } from '../../dashboards/dashboard-service.js';
import { ValidationError } from '../../errors/mlog-error.js';
import type { CliContext } from '../cli-context.js';
import { collect } from '../option-parsers.js';

async function readImportFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ValidationError(`The file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(`The file ${path} is not JSON; give a file written by \`mlog dashboards export\`.`);
  }
}

/** `mlog dashboards list|export|import`: the console's dashboards, as files that move between MLog installations. */
export function dashboardCommands(program: Command, context: CliContext): void {
  const { output } = context;
  const dashboards = program.command('dashboards').description("The console's dashboards: list, export to a JSON file, import from one.");

  dashboards
    .command('list')
    .description('List the dashboards, by title.')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await context.withServices((services) => services.dashboards.list());
      if (options.json === true) {
        output.out(JSON.stringify({ dashboards: list }, null, 2));
        return;
      }
      if (list.length === 0) {
        output.out('There is no dashboard.');
        return;
      }
      const idWidth = Math.max(2, ...list.map((each) => each.id.length));
      const titleWidth = Math.min(60, Math.max(5, ...list.map((each) => each.title.length)));
      output.out(`${'ID'.padEnd(idWidth)} ${'TITLE'.padEnd(titleWidth)} PANELS SHIPPED UPDATED`);
      for (const each of list) {
        output.out(`${each.id.padEnd(idWidth)} ${each.title.slice(0, titleWidth).padEnd(titleWidth)} ${String(each.panel_count).padEnd(6)} ${(each.shipped ? 'yes' : 'no').padEnd(7)} ${each.updated_at} by ${each.updated_by}`);
      }
    });

  dashboards
    .command('export')
    .description('Write dashboards to a JSON file (every dashboard unless --id is given); standard output by default.')
    .option('--id <id>', 'a dashboard to export (repeatable, or comma separated)', collect, [])
    .option('--output <file>', 'the file to write')
    .action(async (options: { id: string[]; output?: string }) => {
      const file = await context.withServices(async (services) => {
        const exported = await services.dashboards.exportFile(options.id);
        await services.dashboards.recordExport(exported, { user: commandLineActor(context.env) });
        return exported;
      });
      const text = `${JSON.stringify(file, null, 2)}\n`;
      if (options.output === undefined) {
        output.out(text.trimEnd());
        return;
      }
      await writeFile(options.output, text, { mode: 0o600 });
      output.out(`${file.dashboards.length} dashboard${file.dashboards.length === 1 ? '' : 's'} written to ${options.output}.`);
    });

  dashboards
    .command('import <file>')
    .description('Import the dashboards of an export file; every one is checked before any is written. A dashboard whose id exists is refused unless --overwrite.')
    .option('--overwrite', 'replace the dashboards whose id exists')
    .action(async (path: string, options: { overwrite?: boolean }) => {
      const file = await readImportFile(path);
      const result = await context.withServices((services) => services.dashboards.importFile(file, options.overwrite === true, { user: commandLineActor(context.env) }));
      output.out(`Imported ${result.imported.length} dashboard${result.imported.length === 1 ? '' : 's'}: ${result.imported.join(', ') || '(none)'}.`);
    });
}
