/**
 * The signature check of a JWS in compact serialization, with node:crypto.
 *
 * Why not jose here: jose 6 verifies through WebCrypto, which on Node 20 keeps the event loop busy
 * about 42 µs per RS256 (2048-bit) verification, while node:crypto's one-shot `verify` with a
 * callback runs the RSA/ECDSA work on libuv's thread pool and keeps it busy about 21 µs
 * (`npm run bench:hot-path`, see docs/performance.md). The thread pool pays off for many signatures
 * at once; one alone is cheaper checked in place (verifyJwsSignatureNow, `npm run
 * bench:jws-verification`). The checks
 * are the ones jose makes for the algorithms MLog accepts, and test/unit/jws-signature.test.ts holds
 * this module to jose's verdict on the same tokens and keys:
 * - the key must suit the algorithm: RSA (at least 2048 bits) for RS*, PS*; EC P-256 for ES256,
 *   EC P-384 for ES384;
 * - RSASSA-PSS uses MGF1 with the algorithm's hash and a salt as long as the hash (RFC 7518 §3.5);
 * - ECDSA signatures are the raw R‖S form of RFC 7518 §3.4 (64 bytes for ES256, 96 for ES384), never
 *   DER;
 * - the signing input is the ASCII of `header.payload` exactly as sent.
 * jose stays the library for everything else about JWS (tests and tooling sign with it).
 */
import { constants, verify, type KeyObject } from 'node:crypto';

export const ACCEPTED_JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'] as const;
export type JwsAlgorithm = (typeof ACCEPTED_JWS_ALGORITHMS)[number];

interface Route {
  hash: 'sha256' | 'sha384' | 'sha512';
  family: 'pkcs1' | 'pss' | 'ecdsa';
  /** For ECDSA: the key's curve (OpenSSL name) and the length of R‖S. */
  curve?: { name: string; label: string; signatureBytes: number };
}

const ROUTES: Record<JwsAlgorithm, Route> = {
  RS256: { hash: 'sha256', family: 'pkcs1' },
  RS384: { hash: 'sha384', family: 'pkcs1' },
  RS512: { hash: 'sha512', family: 'pkcs1' },
  PS256: { hash: 'sha256', family: 'pss' },
  PS384: { hash: 'sha384', family: 'pss' },
  PS512: { hash: 'sha512', family: 'pss' },
  ES256: { hash: 'sha256', family: 'ecdsa', curve: { name: 'prime256v1', label: 'P-256', signatureBytes: 64 } },
  ES384: { hash: 'sha384', family: 'ecdsa', curve: { name: 'secp384r1', label: 'P-384', signatureBytes: 96 } },
};

const MIN_RSA_BITS = 2048;

export function isAcceptedJwsAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(ROUTES, alg);
}

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return `an RSA key of ${details?.modulusLength ?? '?'} bits`;
  if (key.asymmetricKeyType === 'ec') return `an EC key on curve ${details?.namedCurve ?? '?'}`;
  return `a key of type ${key.asymmetricKeyType ?? key.type}`;
}

/** Why `key` cannot verify `alg` (plain English), or undefined when it suits. */
export function keyMismatch(alg: JwsAlgorithm, key: KeyObject): string | undefined {
  const route = ROUTES[alg];
  if (route.family === 'ecdsa') {
    const curve = route.curve as NonNullable<Route['curve']>;
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === curve.name) return undefined;
    return `${alg} needs an EC ${curve.label} key, and the certificate holds ${describeKey(key)}`;
  }
  if (key.asymmetricKeyType !== 'rsa') return `${alg} needs an RSA key, and the certificate holds ${describeKey(key)}`;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return `${alg} needs an RSA key of at least ${MIN_RSA_BITS} bits, and the certificate holds one of ${bits}`;
  return undefined;
}

function verifyOptions(alg: JwsAlgorithm, key: KeyObject) {
  const route = ROUTES[alg];
  return route.family === 'pss'
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : route.family === 'pkcs1'
      ? { key, padding: constants.RSA_PKCS1_PADDING }
      : { key, dsaEncoding: 'ieee-p1363' as const };
}

/** False when `signature` cannot be one of `alg` by its length alone (an ECDSA signature is of fixed size). */
function hasPossibleLength(alg: JwsAlgorithm, signature: Buffer): boolean {
  const curve = ROUTES[alg].curve;
  return curve === undefined || signature.length === curve.signatureBytes;
}

/**
 * Whether `signature` (raw bytes, already base64url-decoded) is a valid `alg` signature of
 * `signingInput` (`header.payload` as sent) by `key`, checked on libuv's thread pool. The key must
 * suit the algorithm (check with keyMismatch first). Resolves false for any signature that does not
 * verify, including one of the wrong length; never rejects for a bad signature.
 */
export function verifyJwsSignature(alg: JwsAlgorithm, signingInput: string, signature: Buffer, key: KeyObject): Promise<boolean> {
  if (!hasPossibleLength(alg, signature)) return Promise.resolve(false);
  const options = verifyOptions(alg, key);
  return new Promise((resolve) => {
    try {
      verify(ROUTES[alg].hash, Buffer.from(signingInput, 'latin1'), options, signature, (error, valid) => resolve(error === null && valid));
    } catch {
      resolve(false);
    }
  });
}

/**
 * The same verdict as verifyJwsSignature, reached on the calling thread. A lone verification handed
 * to the thread pool costs more CPU than the verification itself (the hand-off and the wake-ups of
 * the pool's thread and of the event loop: `bench/jws-verification.ts` measures both ways), so a
 * call that carries one or a few signatures is verified here; many are sent to the pool together.
 */
export function verifyJwsSignatureNow(alg: JwsAlgorithm, signingInput: string, signature: Buffer, key: KeyObject): boolean {
  if (!hasPossibleLength(alg, signature)) return false;
  try {
    return verify(ROUTES[alg].hash, Buffer.from(signingInput, 'latin1'), verifyOptions(alg, key), signature);
  } catch {
    return false;
  }
}
