import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../src/errors/mlog-error.js';
import type { ConformanceFacts } from '../../src/onboarding/conformance-facts-type.js';
import {
  buildConformanceReport,
  DEFAULT_CONFORMANCE_DAYS,
  FINDING_CODES,
  resolveConformancePeriod,
  valueShape,
  wrongShape,
  type ConformanceReport,
} from '../../src/onboarding/conformance-report.js';
import type { InformationSystem } from '../../src/systems/information-system.js';

const NOW = new Date('2026-11-22T10:00:00.000Z');
const DAY = 86_400_000;
const PERIOD = { fromMillis: NOW.getTime() - 30 * DAY, toMillis: NOW.getTime() };

function system(fields: Partial<InformationSystem> = {}): InformationSystem {
  return {
    code: 'mpass',
    name: 'MPass',
    idno: '1003600000000',
    certificates: [],
    allowed_addresses: [],
    require_signature: false,
    permissions: [],
    event_types: ['MPass.Login', 'MPass.Logout'],
    retention_months: 60,
    status: 'staging',
    created_at: NOW.toISOString(),
    updated_at: NOW.toISOString(),
    ...fields,
  };
}

/** Facts of an IS that conforms: both declared types seen, nothing else. */
function facts(fields: Partial<ConformanceFacts> = {}): ConformanceFacts {
  return {
    totalEvents: 7,
    clientQueries: 2,
    declaredTypeCounts: [
      { name: 'MPass.Login', count: 5 },
      { name: 'MPass.Logout', count: 2 },
    ],
    undeclaredTypes: [],
    otherUndeclaredEvents: 0,
    customFields: [],
    predefinedTypes: [],
    personalData: [],
    signatures: { signed: 4, unsigned: 3 },
    refusals: { total: 0, byStatus: [], byReason: [], otherReasons: 0, byPath: [] },
    ...fields,
  };
}

function report(factFields: Partial<ConformanceFacts> = {}, systemFields: Partial<InformationSystem> = {}): ConformanceReport {
  return buildConformanceReport(system(systemFields), PERIOD, facts(factFields), NOW);
}

function codes(built: ConformanceReport): string[] {
  return built.findings.map((finding) => finding.code);
}

describe('resolveConformancePeriod', () => {
  test('defaults to the last 30 days before now', () => {
    const period = resolveConformancePeriod(undefined, undefined, NOW);
    assert.equal(period.toMillis, NOW.getTime());
    assert.equal(period.fromMillis, NOW.getTime() - DEFAULT_CONFORMANCE_DAYS * DAY);
  });

  test('from and to in the event_time syntax, zones and fractions included', () => {
    assert.deepEqual(resolveConformancePeriod('2026-10-01', '2026-11-01T00:00:00+02:00', NOW), {
      fromMillis: Date.UTC(2026, 9, 1),
      toMillis: Date.UTC(2026, 9, 31, 22),
    });
    assert.equal(resolveConformancePeriod('2026-10-01T10:00:00.1234567Z', undefined, NOW).fromMillis, Date.UTC(2026, 9, 1, 10, 0, 0, 123));
  });

  test('only from: to is now; only to: from is 30 days before to', () => {
    assert.deepEqual(resolveConformancePeriod('2026-11-01', undefined, NOW), { fromMillis: Date.UTC(2026, 10, 1), toMillis: NOW.getTime() });
    assert.deepEqual(resolveConformancePeriod(undefined, '2026-06-30', NOW), { fromMillis: Date.UTC(2026, 4, 31), toMillis: Date.UTC(2026, 5, 30) });
  });

  test('a malformed bound is a ValidationError naming it and the syntax', () => {
    assert.throws(() => resolveConformancePeriod('yesterday', undefined, NOW), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /^from "yesterday" is not in the form YYYY-MM-dd/);
      return true;
    });
    assert.throws(() => resolveConformancePeriod(undefined, '2026-02-30', NOW), /to "2026-02-30" is not a real date/);
  });

  test('an empty or reversed period is refused', () => {
    assert.throws(() => resolveConformancePeriod('2026-11-01', '2026-11-01', NOW), /from \(2026-11-01T00:00:00.000Z\) must be before to/);
    assert.throws(() => resolveConformancePeriod('2026-11-02', '2026-11-01', NOW), ValidationError);
    assert.throws(() => resolveConformancePeriod('2026-12-01', undefined, NOW), /must be before to/);
  });
});

describe('valueShape and wrongShape', () => {
  test('the JSON shape of a value', () => {
    assert.equal(valueShape('x'), 'string');
    assert.equal(valueShape(''), 'string');
    assert.equal(valueShape(0), 'number');
    assert.equal(valueShape(false), 'boolean');
    assert.equal(valueShape(['a']), 'array');
    assert.equal(valueShape({ a: 1 }), 'object');
    assert.equal(valueShape(null), 'null');
    assert.equal(valueShape(undefined), 'null');
  });

  test('strings, arrays of strings and nulls are not wrong for a predefined field', () => {
    for (const value of ['2000000000000', '', ['a', 'b'], [], ['a', null], null, undefined]) assert.equal(wrongShape(value), undefined, JSON.stringify(value));
  });

  test('numbers, booleans, objects and arrays holding them are wrong', () => {
    assert.equal(wrongShape(2000000000000), 'number');
    assert.equal(wrongShape(true), 'boolean');
    assert.equal(wrongShape({ id: '1' }), 'object');
    assert.equal(wrongShape(['a', 1]), 'array of number');
    assert.equal(wrongShape([true, 1, 'x', 2]), 'array of boolean, number');
  });
});

describe('buildConformanceReport: a conforming IS', () => {
  test('has no findings, and says what it covered', () => {
    const built = report();
    assert.deepEqual(built.findings, []);
    assert.equal(built.sampled, false);
    assert.deepEqual(built.notes, []);
    assert.deepEqual(built.system, { code: 'mpass', name: 'MPass', status: 'staging', require_signature: false, declared_event_types: ['MPass.Login', 'MPass.Logout'] });
    assert.deepEqual(built.period, { from: '2026-10-23T10:00:00.000Z', to: '2026-11-22T10:00:00.000Z', field: '@received' });
    assert.equal(built.generated_at, NOW.toISOString());
    assert.deepEqual(built.events, { total: 7, client_queries: 2 });
    assert.deepEqual(built.event_types.declared, [
      { event_type: 'MPass.Login', count: 5 },
      { event_type: 'MPass.Logout', count: 2 },
    ]);
    assert.deepEqual(built.event_types.undeclared, []);
  });

  test('unsigned events are counted, not a finding', () => {
    const built = report({ signatures: { signed: 0, unsigned: 40 } });
    assert.deepEqual(built.signatures, { require_signature: false, signed: 0, unsigned: 40, refused: 0 });
    assert.deepEqual(built.findings, []);
  });
});

describe('buildConformanceReport: event types', () => {
  test('a declared type never seen is a finding; the declared list keeps its order', () => {
    const built = report({ declaredTypeCounts: [{ name: 'MPass.Login', count: 3 }] }, { event_types: ['MPass.Logout', 'MPass.Login'] });
    assert.deepEqual(built.event_types.declared, [
      { event_type: 'MPass.Logout', count: 0 },
      { event_type: 'MPass.Login', count: 3 },
    ]);
    assert.deepEqual(built.findings, [
      { code: 'declared-not-seen', event_type: 'MPass.Logout', count: 0, message: 'Declared event type "MPass.Logout" was not registered in the period.' },
    ]);
  });

  test('types seen but not declared: each a finding, most frequent first', () => {
    const built = report({
      undeclaredTypes: [
        { name: 'MPass.B', count: 1 },
        { name: 'MPass.A', count: 4 },
        { name: 'MPass.C', count: 4 },
      ],
    });
    assert.deepEqual(built.event_types.undeclared, [
      { event_type: 'MPass.A', count: 4 },
      { event_type: 'MPass.C', count: 4 },
      { event_type: 'MPass.B', count: 1 },
    ]);
    assert.deepEqual(codes(built), ['undeclared-type', 'undeclared-type', 'undeclared-type']);
    assert.equal(built.findings[0]?.message, 'Event type "MPass.A" was registered 4 times but is not declared.');
    assert.equal(built.findings[2]?.message, 'Event type "MPass.B" was registered 1 time but is not declared.');
  });

  test('a declared type among the undeclared facts is not reported twice', () => {
    const built = report({ undeclaredTypes: [{ name: 'MPass.Login', count: 5 }] });
    assert.deepEqual(built.event_types.undeclared, []);
    assert.deepEqual(built.findings, []);
  });

  test('events of further undeclared types that are not listed are one more finding', () => {
    const built = report({ undeclaredTypes: [{ name: 'X', count: 9 }], otherUndeclaredEvents: 12 });
    assert.equal(built.event_types.other_undeclared_events, 12);
    const last = built.findings.at(-1);
    assert.equal(last?.code, 'undeclared-type');
    assert.equal(last?.event_type, undefined);
    assert.equal(last?.count, 12);
    assert.match(last?.message ?? '', /^12 more events of further undeclared types were registered \(only the 1 most frequent types are listed\)/);
  });

  test('an IS that declares no type is a finding, and all it sends is undeclared', () => {
    const built = report({ declaredTypeCounts: [], undeclaredTypes: [{ name: 'X', count: 1 }] }, { event_types: [] });
    assert.deepEqual(codes(built), ['no-declared-types', 'undeclared-type']);
    assert.match(built.findings[0]?.message ?? '', /declares no event types; the connection procedure asks for the complete list/);
  });
});

describe('buildConformanceReport: fields', () => {
  test('non-standard fields: count, the shape (never the value) of an example, nested leaves; none seen in the period is left out', () => {
    const built = report({
      customFields: [
        { name: 'colour', count: 2, sampleValue: 'secret-value-123', nestedFields: [] },
        { name: 'order', count: 5, sampleValue: { id: 1, lines: [] }, nestedFields: ['order.lines', 'order.id'] },
        { name: 'legacy', count: 0, sampleValue: undefined, nestedFields: [] },
        { name: 'tags', count: 2, sampleValue: ['a'], nestedFields: [] },
      ],
    });
    assert.deepEqual(built.non_standard_fields, [
      { field: 'order', count: 5, example_shape: 'object', nested_fields: ['order.id', 'order.lines'] },
      { field: 'colour', count: 2, example_shape: 'string', nested_fields: [] },
      { field: 'tags', count: 2, example_shape: 'array', nested_fields: [] },
    ]);
    assert.deepEqual(codes(built), ['non-standard-field', 'non-standard-field', 'non-standard-field']);
    assert.equal(built.findings[1]?.message, 'Field "colour" is not a predefined field (string); 2 events carry it. Keep it only if it is necessary.');
    assert.equal(built.findings[1]?.field, 'colour');
    assert.ok(!JSON.stringify(built).includes('secret-value-123'), 'values of events never reach the report');
    assert.match(built.notes.join(' '), /shape of a non-standard field is that of its value in the newest event/);
  });

  test('wrong types, checked on every candidate: exact counts, one finding per field', () => {
    const built = report({
      predefinedTypes: [
        { field: 'user', candidates: 3, inspectedValues: ['2000000000000', 2000000000001, 2000000000002] },
        { field: 'subject', candidates: 2, inspectedValues: [true, ['x', 5]] },
        { field: 'legal_basis', candidates: 0, inspectedValues: [] },
        { field: 'object', candidates: 1, inspectedValues: ['123'] },
      ],
    });
    assert.deepEqual(built.predefined_field_types.fields, [
      { field: 'object', candidates: 1, inspected: 1, wrong: 0, wrong_shapes: [], sampled: false },
      { field: 'subject', candidates: 2, inspected: 2, wrong: 2, wrong_shapes: ['array of number', 'boolean'], sampled: false },
      { field: 'user', candidates: 3, inspected: 3, wrong: 2, wrong_shapes: ['number'], sampled: false },
    ]);
    assert.equal(built.predefined_field_types.expected, 'string');
    assert.deepEqual(
      built.findings.map((finding) => [finding.code, finding.field, finding.count, finding.message]),
      [
        ['wrong-type', 'subject', 2, 'Predefined field "subject" must be a string, but 2 events sent it as array of number or boolean.'],
        ['wrong-type', 'user', 2, 'Predefined field "user" must be a string, but 2 events sent it as number.'],
      ],
    );
    assert.equal(built.sampled, false);
    assert.deepEqual(built.notes, []);
  });

  test('wrong types on a sample: the report says so, in the finding and in the notes', () => {
    const values = [7, ...Array.from({ length: 99 }, (_, index) => `20000000000${index}`)];
    const built = report({
      predefinedTypes: [
        { field: 'user', candidates: 5000, inspectedValues: values },
        { field: 'subject', candidates: 150, inspectedValues: Array.from({ length: 100 }, () => 'x') },
      ],
    });
    assert.equal(built.sampled, true);
    const user = built.predefined_field_types.fields.find((entry) => entry.field === 'user');
    assert.deepEqual(user, { field: 'user', candidates: 5000, inspected: 100, wrong: 1, wrong_shapes: ['number'], sampled: true });
    assert.deepEqual(codes(built), ['wrong-type']);
    assert.equal(built.findings[0]?.message, 'Predefined field "user" must be a string, but 1 event in a sample of 100 (of 5000 candidates) sent it as number.');
    assert.match(built.notes.join(' '), /Value types of subject, user were checked on a sample: 100 of the events/);
  });
});

describe('buildConformanceReport: PersonalData completeness', () => {
  test('each PersonalData type with events lacking subject, legal_basis or user is a finding', () => {
    const built = report({
      personalData: [
        { eventType: 'MPass.PersonalData.Access', count: 4, missingAny: 3, missing: { subject: 2, legal_basis: 0, user: 1 } },
        { eventType: 'MPass.PersonalData.Export', count: 2, missingAny: 0, missing: { subject: 0, legal_basis: 0, user: 0 } },
        { eventType: 'MPass.PersonalData.Search', count: 1, missingAny: 1, missing: { subject: 0, legal_basis: 1, user: 0 } },
      ],
    });
    assert.equal(built.personal_data.events, 7);
    assert.deepEqual(built.personal_data.recommended_fields, ['subject', 'legal_basis', 'user']);
    assert.equal(built.personal_data.by_event_type.length, 3);
    assert.deepEqual(built.personal_data.by_event_type[0], {
      event_type: 'MPass.PersonalData.Access',
      count: 4,
      missing_any: 3,
      missing: { subject: 2, legal_basis: 0, user: 1 },
    });
    assert.deepEqual(
      built.findings.map((finding) => [finding.code, finding.event_type, finding.count, finding.message]),
      [
        ['personaldata-missing-fields', 'MPass.PersonalData.Access', 3, '3 of 4 "MPass.PersonalData.Access" events lack fields a PersonalData event should carry: subject (2), user (1).'],
        ['personaldata-missing-fields', 'MPass.PersonalData.Search', 1, '1 of 1 "MPass.PersonalData.Search" event lacks fields a PersonalData event should carry: legal_basis (1).'],
      ],
    );
  });
});

describe('buildConformanceReport: refused calls and signatures', () => {
  test('refused calls are one finding, with the reasons grouped; 401s are the refused signatures', () => {
    const built = report({
      refusals: {
        total: 6,
        byStatus: [
          { status: 401, count: 2 },
          { status: 400, count: 4 },
        ],
        byReason: [
          { name: 'Line 1: event_time is missing.', count: 1 },
          { name: 'Line 1: event_time "x" is not in the form YYYY-MM-dd.', count: 3 },
        ],
        otherReasons: 2,
        byPath: [{ name: '/register', count: 6 }],
      },
    });
    assert.deepEqual(built.refused_calls, {
      total: 6,
      by_status: [
        { status: 400, count: 4 },
        { status: 401, count: 2 },
      ],
      by_reason: [
        { reason: 'Line 1: event_time "x" is not in the form YYYY-MM-dd.', count: 3 },
        { reason: 'Line 1: event_time is missing.', count: 1 },
      ],
      other_reasons: 2,
      by_path: [{ path: '/register', count: 6 }],
    });
    assert.equal(built.signatures.refused, 2);
    assert.deepEqual(built.findings, [
      { code: 'refused-calls', count: 6, message: 'MLog refused 6 calls of the IS in the period (400: 4, 401: 2); see refused_calls for the reasons.' },
    ]);
  });

  test('require_signature is reported with the counts', () => {
    assert.equal(report({}, { require_signature: true }).signatures.require_signature, true);
  });
});

describe('buildConformanceReport: findings', () => {
  test('every kind at once, listed in the order of FINDING_CODES', () => {
    const built = report(
      {
        declaredTypeCounts: [{ name: 'A', count: 0 }],
        undeclaredTypes: [{ name: 'D', count: 1 }],
        customFields: [{ name: 'extra', count: 1, sampleValue: 1, nestedFields: [] }],
        predefinedTypes: [{ field: 'user', candidates: 1, inspectedValues: [1] }],
        personalData: [{ eventType: 'X.PersonalData.Access', count: 1, missingAny: 1, missing: { subject: 1, legal_basis: 0, user: 0 } }],
        refusals: { total: 1, byStatus: [{ status: 413, count: 1 }], byReason: [{ name: 'too large', count: 1 }], otherReasons: 0, byPath: [] },
      },
      { event_types: ['A'] },
    );
    assert.deepEqual(codes(built), ['declared-not-seen', 'undeclared-type', 'non-standard-field', 'wrong-type', 'personaldata-missing-fields', 'refused-calls']);
    const order = codes(built).map((code) => FINDING_CODES.indexOf(code as (typeof FINDING_CODES)[number]));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
    for (const finding of built.findings) assert.ok(finding.message.length > 0 && finding.message.endsWith('.'), finding.message);
  });

  test('the report is plain JSON', () => {
    const built = report({ undeclaredTypes: [{ name: 'D', count: 1 }] });
    assert.deepEqual(JSON.parse(JSON.stringify(built)), built);
  });
});
