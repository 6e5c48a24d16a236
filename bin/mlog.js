#!/usr/bin/env node
// The `mlog` command: runs the compiled CLI (dist/cli/main.js, made by `npm run build`); no TypeScript loader.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('mlog: MLog is not built in this installation (dist/cli/main.js is missing); build it with `npm run build`.\n');
  process.exit(1);
}
const { runCli } = await import(cli.href);
const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  interactive: process.stdout.isTTY === true,
});
// exitCode, not exit(): output still buffered for a pipe must be flushed first.
process.exitCode = code;
