/**
 * `npm run bench -- --cluster`: the ingest scenarios twice in one invocation, on this machine — once
 * on a single Elasticsearch node, once on a local three-node cluster with one replica of every index
 * (MLOG_*_REPLICAS=1) — and the ratio of each figure to the single node's. Each run is the ordinary
 * benchmark in a child process (its own Elasticsearch reference rows included), so both are measured
 * the same way; this prints their rows side by side.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster } from '../scripts/local-elasticsearch-cluster.js';
import { cpuPerCallMicros, type ReportRow } from './report.js';

const RUN_BENCH = fileURLToPath(new URL('./run-bench.ts', import.meta.url));
/** HTTP ports of the cluster's nodes (transport: +100); apart from the single node's 98x0 ports and the tests' 93xx. */
const CLUSTER_PORTS = [9850, 9860, 9870];
const INGEST_SCENARIOS = 'ceiling,batch,signed,unsigned';
/** Heap of each of the three nodes (the single node of `npm run bench` has 2g). */
const CLUSTER_HEAP = '1g';

type Log = (line: string) => void;

function runBench(args: string[], env: Record<string, string>, log: Log): Promise<void> {
  log(`running: npm run bench -- ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RUN_BENCH, ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the benchmark run exited with ${code}`))));
  });
}

function rowsOf(file: string): ReportRow[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { rows: ReportRow[] }).rows;
}

/** A latency in ms; none (a window without an answered call, NaN, written to JSON as null) is a dash. */
function ms(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(1) : '—';
}

function cpuPerCall(row: ReportRow | undefined): string {
  const micros = row === undefined ? undefined : cpuPerCallMicros(row);
  return micros === undefined ? '—' : `${micros.toFixed(0)} µs`;
}

/** The two runs' rows side by side: throughput, p99, MLog's CPU per call, and the cluster's throughput as a share of the single node's. */
export function comparisonTable(single: ReportRow[], cluster: ReportRow[]): string {
  const lines = [
    '| scenario | single node | 3 nodes, 1 replica | cluster ÷ single | p99 single → cluster | MLog CPU/call single → cluster |',
    '|---|---|---|---|---|---|',
  ];
  // A paced row names the rate it was paced at, which each run picks from its own figures.
  const key = (scenario: string) => scenario.replace(/paced \d+\/s/, 'paced');
  for (const row of single) {
    const other = cluster.find((candidate) => key(candidate.scenario) === key(row.scenario));
    const ratio = other === undefined || row.result.unitsPerSecond === 0 ? '—' : `${(other.result.unitsPerSecond / row.result.unitsPerSecond).toFixed(2)}`;
    lines.push(
      `| ${row.scenario} | ${row.result.unitsPerSecond.toFixed(0)} ${row.unit} | ${other === undefined ? '—' : `${other.result.unitsPerSecond.toFixed(0)} ${other.unit}`} | ${ratio} | ` +
        `${ms(row.result.p99)} → ${ms(other?.result.p99)} ms | ${cpuPerCall(row)} → ${cpuPerCall(other)} |`,
    );
  }
  return lines.join('\n');
}

/** Runs the comparison; `forward` are the command's other options (--quick, --seconds …), passed to both runs. */
export async function compareWithCluster(forward: string[], log: Log): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'mlog-bench-cluster-'));
  const only = forward.includes('--only') ? [] : ['--only', INGEST_SCENARIOS];
  const singleJson = path.join(work, 'single.json');
  const clusterJson = path.join(work, 'cluster.json');
  try {
    await runBench([...forward, ...only, '--json', singleJson], { MLOG_BENCH_ELASTICSEARCH_URL: '' }, log);
    log(`starting a local three-node cluster (heap ${CLUSTER_HEAP} each) on ports ${CLUSTER_PORTS.join(', ')}`);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mlog-bench-cluster-es-'));
    const cluster = await startLocalCluster({ ports: CLUSTER_PORTS, dataDir, heap: CLUSTER_HEAP, name: 'mlog-bench', log });
    try {
      await runBench(
        [...forward, ...only, '--json', clusterJson, '--mlog-env', 'MLOG_EVENT_REPLICAS=1,MLOG_PERSONAL_DATA_REPLICAS=1,MLOG_INTERNAL_REPLICAS=1'],
        // Elasticsearch's reference rows go through the first node (which spreads them over the cluster); MLog is given every node.
        { MLOG_BENCH_ELASTICSEARCH_URL: cluster.nodes[0]?.url ?? '', MLOG_BENCH_MLOG_ELASTICSEARCH_URL: cluster.urls },
        log,
      );
    } finally {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    process.stdout.write(`\nThe ingest scenarios on one node and on three nodes with one replica, this machine, one invocation:\n\n${comparisonTable(rowsOf(singleJson), rowsOf(clusterJson))}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
