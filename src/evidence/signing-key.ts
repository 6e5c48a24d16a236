import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, CompactSign, exportJWK } from 'jose';
import { ConfigurationError } from '../errors/mlog-error.js';
import type { PublicJwk } from './chain-entry.js';

/** The setting that names MLog's signing key. */
export const SIGNING_KEY_SETTING = 'MLOG_SIGNING_KEY';

/**
 * MLog's own key (Ed25519 → JWS alg EdDSA, or P-256 → ES256): it signs the evidence chain's entries
 * and the receipts. `kid` is the RFC 7638 thumbprint of the public JWK.
 */
export class SigningKey {
  /** The base64url protected header of signNow, per `typ` (the same for every signature of that kind). */
  private readonly encodedHeaders = new Map<string, string>();

  private constructor(
    private readonly privateKey: KeyObject,
    readonly alg: 'EdDSA' | 'ES256',
    readonly publicJwk: PublicJwk,
    /** True for a key made at start that ends with the process. */
    readonly ephemeral: boolean,
  ) {}

  get kid(): string {
    return this.publicJwk.kid;
  }

  /** A compact JWS of `payload` (the exact bytes signed), header {alg, kid, typ}, made by jose. */
  sign(payload: string, typ: string): Promise<string> {
    return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: this.alg, kid: this.kid, typ }).sign(this.privateKey);
  }

  /**
   * The same compact JWS as `sign`, made synchronously with node:crypto's signature: the receipt of
   * every /register call is signed on the ingest path, where jose's WebCrypto route measured 95 µs of
   * CPU per Ed25519 receipt against 43 µs for node:crypto's (bench/evidence-hash.ts prints both).
   * Header members in jose's order (alg, kid, typ), ES256 in the JWS (IEEE P1363) form.
   */
  signNow(payload: string, typ: string): string {
    let header = this.encodedHeaders.get(typ);
    if (header === undefined) {
      header = Buffer.from(JSON.stringify({ alg: this.alg, kid: this.kid, typ })).toString('base64url');
      this.encodedHeaders.set(typ, header);
    }
    const signingInput = `${header}.${Buffer.from(payload, 'utf8').toString('base64url')}`;
    const signature =
      this.alg === 'EdDSA'
        ? sign(null, Buffer.from(signingInput), this.privateKey)
        : sign('sha256', Buffer.from(signingInput), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  /** Reads a PKCS#8 PEM private key; a file that is not one, or of another kind, refuses to start naming the setting and the file. */
  static async fromFile(path: string): Promise<SigningKey> {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigurationError(`${SIGNING_KEY_SETTING}: the file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}).`);
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch {
      throw new ConfigurationError(`${SIGNING_KEY_SETTING}: the file ${path} holds no PEM private key (PKCS#8, Ed25519 or P-256 expected).`);
    }
    return SigningKey.fromKeyObject(key, false, path);
  }

  /** A new Ed25519 key that lives as long as the process. */
  static async ephemeral(): Promise<SigningKey> {
    return SigningKey.fromKeyObject(generateKeyPairSync('ed25519').privateKey, true, 'a key made at start');
  }

  private static async fromKeyObject(key: KeyObject, ephemeral: boolean, where: string): Promise<SigningKey> {
    let alg: 'EdDSA' | 'ES256';
    if (key.asymmetricKeyType === 'ed25519') alg = 'EdDSA';
    else if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ES256';
    else {
      const kind = key.asymmetricKeyType === 'ec' ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve ?? 'an unknown curve'}` : `a ${key.asymmetricKeyType ?? 'non-asymmetric'} key`;
      throw new ConfigurationError(`${SIGNING_KEY_SETTING}: the file ${where} holds ${kind}; MLog signs with Ed25519 or P-256 (ES256) only.`);
    }
    const jwk = await exportJWK(createPublicKey(key));
    const base = { kty: String(jwk.kty), crv: String(jwk.crv), x: String(jwk.x), ...(jwk.y === undefined ? {} : { y: String(jwk.y) }) };
    const kid = await calculateJwkThumbprint(base);
    return new SigningKey(key, alg, { ...base, kid, alg, use: 'sig' }, ephemeral);
  }
}

/** A new Ed25519 private key as PKCS#8 PEM (what `npm start` writes into its data directory). */
export function newSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}
