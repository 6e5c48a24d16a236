import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { commandLineActor } from '../../audit/command-line-actor.js';
import { parseEventTime } from '../../events/event-time.js';
import { verifyReceiptBundle, type ReceiptBundle } from '../../evidence/receipt-verifier.js';
import { trustedKeyFrom, trustedKeyMap, type TrustedKey } from '../../evidence/trusted-key.js';
import type { Finding, VerifyReport, VerifyScope } from '../../evidence/verifier.js';
import { STORED_IS_CODE_PATTERN } from '../../systems/information-system.js';
import type { CliContext, Output } from '../cli-context.js';
import { wholeNumber } from '../option-parsers.js';

/** Findings printed one per line; --json lists them all (up to the verifier's limit). */
const PRINTED_FINDINGS = 1_000;
/** Below this many events no progress bar is drawn. */
const PROGRESS_FROM = 20_000;

/** Thrown when verification finds something: the command exits 1 after printing its report. */
class VerificationFailed extends Error {}

function month(value: string, name: string): string {
  const parsed = parseEventTime(value.trim());
  if (!parsed.ok) throw new InvalidArgumentError(`${name} ${parsed.reason}.`);
  const iso = new Date(parsed.epochMillis).toISOString();
  return `${iso.slice(0, 4)}.${iso.slice(5, 7)}`;
}

function systemCode(value: string): string {
  if (!STORED_IS_CODE_PATTERN.test(value)) throw new InvalidArgumentError('is not an IS code (lower-case letters, digits and "-").');
  return value;
}

async function readKeyFile(path: string, label: string): Promise<TrustedKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${label} ${path} cannot be read.`);
  }
  try {
    return await trustedKeyFrom(text, `${label} ${path}`);
  } catch (error) {
    throw new Error((error as Error).message);
  }
}

/** The keys to trust: each --public-key, else the public half of MLOG_SIGNING_KEY. */
async function trustedKeys(files: readonly string[] | undefined, env: Record<string, string | undefined>): Promise<TrustedKey[]> {
  if (files !== undefined && files.length > 0) return Promise.all(files.map((file) => readKeyFile(file, '--public-key')));
  const signingKey = env.MLOG_SIGNING_KEY;
  if (signingKey === undefined || signingKey.trim() === '') {
    throw new Error("no key to trust: give --public-key FILE (MLog's public key: PEM, or the JWK of GET /checkpoints/latest) or set MLOG_SIGNING_KEY to MLog's key file.");
  }
  return [await readKeyFile(signingKey, 'MLOG_SIGNING_KEY')];
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function describeFinding(finding: Finding): string {
  const where = [
    finding.index === undefined ? undefined : `${finding.index}${finding.id === undefined ? '' : `/${finding.id}`}`,
    finding.uid === undefined ? undefined : `uid ${finding.uid}`,
    finding.log === undefined ? undefined : `log ${finding.log}${finding.position === undefined ? '' : ` position ${finding.position}`}`,
    finding.seq === undefined ? undefined : `chain entry ${finding.seq}`,
  ].filter((part) => part !== undefined);
  return `${finding.kind.toUpperCase().padEnd(10)} ${where.join(', ')}: ${finding.message}`;
}

function printReport(output: Output, report: VerifyReport, seconds: number, rate: number): void {
  const { chain, events } = report;
  output.out(`Chain: ${count(chain.entries)} entries (${count(chain.checkpoints)} checkpoints, ${count(chain.tombstones)} tombstones); ${count(report.logs.length)} logs.`);
  for (const log of report.logs) {
    output.out(`  log ${log.log}: ${count(log.leaves)} leaves stored, ${count(log.checkpointed)} covered by ${count(log.checkpoints)} checkpoints${log.final ? ' (closed)' : ''}`);
  }
  output.out(
    `Events: ${count(events.scanned)} scanned in ${seconds.toFixed(1)} s (${count(Math.round(rate))} events/s); ${count(events.verified)} proven by a checkpoint, ${count(events.not_yet_checkpointed)} not yet checkpointed, ${count(events.signatures_verified)} client signatures verified; ${count(events.pruned_by_retention)} deleted by retention (tombstoned).`,
  );
  for (const finding of report.findings.slice(0, PRINTED_FINDINGS)) output.out(describeFinding(finding));
  const shown = Math.min(report.findings.length, PRINTED_FINDINGS);
  const total = Object.values(report.counts).reduce((sum, value) => sum + value, 0);
  if (total > shown) output.out(`… and ${count(total - shown)} more findings (--json lists up to 10,000).`);
  if (report.ok) output.out('Everything verifies: no event modified, missing or added, every checkpoint and signature holds.');
}

function failureSummary(report: VerifyReport): string {
  const parts = Object.entries(report.counts)
    .filter(([, value]) => value > 0)
    .map(([kind, value]) => `${count(value)} ${kind}`);
  return `verification failed: ${parts.join(', ')}.`;
}

interface ProgressBar {
  update(scanned: number): void;
  stop(): void;
}

const NO_PROGRESS: ProgressBar = { update() {}, stop() {} };

/** A progress bar on standard error, drawn only on a terminal and for long runs. */
function progressBar(total: number): ProgressBar {
  if (process.stderr.isTTY !== true || total < PROGRESS_FROM) return NO_PROGRESS;
  const startedAt = Date.now();
  const bar = new cliProgress.SingleBar(
    { format: 'Verifying [{bar}] {value}/{total} events | {rate} events/s', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { rate: 0 });
  return {
    update(scanned) {
      const seconds = (Date.now() - startedAt) / 1000;
      bar.update(Math.min(scanned, total), { rate: seconds > 0 ? count(Math.round(scanned / seconds)) : '0' });
    },
    stop() {
      bar.stop();
    },
  };
}

/** `mlog verify` and `mlog verify-receipt`: the evidence that the record is unchanged (docs/evidence.md). */
export function verifyCommands(program: Command, context: CliContext): void {
  const { output } = context;

  program
    .command('verify')
    .description(
      'Check that the record is unchanged: every chain entry and checkpoint against MLog\'s key, every log rebuilt from its leaves, every stored event against its @hash and its log, every stored client signature. Exit 0 only when everything holds.',
    )
    .option('--system <code>', 'only the events of this IS (the chain and the logs are checked whole)', systemCode)
    .option('--from <time>', 'only events received in or after the month of this time (months are checked whole)', (value: string) => month(value, '--from'))
    .option('--to <time>', 'only events received in or before the month of this time', (value: string) => month(value, '--to'))
    .option('--all', 'every event')
    .option('--json', 'print one JSON report')
    .option('--workers <n>', 'worker threads that parse and hash the events (0: none); default one per core', wholeNumber)
    .option('--public-key <file>', "a key MLog's signatures may verify with (PEM, or a JWK); repeat it for keys MLog used before a rotation; default: the public half of MLOG_SIGNING_KEY", (value: string, previous: string[] = []) => [...previous, value])
    .action(async (options: { system?: string; from?: string; to?: string; all?: boolean; json?: boolean; workers?: number; publicKey?: string[] }) => {
      if (options.all !== true && options.system === undefined && options.from === undefined && options.to === undefined) {
        throw new Error('say what to verify: --all, or narrow with --system, --from and --to.');
      }
      if (options.from !== undefined && options.to !== undefined && options.from > options.to) throw new Error(`--from (${options.from}) is after --to (${options.to}).`);
      const keys = await trustedKeys(options.publicKey, context.env);
      const scope: VerifyScope = {
        ...(options.system === undefined ? {} : { system: options.system }),
        ...(options.from === undefined ? {} : { fromMonth: options.from }),
        ...(options.to === undefined ? {} : { toMonth: options.to }),
      };
      const startedAt = process.hrtime.bigint();
      const cpuBefore = process.cpuUsage();
      let bar: ProgressBar = NO_PROGRESS;
      const { report, outcomeRecorded } = await context.withVerification(async (verification) => {
        try {
          return await verification.verify({
            by: commandLineActor(context.env),
            keys,
            scope,
            ...(options.workers === undefined ? {} : { workers: options.workers }),
            onTotal: (total) => {
              bar = progressBar(total);
            },
            onEvents: (scanned) => bar.update(scanned),
          });
        } finally {
          bar.stop();
        }
      });
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const cpu = process.cpuUsage(cpuBefore);
      const rate = seconds > 0 ? report.events.scanned / seconds : 0;
      if (options.json === true) {
        const cpuMs = (cpu.user + cpu.system) / 1000;
        output.out(
          JSON.stringify(
            {
              ...report,
              kids: keys.map((key) => key.kid),
              duration_ms: Math.round(seconds * 1000),
              events_per_second: Math.round(rate),
              cpu_ms: Math.round(cpuMs),
              ...(report.events.scanned === 0 ? {} : { cpu_us_per_event: Number(((cpuMs * 1000) / report.events.scanned).toFixed(2)) }),
            },
            null,
            2,
          ),
        );
      } else printReport(output, report, seconds, rate);
      const unrecorded = outcomeRecorded ? [] : ["the run's outcome could not be recorded in the audit index (mlog_audit); its start was."];
      if (!report.ok || !outcomeRecorded) throw new VerificationFailed([...(report.ok ? [] : [failureSummary(report)]), ...unrecorded].join(' '));
    });

  program
    .command('verify-receipt')
    .description(
      'Check a receipt offline (no Elasticsearch): FILE is JSON with "receipt" (the MLog-Receipt header), "proof" (the answer of GET /proof/{uid}) and optionally "checkpoints" kept outside and "key". Exit 0 only when the receipt is MLog\'s and every event it promises is proven in a signed checkpoint.',
    )
    .argument('<file>', 'the JSON file (docs/evidence.md, "Checking a receipt offline")')
    .option('--public-key <file>', 'a key to trust (PEM, or a JWK; repeatable); default: "key" in FILE, else the public half of MLOG_SIGNING_KEY', (value: string, previous: string[] = []) => [...previous, value])
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: { publicKey?: string[]; json?: boolean }) => {
      let bundle: ReceiptBundle;
      try {
        const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ReceiptBundle>;
        if (typeof parsed.receipt !== 'string') throw new Error('no "receipt"');
        bundle = parsed as ReceiptBundle;
      } catch (error) {
        throw new Error(`${file} is not a receipt file: ${(error as Error).message}; it is JSON with "receipt" (the MLog-Receipt header) and "proof" (the answer of GET /proof/{uid}).`);
      }
      const keys =
        options.publicKey === undefined && bundle.key !== undefined ? [await trustedKeyFrom(JSON.stringify(bundle.key), `"key" in ${file}`)] : await trustedKeys(options.publicKey, context.env);
      const check = verifyReceiptBundle(bundle, trustedKeyMap(keys));
      if (options.json === true) output.out(JSON.stringify({ ...check, kids: keys.map((key) => key.kid) }, null, 2));
      else {
        for (const line of check.passed) output.out(`ok       ${line}`);
        for (const line of check.problems) output.out(`FAILED   ${line}`);
        if (check.ok) output.out(`The receipt holds: ${check.proven} of ${check.events} events proven unchanged in MLog's signed log.`);
      }
      if (!check.ok) throw new VerificationFailed(`the receipt does not hold (${check.problems.length} problem${check.problems.length === 1 ? '' : 's'}).`);
    });
}
