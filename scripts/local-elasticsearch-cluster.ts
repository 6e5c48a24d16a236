/**
 * A local Elasticsearch cluster of several nodes on 127.0.0.1, for MLog's cluster tests, its cluster
 * benchmark and demonstrations: each node is a local Elasticsearch (local-elasticsearch.ts: the same
 * integ-test-zip distribution, run as the same unprivileged user) with its own HTTP and transport
 * port, its own data dir under one parent, and the cluster's name, seed hosts and initial masters.
 *
 *   npm run elasticsearch -- cluster start --ports 9311,9312,9313 --data-dir /tmp/es-cluster
 *   npm run elasticsearch -- cluster status --ports 9311,9312,9313
 *   npm run elasticsearch -- cluster stop --data-dir /tmp/es-cluster
 */
import fs from 'node:fs';
import path from 'node:path';
import { startLocalElasticsearch, stopLocalElasticsearch, type LocalElasticsearch } from './local-elasticsearch.js';

type Log = (line: string) => void;

export interface ClusterOptions {
  /** HTTP port of each node, e.g. [9311, 9312, 9313]; the cluster has as many nodes. */
  ports: number[];
  /** Transport port of each node; default: each HTTP port + 100. */
  transportPorts?: number[];
  /** Parent of the nodes' data dirs (node-1, node-2, …); kept across restarts. */
  dataDir: string;
  /** JVM heap of each node, default 384m. */
  heap?: string;
  /** cluster.name, default mlog-local. */
  name?: string;
  cacheDir?: string;
  log?: Log;
  /** How long each node may take to answer, default 180 s (three JVMs starting at once on a small machine). */
  timeoutMs?: number;
}

/** One node of a local cluster: started, stopped, killed, paused and restarted on its own. */
export class ClusterNode {
  constructor(
    readonly nodeName: string,
    readonly port: number,
    readonly dataDir: string,
    public instance: LocalElasticsearch | undefined,
    private readonly startNode: () => Promise<LocalElasticsearch>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Signals the node's whole process group (launcher and server JVM). */
  signal(signal: NodeJS.Signals): void {
    if (this.instance === undefined) throw new Error(`${this.nodeName} is not running`);
    process.kill(-this.instance.pid, signal);
  }

  /** SIGKILL: the node is gone at once, without leaving the cluster cleanly. */
  async kill(): Promise<void> {
    if (this.instance === undefined) return;
    this.signal('SIGKILL');
    await this.instance.exited;
    this.instance = undefined;
  }

  /** Starts the node again on its data dir; it rejoins the cluster. */
  async restart(): Promise<void> {
    this.instance = await this.startNode();
  }

  /** Graceful stop (SIGCONT first, in case it was paused). */
  async stop(): Promise<void> {
    if (this.instance === undefined) return;
    try {
      this.signal('SIGCONT');
    } catch {
      // already gone
    }
    await this.instance.stop();
    this.instance = undefined;
  }
}

export interface LocalCluster {
  name: string;
  nodes: ClusterNode[];
  /** Every node's URL, comma separated, as MLOG_ELASTICSEARCH_URL takes them. */
  urls: string;
  /** The health reached when start returned: green, or yellow (with the reason in the log). */
  status: string;
  stop(): Promise<void>;
}

/**
 * Starts every node at once (they elect a master once two of three can talk), waits until each
 * answers, then up to 60 s for green; a cluster that stays yellow is returned with a message saying
 * how many shard copies are unassigned.
 */
export async function startLocalCluster(options: ClusterOptions): Promise<LocalCluster> {
  const log = options.log ?? (() => {});
  const name = options.name ?? 'mlog-local';
  const heap = options.heap ?? '384m';
  const { ports } = options;
  if (ports.length < 1 || new Set(ports).size !== ports.length) throw new Error('startLocalCluster: give distinct HTTP ports, one per node');
  const transportPorts = options.transportPorts ?? ports.map((port) => port + 100);
  if (transportPorts.length !== ports.length) throw new Error('startLocalCluster: give one transport port per HTTP port');
  const nodeNames = ports.map((_, position) => `${name}-${position + 1}`);
  const seedHosts = transportPorts.map((port) => `127.0.0.1:${port}`);
  const parent = path.resolve(options.dataDir);
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  fs.chmodSync(parent, 0o755);
  const nodes = ports.map((port, position) => {
    const nodeName = nodeNames[position] as string;
    const dataDir = path.join(parent, `node-${position + 1}`);
    const start = () =>
      startLocalElasticsearch({
        port,
        transportPort: transportPorts[position],
        dataDir,
        heap,
        cacheDir: options.cacheDir,
        timeoutMs: options.timeoutMs ?? 180_000,
        log: (line) => log(`${nodeName}: ${line}`),
        cluster: { name, nodeName, seedHosts, initialMasterNodes: nodeNames },
      });
    return new ClusterNode(nodeName, port, dataDir, undefined, start);
  });
  const started = await Promise.allSettled(nodes.map((node) => node.restart()));
  const failed = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  const health = await clusterHealth(nodes[0]?.url ?? '', 'green', 60);
  if (health.status !== 'green') {
    log(`cluster ${name} is ${health.status}: ${health.unassigned_shards} shard copies unassigned (a replica needs a node that holds no other copy of its shard)`);
  } else log(`cluster ${name} is green with ${health.number_of_nodes} nodes: ${nodes.map((node) => node.url).join(', ')}`);
  return { name, nodes, urls: nodes.map((node) => node.url).join(','), status: health.status, stop };
}

export interface ClusterHealth {
  status: string;
  number_of_nodes: number;
  unassigned_shards: number;
  timed_out?: boolean;
}

/** GET _cluster/health waiting up to `seconds` for `status`. */
export async function clusterHealth(url: string, status: 'green' | 'yellow', seconds: number): Promise<ClusterHealth> {
  const response = await fetch(`${url}/_cluster/health?wait_for_status=${status}&timeout=${seconds}s`, { signal: AbortSignal.timeout((seconds + 10) * 1000) });
  return (await response.json()) as ClusterHealth;
}

/** Stops every node started under `dataDir` (node-1, node-2, …) by its pid file; returns how many were running. */
export async function stopLocalCluster(dataDir: string, log: Log = () => {}): Promise<number> {
  const parent = path.resolve(dataDir);
  if (!fs.existsSync(parent)) return 0;
  const nodeDirs = fs.readdirSync(parent).filter((entry) => /^node-\d+$/.test(entry));
  const stopped = await Promise.all(nodeDirs.map((entry) => stopLocalElasticsearch(path.join(parent, entry), (line) => log(`${entry}: ${line}`))));
  return stopped.filter(Boolean).length;
}

/** One line per node: its port, whether it answers, its name, whether it is the elected master; then the cluster's health. */
export async function clusterStatus(ports: number[]): Promise<string[]> {
  const lines: string[] = [];
  let answering: string | undefined;
  for (const port of ports) {
    const url = `http://127.0.0.1:${port}`;
    try {
      const response = await fetch(`${url}/_cat/nodes?h=name,http,master,node.role&format=json`, { signal: AbortSignal.timeout(5_000) });
      const nodes = (await response.json()) as { name: string; http: string; master: string }[];
      const self = nodes.find((node) => node.http?.endsWith(`:${port}`));
      lines.push(`${url}: ${self?.name ?? 'answers'}${self?.master === '*' ? ' (elected master)' : ''}`);
      answering ??= url;
    } catch {
      lines.push(`${url}: does not answer`);
    }
  }
  if (answering !== undefined) {
    const health = await clusterHealth(answering, 'yellow', 1).catch(() => undefined);
    if (health !== undefined) lines.push(`cluster: ${health.status}, ${health.number_of_nodes} nodes, ${health.unassigned_shards} shard copies unassigned`);
  }
  return lines;
}
