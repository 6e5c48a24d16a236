import type { DocumentToWrite, IndexTarget } from './event-store-type.js';
import { inCanonicalOrder } from '../json/canonical-order.js';
import { RecentShapes } from '../json/recent-shapes.js';
import type { JsonObject } from '../json/json-object-parser.js';
import { isPersonalDataEvent, PERSONAL_DATA_FIELDS } from './predefined-fields.js';

/** The signature an event arrived under. One JWS may carry several events; its text is kept once. */
export interface EventSignature {
  jws: string;
  kid: string;
  alg: string;
  /** Position (in the call) of the first event of the same JWS, which keeps the JWS text in @jws. */
  firstEventPosition: number;
}

/** An event that passed every check, with where it came from. */
export interface AcceptedEvent {
  event: JsonObject;
  /** "Line 2" or "Line 2, event 3 of the signed payload". */
  origin: string;
  line: number;
  signature?: EventSignature;
}

export interface RegistrationContext {
  uid: string;
  isCode: string;
  receivedAt: Date;
}

/** The document id of the event at `position` of a call: ids sort in registration order. */
export function storedEventId(uid: string, position: number): string {
  return `${uid}-${position.toString().padStart(5, '0')}`;
}

/** The shared personaldata-* copy of an event: only the fields the contract lists, plus @is, @uid and @id. */
export function personalDataProjection(event: JsonObject, stored: { '@is': string; '@uid': string; '@id': string; '@received': string }): JsonObject {
  const projection: JsonObject = {};
  for (const field of PERSONAL_DATA_FIELDS) if (event[field] !== undefined) projection[field] = event[field];
  return Object.assign(projection, stored);
}

/** Where the registrations of one IS received at one instant go, and `@received`. */
interface RegistrationPlaces {
  isCode: string;
  time: number;
  eventIndex: IndexTarget;
  personalDataIndex: IndexTarget;
  received: string;
}

let lastPlaces: RegistrationPlaces | undefined;

/**
 * The targets and `@received` of registrations of `isCode` received at `receivedAt`, made once for a
 * run of registrations that share them (the messages of one syslog read: hundreds of one-event calls)
 * and shared by their documents, which the stores then name once (storage, the evidence log).
 */
function placesOf(isCode: string, receivedAt: Date): RegistrationPlaces {
  const time = receivedAt.getTime();
  if (lastPlaces !== undefined && lastPlaces.time === time && lastPlaces.isCode === isCode) return lastPlaces;
  const at = new Date(time);
  lastPlaces = { isCode, time, eventIndex: { kind: 'events', isCode, receivedAt: at }, personalDataIndex: { kind: 'personal-data', receivedAt: at }, received: at.toISOString() };
  return lastPlaces;
}

/** An event's names in RFC 8785 order, split where MLog's own `@` fields go between them. */
interface EventNameOrder {
  /** Names that sort before `@` (first code unit below U+0040), and any starting with `@` (which the validator refuses), so that MLog's own fields, written after them, win. */
  before: string[];
  /** Names that sort after MLog's `@` fields. */
  after: string[];
  /** One document of this shape per kind of signature (none, `@jws`, `@jws_ref`), built once with Object.defineProperty and kept (see shapeDocument). */
  shaped: (JsonObject | undefined)[];
}

/** MLog's own fields of an event document, in RFC 8785 order, by the kind of its signature: none, the JWS kept in `@jws`, or `@jws_ref`. */
const OWN_FIELDS = [
  ['@id', '@is', '@line', '@log', '@position', '@received', '@signed', '@uid'],
  ['@alg', '@id', '@is', '@jws', '@kid', '@line', '@log', '@position', '@received', '@signed', '@uid'],
  ['@alg', '@id', '@is', '@jws_ref', '@kid', '@line', '@log', '@position', '@received', '@signed', '@uid'],
] as const;

/**
 * Builds, once per shape and kind of signature, a document with the members of that shape in order by
 * Object.defineProperty, and keeps it. V8 turns an object that gets more than about 16 members by
 * computed names (`document[name] = value`) into a dictionary, which JSON.stringify and every read of
 * the canonical text's walk are slower on, unless the shape's chain of hidden classes exists already:
 * defineProperty makes that chain, and the documents built after it follow it and keep fast
 * properties (bench/evidence-hash.ts). It changes no document's members, only how fast they are read.
 */
function shapeDocument(order: EventNameOrder, kind: 0 | 1 | 2): void {
  if (order.shaped[kind] !== undefined) return;
  const document: JsonObject = {};
  for (const name of [...order.before, ...OWN_FIELDS[kind], ...order.after]) Object.defineProperty(document, name, { value: null, enumerable: true, writable: true, configurable: true });
  order.shaped[kind] = document;
}

/** The RFC 8785 order (UTF-16 code units) of an event's names. */
function nameOrder(listed: string[]): EventNameOrder {
  const sorted = [...listed].sort();
  return { shaped: [undefined, undefined, undefined], before: sorted.filter((name) => name < '@' || name.startsWith('@')), after: sorted.filter((name) => name > '@' && !name.startsWith('@')) };
}

/** The orders of the latest 16 event shapes, each worked out once: the events of one system mostly share a few. */
const eventNameOrders = new RecentShapes(16, nameOrder);

/**
 * Copies the members `names` of `event` to `document`, each object or array among them with its
 * objects' members in RFC 8785 order (a copy only where they are not); a name "__proto__" becomes a
 * member, not the prototype.
 */
function copyMembers(document: JsonObject, event: JsonObject, names: string[]): void {
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const member = event[name];
    const value = typeof member === 'object' && member !== null ? inCanonicalOrder(member) : member;
    if (name === '__proto__') Object.defineProperty(document, name, { value, enumerable: true, writable: true, configurable: true });
    else document[name] = value;
  }
}

/**
 * The documents one registration writes: each event into the IS's monthly index, with MLog's @ fields,
 * and a projection of each PersonalData event into the shared monthly personaldata index.
 *
 * Each event's document is built with its members in RFC 8785 order (names by UTF-16 code units: the
 * event's names below `@`, MLog's `@` fields, then the event's other names), and the objects nested in
 * the event too (copies where the client sent their members in another order), so that `@hash`'s
 * canonical text (evidence/event-hash.ts) is written without a sorted copy of the document. `@log` and `@position` are held in their places as undefined members
 * for the evidence log to fill; JSON.stringify leaves undefined members out, so with the log off the
 * stored text is what it would be without them. An object whose integer-like names ECMAScript lists
 * first (`"10"`, `"2"`) cannot be in that order; the canonical text takes its general path then.
 */
export function buildRegistrationDocuments(events: AcceptedEvent[], context: RegistrationContext): DocumentToWrite[] {
  const { eventIndex, personalDataIndex, received } = placesOf(context.isCode, context.receivedAt);
  const documents: DocumentToWrite[] = [];
  events.forEach((accepted, position) => {
    const id = storedEventId(context.uid, position);
    const { event, signature } = accepted;
    const order = eventNameOrders.of(Object.keys(event));
    shapeDocument(order, signature === undefined ? 0 : signature.firstEventPosition === position ? 1 : 2);
    // Member by member in RFC 8785 order, MLog's fields by their constant names in sorted order.
    const document: JsonObject = {};
    copyMembers(document, event, order.before);
    if (signature !== undefined) document['@alg'] = signature.alg;
    document['@id'] = id;
    document['@is'] = context.isCode;
    if (signature !== undefined) {
      if (signature.firstEventPosition === position) document['@jws'] = signature.jws;
      else document['@jws_ref'] = storedEventId(context.uid, signature.firstEventPosition);
      document['@kid'] = signature.kid;
    }
    document['@line'] = accepted.line;
    document['@log'] = undefined;
    document['@position'] = undefined;
    document['@received'] = received;
    document['@signed'] = signature !== undefined;
    document['@uid'] = context.uid;
    copyMembers(document, event, order.after);
    documents.push({ target: eventIndex, id, document, origin: accepted.origin });
    if (isPersonalDataEvent(event.event_type as string)) {
      documents.push({ target: personalDataIndex, id, document: personalDataProjection(event, { '@is': context.isCode, '@uid': context.uid, '@id': id, '@received': received }), origin: accepted.origin });
    }
  });
  return documents;
}
