import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idFromTitle, resolveDashboardTime, uniqueId, validateDashboard, validatePanel } from '../../src/dashboards/dashboard.js';
import { SHIPPED_DASHBOARDS } from '../../src/dashboards/shipped-dashboards.js';
import { QuerySyntaxError, ValidationError } from '../../src/errors/mlog-error.js';

const panel = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'p1',
  title: 'Count',
  grid: { x: 0, y: 0, w: 6, h: 8 },
  scope: { kind: 'events', systems: [] },
  query: '',
  visualisation: { kind: 'metric', metric: 'count' },
  ...overrides,
});

function refusal(input: unknown, message: string | RegExp): void {
  assert.throws(() => validateDashboard(input), (error: unknown) => {
    assert.ok(error instanceof ValidationError, String(error));
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe('validateDashboard', () => {
  test('defaults: range the last 24 hours, refresh off, no panels; the id made from the title', () => {
    assert.deepEqual(validateDashboard({ title: '  Logins of MPass ' }), {
      id: 'logins-of-mpass',
      title: 'Logins of MPass',
      description: '',
      time_range: { from: 'now-24h', to: 'now' },
      refresh_seconds: 0,
      panels: [],
    });
  });

  test('answer-only keys are ignored; unknown keys are refused naming them', () => {
    assert.equal(validateDashboard({ title: 'A', version: '3.1', shipped: true, updated_at: 'x', updated_by: 'y' }).title, 'A');
    refusal({ title: 'A', colour: 'red' }, /^colour is not a field of a dashboard/);
    refusal({ title: 'A', panels: [panel({ extra: 1 })] }, /^panels\[0\]\.extra is not a field of panels\[0\]/);
  });

  test('every bound names its path and its limit', () => {
    refusal({}, 'title is required: text of 1 to 200 characters.');
    refusal({ title: 'A', id: 'Not Valid' }, /^id must be 1 to 64 lower-case letters/);
    refusal({ title: 'A', refresh_seconds: 5 }, 'refresh_seconds must be 0 (off) or a whole number from 10 to 86400.');
    refusal({ title: 'A', time_range: { from: 'yesterday', to: 'now' } }, /^time_range\.from must be "now", "now-<n>m"/);
    refusal({ title: 'A', time_range: { from: 'now', to: 'now-1h' } }, 'time_range.from must be before time_range.to.');
    refusal({ title: 'A', panels: Array.from({ length: 31 }, (_, index) => panel({ id: `p${index}` })) }, 'panels holds 31 panels; a dashboard has at most 30.');
    refusal({ title: 'A', panels: [panel(), panel()] }, /^panels\[1\]\.id "p1" is already the id of another panel/);
    refusal({ title: 'A', panels: [panel({ grid: { x: 12, y: 0, w: 1, h: 8 } })] }, 'panels[0].grid.x must be a whole number from 0 to 11.');
    refusal({ title: 'A', panels: [panel({ grid: { x: 7, y: 0, w: 6, h: 8 } })] }, /^panels\[0\]\.grid\.x \+ panels\[0\]\.grid\.w is 13/);
    refusal({ title: 'A', panels: [panel({ grid: { x: 0, y: 0, w: 6, h: 1 } })] }, 'panels[0].grid.h must be a whole number from 2 to 40.');
    refusal({ title: 'A', panels: [panel(), panel({ id: 'p2', visualisation: { kind: 'top-values', field: 'user', top_n: 51 } })] }, 'panels[1].visualisation.top_n must be a whole number from 1 to 50.');
    refusal({ title: 'A', panels: [panel({ visualisation: { kind: 'counts-over-time', top_n: 11 } })] }, 'panels[0].visualisation.top_n must be a whole number from 1 to 10.');
    refusal({ title: 'A', panels: [panel({ visualisation: { kind: 'latest-events', columns: ['event_time'], size: 101 } })] }, 'panels[0].visualisation.size must be a whole number from 1 to 100.');
    refusal({ title: 'A', panels: [panel({ visualisation: { kind: 'metric', metric: 'distinct' } })] }, 'panels[0].visualisation.field must be a field name of 1 to 256 characters.');
    refusal({ title: 'A', panels: [panel({ visualisation: { kind: 'pie' } })] }, /^panels\[0\]\.visualisation\.kind must be one of "counts-over-time"/);
    refusal({ title: 'A', panels: [panel({ scope: { kind: 'everything' } })] }, /^panels\[0\]\.scope: scope\.kind must be/);
  });

  test('a query that does not parse is refused with its column and the panel named', () => {
    assert.throws(
      () => validateDashboard({ title: 'A', panels: [panel(), panel({ id: 'p2', query: 'user:alice and (' })] }),
      (error: unknown) => error instanceof QuerySyntaxError && error.message.startsWith('panels[1].query: At column 17: ') && error.column === 17,
    );
  });

  test('an import path prefixes every message', () => {
    assert.throws(() => validateDashboard({ title: 'A', refresh_seconds: 1 }, { path: 'dashboards[3]' }), /^ValidationError: dashboards\[3\]\.refresh_seconds must be/);
    assert.throws(() => validateDashboard({ title: 'A', panels: [panel({ query: '(' })] }, { path: 'dashboards[0]' }), (error: unknown) => error instanceof QuerySyntaxError && error.message.startsWith('dashboards[0].panels[0].query: '));
  });

  test('the shipped dashboards are valid as they are', () => {
    for (const shipped of SHIPPED_DASHBOARDS) assert.deepEqual(validateDashboard(structuredClone(shipped)), shipped);
  });

  test('a panel alone, as a preview sends it', () => {
    assert.equal(validatePanel(panel({ visualisation: { kind: 'top-values', field: 'event_type' } }), 'panel').visualisation.kind, 'top-values');
    assert.deepEqual(validatePanel(panel({ visualisation: { kind: 'top-values', field: 'event_type' } }), 'panel').visualisation, { kind: 'top-values', field: 'event_type', top_n: 10, display: 'bar' });
    assert.throws(() => validatePanel('x', 'panel'), /^ValidationError: panel must be an object\.$/);
  });
});

describe('ids and times', () => {
  test('idFromTitle keeps letters and digits, folds accents, cuts to 64', () => {
    assert.equal(idFromTitle('Accesări MPass — 2026!'), 'accesari-mpass-2026');
    assert.equal(idFromTitle('***'), 'dashboard');
    assert.equal(idFromTitle('a'.repeat(70)).length, 64);
  });

  test('uniqueId adds -2, -3 … within 64 characters', () => {
    assert.equal(uniqueId('overview', new Set()), 'overview');
    assert.equal(uniqueId('overview', new Set(['overview', 'overview-2'])), 'overview-3');
    assert.equal(uniqueId('a'.repeat(64), new Set(['a'.repeat(64)])), `${'a'.repeat(62)}-2`);
  });

  test('resolveDashboardTime reads now, now-<n>m|h|d|w and instants', () => {
    const now = Date.UTC(2026, 0, 10, 12);
    assert.equal(resolveDashboardTime('now', now), now);
    assert.equal(resolveDashboardTime('now-15m', now), now - 15 * 60_000);
    assert.equal(resolveDashboardTime('now-2w', now), now - 14 * 86_400_000);
    assert.equal(resolveDashboardTime('2026-01-01T00:00:00Z', now), Date.UTC(2026, 0, 1));
    assert.equal(resolveDashboardTime('now-1y', now), undefined);
    assert.equal(resolveDashboardTime('now+1h', now), undefined);
  });
});
