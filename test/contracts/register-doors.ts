/**
 * The doors through which an information system hands MLog its events, as adapters for the
 * event-rules contract (test/contracts/event-rules-contract.ts): each sends a list of events as one
 * call and says how MLog's refusal names an event of that call. A new door is one more adapter here
 * (the syslog doors' are in syslog-register-doors.ts) and one more test file calling
 * eventRulesContract with it.
 */
import { randomUUID } from 'node:crypto';
import type { HttpAnswer, SystemOptions, TestMLog, TestSystem } from '../helpers/test-mlog.js';

export type Event = Record<string, unknown>;

export interface RegisterDoor {
  name: string;
  /** The IS the calls come from (a door of signed events makes it require signatures). */
  system?: SystemOptions;
  /** Environment of the MLog started for this door, over the tests' defaults. */
  environment?: Record<string, string>;
  /** Syslog listeners the MLog started for this door turns on (test/contracts/syslog-register-doors.ts). */
  syslog?: ('tls' | 'relp')[];
  /** Told the MLog started for this door before the first call (a syslog door needs its ports and CA). */
  attach?(mlog: TestMLog): void;
  /** Sends `events` as one call of `system`; MLog's answer. */
  send(system: TestSystem, events: Event[]): Promise<HttpAnswer>;
  /** How MLog's messages name the event at `position` (from 0) of `count` sent in one call. */
  origin(position: number, count: number): string;
}

const lines = (events: Event[]) => events.map((event) => JSON.stringify(event)).join('\n');
const lineOrigin = (position: number) => `Line ${position + 1}`;

/** POST /register, one JSON object per line. */
export const jsonLineDoor: RegisterDoor = {
  name: 'POST /register, JSON lines',
  send: (system, events) => system.register(lines(events)),
  origin: lineOrigin,
};

/** POST /register, each event a JWS of its own on its own line, from an IS that must sign. */
export const jwsLineDoor: RegisterDoor = {
  name: 'POST /register, one JWS per line',
  system: { require_signature: true },
  send: async (system, events) => system.register((await Promise.all(events.map((event) => system.sign(event)))).join('\n')),
  origin: lineOrigin,
};

/** POST /register, one JWS whose payload holds every event, newline-separated, from an IS that must sign. */
export const jwsPayloadDoor: RegisterDoor = {
  name: 'POST /register, one JWS over several events',
  system: { require_signature: true },
  send: async (system, events) => system.register(await system.sign(lines(events))),
  origin: (position, count) => (count === 1 ? 'Line 1' : `Line 1, event ${position + 1} of the signed payload`),
};

/** POST /register, JSON lines, with a fresh Idempotency-Key on every call. */
export const idempotencyKeyDoor: RegisterDoor = {
  name: 'POST /register with an Idempotency-Key',
  send: (system, events) => system.register(lines(events), { headers: { 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID() } }),
  origin: lineOrigin,
};
