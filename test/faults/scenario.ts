/**
 * One fault scenario: its own Elasticsearch and MLog, a bounded load, a fault injected while the
 * load runs, then the comparison of acknowledged UIDs with what Elasticsearch holds.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { compare, makePki, MLogProcess, printFigures, runLoad, ScenarioElasticsearch, scenarioCode, sleep, verifyEvidence, type Figures, type LoadOptions, type Pki } from './fault-harness.js';

export interface ScenarioContext {
  es: ScenarioElasticsearch;
  pki: Pki;
  code: string;
  /** The MLog currently serving (a fault may replace it). */
  mlog: MLogProcess;
  startMLog(): Promise<MLogProcess>;
  /** Marks the moment the fault ends; recovery is measured from it to the next acknowledged call. */
  faultEnded(): void;
  /** Answers seen so far: status, when, how long the call took. */
  answers: { status: string; at: number; latencyMs: number }[];
}

export interface ScenarioPlan {
  name: string;
  firstPort: number;
  load: Pick<LoadOptions, 'concurrency' | 'maxCalls' | 'durationMs' | 'attemptsPerCall'>;
  /** Runs while the load runs; starts after `faultAfterMs`. */
  fault(context: ScenarioContext): Promise<void>;
  faultAfterMs: number;
  /** After the fault, `mlog verify` must also find no event "not yet checkpointed" (a killed MLog's log sealed by the next one). */
  everyEventCheckpointed?: boolean;
  /** Extra checks after the comparison. */
  check?(figures: Figures, context: ScenarioContext): Promise<Record<string, unknown> | void>;
}

export async function runScenario(plan: ScenarioPlan): Promise<Figures> {
  const es = await ScenarioElasticsearch.start(plan.firstPort);
  const pki = await makePki();
  let mlog: MLogProcess | undefined;
  try {
    mlog = await MLogProcess.start(es.url, pki);
    const ports = { publicPort: mlog.publicPort, adminPort: mlog.adminPort, token: mlog.token };
    const code = scenarioCode(plan.name);
    await mlog.addSystem(code, pki.client);
    let faultEnd: number | undefined;
    const context: ScenarioContext = {
      es,
      pki,
      code,
      mlog,
      startMLog: async () => {
        mlog = await MLogProcess.start(es.url, pki, ports);
        context.mlog = mlog;
        return mlog;
      },
      faultEnded: () => (faultEnd = Date.now()),
      answers: [],
    };
    const load = runLoad({ port: ports.publicPort, pki, useIdempotencyKey: true, ...plan.load }, (status, at, latencyMs) => context.answers.push({ status, at, latencyMs }));
    await sleep(plan.faultAfterMs);
    await plan.fault(context);
    const result = await load;
    const firstAckAfter = faultEnd === undefined ? undefined : context.answers.find((answer) => answer.status === '200' && answer.at >= (faultEnd as number));
    const recoverySeconds = firstAckAfter === undefined || faultEnd === undefined ? undefined : (firstAckAfter.at - faultEnd) / 1000;
    // Give MLog's background removal of refused calls' documents a moment before reading what is stored.
    await sleep(3_000);
    const figures = await compare(plan.name, es, code, result, recoverySeconds);
    const extra = (await plan.check?.(figures, context)) ?? {};
    // MLog stops (its final checkpoint covers every acknowledged event), then the whole record is verified.
    const serving = mlog;
    if (serving !== undefined && serving.child.exitCode === null && serving.child.signalCode === null) {
      serving.kill('SIGTERM');
      await serving.exited;
    }
    const verification = await verifyEvidence(es.url, pki);
    printFigures(figures, { ...extra, ...verification });
    assert.equal(figures.missing, 0, 'acknowledged events missing');
    assert.equal(verification.verificationFailures, 0, `verification failures: ${JSON.stringify(verification.verificationCounts)}`);
    if (plan.everyEventCheckpointed === true) assert.equal(verification.eventsNotYetCheckpointed, 0, 'events not yet checkpointed after the fault');
    assert.equal(figures.duplicates, 0, 'events stored twice');
    assert.equal(figures.partial, 0, 'calls stored in part');
    assert.ok(figures.acknowledged > 0, 'no call was acknowledged at all');
    assert.notEqual(firstAckAfter, undefined, 'MLog did not recover after the fault');
    return figures;
  } finally {
    if (mlog !== undefined && mlog.child.exitCode === null && mlog.child.signalCode === null) {
      mlog.kill('SIGTERM');
      await mlog.exited;
    }
    await es.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  }
}
