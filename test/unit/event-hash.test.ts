import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { canonicalJson, hashedEventText, HASH_FIELD, storedEventHash } from '../../src/evidence/event-hash.js';
import { hashLeaf, leafInput, leafText, type LogLeaf } from '../../src/evidence/evidence-log-entry.js';
import type { JsonObject } from '../../src/json/json-object-parser.js';

/** The RFC 8785 reference implementation's package, called directly: what every shortcut must equal. */
const reference = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string;

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
