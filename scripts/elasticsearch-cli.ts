/**
 * Local Elasticsearch without Docker.
 *
 *   npm run elasticsearch -- provision                        # fetch + unpack once, print the home dir
 *   npm run elasticsearch -- start --port 9200 --data-dir .local/elasticsearch
 *                                                             # foreground; Ctrl-C / SIGTERM stops ES cleanly
 *   npm run elasticsearch -- stop --data-dir .local/elasticsearch   # stop one left running by a killed `start`
 */
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  ELASTICSEARCH_VERSION,
  provisionElasticsearch,
  startLocalElasticsearch,
  stopLocalElasticsearch,
} from './local-elasticsearch.js';

const DEFAULT_DATA_DIR = '.local/elasticsearch';

const err = (line: string) => process.stderr.write(`[elasticsearch] ${line}\n`);

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number 1-65535');
  return n;
}

const program = new Command()
  .name('elasticsearch')
  .description(`Local Elasticsearch ${ELASTICSEARCH_VERSION} for MLog development and tests (no Docker)`);

program
  .command('provision')
  .description('download (via Maven) and unpack Elasticsearch if needed; print its home directory')
  .option('--cache-dir <dir>', 'cache directory (default: $MLOG_CACHE_DIR, /var/cache/mlog as root, ~/.cache/mlog otherwise)')
  .action(async (opts: { cacheDir?: string }) => {
    const home = await provisionElasticsearch({ cacheDir: opts.cacheDir, log: err });
    process.stdout.write(`${home}\n`);
  });

program
  .command('start')
  .description('start a single-node cluster in the foreground; SIGINT/SIGTERM stops it')
  .option('--port <port>', 'HTTP port', parsePort, 9200)
  .option('--transport-port <port>', 'transport port (default: port + 100)', parsePort)
  .option('--data-dir <dir>', 'data, logs and config directory (kept across restarts)', DEFAULT_DATA_DIR)
  .option('--heap <size>', 'JVM heap, e.g. 512m or 1g', '1g')
  .option('--cache-dir <dir>', 'distribution cache directory')
  .action(async (opts: { port: number; transportPort?: number; dataDir: string; heap: string; cacheDir?: string }) => {
    const es = await startLocalElasticsearch({
      port: opts.port,
      transportPort: opts.transportPort,
      dataDir: path.resolve(opts.dataDir),
      heap: opts.heap,
      cacheDir: opts.cacheDir,
      log: err,
    });
    process.stdout.write(`${es.url}\n`);
    err(`logs: ${es.logFile}; press Ctrl-C to stop`);

    const keepAlive = setInterval(() => {}, 1 << 30);
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      err(`${signal}: stopping Elasticsearch ...`);
      await es.stop();
      err('stopped');
      clearInterval(keepAlive);
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGHUP', () => void shutdown('SIGHUP'));

    const { code, signal } = await es.exited;
    if (!stopping) {
      err(`Elasticsearch exited unexpectedly (code ${code}, signal ${signal}); see ${es.logFile}`);
      await es.stop();
      process.exit(1);
    }
  });

program
  .command('stop')
  .description('stop an Elasticsearch started for a data dir (using its pid file)')
  .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
  .action(async (opts: { dataDir: string }) => {
    const stopped = await stopLocalElasticsearch(path.resolve(opts.dataDir), err);
    err(stopped ? 'stopped' : `nothing running for ${path.resolve(opts.dataDir)}`);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  err(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
