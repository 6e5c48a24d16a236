import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { ConfigurationError, MLogError, StorageUnreachableError } from '../errors/mlog-error.js';
import { createCliContext, LOCAL_ELASTICSEARCH_URL, type CommandGroup, type Output } from './cli-context.js';

/**
 * Every command group of `mlog`, each in its own module under commands/, with the top-level commands
 * it declares (onboarding adds to `systems`). The modules are loaded when needed: a command loads its
 * own group only (a group's modules, and the composition its commands use, are much of `mlog`'s
 * start-up), help and anything else load them all, in this order.
 */
const COMMAND_GROUPS: readonly { commands: readonly string[]; load(): Promise<CommandGroup> }[] = [
  { commands: ['systems'], load: async () => (await import('./commands/systems.js')).systemCommands },
  { commands: ['systems'], load: async () => (await import('./commands/onboarding.js')).onboardingCommands },
  { commands: ['retention'], load: async () => (await import('./commands/retention.js')).retentionCommands },
  { commands: ['rejections'], load: async () => (await import('./commands/rejections.js')).rejectionCommands },
  { commands: ['admins'], load: async () => (await import('./commands/admins.js')).adminCommands },
  { commands: ['dashboards'], load: async () => (await import('./commands/dashboards.js')).dashboardCommands },
  { commands: ['alerts'], load: async () => (await import('./commands/alerts.js')).alertCommands },
  { commands: ['checkpoints'], load: async () => (await import('./commands/checkpoints.js')).checkpointCommands },
  { commands: ['verify', 'verify-receipt'], load: async () => (await import('./commands/verify.js')).verifyCommands },
];

/** The groups `argv` needs: those declaring its first word when one does, else every group. */
function groupsFor(argv: readonly string[]): readonly { load(): Promise<CommandGroup> }[] {
  const first = argv[0];
  const named = first === undefined ? [] : COMMAND_GROUPS.filter((group) => group.commands.includes(first));
  return named.length > 0 ? named : COMMAND_GROUPS;
}

/** Builds the `mlog` command line for `argv` (every command when `argv` names none); commands connect to Elasticsearch only when they run. */
export async function buildProgram(output: Output, env: Record<string, string | undefined> = process.env, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('mlog').description('MLog administration: information systems, retention, rejections, console administrators, dashboards.').exitOverride();
  program.configureOutput({ writeOut: (text) => output.out(text.trimEnd()), writeErr: (text) => output.err(text.trimEnd()) });
  const context = createCliContext(output, env);
  const groups = await Promise.all(groupsFor(argv).map((group) => group.load()));
  for (const group of groups) group(program, context);
  return program;
}

/** Runs the CLI; returns the exit code (0 success, 1 refused or failed, 2 usage). */
export async function runCli(argv: string[], output: Output, env: Record<string, string | undefined> = process.env): Promise<number> {
  try {
    await (await buildProgram(output, env, argv)).parseAsync(argv, { from: 'user' });
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
