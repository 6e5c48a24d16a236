import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import { CompactSign, compactVerify } from 'jose';
import { ACCEPTED_JWS_ALGORITHMS, keyMismatch, verifyJwsSignature, verifyJwsSignatureNow, type JwsAlgorithm } from '../../src/auth/jws-signature.js';

type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };
const rsa = (bits: number): KeyPair => generateKeyPairSync('rsa', { modulusLength: bits });
const ec = (namedCurve: string): KeyPair => generateKeyPairSync('ec', { namedCurve });
const KEYS = { rsa: rsa(2048), rsaOther: rsa(2048), rsa1024: rsa(1024), p256: ec('prime256v1'), p256Other: ec('prime256v1'), p384: ec('secp384r1') };

function ownKey(alg: JwsAlgorithm): KeyPair {
  if (alg === 'ES256') return KEYS.p256;
  if (alg === 'ES384') return KEYS.p384;
  return KEYS.rsa;
}

async function signed(alg: JwsAlgorithm, payload = '{"event_type":"MPass.Login"}'): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg, kid: '01' }).sign(ownKey(alg).privateKey);
}

async function joseAccepts(jws: string, key: KeyObject): Promise<boolean> {
  return compactVerify(jws, key, { algorithms: [...ACCEPTED_JWS_ALGORITHMS] }).then(
    () => true,
    () => false,
  );
}

/** MLog's verdict; both routes (the thread pool's and the one in place) must give the same one. */
async function mlogAccepts(alg: JwsAlgorithm, jws: string, key: KeyObject): Promise<boolean> {
  if (keyMismatch(alg, key) !== undefined) return false;
  const [header = '', payload = '', signature = ''] = jws.split('.');
  const onThePool = await verifyJwsSignature(alg, `${header}.${payload}`, Buffer.from(signature, 'base64url'), key);
  const inPlace = verifyJwsSignatureNow(alg, `${header}.${payload}`, Buffer.from(signature, 'base64url'), key);
  assert.equal(inPlace, onThePool, `${alg}: the verdict in place is the thread pool's`);
  return onThePool;
}

/** Changes one character in the middle of a part of the token. */
function tamper(jws: string, part: 1 | 2): string {
  const parts = jws.split('.');
  const text = parts[part] as string;
  const at = Math.floor(text.length / 2);
  parts[part] = `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
  return parts.join('.');
}

describe('verifyJwsSignature and verifyJwsSignatureNow give jose\'s verdict', () => {
  for (const alg of ACCEPTED_JWS_ALGORITHMS) {
    test(`${alg}: valid, tampered, truncated, another key, a key of the wrong kind`, async () => {
      const jws = await signed(alg);
      const own = ownKey(alg).publicKey;
      const other = alg.startsWith('ES') ? (alg === 'ES256' ? KEYS.p256Other : KEYS.p256) : KEYS.rsaOther;
      const wrongKind = alg.startsWith('ES') ? KEYS.rsa : KEYS.p256;
      const cases: [string, string, KeyObject, boolean][] = [
        ['valid', jws, own, true],
        ['payload changed', tamper(jws, 1), own, false],
        ['signature changed', tamper(jws, 2), own, false],
        ['signature truncated', jws.slice(0, -4), own, false],
        ['another key', jws, other.publicKey, false],
        ['a key of the wrong kind', jws, wrongKind.publicKey, false],
      ];
      for (const [name, token, key, expected] of cases) {
        assert.equal(await joseAccepts(token, key), expected, `jose, ${name}`);
        assert.equal(await mlogAccepts(alg, token, key), expected, `MLog, ${name}`);
      }
    });
  }

  /** A token signed by hand with node:crypto (DER signatures for EC keys; jose will not sign with a short RSA key). */
  function signedByHand(alg: 'RS256' | 'ES256', privateKey: KeyObject): string {
    const header = Buffer.from(JSON.stringify({ alg })).toString('base64url');
    const payload = Buffer.from('{}').toString('base64url');
    return `${header}.${payload}.${cryptoSign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url')}`;
  }

  test('an RSA key under 2048 bits is refused, as jose refuses it', async () => {
    const token = signedByHand('RS256', KEYS.rsa1024.privateKey);
    assert.equal(await joseAccepts(token, KEYS.rsa1024.publicKey), false);
    assert.equal(await mlogAccepts('RS256', token, KEYS.rsa1024.publicKey), false);
    assert.match(keyMismatch('RS256', KEYS.rsa1024.publicKey) ?? '', /at least 2048 bits.*1024/);
  });

  test('an ECDSA signature in DER form (not R‖S) is refused', async () => {
    const token = signedByHand('ES256', KEYS.p256.privateKey);
    assert.equal(await joseAccepts(token, KEYS.p256.publicKey), false);
    assert.equal(await mlogAccepts('ES256', token, KEYS.p256.publicKey), false);
  });

  test('keyMismatch names the algorithm and the key the certificate holds', () => {
    assert.equal(keyMismatch('PS256', KEYS.rsa.publicKey), undefined);
    assert.match(keyMismatch('ES384', KEYS.p256.publicKey) ?? '', /ES384 needs an EC P-384 key.*prime256v1/);
    assert.match(keyMismatch('RS512', KEYS.p384.publicKey) ?? '', /RS512 needs an RSA key.*EC key on curve secp384r1/);
  });
});
