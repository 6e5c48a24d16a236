/**
 * MLOG_WRITE_ACTIVE_SHARDS=all on a three-node cluster where every shard has a copy on every node
 * (two replicas): with a node killed, the cluster cannot give every copy, so a registration is
 * answered 503 with Retry-After, never 200, and nothing of it is stored; once the node is back, MLog
 * registers again by itself.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { after, before, test } from 'node:test';
import { makePki, MLogProcess, post, scenarioCode, type Pki } from '../faults/fault-harness.js';
import { startTestCluster, waitFor, type TestCluster } from './cluster-harness.js';

let cluster: TestCluster;
let pki: Pki;
let mlog: MLogProcess;
const code = scenarioCode('all-copies');
const agent = new Agent({ keepAlive: true });

before(async () => {
  cluster = await startTestCluster();
  pki = await makePki();
  mlog = await MLogProcess.start(cluster.urls, pki, {
    env: { MLOG_EVENT_REPLICAS: '2', MLOG_PERSONAL_DATA_REPLICAS: '2', MLOG_INTERNAL_REPLICAS: '2', MLOG_WRITE_ACTIVE_SHARDS: 'all', MLOG_WRITE_DEADLINE_SECONDS: '3' },
  });
  await mlog.addSystem(code, pki.client);
});

after(async () => {
  agent.destroy();
  if (mlog !== undefined && mlog.child.exitCode === null) {
    mlog.kill('SIGTERM');
    await mlog.exited;
  }
  await cluster?.destroy();
  if (pki !== undefined) rmSync(pki.dir, { recursive: true, force: true });
});

function register(mark: string): Promise<{ status: number; body: string; retryAfter?: string }> {
  const body = JSON.stringify({ event_time: new Date().toISOString(), event_type: 'Cluster.AllCopies', event_correlation: mark, legal_basis: 'test' });
  return post(mlog.publicPort, pki, agent, body, {});
}

async function storedWith(mark: string): Promise<number> {
  await cluster.es('POST', `/mlog-${code}-*/_refresh`);
  const answer = await cluster.es('POST', `/mlog-${code}-*/_count`, { query: { term: { event_correlation: mark } } });
  return answer.count as number;
}

test('all copies asked for: 200 with every node up, 503 with Retry-After while one is killed, 200 again once it is back', { timeout: 600_000 }, async () => {
  const before = randomUUID();
  assert.equal((await register(before)).status, 200);
  await waitFor('the event index is green (a copy on each of the three nodes)', async () => (await cluster.es('GET', `/_cluster/health/mlog-${code}-*?timeout=1s`)).status === 'green', 60_000);
  const settings = await cluster.es('GET', `/mlog-${code}-*/_settings?flat_settings=true`);
  const indexSettings = Object.values(settings as Record<string, { settings: Record<string, string> }>)[0]?.settings ?? {};
  assert.equal(indexSettings['index.number_of_replicas'], '2', 'MLOG_EVENT_REPLICAS reached the event index');

  const victim = cluster.nodes[2];
  assert.ok(victim !== undefined);
  await victim.kill();

  // Every registration while the node is gone: 503 with Retry-After, and nothing of it stored.
  const whileDown: { status: number; retryAfter?: string; mark: string }[] = [];
  const downUntil = Date.now() + 20_000;
  while (Date.now() < downUntil) {
    const mark = randomUUID();
    const answer = await register(mark);
    whileDown.push({ status: answer.status, ...(answer.retryAfter === undefined ? {} : { retryAfter: answer.retryAfter }), mark });
  }
  const refused = whileDown.filter((answer) => answer.status === 503);
  assert.ok(refused.length > 0, `registrations were refused while a copy was missing: ${JSON.stringify(whileDown.map((answer) => answer.status))}`);
  // The first call may still meet the killed node's copies as active (before the master removes the node): from the first 503 on, nothing but 503.
  const firstRefusal = whileDown.findIndex((answer) => answer.status === 503);
  assert.deepEqual([...new Set(whileDown.slice(firstRefusal).map((answer) => answer.status))], [503], 'never 200 while the cluster cannot give every copy');
  for (const answer of refused) assert.ok(Number(answer.retryAfter) > 0, `Retry-After on every 503 (${answer.retryAfter})`);

  await victim.restart();
  const recoveredInMs = await waitFor('a registration is acknowledged again', async () => (await register(randomUUID())).status === 200, 180_000);
  process.stdout.write(`\nall copies: ${refused.length} registrations refused with 503 while a node was down; 200 again ${(recoveredInMs / 1000).toFixed(1)} s after the node was restarted\n`);
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // MLog's background removal of refused calls' documents
  for (const answer of refused) assert.equal(await storedWith(answer.mark), 0, 'a refused registration is not stored');
  assert.equal(await storedWith(before), 1);
});
