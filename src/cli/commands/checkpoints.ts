import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { ConfigurationError } from '../../errors/mlog-error.js';
import type { CliContext } from '../cli-context.js';
import { wholeNumber } from '../option-parsers.js';

/**
 * `mlog checkpoints export`: the evidence chain (signed checkpoints and tombstones, docs/evidence.md)
 * as JSON lines, one entry a line as stored, each with the public key that verifies it, so that an
 * outside authority can keep a copy: history before a checkpoint held outside cannot be rewritten
 * without detection.
 */
export function checkpointCommands(program: Command, context: CliContext): void {
  const { output } = context;
  const checkpoints = program.command('checkpoints').description('The evidence chain: signed checkpoints of the evidence logs and tombstones of deleted indices.');

  checkpoints
    .command('export')
    .description('Write the chain entries as JSON lines (seq, kind, payload fields, jws, hash, kid, public_key), oldest first.')
    .option('--from <seq>', 'the first entry to export (default 0: the whole chain)', wholeNumber, 0)
    .option('--output <file>', 'write to this file instead of standard output')
    .action(async (options: { from: number; output?: string }) => {
      const file = options.output === undefined ? undefined : createWriteStream(options.output, { flags: 'w' });
      const opened = file === undefined ? undefined : once(file, 'open').catch((error: NodeJS.ErrnoException) => {
        throw new ConfigurationError(`--output: the file ${options.output} cannot be written (${error.code ?? error.message}).`);
      });
      await opened;
      let last: number | undefined;
      const count = await context.withServices(async (services) => {
        const evidence = services.evidence;
        if (evidence === undefined) return 0;
        return evidence.exportChain(options.from, async (entry) => {
          last = entry.seq;
          const line = JSON.stringify(entry);
          if (file === undefined) output.out(line);
          else if (!file.write(`${line}\n`)) await once(file, 'drain');
        });
      });
      if (file !== undefined) {
        file.end();
        await once(file, 'finish');
        output.err(count === 0 ? `No chain entry from seq ${options.from}; ${options.output} is empty.` : `Exported ${count} chain entr${count === 1 ? 'y' : 'ies'} (seq ${options.from} to ${last}) to ${options.output}.`);
      } else if (count === 0) {
        output.err(`No chain entry from seq ${options.from}.`);
      }
    });
}
