/**
 * The evidence log's CPU per event on its own: `@hash` (RFC 8785 canonical JSON of the stored
 * document + SHA-256) and the leaf hash, over documents shaped like the bench's signed events (their
 * 20-odd fields, MLog's @ fields and a JWS of about 700 characters). CPU time (process.cpuUsage), so
 * that a busy machine changes it little. Run alone: `npx tsx bench/evidence-hash.ts`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { SigningKey } from '../src/evidence/signing-key.js';
import { pathToFileURL } from 'node:url';
import { canonicalJson, generalCanonicalJson, HASH_FIELD, hashedEventText, LOG_FIELD, POSITION_FIELD, storedEventHash } from '../src/evidence/event-hash.js';
import { hashLeaf, type LogLeaf } from '../src/evidence/evidence-log-entry.js';
import { sha256Hex } from '../src/evidence/merkle.js';
import { EvidenceLog } from '../src/evidence/evidence-log.js';
import { EvidenceService } from '../src/evidence/evidence-service.js';
import type { EvidenceStore } from '../src/evidence/evidence-store-type.js';
import { buildRegistrationDocuments, type AcceptedEvent } from '../src/events/stored-event.js';
import { createLogger } from '../src/logging/logger.js';
import { generateEvent, Random } from './event-generator.js';

/** The RFC 8785 reference implementation's package, which MLog's canonical JSON is checked against (test/unit/event-hash.test.ts). */
const referenceCanonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string;

export interface HashingCost {
  events: number;
  /** CPU µs per event of @hash alone, and of @hash plus its leaf hash. */
  hashMicros: number;
  /** CPU µs per event of the same hash with the reference RFC 8785 implementation (`canonicalize`) instead of MLog's. */
  referenceHashMicros: number;
  /** The same hash with safe-stable-stringify's text (what canonicalJson was before it used native JSON.stringify). */
  stableHashMicros: number;
  hashAndLeafMicros: number;
  /** CPU µs per event of JSON.stringify of the same document: the serialisation every write already pays. */
  stringifyMicros: number;
  /** CPU µs per event of the RFC 8785 text alone (no SHA-256): MLog's canonicalJson, safe-stable-stringify with sorted members, the reference `canonicalize`. */
  textMicros: number;
  textStableMicros: number;
  textReferenceMicros: number;
  /** canonicalJson of the same documents with every object's members already in RFC 8785 order (no copy needed). */
  textPresortedMicros: number;
  /** The RFC 8785 text, and JSON.stringify, of signed bench events as the ingest path builds them (events/stored-event.ts, then `@log` and `@position`): canonicalJson, safe-stable-stringify, JSON.stringify. */
  builtMicros: number;
  builtStableMicros: number;
  builtStringifyMicros: number;
  /** CPU µs per event of what the ingest path does for `@hash` from the accepted events on: the stored documents built (events/stored-event.ts), `@log` and `@position` filled and `hashedEventText` (the canonical text, SHA-256, the text with `@hash` first), as evidence/evidence-event-store.ts does. */
  buildAndHashMicros: number;
  /** CPU µs per receipt (one event listed) signed with Ed25519: node:crypto (what MLog uses) and jose. */
  receiptMicros: number;
  receiptJoseMicros: number;
  /** CPU µs per event of the log's part of a call of 100 events after `@hash`: the positions settling (leaf hashes, the tree, full chunks' roots) and the receipt (events_root, RFC 8785 payload, Ed25519 signature). */
  logMicros: number;
  /** The same for calls of one event (mostly the receipt's signature). */
  logSingleMicros: number;
}

function sampleDocument(n: number): Record<string, unknown> {
  const uid = randomUUID();
  return {
    event_time: new Date(Date.UTC(2026, 10, 28, 12, 0, n % 60)).toISOString(),
    event_type: 'MPass.User.Authenticated',
    event_id: `evt-${n}`,
    event_correlation: randomUUID(),
    event_level: 'INFO',
    event_source: 'mpass-web-03',
    event_message: `User ${n} authenticated with a qualified certificate; session opened from the citizen portal`,
    event_details: { method: 'certificate', issuer: 'STISC', attempts: 1, flags: ['mfa', 'qualified'] },
    legal_entity: '1003600000000',
    legal_basis: 'Law 142/2018 art. 5',
    legal_reason: 'authentication',
    user: `user-${n}@mpass.gov.md`,
    user_session: randomUUID(),
    user_address: `10.0.${n % 256}.${(n * 7) % 256}`,
    subject: `200${String(n).padStart(10, '0')}`,
    subject_type: 'IDNP',
    subject_name: 'Ion Popescu',
    object: `session-${n}`,
    object_type: 'Session',
    object_name: 'MPass session',
    '@is': 'mpass',
    '@uid': uid,
    '@id': `${uid}-00000`,
    '@received': new Date().toISOString(),
    '@signed': true,
    '@line': 1,
    '@kid': '331eae227433fea6f011c2e89a3f928d',
    '@alg': 'RS256',
    '@jws': `eyJhbGciOiJSUzI1NiIsImtpZCI6IjMzMWVhZTIyNzQzM2ZlYTZmMDExYzJlODlhM2Y5MjhkIn0.${'x'.repeat(420)}.${'y'.repeat(342)}`,
    '@log': 'bench-20261128T120000Z-0123456789ab',
    '@position': n,
  };
}

function cpuMicros(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

const HASHING_ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Chunk writes of the bench's log go nowhere: only the log's own CPU is measured. */
const discardingStore = { putChunks: async () => undefined } as unknown as EvidenceStore;

/**
 * CPU µs per event of settling calls of `perCall` events in an evidence log and signing their
 * receipts, as the ingest path does once each write is answered (median of HASHING_ROUNDS rounds).
 */
export async function measureLogSettling(calls = 200, perCall = 100): Promise<number> {
  const key = await SigningKey.ephemeral();
  const log = new EvidenceLog('bench-log');
  const service = new EvidenceService({ log, key, store: discardingStore, logger: createLogger('error', true), checkpointSeconds: 3600 });
  const received = new Date();
  const uids = Array.from({ length: calls }, () => randomUUID());
  const hashes = Array.from({ length: perCall }, (_, n) => createHash('sha256').update(String(n)).digest('hex'));
  let sink = 0;
  const round = async (): Promise<number> => {
    const before = process.cpuUsage();
    for (const uid of uids) {
      const first = log.reserve(perCall);
      const leaves: LogLeaf[] = [];
      const events = [];
      for (let k = 0; k < perCall; k++) {
        const id = `${uid}-${String(k).padStart(5, '0')}`;
        leaves.push({ kind: 'event', id, hash: hashes[k] as string, is: 'mpass', month: '2026.11' });
        events.push({ id, log: log.id, position: first + k, hash: hashes[k] as string });
      }
      log.settle(first, leaves);
      sink += ((await service.receipt({ uid, is: 'mpass', received, events })) ?? '').length;
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / (calls * perCall);
  };
  await round(); // warm-up
  const rounds: number[] = [];
  for (let i = 0; i < HASHING_ROUNDS; i++) rounds.push(await round());
  if (sink === 0) throw new Error('no receipt');
  return median(rounds);
}

/** The same document with every object's members in RFC 8785 order, as a document builder emitting them sorted would give it. */
function presorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(presorted);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((name) => [name, presorted((value as Record<string, unknown>)[name])]),
  );
}

type TextKind = 'text' | 'textStable' | 'textReference' | 'textPresorted' | 'built' | 'builtStable' | 'builtStringify';

/** Signed bench events (bench/event-generator.ts), parsed, as the ingest path accepts them. */
function acceptedEvents(events: number): AcceptedEvent[] {
  const random = new Random(8785);
  return Array.from({ length: events }, (_, n) => ({
    event: JSON.parse(JSON.stringify(generateEvent(random, { prefix: 'MPASS' }, { personalData: false }))) as Record<string, unknown>,
    origin: `Line ${n + 1}`,
    line: n + 1,
    signature: { jws: `eyJhbGciOiJSUzI1NiJ9.${'x'.repeat(420)}.${'y'.repeat(342)}`, kid: '331eae227433fea6f011c2e89a3f928d', alg: 'RS256', firstEventPosition: n },
  }));
}

/** The stored documents of `accepted` as the ingest path builds them, with `@log` and `@position` set as the evidence log sets them (evidence/evidence-event-store.ts). */
function builtDocuments(accepted: AcceptedEvent[]): Record<string, unknown>[] {
  return buildRegistrationDocuments(accepted, { uid: randomUUID(), isCode: 'mpass', receivedAt: new Date() }).map((written, n) => {
    written.document[LOG_FIELD] = 'bench-log';
    written.document[POSITION_FIELD] = n;
    return written.document;
  });
}

/** CPU µs per event of building the stored documents of `accepted` in calls of 100 and giving each its `@hash` and stored text as the evidence log does. */
function buildAndHash(accepted: AcceptedEvent[]): number {
  const context = { uid: randomUUID(), isCode: 'mpass', receivedAt: new Date() };
  let sink = 0;
  const used = cpuMicros(() => {
    for (let from = 0; from < accepted.length; from += 100) {
      for (const [n, written] of buildRegistrationDocuments(accepted.slice(from, from + 100), context).entries()) {
        const document = written.document;
        document[LOG_FIELD] = 'bench-log';
        document[POSITION_FIELD] = from + n;
        const { hash, text } = hashedEventText(document);
        document[HASH_FIELD] = hash;
        sink += text.length;
      }
    }
  });
  if (sink === 0) throw new Error('nothing hashed');
  return used / accepted.length;
}

/** Measures `events` documents (after a warm-up of as many), median of HASHING_ROUNDS rounds: CPU µs per event, and per receipt. */
export async function measureEventHashing(events = 10_000): Promise<HashingCost> {
  const documents = Array.from({ length: events }, (_, n) => sampleDocument(n));
  const sortedDocuments = documents.map(presorted);
  const accepted = acceptedEvents(events);
  const built = builtDocuments(accepted);
  let sink = 0;
  for (const [n, document] of documents.entries()) {
    // warm-up, and the check that the texts compared are one text
    const text = canonicalJson(document);
    if (text !== referenceCanonicalize(document) || text !== generalCanonicalJson(document) || text !== canonicalJson(sortedDocuments[n])) throw new Error('the canonical texts differ');
    sink += storedEventHash(document).length + text.length;
  }
  // Five rounds, the kinds alternating within each, and the median of each kind: a burst of load on a
  // shared machine then shifts one round of one kind, not the figure.
  const rounds: Record<'hash' | 'reference' | 'stable' | 'both' | 'stringify' | TextKind, number[]> = { hash: [], reference: [], stable: [], both: [], stringify: [], text: [], textStable: [], textReference: [], textPresorted: [], built: [], builtStable: [], builtStringify: [] };
  const textRound = (kind: TextKind, canonical: (value: unknown) => string | undefined, inputs: unknown[] = documents): void => {
    rounds[kind].push(
      cpuMicros(() => {
        for (const document of inputs) sink += (canonical(document) as string).length;
      }),
    );
  };
  const buildAndHashRounds: number[] = [];
  buildAndHash(accepted); // warm-up
  for (let round = 0; round < HASHING_ROUNDS; round++) {
    buildAndHashRounds.push(buildAndHash(accepted));
    textRound('text', canonicalJson);
    textRound('textStable', generalCanonicalJson);
    textRound('textReference', referenceCanonicalize);
    textRound('textPresorted', canonicalJson, sortedDocuments);
    textRound('built', canonicalJson, built);
    textRound('builtStable', generalCanonicalJson, built);
    textRound('builtStringify', JSON.stringify, built);
    rounds.hash.push(
      cpuMicros(() => {
        for (const document of documents) sink += storedEventHash(document).length;
      }),
    );
    rounds.reference.push(
      cpuMicros(() => {
        for (const document of documents) sink += createHash('sha256').update(referenceCanonicalize(document)).digest('hex').length;
      }),
    );
    rounds.stable.push(
      cpuMicros(() => {
        for (const document of documents) sink += sha256Hex(generalCanonicalJson(document)).length;
      }),
    );
    rounds.both.push(
      cpuMicros(() => {
        for (const document of documents) {
          const hashed = storedEventHash(document);
          sink += hashLeaf({ kind: 'event', id: document['@id'] as string, hash: hashed, is: 'mpass', month: '2026.11' }).length;
        }
      }),
    );
    rounds.stringify.push(
      cpuMicros(() => {
        for (const document of documents) sink += JSON.stringify(document).length;
      }),
    );
  }
  const hash = median(rounds.hash);
  const reference = median(rounds.reference);
  const stable = median(rounds.stable);
  const both = median(rounds.both);
  const stringify = median(rounds.stringify);
  const text = (kind: TextKind): number => median(rounds[kind]) / events;
  if (sink === 0) throw new Error('nothing hashed');
  const key = await SigningKey.ephemeral();
  const receipt = JSON.stringify({ count: 1, events: [{ hash: 'a'.repeat(64), id: `${randomUUID()}-00000`, position: 1 }], events_root: 'b'.repeat(64), first_position: 1, is: 'mpass', iss: 'MLog', log: 'bench-log', received: new Date().toISOString(), uid: randomUUID() });
  const receipts = 2_000;
  for (let i = 0; i < 200; i++) key.signNow(receipt, 'mlog-receipt+jws');
  const now = cpuMicros(() => {
    for (let i = 0; i < receipts; i++) sink += key.signNow(receipt, 'mlog-receipt+jws').length;
  });
  const before = process.cpuUsage();
  for (let i = 0; i < receipts; i++) sink += (await key.sign(receipt, 'mlog-receipt+jws')).length;
  const used = process.cpuUsage(before);
  const logMicros = await measureLogSettling();
  const logSingleMicros = await measureLogSettling(2_000, 1);
  return { events, hashMicros: hash / events, referenceHashMicros: reference / events, stableHashMicros: stable / events, hashAndLeafMicros: both / events, stringifyMicros: stringify / events, textMicros: text('text'), textStableMicros: text('textStable'), textReferenceMicros: text('textReference'), textPresortedMicros: text('textPresorted'), builtMicros: text('built'), builtStableMicros: text('builtStable'), builtStringifyMicros: text('builtStringify'), buildAndHashMicros: median(buildAndHashRounds), receiptMicros: now / receipts, receiptJoseMicros: (used.user + used.system) / receipts, logMicros, logSingleMicros };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cost = await measureEventHashing();
  process.stdout.write(
    `evidence hashing, ${cost.events.toLocaleString('en')} documents of 31 fields: @hash (RFC 8785 + SHA-256) ${cost.hashMicros.toFixed(1)} µs CPU/event (with safe-stable-stringify's text: ${cost.stableHashMicros.toFixed(1)} µs; with the reference canonicalize: ${cost.referenceHashMicros.toFixed(1)} µs), ` +
      `with the leaf hash ${cost.hashAndLeafMicros.toFixed(1)} µs; JSON.stringify of the same document ${cost.stringifyMicros.toFixed(1)} µs (ratio ${(cost.hashAndLeafMicros / cost.stringifyMicros).toFixed(1)} ×)\n` +
      `the RFC 8785 text alone, µs CPU/event: canonicalJson ${cost.textMicros.toFixed(1)} (members already in order: ${cost.textPresortedMicros.toFixed(1)}), safe-stable-stringify ${cost.textStableMicros.toFixed(1)} (${(cost.textStableMicros / cost.textMicros).toFixed(2)} ×), canonicalize ${cost.textReferenceMicros.toFixed(1)} (${(cost.textReferenceMicros / cost.textMicros).toFixed(2)} ×)\n` +
      `signed bench events as the ingest path builds them (events/stored-event.ts, @log, @position), µs CPU/event: canonicalJson ${cost.builtMicros.toFixed(1)}, safe-stable-stringify ${cost.builtStableMicros.toFixed(1)} (${(cost.builtStableMicros / cost.builtMicros).toFixed(2)} ×), JSON.stringify ${cost.builtStringifyMicros.toFixed(1)}; built, @log and @position filled, hashedEventText (text, SHA-256, @hash first): ${cost.buildAndHashMicros.toFixed(1)}\n` +
      `receipt (Ed25519, one event listed): ${cost.receiptMicros.toFixed(1)} µs CPU with node:crypto, ${cost.receiptJoseMicros.toFixed(1)} µs with jose\n` +
      `the log's part of calls after @hash (settling, receipt): ${cost.logMicros.toFixed(1)} µs CPU/event in calls of 100 events, ${cost.logSingleMicros.toFixed(1)} µs in calls of one\n`,
  );
}
