import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  monthEnd,
  monthStart,
  retentionCutoff,
  selectIndicesToDelete,
  type IndexSize,
  type RetentionPlanEntry,
  type RetentionPolicy,
} from '../../src/jobs/retention-policy.js';
import { monthSuffix, parseManagedIndexName } from '../../src/storage/index-names.js';

const iso = (text: string) => new Date(text);

/** A UTC instant for any year, 0–99 included (Date.UTC would turn 99 into 1999). */
function utc(year: number, month: number, day: number, hours = 0, minutes = 0, seconds = 0, ms = 0): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hours, minutes, seconds, ms);
  return date;
}

function index(name: string, docs = 1, bytes = 100): IndexSize {
  return { name, docs, bytes, holds: parseManagedIndexName(name) };
}

function policy(systems: Record<string, number>, personalDataMonths = 120, rejectionsMonths = 12): RetentionPolicy {
  return { systemMonths: new Map(Object.entries(systems)), personalDataMonths, rejectionsMonths };
}

function decisions(entries: RetentionPlanEntry[]): Record<string, string> {
  return Object.fromEntries(entries.map((entry) => [entry.index, `${entry.decision}: ${entry.reason}`]));
}

function decisionOf(entries: RetentionPlanEntry[], name: string): RetentionPlanEntry['decision'] | undefined {
  return entries.find((entry) => entry.index === name)?.decision;
}

/** Runs `fn` with the process in time zone `zone`, and checks that the zone really applies. */
function inTimeZone<T>(zone: string, fn: () => T): T {
  const previous = process.env.TZ;
  process.env.TZ = zone;
  try {
    return fn();
  } finally {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  }
}

const ZONES = ['UTC', 'Pacific/Kiritimati', 'America/St_Johns', 'Asia/Kathmandu', 'Pacific/Pago_Pago', 'Europe/Chisinau'];

describe('retentionCutoff', () => {
  test('whole calendar months back, keeping the time of day to the millisecond', () => {
    assert.deepEqual(retentionCutoff(iso('2026-11-22T05:06:07.089Z'), 60), iso('2021-11-22T05:06:07.089Z'));
    assert.deepEqual(retentionCutoff(iso('2026-11-22T05:06:07.089Z'), 1), iso('2026-10-22T05:06:07.089Z'));
    assert.deepEqual(retentionCutoff(iso('2026-11-22T05:06:07.089Z'), 0), iso('2026-11-22T05:06:07.089Z'));
  });

  test('across the year boundary', () => {
    assert.deepEqual(retentionCutoff(iso('2025-01-15T10:00:00Z'), 1), iso('2024-12-15T10:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-01-15T10:00:00Z'), 12), iso('2024-01-15T10:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-01-15T10:00:00Z'), 13), iso('2023-12-15T10:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-12-31T23:59:59.999Z'), 12), iso('2024-12-31T23:59:59.999Z'));
    assert.deepEqual(retentionCutoff(iso('2026-11-22T00:00:00Z'), 1200), iso('1926-11-22T00:00:00Z'));
  });

  test('the 31st is clamped to the end of a shorter month', () => {
    assert.deepEqual(retentionCutoff(iso('2023-03-31T08:00:00Z'), 1), iso('2023-02-28T08:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-05-31T08:00:00Z'), 1), iso('2025-04-30T08:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-12-31T08:00:00Z'), 3), iso('2025-09-30T08:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-01-31T08:00:00Z'), 2), iso('2024-11-30T08:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-07-31T08:00:00Z'), 1), iso('2025-06-30T08:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-08-31T08:00:00Z'), 1), iso('2025-07-31T08:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-03-30T08:00:00Z'), 1), iso('2025-02-28T08:00:00Z'));
  });

  test('leap years: 2024 and 2000 have a 29 February, 2023 and 2100 do not', () => {
    assert.deepEqual(retentionCutoff(iso('2024-03-31T12:00:00Z'), 1), iso('2024-02-29T12:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2000-03-31T12:00:00Z'), 1), iso('2000-02-29T12:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2100-03-31T12:00:00Z'), 1), iso('2100-02-28T12:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2100-03-29T12:00:00Z'), 1), iso('2100-02-28T12:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2025-02-28T12:00:00Z'), 12), iso('2024-02-28T12:00:00Z'));
  });

  test('from a 29 February', () => {
    assert.deepEqual(retentionCutoff(iso('2024-02-29T23:59:59.999Z'), 12), iso('2023-02-28T23:59:59.999Z'));
    assert.deepEqual(retentionCutoff(iso('2024-02-29T00:00:00Z'), 48), iso('2020-02-29T00:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2024-02-29T00:00:00Z'), 1), iso('2024-01-29T00:00:00Z'));
    assert.deepEqual(retentionCutoff(iso('2104-02-29T00:00:00Z'), 48), iso('2100-02-28T00:00:00Z'));
  });

  test('years below 100 are not mistaken for 19xx', () => {
    assert.deepEqual(retentionCutoff(utc(105, 3, 31, 1), 72), utc(99, 3, 31, 1));
    assert.equal(retentionCutoff(utc(105, 3, 31, 1), 72).getUTCFullYear(), 99);
  });

  test('refuses a negative, fractional or missing number of months', () => {
    for (const months of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => retentionCutoff(iso('2026-01-01T00:00:00Z'), months), RangeError);
    }
  });

  test('depends only on the instant, never on the process time zone', () => {
    const now = iso('2024-03-01T01:30:00Z'); // still 29 February in St. John's, already 1 March 15:30 in Kiritimati
    const expected = iso('2024-02-01T01:30:00Z');
    for (const zone of ZONES) {
      inTimeZone(zone, () => {
        if (zone === 'America/St_Johns') assert.equal(now.getDate(), 29, 'the zone is in effect');
        if (zone === 'Pacific/Kiritimati') assert.equal(now.getHours(), 15, 'the zone is in effect');
        assert.deepEqual(retentionCutoff(now, 1), expected, zone);
        assert.deepEqual(retentionCutoff(iso('2024-03-31T23:30:00Z'), 1), iso('2024-02-29T23:30:00Z'), zone);
      });
    }
  });

  test('property: the UTC month moves by exactly `months`, the day is clamped, the time is kept, and the cut-off is never after now', () => {
    fc.assert(
      fc.property(
        fc.date({ min: iso('1900-01-01T00:00:00Z'), max: iso('2300-12-31T23:59:59.999Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 1200 }),
        (now, months) => {
          const cutoff = retentionCutoff(now, months);
          const monthIndex = (at: Date) => at.getUTCFullYear() * 12 + at.getUTCMonth();
          assert.equal(monthIndex(now) - monthIndex(cutoff), months);
          const lastDay = new Date(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth() + 1, 0)).getUTCDate();
          assert.equal(cutoff.getUTCDate(), Math.min(now.getUTCDate(), lastDay));
          const timeOfDay = (at: Date) => ((at.getTime() % 86_400_000) + 86_400_000) % 86_400_000;
          assert.equal(timeOfDay(cutoff), timeOfDay(now));
          assert.ok(cutoff.getTime() <= now.getTime());
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('monthStart and monthEnd', () => {
  test('the month spans [first instant, first instant of the next month)', () => {
    assert.deepEqual(monthStart('2024.02'), iso('2024-02-01T00:00:00Z'));
    assert.deepEqual(monthEnd('2024.02'), iso('2024-03-01T00:00:00Z'));
    assert.deepEqual(monthEnd('2024.12'), iso('2025-01-01T00:00:00Z'));
    assert.deepEqual(monthEnd('2100.02'), iso('2100-03-01T00:00:00Z'));
    assert.deepEqual(monthEnd('0099.12'), utc(100, 1, 1));
  });

  test('refuses what is not yyyy.MM', () => {
    for (const month of ['2024.13', '2024.00', '2024.1', '24.01', '2024-01', '2024.01 ', '']) {
      assert.throws(() => monthStart(month), RangeError, month);
    }
  });
});

describe('parseManagedIndexName', () => {
  test('event indices: the code is the text between "mlog-" and the last "-"', () => {
    assert.deepEqual(parseManagedIndexName('mlog-mpass-2020.01'), { kind: 'events', code: 'mpass', month: '2020.01' });
    assert.deepEqual(parseManagedIndexName('mlog-mpass-test-2020.01'), { kind: 'events', code: 'mpass-test', month: '2020.01' });
    assert.deepEqual(parseManagedIndexName('mlog-mpass-2020-2020.01'), { kind: 'events', code: 'mpass-2020', month: '2020.01' });
    assert.deepEqual(parseManagedIndexName('mlog-2020-2020.01'), { kind: 'events', code: '2020', month: '2020.01' });
    assert.deepEqual(parseManagedIndexName('mlog-a1-1999.12'), { kind: 'events', code: 'a1', month: '1999.12' });
    const longest = `a${'b'.repeat(30)}`;
    assert.deepEqual(parseManagedIndexName(`mlog-${longest}-2020.01`), { kind: 'events', code: longest, month: '2020.01' });
  });

  test('the shared indices', () => {
    assert.deepEqual(parseManagedIndexName('personaldata-2020.01'), { kind: 'personaldata', month: '2020.01' });
    assert.deepEqual(parseManagedIndexName('mlog_rejections-2009.12'), { kind: 'rejections', month: '2009.12' });
  });

  test("MLog's own indices and anything not matching exactly are not managed", () => {
    for (const name of [
      'mlog_systems',
      'mlog_audit',
      'mlog_leases',
      'mlog_rejections',
      'mlog_rejections-2020.1',
      'mlog_rejections-2020.13',
      'mlog_rejections-x-2020.01',
      'personaldata',
      'personaldata-2020.00',
      'personaldata-2020.01-old',
      'personaldata-x-2020.01',
      'personaldata_2020.01',
      'mlog-2020.01',
      'mlog-a-2020.01',
      `mlog-a${'b'.repeat(31)}-2020.01`,
      'mlog--mpass-2020.01',
      'mlog-Mpass-2020.01',
      'mlog-mp_ass-2020.01',
      'mlog-mpass.x-2020.01',
      'mlog-mpass-2020.01-2020.02',
      'mlog-mpass-2020.01-reindexed',
      'mlog-mpass-2020.01.bak',
      'mlog-mpass-2020.1',
      'mlog-mpass-2020.13',
      'mlog-mpass-20200.01',
      'mlog-mpass-2020_01',
      'xmlog-mpass-2020.01',
      'restored-mlog-mpass-2020.01',
      '.kibana',
      '',
    ]) {
      assert.equal(parseManagedIndexName(name), undefined, name);
    }
  });
});

describe('selectIndicesToDelete', () => {
  const now = iso('2026-11-22T05:00:00Z');

  test('deletes an index whose month ended at or before the cut-off; keeps the next one', () => {
    const plan = selectIndicesToDelete([index('mlog-mpass-2021.10', 7, 700), index('mlog-mpass-2021.11', 3, 300)], policy({ mpass: 60 }), now);
    assert.deepEqual(plan, [
      {
        index: 'mlog-mpass-2021.10',
        kind: 'events',
        code: 'mpass',
        month: '2021.10',
        docs: 7,
        bytes: 700,
        decision: 'delete',
        reason: 'past retention (60 months; cut-off 2021-11-22)',
        retentionMonths: 60,
        cutoff: iso('2021-11-22T05:00:00Z'),
        deletableFrom: iso('2026-11-01T00:00:00Z'),
      },
      {
        index: 'mlog-mpass-2021.11',
        kind: 'events',
        code: 'mpass',
        month: '2021.11',
        docs: 3,
        bytes: 300,
        decision: 'keep',
        reason: 'within retention (60 months; deletable from 2026-12-01)',
        retentionMonths: 60,
        cutoff: iso('2021-11-22T05:00:00Z'),
        deletableFrom: iso('2026-12-01T00:00:00Z'),
      },
    ]);
  });

  test('month edge: a month is deletable exactly when its end reaches the cut-off — one second earlier it is kept', () => {
    const indices = [index('mlog-mpass-2021.11')];
    const edge = iso('2026-12-01T00:00:00Z'); // cut-off 2021-12-01T00:00:00Z = end of 2021.11
    assert.equal(decisionOf(selectIndicesToDelete(indices, policy({ mpass: 60 }), new Date(edge.getTime() - 1000)), 'mlog-mpass-2021.11'), 'keep');
    assert.equal(decisionOf(selectIndicesToDelete(indices, policy({ mpass: 60 }), new Date(edge.getTime() - 1)), 'mlog-mpass-2021.11'), 'keep');
    assert.equal(decisionOf(selectIndicesToDelete(indices, policy({ mpass: 60 }), edge), 'mlog-mpass-2021.11'), 'delete');
    assert.equal(decisionOf(selectIndicesToDelete(indices, policy({ mpass: 60 }), new Date(edge.getTime() + 1000)), 'mlog-mpass-2021.11'), 'delete');
  });

  test('month edge for the shared indices too', () => {
    const indices = [index('personaldata-2016.11'), index('mlog_rejections-2025.11')];
    const before = selectIndicesToDelete(indices, policy({}), iso('2026-11-30T23:59:59Z'));
    assert.deepEqual(before.map((entry) => entry.decision), ['keep', 'keep']);
    const after = selectIndicesToDelete(indices, policy({}), iso('2026-12-01T00:00:01Z'));
    assert.deepEqual(after.map((entry) => entry.decision), ['delete', 'delete']);
  });

  test('31st-of-month clamping and leap years decide the edge', () => {
    const indices = [index('mlog-mpass-2024.01'), index('mlog-mpass-2024.02')];
    // 31 March 2024 − 1 month = 29 February 2024: January has ended by then, February has not.
    assert.deepEqual(decisions(selectIndicesToDelete(indices, policy({ mpass: 1 }), iso('2024-03-31T12:00:00Z'))), {
      'mlog-mpass-2024.01': 'delete: past retention (1 month; cut-off 2024-02-29)',
      'mlog-mpass-2024.02': 'keep: within retention (1 month; deletable from 2024-04-01)',
    });
    // 2100 is not a leap year: 31 March 2100 − 1 month = 28 February 2100.
    const plan2100 = selectIndicesToDelete([index('mlog-mpass-2100.01'), index('mlog-mpass-2100.02')], policy({ mpass: 1 }), iso('2100-03-31T12:00:00Z'));
    assert.deepEqual(plan2100.map((entry) => [entry.decision, entry.cutoff?.toISOString()]), [
      ['delete', '2100-02-28T12:00:00.000Z'],
      ['keep', '2100-02-28T12:00:00.000Z'],
    ]);
    // 29 February 2028 − 12 months = 28 February 2027: January 2027 ended, February 2027 not.
    assert.deepEqual(
      selectIndicesToDelete([index('mlog-mpass-2027.01'), index('mlog-mpass-2027.02')], policy({ mpass: 12 }), iso('2028-02-29T00:00:00Z')).map((entry) => entry.decision),
      ['delete', 'keep'],
    );
  });

  test('an IS code that is a prefix of another: each index follows its own IS', () => {
    const indices = [
      index('mlog-mpass-2019.03'),
      index('mlog-mpass-test-2019.03'),
      index('mlog-mpass-2020-2019.03'),
      index('mlog-mpass-2020-2026.09'),
      index('mlog-mpass-2020-2026.10'),
    ];
    assert.deepEqual(decisions(selectIndicesToDelete(indices, policy({ mpass: 12, 'mpass-test': 1200, 'mpass-2020': 1 }), now)), {
      'mlog-mpass-2019.03': 'delete: past retention (12 months; cut-off 2025-11-22)',
      'mlog-mpass-test-2019.03': 'keep: within retention (1200 months; deletable from 2119-04-01)',
      'mlog-mpass-2020-2019.03': 'delete: past retention (1 month; cut-off 2026-10-22)',
      'mlog-mpass-2020-2026.09': 'delete: past retention (1 month; cut-off 2026-10-22)',
      'mlog-mpass-2020-2026.10': 'keep: within retention (1 month; deletable from 2026-12-01)',
    });
    // mpass registered, mpass-test not: mpass's retention never reaches mpass-test's indices.
    assert.deepEqual(decisions(selectIndicesToDelete([index('mlog-mpass-test-2019.03')], policy({ mpass: 1 }), now)), {
      'mlog-mpass-test-2019.03': 'keep: no registered IS',
    });
  });

  test('the current and future months are kept whatever the retention', () => {
    const indices = [index('mlog-mpass-2026.11'), index('mlog-mpass-2026.12'), index('mlog-mpass-2031.01'), index('personaldata-2026.11'), index('mlog_rejections-2027.01')];
    assert.deepEqual(decisions(selectIndicesToDelete(indices, policy({ mpass: 0 }, 0, 0), now)), {
      'mlog-mpass-2026.11': 'keep: current month (being written)',
      'mlog-mpass-2026.12': 'keep: future month',
      'mlog-mpass-2031.01': 'keep: future month',
      'mlog_rejections-2027.01': 'keep: future month',
      'personaldata-2026.11': 'keep: current month (being written)',
    });
  });

  test('the current month is the UTC month, whatever the local time', () => {
    // 01:30 UTC on 1 March: still 29 February in St. John's, but February's index is no longer written.
    const early = iso('2024-03-01T01:30:00Z');
    // 12:00 UTC on 29 February: already 1 March in Kiritimati, but February's index is still written.
    const late = iso('2024-02-29T12:00:00Z');
    const indices = [index('mlog-mpass-2024.02')];
    for (const zone of ZONES) {
      inTimeZone(zone, () => {
        assert.equal(decisionOf(selectIndicesToDelete(indices, policy({ mpass: 0 }), early), 'mlog-mpass-2024.02'), 'delete', zone);
        const kept = selectIndicesToDelete(indices, policy({ mpass: 0 }), late);
        assert.equal(kept[0]?.reason, 'current month (being written)', zone);
      });
    }
  });

  test('personal data and rejections follow their own retention', () => {
    const indices = [index('personaldata-2016.10'), index('personaldata-2016.11'), index('mlog_rejections-2025.10'), index('mlog_rejections-2025.11')];
    assert.deepEqual(decisions(selectIndicesToDelete(indices, policy({}, 120, 12), now)), {
      'mlog_rejections-2025.10': 'delete: past retention (12 months; cut-off 2025-11-22)',
      'mlog_rejections-2025.11': 'keep: within retention (12 months; deletable from 2026-12-01)',
      'personaldata-2016.10': 'delete: past retention (120 months; cut-off 2016-11-22)',
      'personaldata-2016.11': 'keep: within retention (120 months; deletable from 2026-12-01)',
    });
  });

  test('an unknown code is kept, with no cut-off', () => {
    const [entry] = selectIndicesToDelete([index('mlog-gone-2001.01')], policy({ mpass: 1 }), now);
    assert.deepEqual(entry, { index: 'mlog-gone-2001.01', kind: 'events', code: 'gone', month: '2001.01', docs: 1, bytes: 100, decision: 'keep', reason: 'no registered IS' });
  });

  test('a registry value that is not a retention period keeps the index', () => {
    for (const months of [Number.NaN, -1, 2.5, undefined as unknown as number, '12' as unknown as number]) {
      const [entry] = selectIndicesToDelete([index('mlog-mpass-2001.01')], policy({ mpass: months }), now);
      assert.equal(entry?.decision, 'keep');
      assert.match(entry?.reason ?? '', /^no valid retention period/);
    }
  });

  test('names that are not managed are left out of the plan; the plan is sorted by name', () => {
    const indices = ['mlog_systems', 'mlog_audit', 'mlog_leases', 'mlog_rejections-2001.1', '.security-7', 'mlog-x-2001.01', 'personaldata-2001.01', 'mlog-mpass-2001.01', 'mlog_rejections-2001.01'].map((name) =>
      index(name),
    );
    const plan = selectIndicesToDelete(indices, policy({ mpass: 1 }), now);
    assert.deepEqual(plan.map((entry) => entry.index), ['mlog-mpass-2001.01', 'mlog_rejections-2001.01', 'personaldata-2001.01']);
    assert.deepEqual(plan.map((entry) => entry.decision), ['delete', 'delete', 'delete']);
    assert.deepEqual(selectIndicesToDelete([], policy({}), now), []);
  });

  test('property: a past month is deleted exactly from its deletableFrom instant on, and never the current UTC month', () => {
    fc.assert(
      fc.property(
        fc.date({ min: iso('1990-01-01T00:00:00Z'), max: iso('2200-12-31T23:59:59.999Z'), noInvalidDate: true }),
        fc.integer({ min: 1900, max: 2200 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 1200 }),
        (at, year, month, months) => {
          const name = `mlog-mpass-${year}.${String(month).padStart(2, '0')}`;
          const [entry] = selectIndicesToDelete([index(name)], policy({ mpass: months }), at);
          assert.ok(entry !== undefined);
          if (entry.month >= monthSuffix(at)) {
            assert.equal(entry.decision, 'keep');
            return;
          }
          assert.ok(entry.deletableFrom !== undefined);
          assert.equal(entry.decision === 'delete', at.getTime() >= entry.deletableFrom.getTime());
          assert.equal(entry.decision === 'delete', monthEnd(entry.month).getTime() <= retentionCutoff(at, months).getTime());
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('a process started in another time zone plans the same (child processes)', () => {
    const script = fileURLToPath(new URL('../../src/jobs/retention-policy.ts', import.meta.url));
    const names = fileURLToPath(new URL('../../src/storage/index-names.ts', import.meta.url));
    const program = `
      const { selectIndicesToDelete, retentionCutoff } = await import(${JSON.stringify(script)});
      const { parseManagedIndexName } = await import(${JSON.stringify(names)});
      const indices = ['mlog-mpass-2024.01', 'mlog-mpass-2024.02', 'mlog-mpass-2024.03', 'mlog-mpass-test-2023.12', 'personaldata-2014.02', 'mlog_rejections-2023.02']
        .map((name) => ({ name, docs: 1, bytes: 1, holds: parseManagedIndexName(name) }));
      const policy = { systemMonths: new Map([['mpass', 1], ['mpass-test', 2]]), personalDataMonths: 120, rejectionsMonths: 12 };
      const out = [];
      for (const now of ['2024-03-01T01:30:00Z', '2024-02-29T12:00:00Z', '2024-03-31T23:59:59Z', '2024-04-01T00:00:00Z']) {
        out.push({ now, local: new Date(now).toString(), cutoff: retentionCutoff(new Date(now), 1).toISOString(),
          plan: selectIndicesToDelete(indices, policy, new Date(now)).map((e) => e.index + ' ' + e.decision + ' ' + e.reason) });
      }
      process.stdout.write(JSON.stringify(out));
    `;
    const run = (zone: string) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { env: { ...process.env, TZ: zone }, encoding: 'utf8' }),
      ) as { now: string; local: string; cutoff: string; plan: string[] }[];
    const reference = run('UTC');
    for (const zone of ['Pacific/Kiritimati', 'America/St_Johns']) {
      const result = run(zone);
      assert.notEqual(result[0]?.local, reference[0]?.local, `the child really ran in ${zone}`);
      assert.deepEqual(
        result.map(({ local: _local, ...rest }) => rest),
        reference.map(({ local: _local, ...rest }) => rest),
        zone,
      );
    }
    assert.deepEqual(reference[0]?.plan, [
      'mlog-mpass-2024.01 delete past retention (1 month; cut-off 2024-02-01)',
      'mlog-mpass-2024.02 keep within retention (1 month; deletable from 2024-04-01)',
      'mlog-mpass-2024.03 keep current month (being written)',
      'mlog-mpass-test-2023.12 delete past retention (2 months; cut-off 2024-01-01)',
      'mlog_rejections-2023.02 delete past retention (12 months; cut-off 2023-03-01)',
      'personaldata-2014.02 delete past retention (120 months; cut-off 2014-03-01)',
    ]);
  });
});
