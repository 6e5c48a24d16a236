import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';

/** A public key a verifier trusts, with its RFC 7638 thumbprint: the `kid` MLog's signatures carry. */
export interface TrustedKey {
  publicKey: KeyObject;
  kid: string;
}

/**
 * The public key in `text`: a PEM public key, a PEM private key (MLog's MLOG_SIGNING_KEY file, whose
 * public half is taken), or a public JWK as JSON (as GET /checkpoints/latest gives it). Throws a
 * TypeError saying what `label` holds when it is none of them.
 */
export async function trustedKeyFrom(text: string, label: string): Promise<TrustedKey> {
  let publicKey: KeyObject;
  try {
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const jwk = (typeof parsed.key === 'object' && parsed.key !== null ? parsed.key : parsed) as Record<string, unknown>;
      const { d: _private, ...publicPart } = jwk;
      publicKey = createPublicKey({ key: publicPart as never, format: 'jwk' });
    } else if (trimmed.includes('PRIVATE KEY')) {
      publicKey = createPublicKey(createPrivateKey(trimmed));
    } else {
      publicKey = createPublicKey(trimmed);
    }
  } catch {
    throw new TypeError(`${label} holds no public key: give a PEM public key, MLog's PEM private key (MLOG_SIGNING_KEY) or a public JWK.`);
  }
  const type = publicKey.asymmetricKeyType;
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  if (type !== 'ed25519' && !(type === 'ec' && curve === 'prime256v1')) {
    throw new TypeError(`${label} holds a ${type ?? 'unknown'} key; MLog signs with Ed25519 or P-256 (ES256).`);
  }
  return { publicKey, kid: await calculateJwkThumbprint(await exportJWK(publicKey)) };
}

/** Trusted keys by thumbprint, as the verifiers take them. */
export function trustedKeyMap(keys: readonly TrustedKey[]): Map<string, KeyObject> {
  return new Map(keys.map((key) => [key.kid, key.publicKey]));
}
