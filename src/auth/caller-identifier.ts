import { AuthenticationError, ForbiddenError } from '../errors/mlog-error.js';
import type { KnownSystem, SystemRegistry } from '../systems/system-registry.js';
import { normalizeAddress } from '../systems/address-matcher.js';
import { validityProblem, type CertificateRecord } from '../systems/certificate.js';

/** What a door (HTTPS, syslog over TLS) learned about its peer. */
export interface PeerCredentials {
  /** SHA-256 fingerprint of the presented client certificate, as node prints it; undefined when none was presented. */
  fingerprint256: string | undefined;
  /** Why the TLS layer could not chain the certificate to an accepted CA, when it could not. */
  chainError: string | undefined;
  sourceAddress: string;
  /** Why the certificate a trusted proxy forwarded could not be read, when it could not. */
  problem?: string;
}

const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * Identifies the calling IS: the one that registered the presented certificate (by SHA-256
 * fingerprint), within the certificate's validity, issued by an accepted CA, not suspended, calling
 * from an allowed address. 401 when the caller cannot be identified, 403 when it may not call.
 */
export async function identifyCaller(registry: SystemRegistry, peer: PeerCredentials, now: Date): Promise<KnownSystem> {
  const fingerprint = presentedFingerprint(peer);
  return judgeCaller(registry.cachedByFingerprint(fingerprint) ?? (await registry.findByFingerprint(fingerprint)), peer, now);
}

/**
 * identifyCaller without waiting, for the request path: the same verdict (the same errors thrown)
 * from the registry in memory, or undefined when the registry must be read first (not loaded, no
 * longer fresh, or the certificate unknown to it); then call identifyCaller.
 */
export function identifyCallerAtOnce(registry: SystemRegistry, peer: PeerCredentials, now: Date): KnownSystem | undefined {
  const found = registry.cachedByFingerprint(presentedFingerprint(peer));
  return found === undefined ? undefined : judgeCaller(found, peer, now);
}

function presentedFingerprint(peer: PeerCredentials): string {
  if (peer.problem !== undefined) throw new AuthenticationError(peer.problem);
  if (peer.fingerprint256 === undefined) {
    throw new AuthenticationError('No client certificate was presented; call MLog with your system certificate (mutual TLS).');
  }
  return peer.fingerprint256;
}

function judgeCaller(found: { known: KnownSystem; certificate: CertificateRecord } | undefined, peer: PeerCredentials, now: Date): KnownSystem {
  if (found === undefined) {
    throw new AuthenticationError(`The client certificate (SHA-256 ${peer.fingerprint256}) is not registered to any information system.`);
  }
  // The certificate is registered: whatever is refused from here on, the refusal is recorded under its IS.
  const { system } = found.known;
  const concerns = { system: system.code };
  const expired = validityProblem(found.certificate, now);
  if (expired !== undefined) throw new AuthenticationError(`The client ${expired}.`, concerns);
  if (peer.chainError !== undefined && !DATE_ERRORS.has(peer.chainError)) {
    throw new AuthenticationError(`The client certificate is not issued by a CA that MLog accepts (${peer.chainError}).`, concerns);
  }
  refuseSuspended(found.known);
  if (!found.known.isAllowedAddress(peer.sourceAddress)) {
    throw new ForbiddenError(`Information system "${system.code}" may not call MLog from ${normalizeAddress(peer.sourceAddress)}.`, concerns);
  }
  return found.known;
}

/** 403 for a suspended IS, recorded as that IS. */
function refuseSuspended(known: KnownSystem): void {
  const { system } = known;
  if (system.status === 'suspended') {
    throw new ForbiddenError(`Information system "${system.code}" is suspended; contact the MLog administrators.`, { system: system.code });
  }
}

/**
 * The IS of MLOG_DEV_IDENTITY, for a call on the development listener (plain HTTP on 127.0.0.1, for
 * local development only): no certificate and no address to judge, but it must be registered and not
 * suspended.
 */
export async function identifyDevelopmentCaller(registry: SystemRegistry, code: string): Promise<KnownSystem> {
  const known = await registry.findByCode(code);
  if (known === undefined) {
    throw new AuthenticationError(`The development identity "${code}" (MLOG_DEV_IDENTITY) is not a registered information system; register it first (mlog systems add).`);
  }
  refuseSuspended(known);
  return known;
}
