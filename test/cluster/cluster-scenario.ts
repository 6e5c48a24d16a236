/**
 * One cluster fault scenario: a three-node cluster of its own, two MLog instances on it (every index
 * with one replica, writes waiting for the primary: MLOG_WRITE_ACTIVE_SHARDS=1), load from 8 clients
 * with Idempotency-Keys spread over both instances (a retry may reach the other one), a fault
 * injected while the load runs, the cluster's health sampled throughout; then every acknowledged UID
 * compared with what the cluster holds, and the fault suite's table printed.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { compare, makePki, MLogProcess, post, printFigures, runLoad, scenarioCode, sleep, type Figures, type LoadOptions, type Pki } from '../faults/fault-harness.js';
import { Agent } from 'node:https';
import { healthOf, startTestCluster, waitFor, type TestCluster } from './cluster-harness.js';

export interface ClusterScenarioContext {
  cluster: TestCluster;
  mlogs: MLogProcess[];
  code: string;
  /** Marks the moment the fault ends; recovery is measured from it to the next acknowledged call. */
  faultEnded(): void;
}

export interface ClusterScenarioPlan {
  name: string;
  load: Pick<LoadOptions, 'concurrency' | 'maxCalls' | 'durationMs' | 'attemptsPerCall'>;
  faultAfterMs: number;
  fault(context: ClusterScenarioContext): Promise<void>;
}

/** How long after the cluster is green again a 503 may still be answered: one write deadline (5 s) and the retry of a call in flight. */
const GREEN_GRACE_MS = 10_000;

export async function runClusterScenario(plan: ClusterScenarioPlan): Promise<Figures> {
  const cluster = await startTestCluster();
  const pki: Pki = await makePki();
  const mlogs: MLogProcess[] = [];
  const health: { at: number; status: string }[] = [];
  let sampling = true;
  try {
    const env = { MLOG_EVENT_REPLICAS: '1', MLOG_PERSONAL_DATA_REPLICAS: '1', MLOG_INTERNAL_REPLICAS: '1', MLOG_WRITE_ACTIVE_SHARDS: '1', MLOG_REGISTRY_CACHE_SECONDS: '1' };
    mlogs.push(await MLogProcess.start(cluster.urls, pki, { env }));
    mlogs.push(await MLogProcess.start(cluster.urls, pki, { env }));
    const code = scenarioCode(plan.name);
    await mlogs[0]?.addSystem(code, pki.client);
    // The event index exists and every copy is started before the load: the fault meets a healthy cluster.
    const agent = new Agent({ keepAlive: false });
    await waitFor('a first registration through the second instance', async () => (await post(mlogs[1]?.publicPort ?? 0, pki, agent, JSON.stringify({ event_time: new Date().toISOString(), event_type: 'Cluster.Warmup', legal_basis: 'test' }), {})).status === 200, 30_000);
    await waitFor('the cluster is green', async () => (await healthOf(cluster)) === 'green', 120_000);

    const sampler = (async () => {
      while (sampling) {
        health.push({ at: Date.now(), status: await healthOf(cluster) });
        await sleep(500);
      }
    })();
    let faultStart: number | undefined;
    let faultEnd: number | undefined;
    const answers: { status: string; at: number }[] = [];
    let turn = 0;
    const ports = mlogs.map((mlog) => mlog.publicPort);
    const load = runLoad(
      // 409 too: the key is still held by an attempt the other instance has not finished (or not released while the cluster could not take it).
      { port: ports[0] ?? 0, currentPort: () => ports[turn++ % ports.length] ?? 0, pki, useIdempotencyKey: true, retryOn: ['503', '429', '409', 'connection error'], ...plan.load },
      (status, at) => answers.push({ status, at }),
    );
    await sleep(plan.faultAfterMs);
    faultStart = Date.now();
    await plan.fault({ cluster, mlogs, code, faultEnded: () => (faultEnd = Date.now()) });
    const result = await load;
    await waitFor('the cluster is green again', async () => (await healthOf(cluster)) === 'green', 180_000);
    sampling = false;
    await sampler;

    const firstAckAfter = faultEnd === undefined ? undefined : answers.find((answer) => answer.status === '200' && answer.at >= (faultEnd as number));
    const recoverySeconds = firstAckAfter === undefined || faultEnd === undefined ? undefined : (firstAckAfter.at - faultEnd) / 1000;
    await sleep(3_000); // MLog's background removal of refused calls' documents
    const figures = await compare(plan.name, cluster, code, result, recoverySeconds);

    // 503 only while the cluster could not take the write: not before the fault, not once green again (past one deadline's grace).
    const refused = answers.filter((answer) => answer.status === '503');
    const greenAgain = health.find((sample) => sample.at > (faultStart as number) + 1_000 && sample.status === 'green' && health.some((earlier) => earlier.at > (faultStart as number) && earlier.at < sample.at && earlier.status !== 'green'))?.at;
    const notGreen = health.filter((sample) => sample.status !== 'green');
    const extra = {
      instances: mlogs.length,
      nodes: cluster.nodes.length,
      first503AfterFaultSeconds: refused.length === 0 ? null : Math.round((refused[0]!.at - faultStart) / 100) / 10,
      last503AfterFaultSeconds: refused.length === 0 ? null : Math.round((refused.at(-1)!.at - faultStart) / 100) / 10,
      notGreenSeconds: Math.round((notGreen.length * 500) / 100) / 10,
      healthSeen: [...new Set(health.map((sample) => sample.status))],
    };
    printFigures(figures, extra);
    assert.equal(figures.missing, 0, 'acknowledged events missing');
    assert.equal(figures.duplicates, 0, 'events stored twice');
    assert.equal(figures.partial, 0, 'calls stored in part');
    assert.ok(figures.acknowledged > 0, 'no call was acknowledged at all');
    assert.notEqual(firstAckAfter, undefined, 'MLog did not recover by itself after the fault');
    assert.equal(refused.filter((answer) => answer.at < (faultStart as number)).length, 0, 'no 503 before the fault');
    const lateLimit = (greenAgain ?? faultEnd ?? Date.now()) + GREEN_GRACE_MS;
    const late = refused.filter((answer) => answer.at > Math.max(lateLimit, (faultEnd as number) + GREEN_GRACE_MS));
    assert.equal(late.length, 0, `no 503 once the cluster could take writes again (${late.length} after ${new Date(lateLimit).toISOString()})`);
    return figures;
  } finally {
    sampling = false;
    for (const mlog of mlogs) {
      if (mlog.child.exitCode === null && mlog.child.signalCode === null) {
        mlog.kill('SIGTERM');
        await mlog.exited;
      }
    }
    await cluster.destroy();
    rmSync(pki.dir, { recursive: true, force: true });
  }
}

/** A node other than the elected master that holds a primary of the scenario's event index (so the fault meets the write path). */
export async function dataNodeWithPrimary(context: ClusterScenarioContext): Promise<ClusterScenarioContext['cluster']['nodes'][number]> {
  const master = await context.cluster.master();
  const shards = (await context.cluster.es('GET', `/_cat/shards/mlog-${context.code}-*?format=json&h=prirep,node`)) as { prirep: string; node: string }[];
  const withPrimary = new Set(shards.filter((shard) => shard.prirep === 'p').map((shard) => shard.node));
  const others = context.cluster.nodes.filter((node) => node !== master && node.instance !== undefined);
  return others.find((node) => withPrimary.has(node.nodeName)) ?? (others[0] as ClusterScenarioContext['cluster']['nodes'][number]);
}
