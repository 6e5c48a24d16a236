import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { comparisonTable } from '../../bench/cluster-comparison.js';
import type { LoadResult } from '../../bench/load-runner.js';
import type { ReportRow } from '../../bench/report.js';

function row(scenario: string, perSecond: number, p99: number, serverSeconds?: number): ReportRow {
  const result: LoadResult = { unitsPerSecond: perSecond, callsPerSecond: perSecond, calls: perSecond, units: perSecond, seconds: 1, p50: 1, p95: 2, p99, max: p99, failures: {} };
  return {
    scenario,
    result,
    unit: 'events/s',
    window: { wallSeconds: 1, generatorSeconds: 0.1, generatorShare: 0.1, generatorLoop: 0.2, clientBound: false, ...(serverSeconds === undefined ? {} : { serverSeconds }) },
  };
}

describe('npm run bench -- --cluster', () => {
  test("each row of the single-node run beside the cluster's, with the cluster's share of its throughput, p99 and MLog's CPU per call", () => {
    const table = comparisonTable(
      [row('Elasticsearch _bulk ×100 (8 conn)', 20_000, 30), row('MLog ×1 signed (64 conn)', 2_000, 40, 0.3), row('MLog ×1 unsigned (64 conn)', 2_500, 35, 0.25)],
      [row('Elasticsearch _bulk ×100 (8 conn)', 12_000, 45), row('MLog ×1 signed (64 conn)', 1_500, 60, 0.24)],
    );
    const [header, , bulk, signed, unsigned] = table.split('\n');
    assert.match(header ?? '', /single node \| 3 nodes, 1 replica \| cluster ÷ single/);
    assert.equal(bulk, '| Elasticsearch _bulk ×100 (8 conn) | 20000 events/s | 12000 events/s | 0.60 | 30.0 → 45.0 ms | — → — |');
    assert.equal(signed, '| MLog ×1 signed (64 conn) | 2000 events/s | 1500 events/s | 0.75 | 40.0 → 60.0 ms | 150 µs → 160 µs |');
    assert.equal(unsigned, '| MLog ×1 unsigned (64 conn) | 2500 events/s | — | — | 35.0 → — ms | 100 µs → — |', 'a scenario the cluster run lacks shows dashes');
  });

  test('paced rows are matched whatever rate each run paced at', () => {
    const [, , line] = comparisonTable([row('MLog ×1 signed paced 147/s', 140, 20)], [row('MLog ×1 signed paced 90/s', 84, 30)]).split('\n');
    assert.equal(line, '| MLog ×1 signed paced 147/s | 140 events/s | 84 events/s | 0.60 | 20.0 → 30.0 ms | — → — |');
  });

  test('a window in which no call was answered (p99 NaN, null once written to JSON) shows a dash, not an error', () => {
    const silent = row('MLog batch ×100 signed (8 conn)', 0, 0);
    (silent.result as { p99: number | null }).p99 = null;
    const [, , line] = comparisonTable([row('MLog batch ×100 signed (8 conn)', 900, 50)], [silent]).split('\n');
    assert.equal(line, '| MLog batch ×100 signed (8 conn) | 900 events/s | 0 events/s | 0.00 | 50.0 → — ms | — → — |');
  });
});
