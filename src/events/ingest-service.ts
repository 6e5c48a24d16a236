import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { verifyCompactJws, type VerifiedJws } from '../auth/jws-verifier.js';
import { AuthenticationError, MLogError, ValidationError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import type { DocumentToWrite, EventStore } from './event-store-type.js';
import type { KnownSystem } from '../systems/system-registry.js';
import { isCompactJws } from '../auth/compact-jws.js';
import { decodeBody, readBodyLines, type BodyLine } from './event-body-reader.js';
import { findEventProblem } from './event-validator.js';
import { parseJsonObject, type JsonObject } from '../json/json-object-parser.js';
import { buildRegistrationDocuments, type AcceptedEvent, type EventSignature } from './stored-event.js';

/** One call to register events, from whichever door it came (HTTPS, syslog). */
export interface RegistrationCall {
  caller: KnownSystem;
  body: Uint8Array;
  receivedAt: Date;
  /** The UID to register under; chosen at random when absent (an idempotent call reuses the one it claimed). */
  uid?: string;
}

/**
 * One event a door has already built as an object (a mapped syslog message), registered exactly as
 * the same event sent alone as a one-line body: "Line 1" in its refusals, every rule of `/register`
 * (validation, `require_signature`, the PersonalData projection), without JSON text in between.
 */
export interface EventRegistrationCall {
  caller: KnownSystem;
  event: JsonObject;
  receivedAt: Date;
  uid?: string;
}

export interface Registration {
  uid: string;
  events: number;
  signed: number;
  /** The MLog-Receipt of the call (docs/evidence.md); absent when the evidence log is off. */
  receipt?: string;
}

/** Where one stored event sits in the evidence log, read from the `@log`, `@position` and `@hash` the store set on it. */
export interface StoredEventPlace {
  id: string;
  log: string;
  position: number;
  hash: string;
}

/** Signs the receipt of one registration (the evidence service); the ingest service only hands it the places. */
export interface ReceiptIssuer {
  receipt(request: { uid: string; is: string; received: Date; events: StoredEventPlace[] }): Promise<string | undefined>;
}

/** The evidence places of the documents of a call written to event indices, in order; empty when the store set none. */
export function storedEventPlaces(documents: readonly DocumentToWrite[]): StoredEventPlace[] {
  const places: StoredEventPlace[] = [];
  for (const doc of documents) {
    if (doc.target.kind !== 'events') continue;
    const { '@log': log, '@position': position, '@hash': hash } = doc.document;
    if (typeof log !== 'string' || typeof position !== 'number' || typeof hash !== 'string') return [];
    places.push({ id: doc.id, log, position, hash });
  }
  return places;
}

/** What became of one call of `registerEach`: stored, or refused with the error `register` would have thrown. */
export type RegistrationOutcome = { ok: true; registration: Registration } | { ok: false; error: unknown };

/** A call checked and ready to store: its documents, under its UID. */
interface PreparedRegistration extends Registration {
  documents: DocumentToWrite[];
}

function registrationOf(prepared: PreparedRegistration): Registration {
  return { uid: prepared.uid, events: prepared.events, signed: prepared.signed };
}

/**
 * Lines of a body checked between two turns of the event loop: a large batch (thousands of small
 * events) is parsed and validated in slices of this many lines, so that other calls — another
 * system's single event — are served between the slices instead of after the whole batch.
 */
export const LINES_PER_TURN = 256;

/**
 * A call with at most this many JWS lines has them verified on the event loop's thread: handing one
 * RS256 verification to libuv's thread pool cost 71–84 µs of the process's CPU against 24–30 µs done
 * in place, and 31–37 µs each with eight in flight (`npm run bench:jws-verification`). Four RS256
 * checks hold the loop about 120 µs; a call with more goes to the pool, where they run side by side.
 */
export const SIGNATURES_VERIFIED_IN_LINE = 4;

/** Several JSON objects, one per line; or one object spread over several lines. */
function parseEventLines(text: string, where: (index: number, count: number) => string): JsonObject[] {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  if (lines.length === 0) throw new ValidationError(`${where(0, 1)} holds no event.`);
  const events: JsonObject[] = [];
  for (const [index, line] of lines.entries()) {
    const parsed = parseJsonObject(line);
    if (parsed.ok) {
      events.push(parsed.value);
      continue;
    }
    if (index === 0 && lines.length > 1) {
      const whole = parseJsonObject(text.trim());
      if (whole.ok) return [whole.value];
    }
    throw new ValidationError(`${where(index, lines.length)} ${parsed.reason}.`);
  }
  return events;
}

/**
 * A body holding one JSON object spread over several lines (pretty-printed): its first line is not an
 * object on its own and its second is neither an object nor a JWS. Undefined for any other body.
 */
function objectSpreadOverLines(text: string): JsonObject | undefined {
  const lines = text.trim().split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const [first, second] = lines;
  if (first === undefined || second === undefined || first.charCodeAt(0) !== 123 /* { */) return undefined;
  if (second.charCodeAt(0) === 123 || isCompactJws(second) || parseJsonObject(first).ok) return undefined;
  const whole = parseJsonObject(text.trim());
  if (!whole.ok) throw new ValidationError(`The body, one JSON object over ${lines.length} lines, ${whole.reason}.`);
  return whole.value;
}

/**
 * The ingest pipeline: parse → verify → validate → store → answer, for a caller already identified.
 * Promise: it resolves only after every event of the call (and every PersonalData projection) is
 * durably stored; when it throws, nothing of the call is stored. Independent of any transport.
 */
export class IngestService {
  constructor(
    private readonly store: EventStore,
    private readonly logger: Logger,
    private readonly receipts?: ReceiptIssuer,
  ) {}

  /** Stores the call's events; the answer carries the call's signed receipt when the evidence log is on. */
  async register(call: RegistrationCall): Promise<Registration> {
    const prepared = await this.prepare(call);
    await this.store.writeAll(prepared.documents, 'events', call.caller.system.code);
    this.logger.info('events registered', { system: call.caller.system.code, uid: prepared.uid, events: prepared.events, signed: prepared.signed });
    const receipt = await this.receiptOf(prepared, call);
    return { uid: prepared.uid, events: prepared.events, signed: prepared.signed, ...(receipt === undefined ? {} : { receipt }) };
  }

  /** The receipt of a stored call; a receipt that cannot be signed is logged and left out (the events are stored and answered). */
  private async receiptOf(prepared: PreparedRegistration, call: RegistrationCall): Promise<string | undefined> {
    if (this.receipts === undefined) return undefined;
    const events = storedEventPlaces(prepared.documents);
    if (events.length === 0) return undefined;
    try {
      return await this.receipts.receipt({ uid: prepared.uid, is: call.caller.system.code, received: call.receivedAt, events });
    } catch (error) {
      this.logger.warn('receipt not signed', { system: call.caller.system.code, uid: prepared.uid, error: (error as Error).message });
      return undefined;
    }
  }

  /** Makes the IS's event index of this month exist before its first write (see EventStore.prepareIndex); never throws. */
  async prepareIndex(caller: KnownSystem, at = new Date()): Promise<void> {
    await this.store.prepareIndex(caller.system.code, at);
  }

  /**
   * Several registrations of one caller, each judged on its own (a refused one is refused alone,
   * with its reason) and the accepted ones stored together, in one `writeAll`. Resolves with one
   * outcome per call, in order; each `stored` outcome carries the same promise as `register` (every
   * event of that call durably stored). When the shared write fails for a reason that belongs to the
   * whole write (storage unavailable, too much waiting: 503/429), every accepted call has that
   * error; when Elasticsearch refuses a document, the accepted calls are written one by one so that
   * only the call holding it is refused.
   */
  async registerEach(caller: KnownSystem, calls: (Omit<RegistrationCall, 'caller'> | Omit<EventRegistrationCall, 'caller'>)[]): Promise<RegistrationOutcome[]> {
    const outcomes: (RegistrationOutcome | undefined)[] = [];
    const accepted: { position: number; prepared: PreparedRegistration }[] = [];
    for (let position = 0; position < calls.length; position++) {
      if (position > 0 && position % LINES_PER_TURN === 0) await nextTurn();
      const call = calls[position] as (typeof calls)[number];
      try {
        // The caller passed beside the call, not spread into a copy of it; a mapped event is checked without an await.
        const events = 'event' in call ? [this.check(call.event, 'Line 1', 1)] : await this.readBody(call, caller);
        accepted.push({ position, prepared: this.prepareChecked(call, caller, events) });
        outcomes.push(undefined);
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    if (accepted.length === 0) return outcomes as RegistrationOutcome[];
    const system = caller.system.code;
    try {
      await this.store.writeAll(accepted.flatMap((entry) => entry.prepared.documents), 'events', system);
      for (const { position, prepared } of accepted) outcomes[position] = { ok: true, registration: registrationOf(prepared) };
    } catch (error) {
      if (!(error instanceof MLogError) || error.status === 503 || error.status === 429 || accepted.length === 1) {
        for (const { position } of accepted) outcomes[position] = { ok: false, error };
      } else {
        // One document refused by Elasticsearch refuses the shared write: each call is written alone to find whose it is.
        await Promise.all(
          accepted.map(async ({ position, prepared }) => {
            try {
              await this.store.writeAll(prepared.documents, 'events', system);
              outcomes[position] = { ok: true, registration: registrationOf(prepared) };
            } catch (alone) {
              outcomes[position] = { ok: false, error: alone };
            }
          }),
        );
      }
    }
    if (this.logger.isLevelEnabled('info')) {
      const stored = outcomes.filter((outcome): outcome is { ok: true; registration: Registration } => outcome?.ok === true);
      if (stored.length > 0) {
        const events = stored.reduce((sum, outcome) => sum + outcome.registration.events, 0);
        const signed = stored.reduce((sum, outcome) => sum + outcome.registration.signed, 0);
        this.logger.info('events registered', { system, registrations: stored.length, events, signed });
      }
    }
    return outcomes as RegistrationOutcome[];
  }

  /** Parse → verify → validate one call, and build its documents under its UID; throws the call's refusal. Stores nothing. */
  private async prepare(call: RegistrationCall | EventRegistrationCall): Promise<PreparedRegistration> {
    return this.prepareChecked(call, call.caller, 'event' in call ? [this.check(call.event, 'Line 1', 1)] : await this.readBody(call, call.caller));
  }

  /** The documents of a call whose events passed their checks, under its UID; throws when its system must sign and an event is not signed. */
  private prepareChecked(call: { receivedAt: Date; uid?: string }, caller: KnownSystem, accepted: AcceptedEvent[]): PreparedRegistration {
    let signed = 0;
    for (const event of accepted) {
      if (event.signature !== undefined) signed++;
      else if (caller.system.require_signature) throw new AuthenticationError(`${event.origin}: information system "${caller.system.code}" must sign its events, and this one is not signed.`);
    }
    const uid = call.uid ?? randomUUID();
    const documents = buildRegistrationDocuments(accepted, { uid, isCode: caller.system.code, receivedAt: call.receivedAt });
    return { uid, documents, events: accepted.length, signed };
  }

  /** The events of a body: decoded, split into lines, signatures verified, each event parsed and validated; throws the call's refusal. */
  private async readBody(call: Omit<RegistrationCall, 'caller'>, caller: KnownSystem): Promise<AcceptedEvent[]> {
    const text = decodeBody(call.body);
    const accepted: AcceptedEvent[] = [];
    const spread = objectSpreadOverLines(text);
    if (spread !== undefined) accepted.push(this.check(spread, 'Line 1', 1));
    else {
      const lines = readBodyLines(text);
      // Many signatures are checked concurrently on the crypto thread pool, a few on this thread (cheaper than the hand-off);
      // lines are then taken in order, so the first bad line is the one reported.
      let signatures = 0;
      for (const line of lines) if (line.kind === 'jws') signatures++;
      const onThisThread = signatures <= SIGNATURES_VERIFIED_IN_LINE;
      const verifications = lines.map((line) => (line.kind === 'jws' ? this.verify(line, caller, call.receivedAt, onThisThread) : undefined));
      for (const verification of verifications) verification?.catch(() => {});
      for (const [position, line] of lines.entries()) {
        if (position > 0 && position % LINES_PER_TURN === 0) await nextTurn();
        const verification = verifications[position];
        if (verification === undefined) {
          const parsed = parseJsonObject(line.text);
          if (!parsed.ok) throw new ValidationError(`Line ${line.number} ${parsed.reason}.`);
          accepted.push(this.check(parsed.value, `Line ${line.number}`, line.number));
        } else {
          accepted.push(...this.openSigned(line, await verification, accepted.length));
        }
      }
    }
    return accepted;
  }

  private check(event: JsonObject, origin: string, line: number): AcceptedEvent {
    const problem = findEventProblem(event);
    if (problem !== undefined) throw new ValidationError(`${origin}: ${problem}.`);
    return { event, origin, line };
  }

  private verify(line: BodyLine, caller: KnownSystem, receivedAt: Date, onThisThread: boolean): Promise<VerifiedJws> {
    return verifyCompactJws(line.text, caller.certificatesBySerial, `Line ${line.number}`, receivedAt, onThisThread);
  }

  /** The events of a verified JWS line; `position` is how many events of the call come before them. */
  private openSigned(line: BodyLine, verified: VerifiedJws, position: number): AcceptedEvent[] {
    const where = `Line ${line.number}`;
    const origin = (index: number, count: number) => (count === 1 ? where : `${where}, event ${index + 1} of the signed payload`);
    const payloadEvents = parseEventLines(verified.payload, (index, count) => `${origin(index, count)}: the JWS payload`);
    const signature: EventSignature = { jws: line.text, kid: verified.kid, alg: verified.alg, firstEventPosition: position };
    return payloadEvents.map((event, index) => ({
      ...this.check(event, origin(index, payloadEvents.length), line.number),
      signature,
    }));
  }
}
