import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ADMIN_ROLES, CONSOLE_ACTIONS, mayDo, type ConsoleAction } from '../../src/admins/administrator.js';
import { afterFailure, DEFAULT_LOCKOUT_POLICY, lockedUntil, secondsUntil, type FailureState } from '../../src/admins/lockout.js';
import { checkPurpose } from '../../src/admins/console-sessions.js';

const policy = DEFAULT_LOCKOUT_POLICY;
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

function fail(times: number, start: number, stepMs: number, state?: FailureState): { state: FailureState | undefined; lockedOn: number[] } {
  const lockedOn: number[] = [];
  let current = state;
  for (let index = 0; index < times; index += 1) {
    const next = afterFailure(current, at(start + index * stepMs), policy);
    if (next.locked) lockedOn.push(index + 1);
    current = next.state;
  }
  return { state: current, lockedOn };
}

describe('mayDo', () => {
  test('viewer: dashboards only; auditor: also reading and the audit trail; administrator: everything', () => {
    assert.deepEqual(
      ADMIN_ROLES.map((role) => (Object.keys(CONSOLE_ACTIONS) as ConsoleAction[]).filter((action) => mayDo(role, action))),
      [
        ['view-dashboards'],
        ['view-dashboards', 'read-events', 'read-audit-trail'],
        ['view-dashboards', 'read-events', 'read-audit-trail', 'manage-administrators', 'manage-systems', 'manage-dashboards'],
      ],
    );
  });
});

describe('lockout arithmetic', () => {
  test('the 5th failure within 15 minutes locks for 15 minutes; the 4th does not', () => {
    const { state, lockedOn } = fail(5, 0, 60_000);
    assert.deepEqual(lockedOn, [5]);
    assert.equal(lockedUntil(state, at(4 * 60_000))?.toISOString(), at(4 * 60_000 + 15 * 60_000).toISOString());
    assert.equal(fail(4, 0, 60_000).lockedOn.length, 0);
    assert.equal(lockedUntil(fail(4, 0, 60_000).state, at(4 * 60_000)), undefined);
  });

  test('failures older than the window are forgotten', () => {
    const four = fail(4, 0, 1_000).state;
    const later = afterFailure(four, at(15 * 60_000 + 1), policy);
    assert.equal(later.locked, false);
    assert.equal(later.state.failures, 1);
  });

  test('the lock ends after 15 minutes, and counting starts again from zero', () => {
    const { state } = fail(5, 0, 1_000);
    const lockedAt = 4_000;
    assert.ok(lockedUntil(state, at(lockedAt + 15 * 60_000 - 1)));
    assert.equal(lockedUntil(state, at(lockedAt + 15 * 60_000)), undefined);
    const again = fail(4, lockedAt + 15 * 60_000, 1_000, state);
    assert.deepEqual(again.lockedOn, []);
    assert.equal(again.state?.failures, 4);
  });

  test('a failure while locked changes nothing (the lock is not extended)', () => {
    const { state } = fail(5, 0, 1_000);
    const during = afterFailure(state, at(60_000), policy);
    assert.deepEqual(during, { state, locked: false });
  });

  test('Retry-After is whole seconds, at least 1', () => {
    assert.equal(secondsUntil(at(1_500), at(0)), 2);
    assert.equal(secondsUntil(at(0), at(0)), 1);
  });

  test('property: whatever the spacing of failures, a lock starts only on a 5th failure counted within the window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 * 60_000 }), { minLength: 1, maxLength: 40 }), (gaps) => {
        let state: FailureState | undefined;
        let now = 0;
        const recent: number[] = [];
        for (const gap of gaps) {
          now += gap;
          const wasLocked = lockedUntil(state, at(now)) !== undefined;
          const next = afterFailure(state, at(now), policy);
          if (next.locked) {
            assert.equal(wasLocked, false);
            assert.equal(next.state.locked_until, at(now + policy.lockMs).toISOString());
          }
          if (!wasLocked) recent.push(now);
          if (next.locked) assert.ok(recent.filter((time) => now - time < policy.windowMs).length >= policy.maxFailures);
          if (next.locked) recent.length = 0;
          state = next.state;
        }
      }),
    );
  });
});

describe('checkPurpose', () => {
  test('both fields required, non-blank, trimmed and bounded', () => {
    assert.deepEqual(checkPurpose({ legal_basis: ' Law 133/2011 ', reason: 'Complaint 42' }), { legal_basis: 'Law 133/2011', reason: 'Complaint 42' });
    assert.throws(() => checkPurpose({ legal_basis: 'x' }), /"reason" is required/);
    assert.throws(() => checkPurpose({ reason: 'x', legal_basis: '' }), /"legal_basis" is required/);
    assert.throws(() => checkPurpose(null), /"legal_basis" is required/);
    assert.throws(() => checkPurpose({ legal_basis: 'x'.repeat(501), reason: 'y' }), /at most 500 characters/);
  });
});
