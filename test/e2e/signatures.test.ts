/**
 * Signed events end to end: JWS compact serialization over real mutual TLS into a real MLog. Checks the
 * accepted algorithms and what is stored with a signed event (@signed, @kid, @alg, @jws, @jws_ref),
 * and every refusal (401 for anything that makes a signature untrustworthy, 400 for malformed tokens),
 * proving by a unique marker that a refused call stores nothing.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHmac, createPublicKey, randomUUID, sign as cryptoSign, X509Certificate } from 'node:crypto';
import { FlattenedSign, importPKCS8 } from 'jose';
import type { IssuedCertificate } from '../../scripts/dev-pki.js';
import { TestMLog, TestSystem, event, uniqueCode, type HttpAnswer } from '../helpers/test-mlog.js';
import { closeInspectionClient, countDocuments, documentsWithMarker, eventIndexPattern, inspectionClient, storedEvents, type StoredDocument } from '../helpers/elasticsearch-inspection.js';
import { SIGNATURES_VERIFIED_IN_LINE } from '../../src/events/ingest-service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let mlog: TestMLog;
let rsa: TestSystem;
let p256: TestSystem;
let p384: TestSystem;
let other: TestSystem;

before(async () => {
  mlog = await TestMLog.start();
  [rsa, p256, p384, other] = await Promise.all([
    mlog.addSystem({ keyType: 'rsa' }),
    mlog.addSystem({ keyType: 'ec-p256' }),
    mlog.addSystem({ keyType: 'ec-p384' }),
    mlog.addSystem({ keyType: 'rsa' }),
  ]);
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

// ---------------------------------------------------------------------------------------------------
// Helpers

function marker(): string {
  return `marker-${randomUUID()}`;
}

function b64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

function assertEnvelope(answer: HttpAnswer, status: number): Record<string, any> {
  assert.equal(answer.status, status, `expected HTTP ${status}, got ${answer.status}: ${answer.text}`);
  const body = answer.json as Record<string, any> | undefined;
  assert.ok(body !== null && typeof body === 'object', `the answer is a JSON object: ${answer.text}`);
  assert.equal(body.status, String(status));
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  assert.doesNotMatch(body.message, /\n\s+at |\[object Object\]/);
  assert.match(String(body.timestamp), /^\d{13}$/);
  return body;
}

function assertRegistered(answer: HttpAnswer): string {
  const body = assertEnvelope(answer, 200);
  assert.equal(body.message, 'OK');
  assert.match(String(body.UID), UUID);
  return body.UID as string;
}

function assertRefused(answer: HttpAnswer, status: number, ...patterns: RegExp[]): void {
  const body = assertEnvelope(answer, status);
  assert.equal(body.UID, undefined);
  for (const pattern of patterns) assert.match(body.message, pattern);
}

async function assertNothingStored(system: TestSystem, mark: string): Promise<void> {
  const found = await documentsWithMarker(system.code, mark);
  assert.deepEqual(
    found.map((doc) => `${doc.index}/${doc.id}`),
    [],
    'a refused call stores nothing',
  );
}

/** Sends `body`, expects a refusal with `status` and messages, and checks nothing with `mark` was stored. */
async function expectRefusal(system: TestSystem, body: string, mark: string, status: number, ...patterns: RegExp[]): Promise<void> {
  assertRefused(await system.register(body, { headers: { 'Content-Type': 'text/plain' } }), status, ...patterns);
  await assertNothingStored(system, mark);
}

/**
 * A JWS built by hand: the protected header is `headerJson` exactly as given (so it may repeat a key or
 * carry headers jose refuses to sign), the payload segment as given, signed with node:crypto.
 */
function signByHand(headerJson: string, payloadSegment: string, keyPem: string, alg: string): string {
  const input = `${b64url(headerJson)}.${payloadSegment}`;
  const hash = `sha${alg.slice(2)}`;
  let signature: Buffer;
  if (alg.startsWith('RS')) signature = cryptoSign(hash, Buffer.from(input), keyPem);
  else if (alg.startsWith('PS')) {
    signature = cryptoSign(hash, Buffer.from(input), { key: keyPem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  } else signature = cryptoSign(hash, Buffer.from(input), { key: keyPem, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function assertSignedDocument(doc: StoredDocument, certificate: IssuedCertificate, alg: string): void {
  assert.equal(doc.source['@signed'], true);
  assert.equal(doc.source['@kid'], certificate.serialHex);
  assert.equal(doc.source['@alg'], alg);
}

// ---------------------------------------------------------------------------------------------------

describe('accepted signatures', () => {
  const cases: [string, () => TestSystem][] = [
    ['RS256', () => rsa],
    ['RS384', () => rsa],
    ['RS512', () => rsa],
    ['PS256', () => rsa],
    ['PS384', () => rsa],
    ['PS512', () => rsa],
    ['ES256', () => p256],
    ['ES384', () => p384],
  ];
  for (const [alg, system] of cases) {
    test(`${alg} → 200, stored with @signed, @kid = serial, @alg and @jws = the JWS sent`, async () => {
      const is = system();
      const sent = event({ event_correlation: marker(), legal_basis: 'Law 133/2011', note: alg });
      const jws = await is.sign(sent, { alg });
      const uid = assertRegistered(await is.register(jws, { headers: { 'Content-Type': 'text/plain' } }));
      const docs = await storedEvents(is.code, uid);
      assert.equal(docs.length, 1);
      const doc = docs[0] as StoredDocument;
      assertSignedDocument(doc, is.certificate, alg);
      assert.equal(doc.source['@jws'], jws, '@jws is the exact JWS text sent');
      assert.equal(doc.source['@uid'], uid);
      for (const [name, value] of Object.entries(sent)) assert.deepEqual(doc.source[name], value);

      const answer = await is.call(`/query/${uid}`);
      assert.deepEqual(assertEnvelope(answer, 200).result, [{ ...sent, '@uid': uid }], 'the query answers the event as signed, without MLog internals');
    });
  }

  test('@jws is stored but not indexed; @kid and @signed are indexed', async () => {
    const sent = event({ event_correlation: marker() });
    const jws = await rsa.sign(sent);
    const uid = assertRegistered(await rsa.register(jws));
    const pattern = eventIndexPattern(rsa.code);
    const inCall = (clause: Record<string, unknown>) => ({ bool: { filter: [{ term: { '@uid': uid } }, clause] } });
    assert.equal(await countDocuments(pattern, inCall({ term: { '@jws': jws } })), 0);
    assert.equal(await countDocuments(pattern, inCall({ exists: { field: '@jws' } })), 0);
    assert.equal(await countDocuments(pattern, inCall({ term: { '@kid': rsa.certificate.serialHex } })), 1);
    assert.equal(await countDocuments(pattern, inCall({ term: { '@signed': true } })), 1);
    const docs = await storedEvents(rsa.code, uid);
    const mapping = await inspectionClient().indices.getMapping({ index: docs[0]?.index as string });
    const properties = Object.values(mapping)[0]?.mappings.properties as Record<string, any>;
    assert.equal(properties['@jws']?.enabled, false, '@jws is mapped as not indexed');
  });

  test('a kid in upper case is accepted', async () => {
    const serial = rsa.certificate.serialHex;
    const sent = event({ event_correlation: marker() });
    const jws = await rsa.sign(sent, { header: { kid: serial.toUpperCase() } });
    const uid = assertRegistered(await rsa.register(jws));
    const docs = await storedEvents(rsa.code, uid);
    assertSignedDocument(docs[0] as StoredDocument, rsa.certificate, 'RS256');
  });

  test('a kid with leading zeros is accepted', async () => {
    const sent = event({ event_correlation: marker() });
    const jws = await p256.sign(sent, { header: { kid: `000${p256.certificate.serialHex}` } });
    const uid = assertRegistered(await p256.register(jws));
    const docs = await storedEvents(p256.code, uid);
    assertSignedDocument(docs[0] as StoredDocument, p256.certificate, 'ES256');
    assert.equal(docs[0]?.source['@jws'], jws);
  });

  test('a kid as node prints the serial (upper case, whole bytes, colon-free) is accepted', async () => {
    const nodeSerial = new X509Certificate(rsa.certificate.certPem).serialNumber;
    const jws = await rsa.sign(event({ event_correlation: marker() }), { header: { kid: nodeSerial } });
    assertRegistered(await rsa.register(jws));
  });

  test('a JWS built by hand with node:crypto (the control for the hand-built refusals) is accepted', async () => {
    const sent = event({ event_correlation: marker() });
    const jws = signByHand(JSON.stringify({ alg: 'PS256', kid: rsa.certificate.serialHex }), b64url(JSON.stringify(sent)), rsa.certificate.keyPem, 'PS256');
    const uid = assertRegistered(await rsa.register(jws));
    assert.equal((await storedEvents(rsa.code, uid)).length, 1);
  });

  test('a JWS payload holding 3 newline-separated events → 3 events under one UID, @jws on the first, @jws_ref on the others', async () => {
    const mark = marker();
    const sent = [event({ event_correlation: mark, event_id: 'p-1' }), event({ event_correlation: mark, event_id: 'p-2' }), event({ event_correlation: mark, event_id: 'p-3' })];
    const jws = await p384.sign(sent.map((e) => JSON.stringify(e)).join('\r\n'));
    const uid = assertRegistered(await p384.register(jws));
    const docs = await storedEvents(p384.code, uid);
    assert.equal(docs.length, 3);
    assert.deepEqual(
      docs.map((doc) => doc.source.event_id),
      ['p-1', 'p-2', 'p-3'],
    );
    for (const doc of docs) assertSignedDocument(doc, p384.certificate, 'ES384');
    assert.equal(docs[0]?.source['@jws'], jws);
    assert.equal(docs[0]?.source['@jws_ref'], undefined);
    for (const doc of docs.slice(1)) {
      assert.equal(doc.source['@jws'], undefined, 'the JWS text is kept once');
      assert.equal(doc.source['@jws_ref'], docs[0]?.id, '@jws_ref names the event that keeps the JWS');
    }
    assert.equal(new Set(docs.map((doc) => doc.id)).size, 3);
  });

  test('a mixed batch (JWS line, JSON line, JWS line) → one UID with all events', async () => {
    const mark = marker();
    const first = event({ event_correlation: mark, event_id: 'm-1' });
    const plain = event({ event_correlation: mark, event_id: 'm-2' });
    const thirdA = event({ event_correlation: mark, event_id: 'm-3' });
    const thirdB = event({ event_correlation: mark, event_id: 'm-4' });
    const jws1 = await rsa.sign(first, { alg: 'RS512' });
    const jws3 = await rsa.sign(`${JSON.stringify(thirdA)}\n${JSON.stringify(thirdB)}`, { alg: 'PS384' });
    const uid = assertRegistered(await rsa.register(`${jws1}\r\n${JSON.stringify(plain)}\r\n\r\n${jws3}\r\n`));
    const docs = await storedEvents(rsa.code, uid);
    assert.deepEqual(
      docs.map((doc) => doc.source.event_id),
      ['m-1', 'm-2', 'm-3', 'm-4'],
    );
    assert.deepEqual(
      docs.map((doc) => doc.source['@signed']),
      [true, false, true, true],
    );
    assertSignedDocument(docs[0] as StoredDocument, rsa.certificate, 'RS512');
    assert.equal(docs[0]?.source['@jws'], jws1);
    assert.equal(docs[1]?.source['@kid'], undefined);
    assert.equal(docs[1]?.source['@jws'], undefined);
    assertSignedDocument(docs[2] as StoredDocument, rsa.certificate, 'PS384');
    assert.equal(docs[2]?.source['@jws'], jws3);
    assert.equal(docs[3]?.source['@jws_ref'], docs[2]?.id);
  });

  describe('an IS whose certificate has a negative serial number', () => {
    /** Registers an IS with a certificate of serial `serial` (node prints -0x4d2 as "-04D2", Java as "-4d2"). */
    async function systemWithSerial(serial: bigint): Promise<TestSystem> {
      const code = uniqueCode('negative');
      const certificate = await mlog.issueCertificate(code, { serial });
      const answer = await mlog.callAdmin('/admin/systems', {
        method: 'POST',
        body: JSON.stringify({ code, name: 'Negative serial', idno: '1003600000000', certificates: [certificate.certPem], status: 'active' }),
      });
      assert.equal(answer.status, 201, answer.text);
      return new TestSystem(code, certificate, mlog);
    }

    for (const [serial, kids] of [
      [-0x4d2n, ['-4d2', '-04d2', '-004D2']],
      [-0x1234n, ['-1234', '-01234', '-0001234']],
    ] as const) {
      test(`serial -0x${(-serial).toString(16)}: the kids ${kids.join(', ')} are all accepted (case and leading zeros ignored), @kid in Java's form`, async () => {
        const system = await systemWithSerial(serial);
        assert.equal(system.certificate.serialHex, `-${(-serial).toString(16)}`);
        for (const kid of kids) {
          const jws = await system.sign(event({ event_correlation: marker() }), { header: { kid } });
          const uid = assertRegistered(await system.register(jws));
          const docs = await storedEvents(system.code, uid);
          assert.equal(docs[0]?.source['@kid'], system.certificate.serialHex, `kid ${kid}`);
        }
      });
    }
  });

  test('a signed pretty-printed payload (one object over several lines) is one event', async () => {
    const sent = event({ event_correlation: marker(), nested: { a: 1 } });
    const uid = assertRegistered(await p256.register(await p256.sign(JSON.stringify(sent, null, 2))));
    const docs = await storedEvents(p256.code, uid);
    assert.equal(docs.length, 1);
    assert.deepEqual(docs[0]?.source.nested, { a: 1 });
  });
});

describe('refused with 401', () => {
  test('alg none (an unsigned token with an empty signature part)', async () => {
    const mark = marker();
    const jws = `${b64url(JSON.stringify({ alg: 'none', kid: rsa.certificate.serialHex }))}.${b64url(JSON.stringify(event({ event_correlation: mark })))}.`;
    await expectRefusal(rsa, jws, mark, 401, /Line 1\b/, /none/);
  });

  test('no alg at all', async () => {
    const mark = marker();
    const jws = `${b64url(JSON.stringify({ kid: rsa.certificate.serialHex }))}.${b64url(JSON.stringify(event({ event_correlation: mark })))}.${b64url('x')}`;
    await expectRefusal(rsa, jws, mark, 401, /the JWS protected header has no "alg"; use one of RS256/);
  });

  test('alg None', async () => {
    const mark = marker();
    const jws = `${b64url(JSON.stringify({ alg: 'None', kid: rsa.certificate.serialHex }))}.${b64url(JSON.stringify(event({ event_correlation: mark })))}.`;
    await expectRefusal(rsa, jws, mark, 401, /None/);
  });

  test('alg none with a non-empty signature part', async () => {
    const mark = marker();
    const jws = `${b64url(JSON.stringify({ alg: 'none', kid: rsa.certificate.serialHex }))}.${b64url(JSON.stringify(event({ event_correlation: mark })))}.${b64url('x')}`;
    await expectRefusal(rsa, jws, mark, 401);
  });

  test('HS256 with the certificate PEM as the HMAC secret', async () => {
    const mark = marker();
    const input = `${b64url(JSON.stringify({ alg: 'HS256', kid: rsa.certificate.serialHex }))}.${b64url(JSON.stringify(event({ event_correlation: mark })))}`;
    const signature = createHmac('sha256', rsa.certificate.certPem).update(input).digest('base64url');
    await expectRefusal(rsa, `${input}.${signature}`, mark, 401, /HS256/);
  });

  test('HS256 with the public key (SPKI PEM) as the HMAC secret', async () => {
    const mark = marker();
    const input = `${b64url(JSON.stringify({ alg: 'HS256', kid: rsa.certificate.serialHex }))}.${b64url(JSON.stringify(event({ event_correlation: mark })))}`;
    const secret = createPublicKey(rsa.certificate.certPem).export({ type: 'spki', format: 'pem' });
    const signature = createHmac('sha256', secret).update(input).digest('base64url');
    await expectRefusal(rsa, `${input}.${signature}`, mark, 401, /HS256/);
  });

  test('ES512 (not an accepted algorithm)', async () => {
    const mark = marker();
    const jws = signByHand(JSON.stringify({ alg: 'ES512', kid: p256.certificate.serialHex }), b64url(JSON.stringify(event({ event_correlation: mark }))), p256.certificate.keyPem, 'ES256');
    await expectRefusal(p256, jws, mark, 401, /ES512/);
  });

  const keyHeaders: [string, () => Record<string, unknown>][] = [
    ['jwk', () => ({ jwk: createPublicKey(rsa.certificate.certPem).export({ format: 'jwk' }) })],
    ['x5c', () => ({ x5c: [new X509Certificate(rsa.certificate.certPem).raw.toString('base64')] })],
    ['jku', () => ({ jku: 'https://attacker.example/jwks.json' })],
    ['x5u', () => ({ x5u: 'https://attacker.example/cert.pem' })],
  ];
  for (const [name, header] of keyHeaders) {
    test(`a "${name}" in the header (even naming the IS's own key)`, async () => {
      const mark = marker();
      const jws = await rsa.sign(event({ event_correlation: mark }), { header: header() });
      await expectRefusal(rsa, jws, mark, 401, new RegExp(`"${name}"`));
    });
  }

  test("the kid of another IS's certificate (signed with that IS's key)", async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark }), { certificate: other.certificate });
    await expectRefusal(rsa, jws, mark, 401, /kid/);
    await assertNothingStored(other, mark);
  });

  test("the IS's own kid over a signature made with another IS's key", async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark }), { certificate: other.certificate, header: { kid: rsa.certificate.serialHex } });
    await expectRefusal(rsa, jws, mark, 401, /signature/);
  });

  test('an unknown kid', async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark }), { header: { kid: 'abcdef0123456789abcdef' } });
    await expectRefusal(rsa, jws, mark, 401, /kid/);
  });

  test('no kid', async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark }), { header: { kid: undefined } });
    assert.equal(JSON.parse(Buffer.from(jws.split('.')[0] as string, 'base64url').toString()).kid, undefined);
    await expectRefusal(rsa, jws, mark, 401, /kid/);
  });

  for (const [label, pad] of [
    ['spaces before', (kid: string) => `  ${kid}`],
    ['spaces after', (kid: string) => `${kid} `],
    ['a newline after', (kid: string) => `${kid}\n`],
    ['a tab inside', (kid: string) => `${kid.slice(0, 4)}\t${kid.slice(4)}`],
  ] as const) {
    test(`the IS's own kid with ${label} → 401 saying the kid is not a serial in hex`, async () => {
      const mark = marker();
      const jws = await rsa.sign(event({ event_correlation: mark }), { header: { kid: pad(rsa.certificate.serialHex) } });
      await expectRefusal(rsa, jws, mark, 401, /Line 1: the JWS kid .* is not a serial number in hex/, /no spaces/);
    });
  }

  test('a kid that is not a string', async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark }), { header: { kid: 12345 } });
    await expectRefusal(rsa, jws, mark, 401, /kid/);
  });

  test('a signature that does not verify (payload altered after signing)', async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark, amount: '100' }));
    const [header, , signature] = jws.split('.');
    const altered = `${header}.${b64url(JSON.stringify(event({ event_correlation: mark, amount: '1000000' })))}.${signature}`;
    await expectRefusal(rsa, altered, mark, 401, /signature/);
  });

  // A call of up to SIGNATURES_VERIFIED_IN_LINE signed lines is verified on the event loop, a longer one on the thread pool: both routes through the door.
  test(`a batch of ${SIGNATURES_VERIFIED_IN_LINE} signed lines and one of ${SIGNATURES_VERIFIED_IN_LINE + 2} are stored whole; a line whose signature does not verify refuses either, naming it`, async () => {
    for (const lines of [SIGNATURES_VERIFIED_IN_LINE, SIGNATURES_VERIFIED_IN_LINE + 2]) {
      const mark = marker();
      const signed = await Promise.all(Array.from({ length: lines }, (_, index) => rsa.sign(event({ event_correlation: mark, event_id: `batch-${index + 1}` }))));
      const uid = assertRegistered(await rsa.register(signed.join('\n'), { headers: { 'Content-Type': 'text/plain' } }));
      const stored = await documentsWithMarker(rsa.code, mark);
      assert.equal(stored.length, lines, `${lines} signed lines, ${lines} events`);
      for (const doc of stored) assert.equal(doc.source['@uid'], uid);

      const refusedMark = marker();
      const batch = await Promise.all(Array.from({ length: lines }, (_, index) => rsa.sign(event({ event_correlation: refusedMark, event_id: `refused-${index + 1}`, amount: '100' }))));
      const [header, , signature] = (batch[lines - 2] as string).split('.');
      batch[lines - 2] = `${header}.${b64url(JSON.stringify(event({ event_correlation: refusedMark, event_id: `refused-${lines - 1}`, amount: '1000000' })))}.${signature}`;
      await expectRefusal(rsa, batch.join('\n'), refusedMark, 401, new RegExp(`^Line ${lines - 1}: the JWS signature does not verify`));
    }
  });

  test('a header altered after signing (alg switched within the accepted list)', async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark }), { alg: 'RS256' });
    const [, payload, signature] = jws.split('.');
    const altered = `${b64url(JSON.stringify({ alg: 'PS256', kid: rsa.certificate.serialHex }))}.${payload}.${signature}`;
    await expectRefusal(rsa, altered, mark, 401, /signature/);
  });

  test('an empty signature part with an accepted alg', async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark }));
    const [header, payload] = jws.split('.');
    await expectRefusal(rsa, `${header}.${payload}.`, mark, 401, /signature/);
  });

  test('an RSA alg over an EC certificate (key type mismatch) → 401, not 500', async () => {
    const mark = marker();
    const jws = signByHand(JSON.stringify({ alg: 'RS256', kid: p256.certificate.serialHex }), b64url(JSON.stringify(event({ event_correlation: mark }))), p256.certificate.keyPem, 'ES256');
    await expectRefusal(p256, jws, mark, 401);
  });

  test('ES384 over a P-256 certificate (curve mismatch) → 401, not 500', async () => {
    const mark = marker();
    const jws = signByHand(JSON.stringify({ alg: 'ES384', kid: p256.certificate.serialHex }), b64url(JSON.stringify(event({ event_correlation: mark }))), p256.certificate.keyPem, 'ES384');
    await expectRefusal(p256, jws, mark, 401);
  });

  test('ES256 over an RSA certificate → 401, not 500', async () => {
    const mark = marker();
    const jws = signByHand(JSON.stringify({ alg: 'ES256', kid: rsa.certificate.serialHex }), b64url(JSON.stringify(event({ event_correlation: mark }))), rsa.certificate.keyPem, 'RS256');
    await expectRefusal(rsa, jws, mark, 401);
  });

  test('a signed line 2 of a batch that does not verify → 401 naming line 2, line 1 not stored', async () => {
    const mark = marker();
    const good = await rsa.sign(event({ event_correlation: mark }));
    const bad = await rsa.sign(event({ event_correlation: mark }), { header: { kid: 'fedcba' } });
    await expectRefusal(rsa, `${good}\n${bad}`, mark, 401, /Line 2\b/);
  });

  test('the kid of an expired certificate registered to the IS', async () => {
    const system = await mlog.addSystem();
    const expired = await mlog.issueCertificate(`${system.code}-expired`, { notBefore: new Date(Date.now() - 30 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const patched = await mlog.callAdmin(`/admin/systems/${system.code}`, { method: 'PATCH', body: JSON.stringify({ certificates: [system.certificate.certPem, expired.certPem] }) });
    assert.equal(patched.status, 200, patched.text);
    // The TLS client certificate is still the valid one: an event it signs is accepted.
    assertRegistered(await system.register(await system.sign(event())));
    const mark = marker();
    const jws = await system.sign(event({ event_correlation: mark }), { certificate: expired });
    await expectRefusal(system, jws, mark, 401, /expired/);
  });

  test('the kid of a not-yet-valid certificate registered to the IS', async () => {
    const system = await mlog.addSystem({ keyType: 'ec-p256' });
    const future = await mlog.issueCertificate(`${system.code}-future`, { keyType: 'ec-p256', notBefore: new Date(Date.now() + 86_400_000), notAfter: new Date(Date.now() + 30 * 86_400_000) });
    const patched = await mlog.callAdmin(`/admin/systems/${system.code}`, { method: 'PATCH', body: JSON.stringify({ certificates: [system.certificate.certPem, future.certPem] }) });
    assert.equal(patched.status, 200, patched.text);
    const mark = marker();
    const jws = await system.sign(event({ event_correlation: mark }), { certificate: future });
    await expectRefusal(system, jws, mark, 401, /not valid before/);
  });

  describe('an IS with require_signature', () => {
    let strict: TestSystem;
    before(async () => {
      strict = await mlog.addSystem({ require_signature: true, keyType: 'ec-p256' });
    });

    test('an unsigned event → 401', async () => {
      const mark = marker();
      await expectRefusal(strict, JSON.stringify(event({ event_correlation: mark })), mark, 401, /sign/);
    });

    test('a mixed batch (signed, then unsigned) → 401 naming the unsigned line, nothing stored', async () => {
      const mark = marker();
      const signed = await strict.sign(event({ event_correlation: mark, event_id: 's-1' }));
      await expectRefusal(strict, `${signed}\n${JSON.stringify(event({ event_correlation: mark, event_id: 's-2' }))}`, mark, 401, /Line 2\b/, /sign/);
    });

    test('a signed event → 200', async () => {
      const sent = event({ event_correlation: marker() });
      const uid = assertRegistered(await strict.register(await strict.sign(sent)));
      const docs = await storedEvents(strict.code, uid);
      assert.equal(docs.length, 1);
      assertSignedDocument(docs[0] as StoredDocument, strict.certificate, 'ES256');
    });

    test('a signed batch of several events in one payload → 200', async () => {
      const sent = [event({ event_correlation: marker() }), event({ event_correlation: marker() })];
      const uid = assertRegistered(await strict.register(await strict.sign(sent.map((e) => JSON.stringify(e)).join('\n'))));
      assert.equal((await storedEvents(strict.code, uid)).length, 2);
    });
  });
});

describe('refused with 400', () => {
  test('an unknown crit header', async () => {
    const mark = marker();
    const header = JSON.stringify({ alg: 'RS256', kid: rsa.certificate.serialHex, crit: ['urn:example:policy'], 'urn:example:policy': 'strict' });
    const jws = signByHand(header, b64url(JSON.stringify(event({ event_correlation: mark }))), rsa.certificate.keyPem, 'RS256');
    await expectRefusal(rsa, jws, mark, 400, /crit/);
  });

  test('b64: false with crit ["b64"] (RFC 7797 unencoded payload, signed by jose)', async () => {
    const mark = marker();
    const key = await importPKCS8(rsa.certificate.keyPem, 'RS256');
    const payload = JSON.stringify(event({ event_correlation: mark }));
    const flattened = await new FlattenedSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'RS256', kid: rsa.certificate.serialHex, b64: false, crit: ['b64'] }).sign(key);
    const jws = `${flattened.protected}.${payload}.${flattened.signature}`;
    await expectRefusal(rsa, jws, mark, 400);
  });

  test('b64: false with crit ["b64"] over a base64url payload (built by hand)', async () => {
    const mark = marker();
    const header = JSON.stringify({ alg: 'RS256', kid: rsa.certificate.serialHex, b64: false, crit: ['b64'] });
    const jws = signByHand(header, b64url(JSON.stringify(event({ event_correlation: mark }))), rsa.certificate.keyPem, 'RS256');
    await expectRefusal(rsa, jws, mark, 400, /crit|b64/);
  });

  test('b64: false without crit', async () => {
    const mark = marker();
    const header = JSON.stringify({ alg: 'RS256', kid: rsa.certificate.serialHex, b64: false });
    const jws = signByHand(header, b64url(JSON.stringify(event({ event_correlation: mark }))), rsa.certificate.keyPem, 'RS256');
    await expectRefusal(rsa, jws, mark, 400, /b64/);
  });

  test('a payload that is not JSON', async () => {
    const mark = marker();
    const jws = await rsa.sign(`event_type=Test&event_time=2024-03-01&event_correlation=${mark}`);
    await expectRefusal(rsa, jws, mark, 400, /Line 1\b/, /payload/);
  });

  test('a payload that is a JSON array', async () => {
    const mark = marker();
    const jws = await rsa.sign(JSON.stringify([event({ event_correlation: mark })]));
    await expectRefusal(rsa, jws, mark, 400, /Line 1\b/, /payload/, /array/);
  });

  test('a payload whose second event is invalid → 400 naming the event, nothing of the payload stored', async () => {
    const mark = marker();
    const jws = await p256.sign(`${JSON.stringify(event({ event_correlation: mark }))}\n${JSON.stringify(event({ event_correlation: mark, event_time: '2024-02-30' }))}`);
    await expectRefusal(p256, jws, mark, 400, /Line 1\b/, /event 2\b/, /event_time/);
  });

  test('a payload with a duplicate key', async () => {
    const mark = marker();
    const payload = `{"event_time":"2024-03-01T10:00:00Z","event_type":"A","event_correlation":"${mark}","user":"1","user":"2"}`;
    const jws = await rsa.sign(payload);
    await expectRefusal(rsa, jws, mark, 400, /"user"/, /more than once/);
  });

  test('a duplicate header key ("kid" twice)', async () => {
    const mark = marker();
    const serial = rsa.certificate.serialHex;
    const header = `{"alg":"RS256","kid":"${serial}","kid":"${serial}"}`;
    const jws = signByHand(header, b64url(JSON.stringify(event({ event_correlation: mark }))), rsa.certificate.keyPem, 'RS256');
    await expectRefusal(rsa, jws, mark, 400, /header/, /"kid"/, /more than once/);
  });

  test('a duplicate header key ("alg": "none" then "RS256")', async () => {
    const mark = marker();
    const header = `{"alg":"none","kid":"${rsa.certificate.serialHex}","alg":"RS256"}`;
    const jws = signByHand(header, b64url(JSON.stringify(event({ event_correlation: mark }))), rsa.certificate.keyPem, 'RS256');
    await expectRefusal(rsa, jws, mark, 400, /"alg"/, /more than once/);
  });

  test('a header that is not a JSON object', async () => {
    const mark = marker();
    const jws = signByHand('"RS256"', b64url(JSON.stringify(event({ event_correlation: mark }))), rsa.certificate.keyPem, 'RS256');
    await expectRefusal(rsa, jws, mark, 400, /header/);
  });

  test('a truncated JWS (two segments)', async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark }));
    const [header, payload] = jws.split('.');
    await expectRefusal(rsa, `${header}.${payload}`, mark, 400, /Line 1\b/);
  });

  test('a JWS with four segments', async () => {
    const mark = marker();
    const jws = await rsa.sign(event({ event_correlation: mark }));
    await expectRefusal(rsa, `${jws}.${b64url('extra')}`, mark, 400, /Line 1\b/);
  });

  for (const [label, segment, character] of [
    ['the header', 0, '+'],
    ['the payload', 1, '/'],
    ['the signature', 2, '!'],
    ['the signature (base64 padding)', 2, '='],
  ] as [string, number, string][]) {
    test(`invalid base64url in ${label} ("${character}")`, async () => {
      const mark = marker();
      const parts = (await rsa.sign(event({ event_correlation: mark }))).split('.');
      const part = parts[segment] as string;
      parts[segment] = `${part.slice(0, 10)}${character}${part.slice(11)}`;
      await expectRefusal(rsa, parts.join('.'), mark, 400, /Line 1\b/);
    });
  }

  test('a header segment of impossible base64url length', async () => {
    const mark = marker();
    const [header, payload, signature] = (await rsa.sign(event({ event_correlation: mark }))).split('.');
    const padded = (header as string).length % 4 === 0 ? `${header}A` : `${header}${'A'.repeat(5 - ((header as string).length % 4))}`;
    assert.equal(padded.length % 4, 1);
    await expectRefusal(rsa, `${padded}.${payload}.${signature}`, mark, 400);
  });

  test('a JWS whose payload is not UTF-8', async () => {
    const jws = signByHand(JSON.stringify({ alg: 'RS256', kid: rsa.certificate.serialHex }), b64url(Buffer.from([0x7b, 0xc3, 0x28, 0x7d])), rsa.certificate.keyPem, 'RS256');
    assertRefused(await rsa.register(jws), 400, /UTF-8/);
  });
});
