/**
 * Local Elasticsearch without Docker.
 *
 *   npm run elasticsearch -- provision                        # fetch + unpack once, print the home dir
 *   npm run elasticsearch -- start --port 9200 --data-dir .local/elasticsearch
 *                                                             # foreground; Ctrl-C / SIGTERM stops ES cleanly
 *   npm run elasticsearch -- stop --data-dir .local/elasticsearch   # stop one left running by a killed `start`
 *   npm run elasticsearch -- cluster start [--ports 9311,9312,9313] [--data-dir .local/elasticsearch-cluster] [--heap 384m]
 *                                                             # three nodes, foreground; Ctrl-C stops them all
 *   npm run elasticsearch -- cluster status [--ports 9311,9312,9313]
 *   npm run elasticsearch -- cluster stop [--data-dir .local/elasticsearch-cluster]
 */
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { clusterStatus, startLocalCluster, stopLocalCluster } from './local-elasticsearch-cluster.js';
import {
  ELASTICSEARCH_VERSION,
  provisionElasticsearch,
  startLocalElasticsearch,
  stopLocalElasticsearch,
} from './local-elasticsearch.js';

const DEFAULT_DATA_DIR = '.local/elasticsearch';
const DEFAULT_CLUSTER_DATA_DIR = '.local/elasticsearch-cluster';
const DEFAULT_CLUSTER_PORTS = '9311,9312,9313';

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

    await stayInForeground('Elasticsearch', () => es.stop(), es.exited, async ({ code, signal }) => {
      err(`Elasticsearch exited unexpectedly (code ${code}, signal ${signal}); see ${es.logFile}`);
      await es.stop();
      return 1;
    });
  });

program
  .command('stop')
  .description('stop an Elasticsearch started for a data dir (using its pid file)')
  .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
  .action(async (opts: { dataDir: string }) => {
    const stopped = await stopLocalElasticsearch(path.resolve(opts.dataDir), err);
    err(stopped ? 'stopped' : `nothing running for ${path.resolve(opts.dataDir)}`);
  });

/**
 * Keeps a start command in the foreground: SIGINT, SIGTERM or SIGHUP stops what it started (`stop`)
 * and exits 0; when `ended` resolves first (what it started went away by itself), exits with the
 * code `onEnded` gives.
 */
async function stayInForeground<T>(what: string, stop: () => Promise<unknown>, ended: Promise<T>, onEnded: (outcome: T) => Promise<number>): Promise<void> {
  const keepAlive = setInterval(() => {}, 1 << 30);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    err(`${signal}: stopping ${what} ...`);
    await stop();
    err('stopped');
    clearInterval(keepAlive);
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
  const outcome = await ended;
  if (!stopping) {
    const code = await onEnded(outcome);
    clearInterval(keepAlive);
    process.exit(code);
  }
}

function parsePorts(value: string): number[] {
  const ports = value.split(',').map((part) => parsePort(part.trim()));
  if (new Set(ports).size !== ports.length) throw new InvalidArgumentError('must be distinct port numbers, comma separated');
  return ports;
}

const cluster = program.command('cluster').description('a local cluster of several nodes on 127.0.0.1 (three by default)');

cluster
  .command('start')
  .description('start one node per HTTP port in the foreground, wait for green (or say why it is yellow); SIGINT/SIGTERM stops them all')
  .option('--ports <ports>', 'HTTP ports, one per node, comma separated', parsePorts, parsePorts(DEFAULT_CLUSTER_PORTS))
  .option('--transport-ports <ports>', 'transport ports, one per node (default: each HTTP port + 100)', parsePorts)
  .option('--data-dir <dir>', 'parent of the nodes\' data dirs node-1, node-2, … (kept across restarts)', DEFAULT_CLUSTER_DATA_DIR)
  .option('--heap <size>', 'JVM heap of each node', '384m')
  .option('--name <name>', 'cluster.name', 'mlog-local')
  .option('--cache-dir <dir>', 'distribution cache directory')
  .action(async (opts: { ports: number[]; transportPorts?: number[]; dataDir: string; heap: string; name: string; cacheDir?: string }) => {
    const started = await startLocalCluster({
      ports: opts.ports,
      ...(opts.transportPorts === undefined ? {} : { transportPorts: opts.transportPorts }),
      dataDir: opts.dataDir,
      heap: opts.heap,
      name: opts.name,
      ...(opts.cacheDir === undefined ? {} : { cacheDir: opts.cacheDir }),
      log: err,
    });
    process.stdout.write(`${started.urls}\n`);
    err(`MLOG_ELASTICSEARCH_URL=${started.urls}; press Ctrl-C to stop the ${started.nodes.length} nodes`);
    // Stopped from elsewhere (`cluster stop`): once every node has exited, so does this command.
    await stayInForeground('the cluster', () => started.stop(), Promise.all(started.nodes.map((node) => node.instance?.exited)), async () => {
      err('every node has exited');
      return 0;
    });
  });

cluster
  .command('stop')
  .description('stop every node of a cluster started for a data dir (using their pid files)')
  .option('--data-dir <dir>', 'parent of the nodes\' data dirs', DEFAULT_CLUSTER_DATA_DIR)
  .action(async (opts: { dataDir: string }) => {
    const stopped = await stopLocalCluster(opts.dataDir, err);
    err(stopped > 0 ? `stopped ${stopped} node(s)` : `no node running for ${path.resolve(opts.dataDir)}`);
  });

cluster
  .command('status')
  .description('which nodes answer, which is the elected master, and the cluster health')
  .option('--ports <ports>', 'HTTP ports, comma separated', parsePorts, parsePorts(DEFAULT_CLUSTER_PORTS))
  .action(async (opts: { ports: number[] }) => {
    for (const line of await clusterStatus(opts.ports)) process.stdout.write(`${line}\n`);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  err(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
