import type { Command } from 'commander';
import { commandLineActor } from '../../audit/command-line-actor.js';
import { ConflictError } from '../../errors/mlog-error.js';
import type { ConformanceReport, Finding } from '../../onboarding/conformance-report.js';
import type { OnboardingService } from '../../onboarding/onboarding-service.js';
import type { CliContext, Output } from '../cli-context.js';

const MAX_CELL = 100;

function cell(text: string): string {
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

/** Rows under a header, columns padded to their widest cell; numeric columns (`right`) aligned right. */
function printTable(output: Output, header: string[], rows: string[][], right: boolean[] = []): void {
  const all = [header, ...rows].map((row) => row.map(cell));
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  for (const row of all) {
    const line = row.map((text, column) => (right[column] === true ? text.padStart(widths[column] ?? 0) : text.padEnd(widths[column] ?? 0))).join('  ');
    output.out(`  ${line.trimEnd()}`);
  }
}

function section(output: Output, title: string): void {
  output.out('');
  output.out(title);
}

function printFindings(output: Output, findings: Finding[], line: (text: string) => void = (text) => output.out(text)): void {
  for (const finding of findings) line(`  [${finding.code}] ${finding.message}`);
}

/** The conformance report as readable sections, findings last. */
export function printConformanceReport(output: Output, report: ConformanceReport): void {
  const { system } = report;
  output.out(`Conformance of information system "${system.code}" (${system.name}, ${system.status})`);
  output.out(`Registered from ${report.period.from} to ${report.period.to} (${report.period.field}); ${report.events.total} events, not counting ${report.events.client_queries} MLog.ClientQuery records.`);

  section(output, 'Declared event types');
  if (report.event_types.declared.length === 0) output.out('  (none declared)');
  else printTable(output, ['EVENT TYPE', 'EVENTS', ''], report.event_types.declared.map((entry) => [entry.event_type, String(entry.count), entry.count === 0 ? 'not seen' : '']), [false, true]);

  section(output, 'Event types seen but not declared');
  if (report.event_types.undeclared.length === 0) output.out('  (none)');
  else printTable(output, ['EVENT TYPE', 'EVENTS'], report.event_types.undeclared.map((entry) => [entry.event_type, String(entry.count)]), [false, true]);
  if (report.event_types.other_undeclared_events > 0) output.out(`  … and ${report.event_types.other_undeclared_events} events of further undeclared types`);

  section(output, 'Non-standard fields (outside the predefined list)');
  if (report.non_standard_fields.length === 0) output.out('  (none)');
  else {
    printTable(
      output,
      ['FIELD', 'EVENTS', 'EXAMPLE SHAPE', 'NESTED FIELDS'],
      report.non_standard_fields.map((entry) => [entry.field, String(entry.count), entry.example_shape, entry.nested_fields.join(', ')]),
      [false, true],
    );
  }

  const types = report.predefined_field_types;
  section(output, `Predefined fields sent with a wrong type (expected: ${types.expected})`);
  if (types.fields.length === 0) output.out('  (no value looks like a number or a boolean)');
  else {
    printTable(
      output,
      ['FIELD', 'CANDIDATES', 'INSPECTED', 'WRONG', 'SHAPES', ''],
      types.fields.map((entry) => [entry.field, String(entry.candidates), String(entry.inspected), String(entry.wrong), entry.wrong_shapes.join(', '), entry.sampled ? 'sampled' : '']),
      [false, true, true, true],
    );
  }

  const personal = report.personal_data;
  section(output, `PersonalData completeness (recommended: ${personal.recommended_fields.join(', ')})`);
  if (personal.by_event_type.length === 0) output.out('  (no PersonalData events)');
  else {
    printTable(
      output,
      ['EVENT TYPE', 'EVENTS', 'LACKING ANY', ...personal.recommended_fields.map((field) => `NO ${field.toUpperCase()}`)],
      personal.by_event_type.map((entry) => [entry.event_type, String(entry.count), String(entry.missing_any), ...personal.recommended_fields.map((field) => String(entry.missing[field]))]),
      [false, true, true, ...personal.recommended_fields.map(() => true)],
    );
  }

  const signatures = report.signatures;
  section(output, `Signatures (require_signature: ${signatures.require_signature ? 'yes' : 'no'})`);
  printTable(output, ['SIGNED', 'UNSIGNED', 'REFUSED (401)'], [[String(signatures.signed), String(signatures.unsigned), String(signatures.refused)]], [true, true, true]);

  const refused = report.refused_calls;
  section(output, `Refused calls: ${refused.total}`);
  if (refused.total > 0) {
    printTable(output, ['STATUS', 'CALLS'], refused.by_status.map((entry) => [String(entry.status), String(entry.count)]), [false, true]);
    output.out('');
    printTable(output, ['CALLS', 'REASON'], refused.by_reason.map((entry) => [String(entry.count), entry.reason]), [true]);
    if (refused.other_reasons > 0) output.out(`  … and ${refused.other_reasons} calls refused for other reasons`);
  }

  if (report.notes.length > 0) {
    section(output, 'Notes');
    for (const note of report.notes) output.out(`  ${note}`);
  }

  section(output, `Findings: ${report.findings.length}`);
  if (report.findings.length === 0) output.out('  (none: the IS conforms for this period)');
  else printFindings(output, report.findings);
}

/** `mlog systems conformance <code>` and `mlog systems activate <code>`, added to the `systems` command. */
export function onboardingCommands(program: Command, context: CliContext): void {
  const { output } = context;
  const systems = program.commands.find((command) => command.name() === 'systems');
  if (systems === undefined) throw new Error('the onboarding commands extend "mlog systems", which is not registered');
  const withOnboarding = <T>(action: (onboarding: OnboardingService) => Promise<T>): Promise<T> => context.withServices((services) => action(services.onboarding));

  systems
    .command('conformance <code>')
    .description('Verify an IS before activation: declared and undeclared event types, non-standard fields, wrong types, PersonalData completeness, signatures, refused calls.')
    .option('--from <time>', 'registrations from (inclusive), event_time syntax (default: 30 days before --to)')
    .option('--to <time>', 'registrations to (exclusive), event_time syntax (default: now)')
    .option('--json', 'print the report as JSON')
    .action(async (code: string, options: { from?: string; to?: string; json?: boolean }) => {
      const report = await withOnboarding((onboarding) => onboarding.report(code, { from: options.from, to: options.to }));
      if (options.json === true) output.out(JSON.stringify(report, null, 2));
      else printConformanceReport(output, report);
    });

  systems
    .command('activate <code>')
    .description('Move an IS from staging to active, recording it; refused while its conformance report (last 30 days) has findings, unless --force.')
    .option('--force', 'activate despite findings, or reinstate a suspended IS')
    .action(async (code: string, options: { force?: boolean }) => {
      const outcome = await withOnboarding((onboarding) => onboarding.activate(code, { force: options.force === true, by: commandLineActor(context.env) }));
      const { findings, period } = outcome.report;
      if (!outcome.activated) {
        output.err(`Warning: information system "${code}" has ${findings.length} conformance finding${findings.length === 1 ? '' : 's'} for ${period.from} to ${period.to}:`);
        printFindings(output, findings, (text) => output.err(text));
        throw new ConflictError(`"${code}" stays in staging; see \`mlog systems conformance ${code}\`, or activate it anyway with --force.`);
      }
      if (findings.length > 0) {
        output.err(`Warning: activating despite ${findings.length} conformance finding${findings.length === 1 ? '' : 's'} (--force):`);
        printFindings(output, findings, (text) => output.err(text));
      }
      output.out(`Information system "${code}" is active (was ${outcome.previousStatus}); the activation is recorded in the audit log${outcome.forced ? ' as forced' : ''}.`);
    });
}
