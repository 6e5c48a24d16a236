import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { verifyCompactJws, type VerifiedJws } from '../auth/jws-verifier.js';
import { AuthenticationError, ValidationError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import type { EventStore } from './event-store-type.js';
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

export interface Registration {
  uid: string;
  events: number;
  signed: number;
}

/**
 * Lines of a body checked between two turns of the event loop: a large batch (thousands of small
 * events) is parsed and validated in slices of this many lines, so that other calls — another
 * system's single event — are served between the slices instead of after the whole batch.
 */
export const LINES_PER_TURN = 256;

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
  ) {}

  async register(call: RegistrationCall): Promise<Registration> {
    const text = decodeBody(call.body);
    const accepted: AcceptedEvent[] = [];
    const spread = objectSpreadOverLines(text);
    if (spread !== undefined) accepted.push(this.check(spread, 'Line 1', 1));
    else {
      const lines = readBodyLines(text);
      // Signatures are checked concurrently (on the crypto thread pool); lines are then taken in order, so the first bad line is the one reported.
      const verifications = lines.map((line) => (line.kind === 'jws' ? this.verify(line, call) : undefined));
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
    if (call.caller.system.require_signature) {
      const unsigned = accepted.find((event) => event.signature === undefined);
      if (unsigned !== undefined) {
        throw new AuthenticationError(`${unsigned.origin}: information system "${call.caller.system.code}" must sign its events, and this one is not signed.`);
      }
    }
    const uid = call.uid ?? randomUUID();
    const documents = buildRegistrationDocuments(accepted, { uid, isCode: call.caller.system.code, receivedAt: call.receivedAt });
    await this.store.writeAll(documents, 'events', call.caller.system.code);
    const signed = accepted.filter((event) => event.signature !== undefined).length;
    this.logger.info('events registered', { system: call.caller.system.code, uid, events: accepted.length, signed });
    return { uid, events: accepted.length, signed };
  }

  private check(event: JsonObject, origin: string, line: number): AcceptedEvent {
    const problem = findEventProblem(event);
    if (problem !== undefined) throw new ValidationError(`${origin}: ${problem}.`);
    return { event, origin, line };
  }

  private verify(line: BodyLine, call: RegistrationCall): Promise<VerifiedJws> {
    return verifyCompactJws(line.text, call.caller.certificatesBySerial, `Line ${line.number}`, call.receivedAt);
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
