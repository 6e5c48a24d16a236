import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { collect, wholeNumber } from '../option-parsers.js';
import { ConfigurationError } from '../../errors/mlog-error.js';
import { describeSystem, type InformationSystem } from '../../systems/information-system.js';
import { parseNewSystem, parseSystemChanges, type SystemChanges } from '../../systems/system-schemas.js';
import type { SystemRegistry } from '../../systems/system-registry.js';
import type { CliContext, Output } from '../cli-context.js';

function readCertificateFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new ConfigurationError(`Cannot read the certificate file ${path}.`);
  }
  const text = bytes.toString('latin1');
  return text.includes('-----BEGIN CERTIFICATE-----') ? text : bytes.toString('base64');
}

function printSystem(output: Output, system: InformationSystem): void {
  const described = describeSystem(system);
  const rows: [string, string][] = [
    ['code', described.code],
    ['name', described.name],
    ['idno', described.idno],
    ['status', described.status],
    ['require_signature', String(described.require_signature)],
    ['allowed_addresses', described.allowed_addresses.length === 0 ? '(any)' : described.allowed_addresses.join(', ')],
    ['permissions', described.permissions.join(', ') || '(none)'],
    ['event_types', described.event_types.join(', ') || '(none declared)'],
    ['retention_months', String(described.retention_months)],
    ['syslog_addresses', (described.syslog_addresses ?? []).join(', ') || '(none: plain-TCP syslog refused)'],
    ['syslog_timezone', described.syslog_timezone ?? 'UTC'],
    ...described.certificates.map(
      (certificate, index): [string, string] => [`certificate ${index + 1}`, `serial ${certificate.serial}, ${certificate.subject}, valid ${certificate.not_before} to ${certificate.not_after}`],
    ),
  ];
  for (const [name, value] of rows) output.out(`${name.padEnd(20)} ${value}`);
}

/** `mlog systems add|list|show|update|remove`. */
export function systemCommands(program: Command, context: CliContext): void {
  const { output } = context;
  const withRegistry = <T>(action: (registry: SystemRegistry) => Promise<T>): Promise<T> => context.withServices((services) => action(services.registry));

  const systems = program.command('systems').description('Register and manage the information systems (IS) that call MLog.');

  systems
    .command('add')
    .description('Register an IS (status staging unless --status is given).')
    .requiredOption('--code <code>', 'IS code: lower-case letters, digits and "-", used in index names')
    .requiredOption('--name <name>', 'IS name')
    .requiredOption('--idno <idno>', "IDNO of the owning organisation")
    .requiredOption('--cert <file>', 'system certificate (.cer, PEM or DER); repeat for several', (value, previous: string[] = []) => [...previous, value])
    .option('--allow <address>', 'IP or CIDR the IS may call from; repeat or comma-separate (default: any)', collect)
    .option('--require-signature', 'refuse unsigned events from this IS')
    .option('--permission <permission>', 'permission, e.g. personaldata:read; repeatable', collect)
    .option('--event-type <type>', 'declared event type; repeat or comma-separate', collect)
    .option('--retention-months <months>', 'retention period of its events', wholeNumber)
    .option('--status <status>', 'staging, active or suspended')
    .option('--syslog-address <address>', 'IP or CIDR from which its syslog is accepted over plain TCP; repeat or comma-separate (default: none)', collect)
    .option('--syslog-timezone <zone>', 'IANA time zone of its RFC 3164 syslog timestamps (default: UTC)')
    .action(async (options: Record<string, unknown>) => {
      const input = parseNewSystem({
        code: options.code,
        name: options.name,
        idno: options.idno,
        certificates: (options.cert as string[]).map(readCertificateFile),
        ...(options.allow === undefined ? {} : { allowed_addresses: options.allow }),
        ...(options.requireSignature === undefined ? {} : { require_signature: true }),
        ...(options.permission === undefined ? {} : { permissions: options.permission }),
        ...(options.eventType === undefined ? {} : { event_types: options.eventType }),
        ...(options.retentionMonths === undefined ? {} : { retention_months: options.retentionMonths }),
        ...(options.status === undefined ? {} : { status: options.status }),
        ...(options.syslogAddress === undefined ? {} : { syslog_addresses: options.syslogAddress }),
        ...(options.syslogTimezone === undefined ? {} : { syslog_timezone: options.syslogTimezone }),
      });
      const system = await withRegistry((registry) => registry.add(input));
      output.out(`Registered information system "${system.code}" (${system.status}).`);
      printSystem(output, system);
    });

  systems
    .command('list')
    .description('List the registered IS.')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await withRegistry((registry) => registry.list());
      if (options.json === true) {
        output.out(JSON.stringify(list.map(describeSystem), null, 2));
        return;
      }
      if (list.length === 0) {
        output.out('No information system is registered.');
        return;
      }
      output.out(`${'CODE'.padEnd(24)} ${'STATUS'.padEnd(10)} ${'SIGNED'.padEnd(7)} NAME`);
      for (const system of list) {
        output.out(`${system.code.padEnd(24)} ${system.status.padEnd(10)} ${(system.require_signature ? 'yes' : 'no').padEnd(7)} ${system.name}`);
      }
    });

  systems
    .command('show <code>')
    .description('Show one IS.')
    .option('--json', 'print JSON')
    .action(async (code: string, options: { json?: boolean }) => {
      const system = await withRegistry((registry) => registry.get(code));
      if (options.json === true) output.out(JSON.stringify(describeSystem(system), null, 2));
      else printSystem(output, system);
    });

  systems
    .command('update <code>')
    .description('Change an IS; only the options given change (--cert replaces all certificates).')
    .option('--name <name>', 'IS name')
    .option('--idno <idno>', 'IDNO of the owning organisation')
    .option('--cert <file>', 'system certificate (.cer, PEM or DER); repeat for several', (value, previous: string[] = []) => [...previous, value])
    .option('--allow <address>', 'IP or CIDR; replaces the list', collect)
    .option('--require-signature <yes|no>', 'refuse unsigned events', (value) => {
      if (value !== 'yes' && value !== 'no') throw new InvalidArgumentError('must be yes or no.');
      return value === 'yes';
    })
    .option('--permission <permission>', 'permissions; replaces the list', collect)
    .option('--event-type <type>', 'declared event types; replaces the list', collect)
    .option('--retention-months <months>', 'retention period of its events', wholeNumber)
    .option('--status <status>', 'staging, active or suspended')
    .option('--syslog-address <address>', 'IP or CIDR for plain-TCP syslog; replaces the list ("" empties it)', collect)
    .option('--syslog-timezone <zone>', 'IANA time zone of its RFC 3164 syslog timestamps')
    .action(async (code: string, options: Record<string, unknown>) => {
      const changes: SystemChanges = parseSystemChanges({
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.idno === undefined ? {} : { idno: options.idno }),
        ...(options.cert === undefined ? {} : { certificates: (options.cert as string[]).map(readCertificateFile) }),
        ...(options.allow === undefined ? {} : { allowed_addresses: options.allow }),
        ...(options.requireSignature === undefined ? {} : { require_signature: options.requireSignature }),
        ...(options.permission === undefined ? {} : { permissions: options.permission }),
        ...(options.eventType === undefined ? {} : { event_types: options.eventType }),
        ...(options.retentionMonths === undefined ? {} : { retention_months: options.retentionMonths }),
        ...(options.status === undefined ? {} : { status: options.status }),
        ...(options.syslogAddress === undefined ? {} : { syslog_addresses: options.syslogAddress }),
        ...(options.syslogTimezone === undefined ? {} : { syslog_timezone: options.syslogTimezone }),
      });
      const system = await withRegistry((registry) => registry.update(code, changes));
      output.out(`Changed information system "${system.code}".`);
      printSystem(output, system);
    });

  systems
    .command('remove <code>')
    .description('Remove an IS from the registry (its events are kept).')
    .action(async (code: string) => {
      await withRegistry((registry) => registry.remove(code));
      output.out(`Removed information system "${code}" from the registry; its events are kept.`);
    });

}
