import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { elasticsearchUrl } from './test-mlog.js';

/** The CLI's source entry: the tests run the code under test through tsx; test/e2e/compiled-build.test.ts runs bin/mlog.js on dist/. */
const MLOG = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `mlog` command (src/cli/main.ts as a process, as bin/mlog.js runs its compiled form) against the test Elasticsearch, as an operator would; `input` is piped to its standard input. */
export function runMlogCli(args: string[], env: Record<string, string> = {}, input = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', MLOG, ...args], { env: { ...process.env, MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
    });
    child.stdin?.end(input);
  });
}
