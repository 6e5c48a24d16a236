import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import type { RuleView } from '../../alerts/alert-rules-service.js';
import type { CliContext } from '../cli-context.js';
import { wholeNumber } from '../option-parsers.js';

/** Who changes rules from the command line, as rules and logs name them. */
function cliUser(env: Record<string, string | undefined>): string {
  return `cli by ${env.USER ?? env.USERNAME ?? 'unknown'}`;
}

/** "2026-01-31T12:00:00Z", or a duration from now: "30m", "1h", "2d". */
export function muteUntil(text: string, now = new Date()): string {
  const relative = /^(\d{1,5})([mhd])$/.exec(text.trim());
  if (relative !== null) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() + Number(relative[1]) * unit).toISOString();
  }
  return text;
}

function minutes(value: string): number {
  const number = wholeNumber(value);
  if (number < 1) throw new InvalidArgumentError('must be at least 1 (minutes).');
  return number;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function stateOf(rule: RuleView): string {
  if (!rule.enabled) return 'disabled';
  const muted = rule.muted_until !== null && Date.parse(rule.muted_until) > Date.now() ? ` (muted until ${rule.muted_until})` : '';
  return `${rule.state.active_groups > 0 ? `active ×${rule.state.active_groups}` : 'ok'}${muted}`;
}

interface AddOptions {
  file?: string;
  name?: string;
  type?: string;
  query?: string;
  system?: string;
  window?: number;
  above?: number;
  groupBy?: string;
  webhook?: string;
  secret?: string;
  email?: string[];
  schedule?: string;
}

/** The rule `mlog alerts add` sends: a JSON file, or a threshold (or absence) rule from the options. */
async function ruleFrom(options: AddOptions): Promise<unknown> {
  if (options.file !== undefined) {
    try {
      return JSON.parse(await readFile(options.file, 'utf8')) as unknown;
    } catch (error) {
      throw new InvalidArgumentError(`--file ${options.file} is not a readable JSON rule (${(error as Error).message}).`);
    }
  }
  const type = options.type ?? 'threshold';
  const params =
    type === 'absence'
      ? { ...(options.system === undefined ? { query: options.query ?? '' } : { system: options.system }), duration_minutes: options.window ?? 60 }
      : { scope: { kind: 'events', systems: options.system === undefined ? [] : [options.system] }, query: options.query ?? '', window_minutes: options.window ?? 5, comparator: '>', value: options.above ?? 0, ...(options.groupBy === undefined ? {} : { group_by: options.groupBy }) };
  return {
    name: options.name,
    type,
    params,
    ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
    channels: [
      ...(options.webhook === undefined ? [] : [{ kind: 'webhook', url: options.webhook, secret: options.secret }]),
      ...(options.email === undefined ? [] : [{ kind: 'email', to: options.email }]),
    ],
  };
}

/** `mlog alerts list|add|mute|remove`: alert rules on the configured cluster (docs/alerts.md). */
export function alertCommands(program: Command, context: CliContext): void {
  const { output } = context;
  const alerts = program.command('alerts').description('Manage alert rules: list, add, mute, remove.');

  alerts
    .command('list')
    .description('List the alert rules with their state.')
    .option('--json', 'print the rules as JSON (secrets never included)')
    .action(async (options: { json?: boolean }) => {
      const rules = await context.withServices((services) => services.alertRules.list());
      if (options.json === true) {
        output.out(JSON.stringify({ rules }, null, 2));
        return;
      }
      if (rules.length === 0) {
        output.out('No alert rules.');
        return;
      }
      for (const rule of rules) output.out(`${rule.id}\t${rule.type}\t${stateOf(rule)}\t${rule.name}`);
    });

  alerts
    .command('add')
    .description('Add an alert rule, from a JSON file or from options (a threshold rule by default).')
    .option('--file <rule.json>', 'the rule as JSON (docs/alerts.md)')
    .option('--name <name>', 'the rule\'s name')
    .option('--type <type>', 'threshold (default) or absence')
    .option('--query <query>', 'the console\'s query language')
    .option('--system <code>', 'only this IS\'s events (absence: the IS that must keep reporting)')
    .option('--window <minutes>', 'the window (threshold) or duration (absence), in minutes', minutes)
    .option('--above <n>', 'fire when more than n events match in the window', wholeNumber)
    .option('--group-by <field>', 'count per value of this field')
    .option('--webhook <url>', 'notify this webhook (with --secret)')
    .option('--secret <secret>', 'the webhook\'s HMAC key (16 characters or more)')
    .option('--email <address>', 'notify this address (repeatable)', collect)
    .option('--schedule <cron>', 'when to evaluate (default every minute)')
    .action(async (options: AddOptions) => {
      const body = await ruleFrom(options);
      const rule = await context.withServices((services) => services.alertRules.create(body, cliUser(context.env)));
      output.out(`Alert rule "${rule.id}" is created (${rule.type}, ${rule.schedule}).`);
    });

  alerts
    .command('mute <id>')
    .description('Mute a rule until a time: its evaluation goes on, no notification is sent.')
    .requiredOption('--until <time>', 'an ISO instant, or a duration from now such as 30m, 1h, 2d')
    .action(async (id: string, options: { until: string }) => {
      const rule = await context.withServices((services) => services.alertRules.mute(id, muteUntil(options.until), cliUser(context.env)));
      output.out(`Alert rule "${rule.id}" is muted until ${rule.muted_until}.`);
    });

  alerts
    .command('remove <id>')
    .description('Remove a rule and its state (its history stays in the audit trail).')
    .action(async (id: string) => {
      await context.withServices((services) => services.alertRules.remove(id));
      output.out(`Alert rule "${id}" is removed.`);
    });
}
