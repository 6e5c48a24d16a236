/**
 * Realistic events for the benchmark: the seeds' predefined fields, a few custom fields, 0.5–1 KB of
 * JSON each, about 20% `<System>.PersonalData.Access`. Signed events are made once, before anything is
 * measured (RS256 with each IS's 2048-bit key), so signing is the client's cost and never counted.
 */
import { randomUUID } from 'node:crypto';
import { CompactSign, importPKCS8 } from 'jose';
import type { IssuedCertificate } from '../scripts/dev-pki.js';
import type { JsonObject } from '../src/json/json-object-parser.js';
import { buildRegistrationDocuments, type AcceptedEvent } from '../src/events/stored-event.js';

/** A small deterministic PRNG (mulberry32), so a run's events do not depend on Math.random. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(from: number, toExclusive: number): number {
    return from + Math.floor(this.next() * (toExclusive - from));
  }
  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.next() * values.length)] as T;
  }
  digits(n: number): string {
    let text = '';
    for (let i = 0; i < n; i++) text += String(this.int(0, 10));
    return text;
  }
}

/** An IS of the benchmark: its code, client certificate and the key it signs with. */
export interface BenchSystem {
  code: string;
  /** The system's name as event types start with it, e.g. "MPass". */
  prefix: string;
  certificate: IssuedCertificate;
}

export const ACTIONS = ['Document.Created', 'Document.Signed', 'Document.Viewed', 'User.Authenticated', 'Payment.Confirmed', 'Application.Submitted', 'Permit.Issued', 'Record.Updated'] as const;
export const LEGAL_BASES = ['Law 133/2011 art. 5', 'Law 982/2000 art. 12', 'GD 1123/2010 p. 4', 'Law 142/2018 art. 9', 'Law 71/2007 art. 3'] as const;
const LEVELS = ['low', 'medium', 'high', 'critical'] as const;
const SOURCES = ['web-portal', 'api-gateway', 'back-office', 'batch-import', 'mobile-app'] as const;
const SUBJECT_TYPES = ['Person', 'Company', 'Vehicle'] as const;
const OBJECT_TYPES = ['Contract', 'CarNumber', 'Application', 'Invoice', 'Permit'] as const;
const FIRST_NAMES = ['Ion', 'Maria', 'Andrei', 'Elena', 'Vasile', 'Ana', 'Mihai', 'Natalia', 'Sergiu', 'Irina'] as const;
const LAST_NAMES = ['Popescu', 'Rusu', 'Ceban', 'Munteanu', 'Cojocaru', 'Lungu', 'Turcan', 'Rotaru'] as const;
const WORDS = ['application', 'registered', 'document', 'signed', 'director', 'annex', 'contract', 'citizen', 'request', 'approved', 'payment', 'received', 'service', 'public', 'record', 'updated', 'permit', 'issued', 'verified', 'identity'] as const;

export const PERSONAL_DATA_SHARE = 0.2;

export interface EventOptions {
  /** event_time in epoch ms; default now. */
  at?: number;
  /** Force a PersonalData event (or not); default: PERSONAL_DATA_SHARE of them. */
  personalData?: boolean;
}

/** One event of `system`, 500 to 1000 bytes of JSON. */
export function generateEvent(random: Random, system: { prefix: string }, options: EventOptions = {}): JsonObject {
  const personalData = options.personalData ?? random.next() < PERSONAL_DATA_SHARE;
  const eventType = personalData ? `${system.prefix}.PersonalData.Access` : `${system.prefix}.${random.pick(ACTIONS)}`;
  const name = `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`;
  const event: JsonObject = {
    event_time: new Date(options.at ?? Date.now()).toISOString(),
    event_type: eventType,
    event_id: `${system.prefix.toLowerCase()}-${random.digits(12)}`,
    event_correlation: randomUUID(),
    event_level: random.pick(LEVELS),
    event_source: random.pick(SOURCES),
    event_message: '',
    legal_entity: `100${random.digits(10)}`,
    legal_basis: random.pick(LEGAL_BASES),
    legal_reason: `Application ${2020 + random.int(0, 7)}/${random.int(1, 99999)}`,
    user: `200${random.digits(10)}`,
    user_session: randomUUID(),
    user_address: `10.${random.int(0, 256)}.${random.int(0, 256)}.${random.int(1, 255)}`,
    subject: `200${random.digits(10)}`,
    subject_type: random.pick(SUBJECT_TYPES),
    subject_name: name,
    object: `${random.pick(['ABC', 'DEF', 'KLM'])} ${random.int(100, 1000)}`,
    object_type: random.pick(OBJECT_TYPES),
    object_name: `${random.pick(OBJECT_TYPES)} ${random.digits(6)}`,
    channel: random.pick(['online', 'office', 'phone']),
    doc: { id: `D-${random.digits(8)}`, type: random.pick(OBJECT_TYPES), pages: random.int(1, 40) },
    amount: `${random.int(1, 100000)}.${random.digits(2)}`,
  };
  if (random.next() < 0.3) event.event_details = { step: random.int(1, 9), note: 'submitted through the portal', checks: ['identity', 'address'] };
  // Fill event_message until the whole event is 500–1000 bytes.
  const target = random.int(500, 1001);
  const base = Buffer.byteLength(JSON.stringify(event));
  let message = `${name} ${random.pick(WORDS)}`;
  while (base + Buffer.byteLength(message) + 6 < target) message += ` ${random.pick(WORDS)}`;
  event.event_message = message;
  return event;
}

/** A compact JWS (RS256, kid = the certificate's serial) over one event. */
export type SigningKey = Awaited<ReturnType<typeof importPKCS8>>;

export async function signEvent(system: BenchSystem, key: SigningKey, event: JsonObject): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(event)))
    .setProtectedHeader({ alg: 'RS256', kid: system.certificate.serialHex })
    .sign(key);
}

/** Per IS, ready-made single-event bodies: JWS and plain JSON. */
export interface EventPool {
  system: BenchSystem;
  signed: string[];
  unsigned: string[];
  /** The decoded events of `signed`, same order (for the Elasticsearch ceiling's documents). */
  signedEvents: JsonObject[];
}

/** Signs `perSystem` events for each IS (RS256, 2048-bit keys) before anything is measured. */
export async function buildEventPools(systems: BenchSystem[], perSystem: number, seed = 42): Promise<EventPool[]> {
  const random = new Random(seed);
  const pools: EventPool[] = [];
  for (const system of systems) {
    const key = await importPKCS8(system.certificate.keyPem, 'RS256');
    const pool: EventPool = { system, signed: [], unsigned: [], signedEvents: [] };
    for (let i = 0; i < perSystem; i++) {
      const signedEvent = generateEvent(random, system);
      pool.signedEvents.push(signedEvent);
      pool.signed.push(await signEvent(system, key, signedEvent));
      pool.unsigned.push(JSON.stringify(generateEvent(random, system)));
    }
    pools.push(pool);
  }
  return pools;
}

/** Bodies of `size` signed events (one JWS per line), drawn from the pool. */
export function batchBodies(pool: EventPool, size: number, count: number, random: Random): string[] {
  const bodies: string[] = [];
  for (let b = 0; b < count; b++) {
    const lines: string[] = [];
    for (let i = 0; i < size; i++) lines.push(random.pick(pool.signed));
    bodies.push(lines.join('\n'));
  }
  return bodies;
}

/**
 * A stored document as MLog writes it (event fields plus @is, @uid, @id, @received, @signed, @line,
 * @kid, @alg, @jws), serialized without its closing brace, @uid and @id, so a sender can finish it
 * with a fresh id cheaply: `${open},"@uid":"…","@id":"…"}`. PersonalData events also give their
 * projection, as MLog writes it into personaldata-*.
 */
export interface OpenDocument {
  open: string;
  personalData?: string;
}

export function openStoredDocuments(pool: EventPool): OpenDocument[] {
  const documents: OpenDocument[] = [];
  pool.signedEvents.forEach((event, n) => {
    const jws = pool.signed[n] as string;
    const accepted: AcceptedEvent = { event, origin: 'Line 1', line: 1, signature: { jws, kid: pool.system.certificate.serialHex, alg: 'RS256', firstEventPosition: 0 } };
    const built = buildRegistrationDocuments([accepted], { uid: 'x', isCode: pool.system.code, receivedAt: new Date() });
    const strip = (doc: JsonObject): string => {
      const { '@uid': _uid, '@id': _id, ...rest } = doc;
      return JSON.stringify(rest).slice(0, -1);
    };
    const own = built[0]?.document as JsonObject;
    const projection = built[1]?.document;
    documents.push(projection === undefined ? { open: strip(own) } : { open: strip(own), personalData: strip(projection) });
  });
  return documents;
}
