import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { ConfigurationError, MLogError, StorageUnreachableError } from '../errors/mlog-error.js';
import { createCliContext, LOCAL_ELASTICSEARCH_URL, type CommandGroup, type Output } from './cli-context.js';
import { adminCommands } from './commands/admins.js';
import { alertCommands } from './commands/alerts.js';
import { retentionCommands } from './commands/retention.js';
import { rejectionCommands } from './commands/rejections.js';
import { systemCommands } from './commands/systems.js';
import { onboardingCommands } from './commands/onboarding.js';
import { dashboardCommands } from './commands/dashboards.js';
import { verifyCommands } from './commands/verify.js';
import { checkpointCommands } from './commands/checkpoints.js';

/** Every command group of `mlog`, each in its own module under commands/. */
const COMMAND_GROUPS: CommandGroup[] = [systemCommands, onboardingCommands, retentionCommands, rejectionCommands, adminCommands, dashboardCommands, alertCommands, checkpointCommands, verifyCommands];

/** Builds the `mlog` command line; commands connect to Elasticsearch only when they run. */
export function buildProgram(output: Output, env: Record<string, string | undefined> = process.env): Command {
  const program = new Command('mlog').description('MLog administration: information systems, retention, rejections, console administrators, dashboards.').exitOverride();
  program.configureOutput({ writeOut: (text) => output.out(text.trimEnd()), writeErr: (text) => output.err(text.trimEnd()) });
  const context = createCliContext(output, env);
  for (const group of COMMAND_GROUPS) group(program, context);
  return program;
}

/** Runs the CLI; returns the exit code (0 success, 1 refused or failed, 2 usage). */
export async function runCli(argv: string[], output: Output, env: Record<string, string | undefined> = process.env): Promise<number> {
  try {
    await buildProgram(output, env).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const commanderCode = (error as { code?: string }).code;
    if (commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version' || commanderCode === 'commander.help') return 0;
    if (commanderCode?.startsWith('commander.') === true) return 2;
    if (error instanceof StorageUnreachableError) {
      output.err(`mlog: Elasticsearch does not answer at ${env.MLOG_ELASTICSEARCH_URL ?? LOCAL_ELASTICSEARCH_URL}; is it running (npm start, or set MLOG_ELASTICSEARCH_URL)?`);
      return 1;
    }
    if (error instanceof MLogError || error instanceof ConfigurationError) {
      output.err(`mlog: ${error.message}`);
      return 1;
    }
    output.err(`mlog: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const code = await runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    interactive: process.stdout.isTTY === true,
  });
  process.exitCode = code;
}
