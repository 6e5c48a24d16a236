import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hashedEventText, storedEventHash } from '../../src/evidence/event-hash.js';
import { checkSearchPage, jsonValueEnd, packCheckedPage, readCanonicalStoredText, sourceTexts, storedTextHash, unpackCheckedPage } from '../../src/evidence/event-check.js';
import { MerkleFrontier, treeRoot } from '../../src/evidence/merkle.js';
import type { JsonObject } from '../../src/json/json-object-parser.js';
import { canonicalJson as canonicalize } from '../../src/evidence/event-hash.js';

/** A document as MLog stores it: the text hashedEventText gives, and the document parsed from it. */
function stored(document: JsonObject): { text: string; source: JsonObject; hash: string } {
  const { hash, text } = hashedEventText(document);
  return { text, source: JSON.parse(text) as JsonObject, hash };
}

const DOCUMENT: JsonObject = {
  event_type: 'MPass.User.Authenticated',
  '@id': 'u-1-00000',
  '@log': 'node-a',
  '@position': 7,
  amount: 12.5,
  big: 1e21,
  doc: { type: 'Permit', id: 'D-1', pages: [1, 2, { z: true, a: null }] },
  text: 'quote " backslash \\ brace } bracket ] é \u2028 \ud83d\ude00 "_source":{',
};

/** The raw text of a search answer holding these stored texts as hits' _source, as Elasticsearch writes it. */
function answer(texts: readonly string[]): string {
  const hits = texts.map((text, i) => `{"_index":"mlog-tst-2026.11","_id":"id-${i}","_score":null,"_source":${text},"sort":[${i}]}`);
  return `{"pit_id":"p==","took":3,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"max_score":null,"hits":[${hits.join(',')}]}}`;
}

test("the stored text of an event MLog wrote hashes to its @hash without canonicalising it again", () => {
  const { text, source, hash } = stored(DOCUMENT);
  assert.equal(storedTextHash(source, text), hash);
  assert.equal(storedEventHash(source), hash);
  const empty = stored({});
  assert.equal(empty.text, `{"@hash":"${empty.hash}"}`);
  assert.equal(storedTextHash(empty.source, empty.text), empty.hash);
});

test('a stored text not in the canonical form MLog writes is not hashed as it is (the document is canonicalised instead)', () => {
  const { text, source, hash } = stored(DOCUMENT);
  const rest = text.slice(`{"@hash":"${hash}",`.length);
  const variants = {
    'members out of order': JSON.stringify({ '@hash': hash, ...Object.fromEntries(Object.entries(source).filter(([key]) => key !== '@hash').reverse()) }),
    'whitespace between members': text.replace('","@id"', '", "@id"'),
    '@hash not first': `{${rest.slice(0, -1)},"@hash":"${hash}"}`,
    'a number not in its shortest form': text.replace('"amount":12.5', '"amount":12.50'),
    'an escape where RFC 8785 writes the character': text.replace('é', '\\u00e9'),
    'a member twice': text.replace('"amount":12.5', '"amount":1,"amount":12.5'),
    'a nested object out of order': text.replace('{"a":null,"z":true}', '{"z":true,"a":null}'),
  };
  for (const [name, variant] of Object.entries(variants)) {
    assert.notEqual(variant, text, name);
    assert.equal(storedTextHash(JSON.parse(variant) as JsonObject, variant), undefined, name);
  }
});

test('an event stored as non-canonical text with @hash over that text does not hold: the verdict is the canonical form\'s, as before', () => {
  const { hash, text } = stored(DOCUMENT);
  const reordered = JSON.parse(text) as JsonObject;
  delete reordered['@hash'];
  // Members in reverse order: not RFC 8785, though its own SHA-256 is put in @hash.
  const forgedText = JSON.stringify(Object.fromEntries(Object.entries({ ...reordered, amount: 99 }).reverse()));
  const forgedHash = createHash('sha256').update(forgedText).digest('hex');
  const forged = `{"@hash":"${forgedHash}",${forgedText.slice(1)}`;
  const honestButReordered = JSON.stringify({ '@hash': hash, ...Object.fromEntries(Object.entries(reordered).reverse()) });
  const page = checkSearchPage(Buffer.from(answer([text, forged, honestButReordered])));
  assert.deepEqual(
    page.events.map((event) => [event.id, event.hashHolds]),
    [
      ['id-0', true],
      ['id-1', false],
      ['id-2', true],
    ],
  );
});

test('checkSearchPage finds each hit\'s _source text, even when strings hold quotes, braces and "_source":', () => {
  const first = stored(DOCUMENT);
  const second = stored({ ...DOCUMENT, '@position': 8, text: '\\\\"}]{["_source":{"@hash":"' });
  const edited = first.text.replace('"pages":[1,2', '"pages":[1,3');
  const raw = answer([first.text, second.text, edited]);
  const parsed = JSON.parse(raw) as { hits: { hits: { _source: JsonObject }[] } };
  const texts = sourceTexts(raw, 3);
  assert.deepEqual(texts, [first.text, second.text, edited]);
  assert.deepEqual(texts?.map((text) => JSON.parse(text) as JsonObject), parsed.hits.hits.map((hit) => hit._source));
  const page = checkSearchPage(new TextEncoder().encode(raw));
  assert.deepEqual(
    page.events.map((event) => [event.id, event.position, event.hash, event.hashHolds]),
    [
      ['id-0', 7, first.hash, true],
      ['id-1', 8, second.hash, true],
      ['id-2', 7, first.hash, false],
    ],
  );
  assert.deepEqual(page.lastSort, [2]);
  assert.equal(page.pitId, 'p==');
  assert.equal(jsonValueEnd('{"a":"\\\\"}x', 0), 10);
  assert.equal(jsonValueEnd('{"a":"\\"}', 0), -1);
  assert.equal(sourceTexts('{"hits":{"hits":[{"_source":{"a":1', 1), undefined);
});

test('a page all in ASCII is hashed from its bytes where they stand, with the verdicts its text gives', () => {
  const plain: JsonObject = { ...DOCUMENT, text: 'quote " backslash \\ brace } "_source":{ tab \t' };
  const first = stored(plain);
  const second = stored({ ...plain, '@position': 8 });
  const edited = first.text.replace('"pages":[1,2', '"pages":[1,3');
  const editedFirst = second.text.replace('"@id":"u-1-00000"', '"@id":"u-1-00001"');
  const bare = `{"@hash":"${createHash('sha256').update('{}').digest('hex')}"}`;
  const raw = answer([first.text, second.text, edited, editedFirst, bare]);
  assert.ok(/^[\x00-\x7f]*$/.test(raw));
  const fromText = checkSearchPage(raw);
  const fromBytes = checkSearchPage(new TextEncoder().encode(raw));
  assert.deepEqual(fromBytes, fromText);
  assert.deepEqual(
    fromBytes.events.map((event) => [event.id, event.hashHolds]),
    [
      ['id-0', true],
      ['id-1', true],
      ['id-2', false],
      ['id-3', false],
      ['id-4', true],
    ],
  );
});

test('a Merkle frontier takes a perfect subtree at its place whole, with the root of its leaves appended one by one', () => {
  const leaves = Array.from({ length: 2 * 8 + 3 }, (_, i) => createHash('sha256').update(`leaf ${i}`).digest());
  const byLeaf = new MerkleFrontier();
  for (const leaf of leaves) byLeaf.append(leaf);
  const bySubtree = new MerkleFrontier();
  bySubtree.appendSubtree(treeRoot(leaves.slice(0, 8)), 8);
  bySubtree.appendSubtree(treeRoot(leaves.slice(8, 16)), 8);
  for (const leaf of leaves.slice(16)) bySubtree.append(leaf);
  assert.equal(bySubtree.size, leaves.length);
  assert.deepEqual(bySubtree.root(), byLeaf.root());
  assert.deepEqual(bySubtree.root(), treeRoot(leaves));
  assert.throws(() => bySubtree.appendSubtree(leaves[0] as Buffer, 8), RangeError);
  assert.throws(() => new MerkleFrontier().appendSubtree(leaves[0] as Buffer, 6), RangeError);
});

/** A small deterministic pseudo-random generator, so a failing case can be run again. */
function randomOf(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const AWKWARD_STRINGS = ['', 'a', 'é', '\u2028', '\ud83d\ude00', '\ud800', '\udc00x', '"', '\\', '\b\f\n\r\t', '\u0000\u001f', '\u007f', '1', '10', '2', '__proto__', '@hash', '"_source":{', '}]'];
const AWKWARD_NUMBERS = [0, -0, 1, -1, 12.5, 100, 123456789012345, 1e21, 1e-7, 0.1, 123456789012345680000, Number.MAX_SAFE_INTEGER, 5e-324];

/** Runs of up to 40 plain characters between awkward ones: the scanner takes short runs one by one and searches past long ones. */
function longString(random: () => number, pick: <T>(list: readonly T[]) => T): string {
  let text = '';
  for (let part = 1 + Math.floor(random() * 3); part > 0; part--) text += 'm'.repeat(Math.floor(random() * 41)) + pick(AWKWARD_STRINGS);
  return text;
}

function randomJson(random: () => number, depth: number): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const kind = depth === 0 ? 5 : depth > 2 ? Math.floor(random() * 4) : Math.floor(random() * 6);
  if (kind === 0) return pick(AWKWARD_STRINGS);
  if (kind === 1) return pick(AWKWARD_NUMBERS);
  if (kind === 2) return pick([true, false, null]);
  if (kind === 3) return random() < 0.5 ? pick(AWKWARD_STRINGS) + String(Math.floor(random() * 100)) : longString(random, pick);
  if (kind === 4) return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [pick(AWKWARD_STRINGS) + pick(['', 'b', 'é']), randomJson(random, depth + 1)]));
}

/** Small edits of a text: most give another JSON text of the same or another document, in or out of canonical form. */
function mutations(text: string, random: () => number): string[] {
  const at = Math.floor(random() * text.length);
  const replacements: [string, string][] = [
    ['":', '": '],
    [',', ', '],
    ['12.5', '12.50'],
    ['é', '\\u00e9'],
    ['\\n', '\\u000a'],
    ['\\ud800', '\\uD800'],
    ['\u2028', '\\u2028'],
    ['1e+21', '1E+21'],
    ['"a"', '"b"'],
    ['true', 'false'],
    ['[', '[ '],
    ['"10"', '"2"'],
    [':100', ':0100'],
    [':100', ':100.0'],
    ['123456789012345', '1234567890123450000000'],
    ['"b', '"\\u0062'],
  ];
  const edits = replacements.filter(([from]) => text.includes(from)).map(([from, to]) => text.replace(from, to));
  edits.push(`${text.slice(0, at)}${text.slice(at + 1)}`, `${text.slice(0, at)} ${text.slice(at)}`, `${text.slice(0, at)}\\${text.slice(at)}`);
  return edits;
}

/**
 * readCanonicalStoredText against the definition: it reads a text only when it is valid JSON whose
 * @hash is its first member and whose rest is the RFC 8785 form of the parsed document (then its
 * computed hash is storedEventHash of that document, the canonicalising route), and it reads every
 * text storedTextHash accepts. Thousands of random documents with awkward strings and numbers, and
 * small edits of their texts, are compared.
 */
test('a stored text is read where it stands only when it is exactly the canonical form, and then gives the canonicalising route\'s hash', () => {
  const random = randomOf(15);
  let read = 0;
  let refused = 0;
  for (let round = 0; round < 1500; round++) {
    const document = randomJson(random, 0);
    if (typeof document !== 'object' || document === null || Array.isArray(document)) continue;
    delete (document as JsonObject)['@hash'];
    const honest = stored(document as JsonObject).text;
    for (const whole of [honest, ...mutations(honest, random)]) {
      const padded = `xx${whole}yy`;
      const found = readCanonicalStoredText(padded, 2);
      const reference = ((): string | undefined => {
        try {
          const parsed = JSON.parse(whole) as unknown;
          return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? storedTextHash(parsed as JsonObject, whole) : undefined;
        } catch {
          return undefined;
        }
      })();
      if (reference !== undefined) assert.equal(found?.computed, reference, `a text storedTextHash accepts is read where it stands: ${whole}`);
      if (found === undefined) {
        refused++;
        continue;
      }
      read++;
      // What was read: the whole text, or (for a text that is not JSON) a complete object at its start.
      const text = padded.slice(2, found.end);
      const parsed = JSON.parse(text) as JsonObject;
      assert.equal(found.hash, parsed['@hash'], text);
      // The document without @hash, copied member by member (a `__proto__` member included).
      const rest = { ...parsed };
      delete rest['@hash'];
      assert.equal(found.computed, createHash('sha256').update(canonicalize(rest)).digest('hex'), `the hash of the canonical form: ${text}`);
      const restText = text === `{"@hash":"${found.hash}"}` ? '{}' : `{${text.slice(`{"@hash":"${found.hash}",`.length)}`;
      assert.equal(restText, canonicalize(rest), `the rest is RFC 8785: ${text}`);
      for (const name of ['@log', '@position', '@uid', '@jws', '@is', '@received']) assert.deepEqual(found.members[name], parsed[name], `${name} of ${text}`);
    }
  }
  assert.ok(read > 1000 && refused > 1000, `both routes were taken (${read} read, ${refused} refused)`);
});

test('a stored text is refused when @hash is not first, is twice, holds an escape, or a nested member repeats or is out of order', () => {
  const { text, hash } = stored(DOCUMENT);
  const at = (variant: string) => readCanonicalStoredText(variant, 0);
  assert.equal(at(text)?.computed, hash);
  assert.equal(at(text.replace('"@id"', `"@hash":"${hash}","@id"`)), undefined);
  assert.equal(at(text.replace(`{"@hash":"${hash}"`, `{"@hash":"${hash.slice(0, 62)}\\"`)), undefined);
  assert.equal(at(text.replace('{"a":null,"z":true}', '{"a":null,"a":true}')), undefined);
  assert.equal(at(text.replace('{"a":null,"z":true}', '{"z":true,"a":null}')), undefined);
  assert.equal(at(text.replace('"pages":[1,2', '"pages":[1,-0')), undefined);
  assert.equal(at(text.slice(0, -1)), undefined);
  assert.equal(at(`{"@hash":"${hash}"}`)?.computed, createHash('sha256').update('{}').digest('hex'));
});

test('a checked page sent back as columns comes out as it went in, members absent included', () => {
  const first = stored(DOCUMENT);
  const signed = stored({ ...DOCUMENT, '@position': 8, '@uid': 'U-2', '@jws': 'h.p.s', '@is': 'tst', '@received': '2026-11-28T10:00:00.000Z' });
  const noPlace = stored({ event_type: 'x' });
  const forged = first.text.replace('"amount":12.5', '"amount":13');
  const page = checkSearchPage(Buffer.from(answer([first.text, signed.text, noPlace.text, forged, '{"a":1}'])));
  assert.deepEqual(
    page.events.map((event) => [event.id, event.hashHolds, event.position, event.signed?.jws]),
    [
      ['id-0', true, 7, undefined],
      ['id-1', true, 8, 'h.p.s'],
      ['id-2', true, undefined, undefined],
      ['id-3', false, 7, undefined],
      ['id-4', false, undefined, undefined],
    ],
  );
  const packed = structuredClone(packCheckedPage(page));
  assert.deepEqual(unpackCheckedPage(packed), page);
});

