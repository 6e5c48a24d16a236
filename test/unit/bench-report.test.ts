import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CpuFigures } from '../../bench/cpu-window.js';
import type { LoadResult } from '../../bench/load-runner.js';
import { runLoad } from '../../bench/load-runner.js';
import { cpuPerCallMicros, formatReport } from '../../bench/report.js';

function result(calls: number): LoadResult {
  return { unitsPerSecond: calls, callsPerSecond: calls, calls, units: calls, seconds: 1, p50: 1, p95: 2, p99: 3, max: 4, failures: {} };
}

function window(figures: Partial<CpuFigures>): CpuFigures {
  return { wallSeconds: 1, generatorSeconds: 0.2, generatorShare: 0.1, generatorLoop: 0.3, clientBound: false, ...figures };
}

describe('the benchmark report', () => {
  test("MLog's CPU per call is its CPU seconds in the window ÷ the calls answered, in µs; unknown without server seconds or calls", () => {
    assert.equal(cpuPerCallMicros({ result: result(2_000), window: window({ serverSeconds: 0.5 }) }), 250);
    assert.equal(cpuPerCallMicros({ result: result(2_000), window: window({}) }), undefined);
    assert.equal(cpuPerCallMicros({ result: result(0), window: window({ serverSeconds: 0.5 }) }), undefined);
  });

  test('the table shows CPU per call and the generator share, and flags a client-bound row with a note', () => {
    const table = formatReport([
      { scenario: 'MLog ×1 signed', result: result(4_000), unit: 'events/s', window: window({ serverSeconds: 0.6, generatorShare: 0.42 }), ratio: '0.50 × bulk100, 1.10 × ES doc' },
      { scenario: 'Elasticsearch _doc ×1', result: result(3_000), unit: 'events/s', window: window({ generatorShare: 0.55, generatorLoop: 0.97, clientBound: true }) },
    ]);
    const [header, , signed, doc] = table.split('\n');
    assert.match(header ?? '', /MLog CPU\/call \| +load gen CPU/);
    assert.match(signed ?? '', /\| +150 µs \| +42% \|/);
    assert.match(signed ?? '', /1\.10 × ES doc/);
    assert.match(doc ?? '', /\| +— \| +55% CLIENT-BOUND \|/);
    assert.match(table, /Elasticsearch _doc ×1: the load generator's event loop was busy 97% of the window: the rate is bound by the client/);
    assert.doesNotMatch(table, /MLog ×1 signed: the load generator/);
  });

  test('a row of calls of 100 events also shows the CPU per event', () => {
    const batch: LoadResult = { ...result(10), units: 1_000, unitsPerSecond: 1_000 };
    const table = formatReport([{ scenario: 'MLog batch ×100', result: batch, unit: 'events/s', window: window({ serverSeconds: 0.25 }) }]);
    assert.match(table, /25,000 µs \(250\/event\)/);
  });

  test('runLoad tells the start and the end of the measured window once each, the start after the warm-up', async () => {
    const edges: [string, number][] = [];
    const started = performance.now();
    await runLoad({
      concurrency: 2,
      warmupMs: 100,
      durationMs: 150,
      ratePerSecond: 40,
      onWindow: (edge) => edges.push([edge, performance.now() - started]),
      call: async () => ({ ok: true, units: 1, outcome: '200' }),
    });
    assert.deepEqual(
      edges.map(([edge]) => edge),
      ['start', 'end'],
    );
    assert.ok((edges[0]?.[1] ?? 0) >= 95, `the window started ${edges[0]?.[1]} ms in, before the warm-up ended`);
  });
});
