import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { elasticsearchUrl } from './test-mlog.js';

const MLOG = fileURLToPath(new URL('../../bin/mlog.js', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `mlog` command (bin/mlog.js) against the test Elasticsearch, as an operator would; `input` is piped to its standard input. */
export function runMlogCli(args: string[], env: Record<string, string> = {}, input = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MLOG, ...args], { env: { ...process.env, MLOG_ELASTICSEARCH_URL: elasticsearchUrl(), ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
    });
    child.stdin?.end(input);
  });
}
