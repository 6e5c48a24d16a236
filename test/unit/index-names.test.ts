import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EVENT_INDEX_PREFIX,
  PERSONAL_DATA_INDEX_PATTERN,
  REJECTIONS_INDEX_PATTERN,
  SYSTEMS_INDEX,
  eventIndexName,
  eventIndexPattern,
  monthSuffix,
  personalDataIndexName,
  rejectionsIndexName,
} from '../../src/storage/index-names.js';
import { IS_CODE_PATTERN, STORED_IS_CODE_PATTERN } from '../../src/systems/information-system.js';

describe('monthSuffix (UTC)', () => {
  test('yyyy.MM with a zero-padded month', () => {
    assert.equal(monthSuffix(new Date(Date.UTC(2024, 0, 15))), '2024.01');
    assert.equal(monthSuffix(new Date(Date.UTC(2024, 11, 15))), '2024.12');
  });

  test('a local time late on the 31st is already February in UTC', () => {
    assert.equal(monthSuffix(new Date('2024-01-31T23:30:00-02:00')), '2024.02');
  });

  test('a local time early on the 1st is still the previous month in UTC', () => {
    assert.equal(monthSuffix(new Date('2024-03-01T01:30:00+02:00')), '2024.02');
  });

  test('exact month edges', () => {
    assert.equal(monthSuffix(new Date(Date.UTC(2024, 1, 1) - 1)), '2024.01');
    assert.equal(monthSuffix(new Date(Date.UTC(2024, 1, 1))), '2024.02');
    assert.equal(monthSuffix(new Date(Date.UTC(2025, 0, 1) - 1)), '2024.12');
    assert.equal(monthSuffix(new Date(Date.UTC(2025, 0, 1))), '2025.01');
  });

  test('a leap day', () => {
    assert.equal(monthSuffix(new Date('2024-02-29T23:59:59.999Z')), '2024.02');
  });
});

describe('index names', () => {
  const lateJanuaryLocal = new Date('2024-01-31T23:30:00-02:00');

  test('event index: mlog-<code>-<yyyy.MM> in UTC', () => {
    assert.equal(eventIndexName('mpass', new Date(Date.UTC(2024, 4, 10))), 'mlog-mpass-2024.05');
    assert.equal(eventIndexName('mpass', lateJanuaryLocal), 'mlog-mpass-2024.02');
    assert.equal(eventIndexName('e-gov-01', new Date(Date.UTC(2023, 8, 1))), 'mlog-e-gov-01-2023.09');
  });

  test('personal data index: personaldata-<yyyy.MM> in UTC', () => {
    assert.equal(personalDataIndexName(lateJanuaryLocal), 'personaldata-2024.02');
    assert.equal(personalDataIndexName(new Date(Date.UTC(2024, 0, 31, 23, 59, 59))), 'personaldata-2024.01');
  });

  test('rejections index cannot be taken for an IS index', () => {
    const name = rejectionsIndexName(lateJanuaryLocal);
    assert.equal(name, 'mlog_rejections-2024.02');
    assert.ok(!name.startsWith(EVENT_INDEX_PREFIX));
    assert.ok(!SYSTEMS_INDEX.startsWith(EVENT_INDEX_PREFIX));
  });

  test('patterns', () => {
    assert.equal(eventIndexPattern('mpass'), 'mlog-mpass-*,-mlog-mpass-*-*');
    assert.equal(PERSONAL_DATA_INDEX_PATTERN, 'personaldata-*');
    assert.equal(REJECTIONS_INDEX_PATTERN, 'mlog_rejections-*');
  });

  /** Evaluates an Elasticsearch multi-target expression (wildcards, "-" exclusions) against one index name. */
  function selects(expression: string, index: string): boolean {
    const toRegExp = (pattern: string) => new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    let selected = false;
    for (const part of expression.split(',')) {
      if (part.startsWith('-')) selected &&= !toRegExp(part.slice(1)).test(index);
      else selected ||= toRegExp(part).test(index);
    }
    return selected;
  }

  test('the event pattern of a code selects its own indices and none of another code, even one it prefixes', () => {
    const month = new Date(Date.UTC(2024, 0, 1));
    const pattern = eventIndexPattern('mpass');
    assert.ok(selects(pattern, eventIndexName('mpass', month)));
    for (const other of ['mpay', 'mpass-test', 'mpass-2024', 'mpassx']) {
      assert.ok(!selects(pattern, eventIndexName(other, month)), other);
    }
  });
});

describe('IS_CODE_PATTERN', () => {
  test('accepts lower-case codes of 2 to 31 characters', () => {
    for (const code of ['mp', 'mpass', 'm-pass', '0abc', `a${'b'.repeat(30)}`, 'a--b', '00']) assert.match(code, IS_CODE_PATTERN, code);
  });

  test('the pattern of stored codes still reads a code ending in "-", which earlier versions registered', () => {
    for (const code of ['ab-', 'mpass', 'm-pass']) assert.match(code, STORED_IS_CODE_PATTERN, code);
    for (const code of ['-ab', 'a', 'mpa.ss']) assert.doesNotMatch(code, STORED_IS_CODE_PATTERN, code);
  });

  test('refuses what cannot be part of an index name', () => {
    for (const code of ['m', '', 'MPass', '-mpass', '_mpass', 'm_pass', 'm pass', 'mpass*', `a${'b'.repeat(31)}`, 'mpa.ss', 'ab-', 'mpass-', 'a-']) {
      assert.doesNotMatch(code, IS_CODE_PATTERN, code);
    }
  });
});
