/**
 * `npm run bench:hot-path`: the per-event costs of MLog's ingest hot path, in this process, without
 * Elasticsearch or HTTP — the figures behind the choices in docs/performance.md ("What was made
 * faster"). Each line prints µs per event (or per verification) for MLog's route and, where a choice
 * was made, for the route it replaced. Prints figures; asserts nothing.
 */
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CompactSign } from 'jose';
import { verifyJwsSignature, verifyJwsSignatureNow } from '../src/auth/jws-signature.js';
import { readBodyLines } from '../src/events/event-body-reader.js';
import { findEventProblem } from '../src/events/event-validator.js';
import { parseJsonObject, type JsonObject } from '../src/json/json-object-parser.js';
import { buildRegistrationDocuments, type AcceptedEvent } from '../src/events/stored-event.js';
import { prepareCreate } from '../src/storage/bulk-batcher.js';
import { indexNameOf } from '../src/storage/index-names.js';
import { generateEvent, Random } from './event-generator.js';

const EVENTS = 100;
const ROUNDS = 300;

/** µs per item of `fn` (which handles `items` items per call), after a warm-up. */
function timed(fn: () => void, items: number): number {
  for (let i = 0; i < 50; i++) fn();
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) fn();
  return ((performance.now() - started) * 1000) / ROUNDS / items;
}

/**
 * Wall µs per verification and event-loop µs per verification (what other calls wait for), with 8
 * verifications in flight at a time (a few calls' lines at once; thousands in flight at once would
 * keep the loop busy with completions alone).
 */
async function verifications(count: number, start: () => Promise<unknown>): Promise<{ wallUs: number; loopUs: number }> {
  const run = async (total: number): Promise<void> => {
    let started = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (started++ < total) await start();
    }));
  };
  await run(500);
  const loopBefore = performance.eventLoopUtilization();
  const began = performance.now();
  await run(count);
  const loop = performance.eventLoopUtilization(loopBefore);
  return { wallUs: ((performance.now() - began) * 1000) / count, loopUs: (loop.active * 1000) / count };
}

function line(name: string, value: number, unit: string, note = ''): void {
  process.stdout.write(`${name.padEnd(58)} ${value.toFixed(1).padStart(7)} ${unit}${note === '' ? '' : `  ${note}`}\n`);
}

async function main(): Promise<void> {
  const random = new Random(11);
  const texts = Array.from({ length: EVENTS }, () => JSON.stringify(generateEvent(random, { prefix: 'MPass' }, { at: Date.now() })));
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwsLines = await Promise.all(texts.map((text) => new CompactSign(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'RS256', kid: '01' }).sign(privateKey)));
  const body = jwsLines.join('\n');
  process.stdout.write(`${EVENTS} events of ${Math.round(texts.reduce((sum, text) => sum + text.length, 0) / EVENTS)} bytes, signed RS256 (2048-bit): JWS lines of ~${jwsLines[0]?.length} characters\n\n`);

  // Reading the body: which lines are JWS.
  line('readBodyLines (regular expression per line)', timed(() => readBodyLines(body), EVENTS), 'µs/line');
  const isBase64Url = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 45 || code === 95;
  const characterLoop = (text: string): boolean => {
    let dots = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 46) dots++;
      else if (!isBase64Url(code)) return false;
    }
    return dots === 2;
  };
  const split = body.split('\n');
  line('  replaced: a character loop over each line', timed(() => split.forEach(characterLoop), EVENTS), 'µs/line');

  // Signature verification.
  const signingInputs = jwsLines.map((jws) => jws.slice(0, jws.lastIndexOf('.')));
  const signatures = jwsLines.map((jws) => Buffer.from(jws.slice(jws.lastIndexOf('.') + 1), 'base64url'));
  let n = 0;
  const mlogRoute = await verifications(2_000, () => {
    const at = n++ % EVENTS;
    return verifyJwsSignature('RS256', signingInputs[at] as string, signatures[at] as Buffer, publicKey);
  });
  line('RS256 verify, node:crypto with callback (MLog, > 4 lines)', mlogRoute.loopUs, 'µs/verification', `(event loop; wall ${mlogRoute.wallUs.toFixed(1)} µs; the RSA work runs on the thread pool)`);
  const cryptoKey = await webcrypto.subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  const encoded = signingInputs.map((input) => new TextEncoder().encode(input));
  const webCryptoRoute = await verifications(2_000, () => {
    const at = n++ % EVENTS;
    return webcrypto.subtle.verify('RSASSA-PKCS1-v1_5', cryptoKey, signatures[at] as Buffer, encoded[at] as Uint8Array);
  });
  line('  replaced: WebCrypto (the route jose 6 takes): event loop', webCryptoRoute.loopUs, 'µs/verification', `(wall ${webCryptoRoute.wallUs.toFixed(1)} µs)`);
  const syncRoute = await verifications(2_000, async () => {
    const at = n++ % EVENTS;
    return verifyJwsSignatureNow('RS256', signingInputs[at] as string, signatures[at] as Buffer, publicKey);
  });
  line('RS256 verify in place (MLog, calls of up to 4 signed lines)', syncRoute.loopUs, 'µs/verification', '(event loop; cheaper in CPU than one hand-off: npm run bench:jws-verification)');

  // Parsing, building the documents, serialising them.
  let events: JsonObject[] = [];
  line('parseJsonObject (duplicate keys, exact numbers)', timed(() => (events = texts.map((text) => (parseJsonObject(text) as { value: JsonObject }).value)), EVENTS), 'µs/event');
  line('findEventProblem (names, shapes, strings, numbers)', timed(() => { for (const event of events) findEventProblem(event); }, EVENTS), 'µs/event');
  const accepted: AcceptedEvent[] = events.map((event, position) => ({ event, origin: `Line ${position + 1}`, line: position + 1, signature: { jws: jwsLines[position] as string, kid: '01', alg: 'RS256', firstEventPosition: position } }));
  const context = { uid: '3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b', isCode: 'mpass', receivedAt: new Date() };
  const documents = buildRegistrationDocuments(accepted, context);
  line('buildRegistrationDocuments (members in RFC 8785 order)', timed(() => buildRegistrationDocuments(accepted, context), EVENTS), 'µs/event');
  line(
    '  replaced earlier: object spread of the event plus MLog fields',
    timed(() => {
      for (const { event, line: at } of accepted) void { ...event, '@is': 'mpass', '@uid': context.uid, '@id': 'x', '@received': 'r', '@signed': true, '@line': at };
    }, EVENTS),
    'µs/event',
  );
  line('prepareCreate (NDJSON lines, serialised once)', timed(() => documents.forEach((doc) => prepareCreate(indexNameOf(doc.target), doc.id, doc.document)), EVENTS), 'µs/event');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
