import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionControl, type Admission } from '../../src/events/admission-control.js';

function admitted(admission: Admission): () => void {
  assert.equal(admission.admitted, true, 'admitted');
  return (admission as Extract<Admission, { admitted: true }>).release;
}

describe('admission control', () => {
  test('admits up to the per-IS limit, then refuses that IS only', () => {
    const control = new AdmissionControl({ maxInFlight: 10, maxInFlightPerSystem: 2 });
    admitted(control.tryAcquire('a'));
    admitted(control.tryAcquire('a'));
    assert.deepEqual(control.tryAcquire('a'), { admitted: false, limit: 'system' });
    admitted(control.tryAcquire('b'));
    assert.equal(control.snapshot().total, 3);
  });

  test('refuses everyone past the global limit; an IS over its own limit hears "system" first', () => {
    const control = new AdmissionControl({ maxInFlight: 3, maxInFlightPerSystem: 2 });
    admitted(control.tryAcquire('a'));
    admitted(control.tryAcquire('a'));
    admitted(control.tryAcquire('b'));
    assert.deepEqual(control.tryAcquire('c'), { admitted: false, limit: 'global' });
    assert.deepEqual(control.tryAcquire('b'), { admitted: false, limit: 'global' });
    assert.deepEqual(control.tryAcquire('a'), { admitted: false, limit: 'system' });
  });

  test('release frees the slot once, however often it is called; idle systems leave no entry', () => {
    const changes: [string, number, number][] = [];
    const control = new AdmissionControl({ maxInFlight: 2, maxInFlightPerSystem: 1 }, (code, own, total) => changes.push([code, own, total]));
    const release = admitted(control.tryAcquire('a'));
    assert.equal(control.tryAcquire('a').admitted, false);
    release();
    release();
    release();
    assert.deepEqual(control.snapshot(), { total: 0, bySystem: new Map() });
    const again = admitted(control.tryAcquire('a'));
    const other = admitted(control.tryAcquire('b'));
    assert.equal(control.tryAcquire('c').admitted, false);
    again();
    other();
    assert.deepEqual(changes, [
      ['a', 1, 1],
      ['a', 0, 0],
      ['a', 1, 1],
      ['b', 1, 2],
      ['a', 0, 1],
      ['b', 0, 0],
    ]);
  });

  test('counters never go negative nor drift over many interleaved calls', () => {
    const control = new AdmissionControl({ maxInFlight: 50, maxInFlightPerSystem: 20 });
    const held: (() => void)[] = [];
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      const admission = control.tryAcquire(`is-${i % 7}`);
      if (admission.admitted) held.push(admission.release);
      else refused++;
      if (i % 3 === 0) held.shift()?.();
      assert.ok(control.snapshot().total <= 50);
      for (const count of control.snapshot().bySystem.values()) assert.ok(count <= 20 && count > 0);
    }
    assert.ok(refused > 0);
    for (const release of held) release();
    assert.deepEqual(control.snapshot(), { total: 0, bySystem: new Map() });
  });
});
