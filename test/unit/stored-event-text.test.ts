import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { hashedEventText, HASH_FIELD, LOG_FIELD, membersInCanonicalOrder, POSITION_FIELD } from '../../src/evidence/event-hash.js';
import { buildRegistrationDocuments, storedEventId, type AcceptedEvent, type RegistrationContext } from '../../src/events/stored-event.js';
import type { JsonObject } from '../../src/json/json-object-parser.js';

/** The RFC 8785 reference implementation's package, called directly. */
const reference = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string;

const context: RegistrationContext = { uid: '3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b', isCode: 'mpass', receivedAt: new Date('2026-11-28T12:00:00Z') };
const LOG = 'mlog-20261128T120000Z-0123456789ab';

/** Names that sort in every tricky way around MLog's `@` fields: integer-like, digits, punctuation below and above `@`, capitals, non-ASCII, astral, lone surrogates. */
const NAMES = ['10', '2', '0', '01', '4294967295', '9x', '!', '-', '?', '[', '`', '~', 'A', 'Z', 'a', 'event_time', 'event_details', 'user', 'é', '😀', '\ud800', '\u0000', ''];

/** Events as a client may send them (event_type a string; names never starting with "@" or "_", which the validator refuses). */
const eventArbitrary = fc
  .tuple(
    fc.dictionary(fc.oneof(fc.constantFrom(...NAMES), fc.string({ unit: 'binary' }).filter((name) => !name.startsWith('@') && !name.startsWith('_'))), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 24 }),
    fc.string(),
  )
  .map(([fields, type]) => JSON.parse(JSON.stringify({ ...fields, event_type: type })) as JsonObject);

/** A call of events as the ingest path accepts them: unsigned, each signed alone, or one JWS for several. */
const callArbitrary = fc.tuple(fc.array(eventArbitrary, { minLength: 1, maxLength: 4 }), fc.constantFrom('unsigned', 'alone', 'shared')).map(([events, signing]) =>
  events.map((event, position): AcceptedEvent => {
    const accepted: AcceptedEvent = { event, origin: `Line ${position + 1}`, line: position + 1 };
    if (signing !== 'unsigned') accepted.signature = { jws: `eyJhbGciOiJSUzI1NiJ9.${position}.sig`, kid: '331eae22', alg: 'RS256', firstEventPosition: signing === 'alone' ? position : 0 };
    return accepted;
  }),
);

/** The stored document as MLog built it before it was built in RFC 8785 order: the event, then MLog's fields added one by one. */
function formerDocument(accepted: AcceptedEvent, position: number, logPosition: number): JsonObject {
  const document: JsonObject = Object.assign({}, accepted.event, { '@is': context.isCode, '@uid': context.uid, '@id': storedEventId(context.uid, position), '@received': context.receivedAt.toISOString() });
  document['@signed'] = accepted.signature !== undefined;
  document['@line'] = accepted.line;
  if (accepted.signature !== undefined) {
    document['@kid'] = accepted.signature.kid;
    document['@alg'] = accepted.signature.alg;
    if (accepted.signature.firstEventPosition === position) document['@jws'] = accepted.signature.jws;
    else document['@jws_ref'] = storedEventId(context.uid, accepted.signature.firstEventPosition);
  }
  document[LOG_FIELD] = LOG;
  document[POSITION_FIELD] = logPosition;
  return document;
}

const isIntegerLike = (name: string): boolean => /^(?:0|[1-9][0-9]*)$/.test(name) && Number(name) < 2 ** 32 - 1;

test('the stored text of an event built in RFC 8785 order is the reference canonical text of the document MLog built before, @hash first', () => {
  fc.assert(
    fc.property(callArbitrary, fc.nat(), (call, firstPosition) => {
      const documents = buildRegistrationDocuments(call, context).filter((doc) => doc.target.kind === 'events');
      assert.equal(documents.length, call.length);
      documents.forEach((doc, position) => {
        // What the evidence log does: fills @log and @position, then hashes and writes the text.
        doc.document[LOG_FIELD] = LOG;
        doc.document[POSITION_FIELD] = firstPosition + position;
        const { hash, text } = hashedEventText(doc.document);
        const canonical = reference(formerDocument(call[position] as AcceptedEvent, position, firstPosition + position));
        assert.equal(hash, createHash('sha256').update(canonical).digest('hex'));
        assert.equal(text, `{"${HASH_FIELD}":"${hash}",${canonical.slice(1)}`);
      });
    }),
    { numRuns: 1_500 },
  );
});

/** Whether any object in `value` has an integer-like name, which ECMAScript lists first whatever the order. */
function hasIntegerLikeName(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasIntegerLikeName);
  return Object.keys(value).some(isIntegerLike) || Object.values(value).some(hasIntegerLikeName);
}

test('the document and the objects nested in it list their members in RFC 8785 order, @log and @position in their places, unless a name is integer-like', () => {
  fc.assert(
    fc.property(callArbitrary, (call) => {
      for (const [position, doc] of buildRegistrationDocuments(call, context).entries()) {
        if (doc.target.kind !== 'events') continue;
        const names = Object.keys(doc.document);
        assert.ok(names.includes(LOG_FIELD) && names.includes(POSITION_FIELD), `document ${position}`);
        if (hasIntegerLikeName(doc.document)) continue;
        assert.deepEqual(names, [...names].sort());
        assert.ok(membersInCanonicalOrder(doc.document), JSON.stringify(doc.document).slice(0, 200));
      }
    }),
    { numRuns: 1_000 },
  );
});

test('an event whose nested objects came out of order is not changed; its document holds ordered copies', () => {
  const event = JSON.parse('{"user":"u","event_type":"X","doc":{"type":"T","pages":3,"id":"D-1"},"list":[{"b":1,"a":2}]}') as JsonObject;
  const [doc] = buildRegistrationDocuments([{ event, origin: 'Line 1', line: 1 }], context);
  assert.ok(doc !== undefined);
  assert.deepEqual(Object.keys(event.doc as object), ['type', 'pages', 'id']);
  assert.deepEqual(Object.keys(doc.document.doc as object), ['id', 'pages', 'type']);
  assert.deepEqual(Object.keys((doc.document.list as object[])[0] as object), ['a', 'b']);
  assert.deepEqual(doc.document.doc, event.doc);
});

test('integer-like names, which ECMAScript lists first in numeric order, still give the reference text', () => {
  const call: AcceptedEvent[] = [{ event: JSON.parse('{"10":"ten","2":"two","!":1,"event_type":"X","a":{"10":1,"9":2}}') as JsonObject, origin: 'Line 1', line: 1 }];
  const [doc] = buildRegistrationDocuments(call, context);
  assert.ok(doc !== undefined);
  assert.deepEqual(Object.keys(doc.document).slice(0, 3), ['2', '10', '!']);
  doc.document[LOG_FIELD] = LOG;
  doc.document[POSITION_FIELD] = 7;
  const canonical = reference(formerDocument(call[0] as AcceptedEvent, 0, 7));
  assert.ok(canonical.startsWith('{"!":1,"10":"ten","2":"two","@id":'));
  assert.equal(hashedEventText(doc.document).text.slice(`{"@hash":"${'0'.repeat(64)}",`.length), canonical.slice(1));
});

test('with the evidence log off the undefined @log and @position are not written', () => {
  const [doc] = buildRegistrationDocuments([{ event: { event_type: 'X', user: 'u' }, origin: 'Line 1', line: 1 }], context);
  assert.ok(doc !== undefined);
  const text = JSON.stringify(doc.document);
  assert.ok(!text.includes(LOG_FIELD) && !text.includes(POSITION_FIELD), text);
  assert.equal(text, JSON.stringify(Object.fromEntries(Object.entries(doc.document).filter(([, value]) => value !== undefined))));
});
