import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { canonicalJson, generalCanonicalJson, hashedEventText, HASH_FIELD, membersInCanonicalOrder, storedEventHash } from '../../src/evidence/event-hash.js';
import { readCanonicalStoredText, storedTextHash } from '../../src/evidence/event-check.js';
import { hashLeaf, leafInput, leafText, type LogLeaf } from '../../src/evidence/evidence-log-entry.js';
import type { JsonObject } from '../../src/json/json-object-parser.js';

/** The RFC 8785 reference implementation's package, called directly: what every shortcut must equal. */
const reference = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string;

/** safe-stable-stringify's text, as canonicalJson was before it handed native JSON.stringify the members in order: what every stored `@hash` until then was computed over. */
const formerCanonicalJson = generalCanonicalJson;

/** Strings that JSON escapes in every way it can: controls, quotes, backslashes, lone and paired surrogates, non-ASCII. */
const AWKWARD_STRINGS = ['', 'plain', 'quote " and \\ backslash', '\u0000\u0001\u001f\b\f\n\r\t', '\u007f\u0080\u00e9\u2028\u2029', 'ș ț ă î â', '😀 pair', '\ud800 lone high', 'lone low \udfff', '\udfff\ud800 reversed', 'x'.repeat(6000), `${'y'.repeat(5000)}"`];

/** Names that sort in every tricky way: array-index-like, empty, above and below `@`, combining, astral, lone surrogates. */
const NAMES = ['a', 'B', '_', '@x', '10', '9', '0', '01', '', 'é', '😀', '\ud800', '\u0000', 'a\u0301', 'aa', 'Z'];

test('the canonical text is the RFC 8785 reference implementation\'s for any JSON value, names, numbers and strings of any code unit', () => {
  fc.assert(fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => canonicalJson(value) === reference(value)), { numRuns: 2_000 });
  fc.assert(fc.property(fc.jsonValue({ stringUnit: fc.constantFrom(...NAMES) }), (value) => canonicalJson(value) === reference(value)), { numRuns: 1_000 });
  fc.assert(fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true })), (numbers) => canonicalJson(numbers) === reference(numbers)), { numRuns: 1_000 });
});

test('every UTF-16 code unit is written and ordered as the reference implementation does, as a value and as a member name', () => {
  const units = Array.from({ length: 0x10000 }, (_, unit) => String.fromCharCode(unit));
  assert.equal(canonicalJson(units), reference(units));
  const named = Object.fromEntries(units.map((unit, i) => [unit, i]));
  assert.equal(canonicalJson(named), reference(named));
  const pairs = ['\ud83d\ude00', '\ud800\udc00', '\udbff\udfff', '\uffff', '\ue000'];
  const pairNamed = Object.fromEntries(pairs.map((pair) => [pair, pair]));
  assert.equal(canonicalJson(pairNamed), reference(pairNamed));
});

test('values JSON cannot hold are refused, as the reference implementation refuses them', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => canonicalJson({ a: bad }));
    assert.throws(() => reference({ a: bad }));
  }
  // An undefined member is left out, an undefined array element written null: as JSON.stringify does.
  assert.equal(canonicalJson({ a: undefined, b: [undefined, 1] }), reference({ a: undefined, b: [undefined, 1] }));
});

test('a leaf written in canonical member order is exactly the reference canonical text, whatever its strings hold', () => {
  for (const text of AWKWARD_STRINGS) {
    const leaves: LogLeaf[] = [
      { kind: 'event', id: `${text}-00000`, hash: 'a'.repeat(64), is: text, month: '2026.11' },
      { month: text, is: 'mpass', hash: text, id: 'x', kind: 'event' },
      { kind: 'void', reason: text },
      { reason: `the write was refused: ${text}`, kind: 'void' },
    ];
    for (const leaf of leaves) {
      assert.equal(leafText(leaf), reference(leaf), JSON.stringify(leaf).slice(0, 80));
      assert.deepEqual(leafInput(leaf), Buffer.from(reference(leaf), 'utf8'));
      assert.equal(hashLeaf(leaf).toString('hex'), createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(reference(leaf), 'utf8')])).digest('hex'));
    }
  }
});

test('a leaf with members beyond its kind\'s is canonicalised in full, not shortened to the known members', () => {
  const leaf = { kind: 'event', id: 'a', hash: 'b', is: 'c', month: 'd', extra: 1 } as unknown as LogLeaf;
  assert.equal(leafText(leaf), reference(leaf));
  assert.match(leafText(leaf), /"extra":1/);
});

function sampleDocument(text: string, n: number): JsonObject {
  return {
    event_time: '2026-11-28T12:00:00.000Z',
    event_type: 'MPass.User.Authenticated',
    event_message: `message ${text}`,
    event_details: { zeta: [1, -0, 1.5e-7, 1e21, 123456789012345680000, { b: text, a: null }], alpha: true, [text]: 'named by the string', '10': 'ten', '9': 'nine' },
    subject: text,
    '@is': 'mpass',
    '@id': `uid-${n}-00000`,
    '@received': '2026-11-28T12:00:00.123Z',
    '@signed': n % 2 === 0,
    '@line': n,
    '@jws': `eyJhbGciOiJSUzI1NiJ9.${'x'.repeat(400)}.${'y'.repeat(342)}`,
    '@log': 'log-a',
    '@position': n,
  } as JsonObject;
}

test('the text a store sends is the document with @hash, and the hash is SHA-256 of the reference canonical text without @hash', () => {
  for (const [n, text] of AWKWARD_STRINGS.entries()) {
    const document = sampleDocument(text, n);
    const { hash, text: sent } = hashedEventText(document);
    assert.equal(hash, createHash('sha256').update(reference(document), 'utf8').digest('hex'));
    // What Elasticsearch keeps parses to the document with its @hash, member for member.
    assert.deepEqual(JSON.parse(sent), JSON.parse(JSON.stringify({ ...document, [HASH_FIELD]: hash })));
    // @hash comes first; the rest is the canonical text hashed, so a reader may hash it as it comes.
    const prefix = `{"${HASH_FIELD}":"${hash}",`;
    assert.ok(sent.startsWith(prefix));
    assert.equal(`{${sent.slice(prefix.length)}`, reference(document));
    // And the general hash of a stored event (what mlog verify recomputes) agrees.
    assert.equal(storedEventHash({ ...document, [HASH_FIELD]: hash }), hash);
    assert.equal(canonicalJson(document), reference(document));
  }
});

test('an empty document hashes and serialises as {} with @hash alone', () => {
  const { hash, text } = hashedEventText({});
  assert.equal(hash, createHash('sha256').update('{}').digest('hex'));
  assert.equal(text, `{"${HASH_FIELD}":"${hash}"}`);
});

test('a change of any one field changes the hash', () => {
  const document = sampleDocument('a', 1);
  const { hash } = hashedEventText(document);
  for (const field of Object.keys(document)) {
    const changed = { ...document, [field]: field === '@position' || field === '@line' ? 2 : `${String(document[field])}!` } as JsonObject;
    assert.notEqual(hashedEventText(changed).hash, hash, field);
  }
});

test('a stored document with a member named "__proto__" (as JSON.parse makes it) hashes over that member too', () => {
  const stored = JSON.parse('{"@hash":"x","__proto__":{"a":1},"event_type":"T"}') as JsonObject;
  const expected = createHash('sha256').update(reference(JSON.parse('{"__proto__":{"a":1},"event_type":"T"}'))).digest('hex');
  assert.equal(storedEventHash(stored), expected);
  assert.notEqual(storedEventHash(stored), createHash('sha256').update(reference({ event_type: 'T' })).digest('hex'));
});

/**
 * Member names that make native JSON.stringify and RFC 8785 disagree, or nearly: integer-like names
 * (which ECMAScript lists first, in numeric order, whatever the order they are added in), names
 * just outside an array index, names that differ only in case or in a surrogate, "__proto__" and
 * the names of Object.prototype's members.
 */
const AWKWARD_NAMES = ['10', '2', '0', '01', '-1', '1.5', '4294967294', '4294967295', '9007199254740993', '', '!', '@hash', '@log', 'a', 'A', 'aB', 'ab', 'Ab', '_', '~', '\u007f', 'é', 'e\u0301', '\ud83d\ude00', '\ud83d\ude01', '\ud800', '\udfff', '\ue000', '\uffff', '__proto__', 'constructor', 'toJSON', 'hasOwnProperty', 'valueOf'];

/** JSON values whose objects are made as MLog gets them, by parsing JSON text: members in the order of the text, "__proto__" an own member, the last of duplicates kept. */
const parsedJsonValue = fc
  .letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom(null, true, false, 0, -0, 1, 10, 1e21, 1e-7, -1.5, 2 ** 53 + 2, 5e-324, Number.MAX_VALUE),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom(...AWKWARD_NAMES),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...AWKWARD_NAMES), fc.string({ unit: 'binary', maxLength: 4 })), tie('value')), { maxLength: 8 }).map((members) => JSON.parse(`{${members.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(',')}}`) as unknown),
    ),
  }))
  .value.map((value) => JSON.parse(JSON.stringify(value)) as unknown);

test('objects parsed from JSON text, with integer-like, case- and surrogate-differing names and "__proto__", get the reference text and the text stored before', () => {
  fc.assert(
    fc.property(parsedJsonValue, (value) => {
      const text = canonicalJson(value);
      assert.equal(text, reference(value));
      assert.equal(text, formerCanonicalJson(value));
    }),
    { numRuns: 3_000 },
  );
});

test('canonicalising leaves the value as it was: no member moved, added or removed, no prototype set', () => {
  fc.assert(
    fc.property(parsedJsonValue, (value) => {
      const before = JSON.stringify(value);
      canonicalJson(value);
      assert.equal(JSON.stringify(value), before);
    }),
    { numRuns: 1_000 },
  );
  const parsed = JSON.parse('{"z":1,"__proto__":{"polluted":true},"a":[{"y":2,"x":1}]}') as Record<string, unknown>;
  assert.equal(canonicalJson(parsed), '{"__proto__":{"polluted":true},"a":[{"x":1,"y":2}],"z":1}');
  assert.deepEqual(Object.keys(parsed), ['z', '__proto__', 'a']);
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('nested unsorted objects, arrays of objects and empty objects are put in order at every level', () => {
  const value = { z: [{ b: 1, a: [{ d: {}, c: [] }] }, [], {}], a: { y: { x: { w: 1, v: 2 } } }, m: [[{ k: 1, j: 2 }]] };
  const expected = '{"a":{"y":{"x":{"v":2,"w":1}}},"m":[[{"j":2,"k":1}]],"z":[{"a":[{"c":[],"d":{}}],"b":1},[],{}]}';
  assert.equal(canonicalJson(value), expected);
  assert.equal(reference(value), expected);
  // In order at the top, out of order deep inside: the deep object is still sorted.
  const sortedOutside = { a: 1, b: { c: [{ f: 1, e: 2 }] } };
  assert.equal(canonicalJson(sortedOutside), '{"a":1,"b":{"c":[{"e":2,"f":1}]}}');
  assert.equal(canonicalJson({}), '{}');
  assert.equal(canonicalJson([]), '[]');
  assert.equal(canonicalJson([{}, [{}]]), '[{},[{}]]');
});

test('names that differ only in case, by a surrogate pair or by a combining mark sort by UTF-16 code units', () => {
  const value = { b: 1, a: 2, B: 3, A: 4, ab: 5, aB: 6, '\ud83d\ude01': 7, '\ud83d\ude00': 8, '\uffff': 9, '\ue000': 10, 'e\u0301': 11, 'é': 12 };
  const text = canonicalJson(value);
  assert.equal(text, reference(value));
  // U+E000 and U+FFFF are single code units above the high surrogate 0xD83D: the emoji sort before them, unlike by code point.
  assert.equal(text, '{"A":4,"B":3,"a":2,"aB":6,"ab":5,"b":1,"e\u0301":11,"é":12,"\ud83d\ude00":8,"\ud83d\ude01":7,"\ue000":10,"\uffff":9}');
});

test('integer-like names, which JSON.stringify writes in numeric order, come out in string order', () => {
  // ECMAScript lists "2" before "10" whatever the order they were added in; RFC 8785 wants "10" first.
  const numeric = JSON.parse('{"2":"two","10":"ten"}') as Record<string, unknown>;
  assert.deepEqual(Object.keys(numeric), ['2', '10']);
  assert.equal(JSON.stringify(numeric), '{"2":"two","10":"ten"}');
  assert.equal(canonicalJson(numeric), '{"10":"ten","2":"two"}');
  assert.equal(canonicalJson(numeric), reference(numeric));
  // Nested in objects that are in order, and in arrays.
  const nested = { a: { b: [numeric, { '9': 9, '10': 10, x: 1 }] }, c: 1 };
  assert.equal(canonicalJson(nested), '{"a":{"b":[{"10":"ten","2":"two"},{"10":10,"9":9,"x":1}]},"c":1}');
  // An integer-like name before others in string order ("!" sorts before "1"), and names that only look like integers.
  for (const value of [{ '1': 1, '!': 2 }, { '': 1, '0': 2 }, { '4294967295': 1, '4294967294': 2, '5': 3 }, { '01': 1, '1': 2, '-1': 3, '1.5': 4 }, { '1': 1, a: 2 }]) {
    assert.equal(canonicalJson(value), reference(value), JSON.stringify(value));
  }
  assert.equal(canonicalJson({ '1': 1, '!': 2 }), '{"!":2,"1":1}');
  assert.equal(canonicalJson({ '4294967295': 1, '4294967294': 2, '5': 3 }), '{"4294967294":2,"4294967295":1,"5":3}');
});

test('more shapes of objects than are remembered, again and again, each get their own order', () => {
  const shapes = Array.from({ length: 40 }, (_, n) => Array.from({ length: 3 + (n % 7) }, (_, k) => `f${(n * 7 + k * 13) % 50}`));
  for (let round = 0; round < 3; round++) {
    for (const [n, names] of shapes.entries()) {
      const value = Object.fromEntries(names.map((name, k) => [name, round * 100 + n + k]));
      assert.equal(canonicalJson(value), reference(value));
      const reversed = Object.fromEntries([...names].reverse().map((name, k) => [name, k]));
      assert.equal(canonicalJson(reversed), reference(reversed));
      const numeric = Object.fromEntries(names.map((name, k) => [name.slice(1), k]));
      assert.equal(canonicalJson(numeric), reference(numeric));
    }
  }
});

test('what is not JSON data is refused or left out exactly as before', () => {
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  const sortedCycle: Record<string, unknown> = { a: [] };
  (sortedCycle.a as unknown[]).push(sortedCycle);
  const refused: [string, unknown][] = [
    ['NaN', { b: 1, a: Number.NaN }],
    ['Infinity deep', { a: [{ b: [Number.POSITIVE_INFINITY] }] }],
    ['-Infinity', [Number.NEGATIVE_INFINITY]],
    ['a function', { a: () => 1 }],
    ['a symbol', { a: Symbol('s') }],
    ['a BigInt', { a: 1n }],
    ['a cycle', cycle],
    ['a cycle through members in order', sortedCycle],
  ];
  for (const [what, value] of refused) {
    assert.throws(() => canonicalJson(value), Error, what);
    assert.throws(() => formerCanonicalJson(value), Error, what);
  }
  assert.throws(() => canonicalJson(cycle), /circular/);
  assert.throws(() => canonicalJson(undefined), /no JSON form/);
  const shared = { z: 1, y: 2 };
  const kept: unknown[] = [
    { b: undefined, a: 1 },
    [undefined, 1],
    { b: shared, a: shared },
    { d: new Date(0), c: 1 },
    { b: 1, toJSON: () => 'replaced' },
    Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
    { s: new String('ab'), n: new Number(1), m: new Map([[1, 2]]) },
    { e: new Error('e'), t: new Uint8Array([1, 2]) },
    [1, , 3],
    -0,
    'text',
    null,
  ];
  for (const value of kept) assert.equal(canonicalJson(value), formerCanonicalJson(value), String(JSON.stringify(value)));
  assert.equal(canonicalJson({ b: undefined, a: 1 }), '{"a":1}');
  assert.equal(canonicalJson({ b: { z: 1, y: 2 }, a: { z: 1, y: 2 } }), '{"a":{"y":2,"z":1},"b":{"y":2,"z":1}}');
});

test('values nested deeper than an event ever is still get the reference text', () => {
  let deep: unknown = { b: 1, a: '\u2028' };
  for (let level = 0; level < 600; level++) deep = level % 2 === 0 ? { z: deep, y: level } : [deep, level];
  assert.equal(canonicalJson(deep), reference(deep));
});

test('membersInCanonicalOrder tells whether JSON.stringify already writes the RFC 8785 text', () => {
  fc.assert(
    fc.property(parsedJsonValue, (value) => {
      if (membersInCanonicalOrder(value)) assert.equal(JSON.stringify(value), reference(value));
      // Parsed back, the canonical text lists its members in order, unless an object holds integer-like names ECMAScript lists first.
      const parsed = JSON.parse(canonicalJson(value)) as unknown;
      assert.equal(membersInCanonicalOrder(parsed), JSON.stringify(parsed) === canonicalJson(value));
    }),
    { numRuns: 1_000 },
  );
  assert.equal(membersInCanonicalOrder({ b: 1, a: 2 }), false);
  assert.equal(membersInCanonicalOrder({ a: [{ d: 1, c: 2 }] }), false);
  assert.equal(membersInCanonicalOrder({ z: 0, a: 1, b: 2 }, 1), true);
});

/** The text MLog stored for a document when safe-stable-stringify wrote the canonical text: its `@hash`, then that text. */
function storedBefore(document: JsonObject): { hash: string; text: string } {
  const canonical = formerCanonicalJson(document);
  const hash = createHash('sha256').update(canonical).digest('hex');
  return { hash, text: `{"${HASH_FIELD}":"${hash}"${canonical === '{}' ? '' : ','}${canonical.slice(1)}` };
}

test('an event stored when safe-stable-stringify wrote the canonical text and one stored now hash alike, by every route mlog verify takes', () => {
  const parsedDocument = parsedJsonValue.filter((value): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value) && !Object.prototype.hasOwnProperty.call(value, HASH_FIELD));
  fc.assert(
    fc.property(parsedDocument, fc.nat(), (event, position) => {
      const document = { ...(JSON.parse(JSON.stringify(event)) as JsonObject) };
      Object.assign(document, { '@log': 'log-a', '@position': position });
      const before = storedBefore(document);
      const after = hashedEventText(document);
      // The same bytes are sent to Elasticsearch, so the same @hash.
      assert.equal(after.text, before.text);
      assert.equal(after.hash, before.hash);
      const source = JSON.parse(before.text) as JsonObject;
      // mlog verify's routes: the document canonicalised again, the stored text hashed in place, the raw text scanned.
      assert.equal(storedEventHash(source), before.hash);
      // The stored text is hashed in place when parsing it keeps its order (integer-like names move first: then it is canonicalised again).
      const inPlace = storedTextHash(source, before.text);
      assert.equal(inPlace, Object.keys(source)[0] === HASH_FIELD && membersInCanonicalOrder(source, 1) ? before.hash : undefined);
      const scanned = readCanonicalStoredText(before.text, 0);
      assert.equal(scanned?.computed, before.hash);
    }),
    { numRuns: 1_000 },
  );
});
