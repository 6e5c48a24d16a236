/**
 * The cluster suite's ground (`npm run test:cluster`): a three-node Elasticsearch cluster of its own
 * on 127.0.0.1 (scripts/local-elasticsearch-cluster.ts; ports MLOG_CLUSTER_PORTS, default
 * 9311,9312,9313, transport ports +100, data in a temporary folder), and helpers to find which node
 * holds what and to watch the cluster's health while a fault lasts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type ClusterNode, type LocalCluster } from '../../scripts/local-elasticsearch-cluster.js';

export const CLUSTER_PORTS = (process.env.MLOG_CLUSTER_PORTS ?? '9311,9312,9313').split(',').map((port) => Number(port.trim()));

export interface TestCluster extends LocalCluster {
  /** GET/POST on the first node that answers (a killed or paused node is skipped). */
  es(method: string, path: string, body?: unknown): Promise<any>;
  /** The node elected master now. */
  master(): Promise<ClusterNode>;
  /** Stops every node and removes the data. */
  destroy(): Promise<void>;
}

export async function startTestCluster(): Promise<TestCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mlog-cluster-'));
  const cluster = await startLocalCluster({ ports: CLUSTER_PORTS, dataDir, heap: process.env.MLOG_CLUSTER_HEAP ?? '320m', name: 'mlog-test', log: (line) => process.stderr.write(`[cluster] ${line}\n`) });
  const es = async (method: string, path: string, body?: unknown): Promise<any> => {
    let lastError: unknown;
    for (const node of cluster.nodes) {
      if (node.instance === undefined) continue;
      try {
        const response = await fetch(`${node.url}${path}`, {
          method,
          headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(8_000),
        });
        const text = await response.text();
        if (!response.ok && response.status !== 404) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
        return text === '' ? undefined : JSON.parse(text);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError ?? new Error('no node of the cluster is running');
  };
  return {
    ...cluster,
    es,
    async master() {
      const answer = (await es('GET', '/_cat/master?format=json&h=node')) as { node: string }[];
      const name = answer[0]?.node;
      const node = cluster.nodes.find((candidate) => candidate.nodeName === name);
      if (node === undefined) throw new Error(`no master elected (${JSON.stringify(answer)})`);
      return node;
    },
    async destroy() {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The cluster's health as one word (green, yellow, red, or "no master" when no node can say), read from a node that answers. */
export async function healthOf(cluster: TestCluster): Promise<string> {
  try {
    const health = (await cluster.es('GET', '/_cluster/health?timeout=2s')) as { status?: string };
    return health.status ?? 'unknown';
  } catch {
    return 'no master';
  }
}

/** Polls `condition` every 250 ms until it holds; throws after `limitMs`. */
export async function waitFor(what: string, condition: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = Date.now();
  while (!(await condition().catch(() => false))) {
    if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return Date.now() - started;
}
