import type { Command } from 'commander';
import { commandLineActor } from '../../audit/command-line-actor.js';
import { checkPassword, type AdminAccount } from '../../admins/admin-accounts.js';
import { ConfigurationError, ValidationError } from '../../errors/mlog-error.js';
import type { CliContext } from '../cli-context.js';

/** The new password: all of standard input with --password-stdin, else asked twice on the terminal with echo off. */
async function readNewPassword(context: CliContext, fromStdin: boolean): Promise<string> {
  const input = context.passwords;
  if (fromStdin) return checkPassword(await input.readStdin());
  if (!input.interactive) throw new ConfigurationError('There is no terminal to ask the password on: pipe it in with --password-stdin.');
  const password = checkPassword(await input.prompt('Password (12 characters or more): '));
  if ((await input.prompt('The same password again: ')) !== password) throw new ValidationError('The two passwords differ; nothing was changed.');
  return password;
}

function row(account: AdminAccount): string {
  return `${account.username.padEnd(24)} ${account.role.padEnd(14)} ${(account.disabled ? 'disabled' : 'enabled').padEnd(9)} ${account.source.padEnd(6)} ${account.createdAt}`;
}

/** `mlog admins add|list|disable|enable|reset-password`: the console's administrator accounts. */
export function adminCommands(program: Command, context: CliContext): void {
  const { output, env } = context;
  const admins = program.command('admins').description("Manage the console's administrator accounts (viewer, auditor, administrator).");

  admins
    .command('add')
    .description('Create a local administrator; the password is asked on the terminal, or read from standard input with --password-stdin.')
    .requiredOption('--username <username>', 'lower-case letters, digits and . _ @ -')
    .requiredOption('--role <role>', 'viewer, auditor or administrator')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (options: { username: string; role: string; passwordStdin?: boolean }) => {
      const password = await readNewPassword(context, options.passwordStdin === true);
      const account = await context.withServices((services) => services.accounts.add({ username: options.username, role: options.role, password }, commandLineActor(env)));
      output.out(`Administrator "${account.username}" (${account.role}) is created.`);
    });

  admins
    .command('list')
    .description('List the administrators.')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const accounts = await context.withServices((services) => services.accounts.list());
      if (options.json === true) {
        output.out(JSON.stringify(accounts, null, 2));
        return;
      }
      if (accounts.length === 0) {
        output.out('No administrators yet; add one with: mlog admins add --username <name> --role administrator');
        return;
      }
      output.out(`${'username'.padEnd(24)} ${'role'.padEnd(14)} ${'status'.padEnd(9)} ${'source'.padEnd(6)} created`);
      for (const account of accounts) output.out(row(account));
    });

  admins
    .command('disable <username>')
    .description('Disable an administrator: signing in is refused and their sessions end.')
    .action(async (username: string) => {
      await context.withServices((services) => services.accounts.update(username, { disabled: true }, commandLineActor(env)));
      output.out(`Administrator "${username}" is disabled.`);
    });

  admins
    .command('enable <username>')
    .description('Enable a disabled administrator again.')
    .action(async (username: string) => {
      await context.withServices((services) => services.accounts.update(username, { disabled: false }, commandLineActor(env)));
      output.out(`Administrator "${username}" is enabled.`);
    });

  admins
    .command('reset-password <username>')
    .description('Set a new password for a local administrator (asked on the terminal, or read with --password-stdin).')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (username: string, options: { passwordStdin?: boolean }) => {
      const password = await readNewPassword(context, options.passwordStdin === true);
      await context.withServices((services) => services.accounts.update(username, { password }, commandLineActor(env)));
      output.out(`The password of administrator "${username}" is changed.`);
    });
}
