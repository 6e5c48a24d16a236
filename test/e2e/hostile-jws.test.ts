/**
 * Hostile JWS, beyond test/e2e/signatures.test.ts: segments near the 256 KB limit, a 100 KB protected
 * header, a JWS truncated at every position, `alg` case variants and non-string `alg`, `kid` as a
 * number / array / object / null, `x5t` pointing elsewhere, padding and whitespace. Through real mutual
 * TLS into a real MLog: never a 500, the contract's status, and nothing stored from a refused call.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID, sign as cryptoSign, X509Certificate } from 'node:crypto';
import { TestMLog, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';
import { closeInspectionClient, countDocuments, eventIndexPattern } from '../helpers/elasticsearch-inspection.js';

let mlog: TestMLog;
let ec: TestSystem;
let rsa: TestSystem;
let other: TestSystem;

before(async () => {
  mlog = await TestMLog.start();
  [ec, rsa, other] = await Promise.all([mlog.addSystem({ keyType: 'ec-p256' }), mlog.addSystem({ keyType: 'rsa' }), mlog.addSystem({ keyType: 'ec-p256' })]);
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

function marker(): string {
  return `hj-${randomUUID()}`;
}

function b64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

function assertEnvelope(answer: HttpAnswer, input: string): void {
  const context = `HTTP ${answer.status}: ${answer.text.slice(0, 300)} for ${JSON.stringify(input.slice(0, 120))}`;
  assert.ok(answer.status < 500, `not a 5xx: ${context}`);
  assert.equal(answer.json?.status, String(answer.status), context);
  assert.equal(typeof answer.json?.message, 'string', context);
}

async function send(system: TestSystem, body: string): Promise<HttpAnswer> {
  const answer = await system.register(body, { headers: { 'Content-Type': 'text/plain' } });
  assertEnvelope(answer, body);
  return answer;
}

async function assertNothingStored(system: TestSystem, markers: string[]): Promise<void> {
  const count = await countDocuments(`${eventIndexPattern(system.code)},personaldata-*`, {
    bool: { should: [{ terms: { marker: markers } }, { terms: { event_correlation: markers } }], minimum_should_match: 1 },
  });
  assert.equal(count, 0, 'a refused call stores nothing');
}

/** A JWS whose protected header is `headerJson` exactly as given, signed with node:crypto (ES256/RS256). */
function signByHand(headerJson: string, payload: string, keyPem: string, kind: 'ES256' | 'RS256'): string {
  const input = `${b64url(headerJson)}.${b64url(payload)}`;
  const signature = kind === 'ES256' ? cryptoSign('sha256', Buffer.from(input), { key: keyPem, dsaEncoding: 'ieee-p1363' }) : cryptoSign('sha256', Buffer.from(input), keyPem);
  return `${input}.${signature.toString('base64url')}`;
}

function eventText(mark: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ event_time: '2024-01-01T00:00:00Z', event_type: 'Hostile.Jws', event_correlation: mark, marker: mark, ...extra });
}

describe('hostile JWS: sizes', () => {
  test('a signed payload whose JWS is just under 256 KB → 200; just over → 413', async () => {
    const mark = marker();
    // 7 strings of 26,000 bytes: ~182 KB of payload, ~243 KB once base64url-encoded
    const under = await rsa.sign(eventText(mark, { event_details: { parts: Array.from({ length: 7 }, () => 'a'.repeat(26_000)) } }));
    assert.ok(under.length < 262_144 && under.length > 240_000, String(under.length));
    const answer = await send(rsa, under);
    assert.equal(answer.status, 200, answer.text);

    const overMark = marker();
    const over = await rsa.sign(eventText(overMark, { event_details: { parts: Array.from({ length: 8 }, () => 'a'.repeat(26_000)) } }));
    assert.ok(over.length > 262_144, String(over.length));
    const refused = await send(rsa, over);
    assert.equal(refused.status, 413, refused.text);
    assert.match(refused.json.message, /262144|256 KB/);
    await assertNothingStored(rsa, [overMark]);
  });

  test('a 100 KB protected header → never a 500; nothing stored unless accepted', async () => {
    const mark = marker();
    const jws = await ec.sign(eventText(mark), { header: { padding: 'p'.repeat(100_000) } });
    const answer = await send(ec, jws);
    assert.ok(answer.status === 200 || answer.status === 400, answer.text);
    if (answer.status !== 200) await assertNothingStored(ec, [mark]);
  });

  test('a 100 KB signature segment → 401 (or 400), nothing stored', async () => {
    const mark = marker();
    const [header, payload] = (await ec.sign(eventText(mark))).split('.');
    const answer = await send(ec, `${header}.${payload}.${'A'.repeat(100_000)}`);
    assert.ok(answer.status === 401 || answer.status === 400, answer.text);
    await assertNothingStored(ec, [mark]);
  });

  test('a payload segment of 200 KB of base64url garbage → 400 or 401, nothing stored', async () => {
    const [header, , signature] = (await ec.sign(eventText(marker()))).split('.');
    const answer = await send(ec, `${header}.${'_'.repeat(200_000)}.${signature}`);
    assert.ok(answer.status === 400 || answer.status === 401, answer.text);
  });
});

describe('hostile JWS: truncation', () => {
  test('a JWS truncated at every position → 400 or 401, never a 500, nothing stored', async () => {
    const mark = marker();
    const jws = await ec.sign(eventText(mark));
    const statuses = new Map<number, number>();
    for (let at = 1; at < jws.length; at++) {
      const answer = await send(ec, jws.slice(0, at));
      assert.ok(answer.status === 400 || answer.status === 401, `cut at ${at}/${jws.length}: ${answer.text}`);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    // and with each segment cut from the front
    const [h = '', p = '', s = ''] = jws.split('.');
    for (let at = 1; at < Math.max(h.length, p.length, s.length); at += 3) {
      for (const body of [`${h.slice(at)}.${p}.${s}`, `${h}.${p.slice(at)}.${s}`, `${h}.${p}.${s.slice(at)}`]) {
        if (body === jws) continue;
        const answer = await send(ec, body);
        assert.ok(answer.status === 400 || answer.status === 401, `${body.slice(0, 60)}: ${answer.text}`);
      }
    }
    await assertNothingStored(ec, [mark]);
  });
});

describe('hostile JWS: header values', () => {
  for (const alg of ['rs256', 'Rs256', 'RS256 ', ' RS256', 'RS256\u0000', 'RS-256', 'NONE', 'nOnE', 'none ', 'hs256', 'HS512', 'ES256K', 'EdDSA', 'ＲＳ256']) {
    test(`alg ${JSON.stringify(alg)} over a valid RS256 signature → 401`, async () => {
      const mark = marker();
      const jws = signByHand(JSON.stringify({ alg, kid: rsa.certificate.serialHex }), eventText(mark), rsa.certificate.keyPem, 'RS256');
      const answer = await send(rsa, jws);
      assert.equal(answer.status, 401, answer.text);
      await assertNothingStored(rsa, [mark]);
    });
  }

  for (const [label, alg] of [
    ['a number', 256],
    ['an array', ['RS256']],
    ['an object', { name: 'RS256' }],
    ['null', null],
    ['true', true],
  ] as const) {
    test(`alg as ${label} → 401`, async () => {
      const mark = marker();
      const jws = signByHand(JSON.stringify({ alg, kid: rsa.certificate.serialHex }), eventText(mark), rsa.certificate.keyPem, 'RS256');
      assert.equal((await send(rsa, jws)).status, 401);
      await assertNothingStored(rsa, [mark]);
    });
  }

  test('kid as a number, an array, an object, null, a boolean, empty or blank → 401', async () => {
    const serial = ec.certificate.serialHex;
    const numeric = /^[0-9]+$/.test(serial) ? Number(serial) : Number.parseInt(serial.slice(0, 12), 16);
    const marks: string[] = [];
    for (const kid of [numeric, [serial], { serial }, { kid: serial }, null, true, '', '   ', '\t', `${serial}\u0000`, `0x${serial}`, serial.split('').join(':')]) {
      const mark = marker();
      marks.push(mark);
      const jws = signByHand(JSON.stringify({ alg: 'ES256', kid }), eventText(mark), ec.certificate.keyPem, 'ES256');
      const answer = await send(ec, jws);
      assert.equal(answer.status, 401, `kid ${JSON.stringify(kid)}: ${answer.text}`);
    }
    await assertNothingStored(ec, marks);
  });

  test("x5t / x5t#S256 naming another IS's certificate, over that IS's key, with the caller's own kid → 401", async () => {
    const der = new X509Certificate(other.certificate.certPem).raw;
    const marks: string[] = [];
    for (const header of [{ x5t: b64url(createHash('sha1').update(der).digest()) }, { 'x5t#S256': b64url(createHash('sha256').update(der).digest()) }]) {
      const mark = marker();
      marks.push(mark);
      const jws = signByHand(JSON.stringify({ alg: 'ES256', kid: ec.certificate.serialHex, ...header }), eventText(mark), other.certificate.keyPem, 'ES256');
      const answer = await send(ec, jws);
      assert.equal(answer.status, 401, answer.text);
      // and with the other IS's kid
      const theirs = signByHand(JSON.stringify({ alg: 'ES256', kid: other.certificate.serialHex, ...header }), eventText(mark), other.certificate.keyPem, 'ES256');
      assert.equal((await send(ec, theirs)).status, 401);
    }
    await assertNothingStored(ec, marks);
  });

  test('x5t naming the caller\'s own certificate over its own key → never a 500 (a thumbprint carries no key)', async () => {
    const der = new X509Certificate(ec.certificate.certPem).raw;
    const jws = signByHand(JSON.stringify({ alg: 'ES256', kid: ec.certificate.serialHex, x5t: b64url(createHash('sha1').update(der).digest()) }), eventText(marker()), ec.certificate.keyPem, 'ES256');
    const answer = await send(ec, jws);
    assert.ok(answer.status === 200 || answer.status === 401, answer.text);
  });

  test('crit as an empty array, a string, or naming a known header → 400', async () => {
    const marks: string[] = [];
    for (const crit of [[], 'kid', ['kid'], ['alg'], [''], null]) {
      const mark = marker();
      marks.push(mark);
      const jws = signByHand(JSON.stringify({ alg: 'ES256', kid: ec.certificate.serialHex, crit }), eventText(mark), ec.certificate.keyPem, 'ES256');
      const answer = await send(ec, jws);
      assert.equal(answer.status, 400, `crit ${JSON.stringify(crit)}: ${answer.text}`);
    }
    await assertNothingStored(ec, marks);
  });

  test('a header with a key-carrying name nested or with odd case (JWK, X5C, "jwk " ) is not a way in', async () => {
    // nested or differently-cased names are not the registered headers: they carry nothing, the signature decides
    const marks: string[] = [];
    for (const extra of [{ JWK: { kty: 'EC' } }, { X5C: ['x'] }, { 'jwk ': {} }]) {
      const mark = marker();
      marks.push(mark);
      // signed with another IS's key: must be refused whatever the extra header says
      const jws = signByHand(JSON.stringify({ alg: 'ES256', kid: ec.certificate.serialHex, ...extra }), eventText(mark), other.certificate.keyPem, 'ES256');
      assert.equal((await send(ec, jws)).status, 401);
    }
    await assertNothingStored(ec, marks);
  });
});

describe('hostile JWS: encoding', () => {
  test('base64 padding, standard-alphabet characters, inner whitespace, a trailing dot → 400 or 401, nothing stored', async () => {
    const mark = marker();
    const jws = await ec.sign(eventText(mark));
    const [h = '', p = '', s = ''] = jws.split('.');
    const variants = [
      `${h}==.${p}.${s}`,
      `${h}.${p}=.${s}`,
      `${h}.${p}.${s}=`,
      `${h}.${p.replace(/-/g, '+').replace(/_/g, '/')}+/.${s}`,
      `${h}. ${p}.${s}`,
      `${h}.${p}.${s}.`,
      `${h}.${p}.${s}\u0000`,
      `${h}.${p}\t.${s}`,
      `.${h}.${p}.${s}`,
      `${h}..${p}.${s}`,
    ];
    for (const body of variants) {
      const answer = await send(ec, body);
      assert.ok(answer.status === 400 || answer.status === 401, `${JSON.stringify(body.slice(0, 40))}: ${answer.text}`);
    }
    await assertNothingStored(ec, [mark]);
  });

  test('a JWS in flattened JSON serialization (one line starting with "{") is not a signed event → 400', async () => {
    const mark = marker();
    const [h, p, s] = (await ec.sign(eventText(mark))).split('.');
    const answer = await send(ec, JSON.stringify({ protected: h, payload: p, signature: s }));
    assert.equal(answer.status, 400, answer.text);
    await assertNothingStored(ec, [mark]);
  });

  test('a JWS whose payload nests a JWS (a signed token inside a signed token) → 400, nothing stored', async () => {
    const mark = marker();
    const inner = await ec.sign(eventText(mark));
    const outer = await ec.sign(inner);
    const answer = await send(ec, outer);
    assert.equal(answer.status, 400, answer.text);
    await assertNothingStored(ec, [mark]);
  });
});
