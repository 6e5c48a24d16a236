import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { AddressMatcher } from '../config/address-list.js';

/** What MLog read of a client certificate forwarded by a trusted proxy. */
export type ForwardedCertificate = { fingerprint256: string; chainError: string | undefined } | { problem: string };

/** The chain error (OpenSSL's name, as node reports it on a TLS socket) of a certificate no accepted CA issued. */
const NOT_FROM_AN_ACCEPTED_CA = 'UNABLE_TO_VERIFY_LEAF_SIGNATURE';

/**
 * Reads the certificate a proxy forwarded in a header: URL-encoded PEM (nginx's
 * `$ssl_client_escaped_cert`), PEM (with its line breaks, or with spaces in their place), or the
 * certificate's DER in base64. It must be issued by one of `issuers` (MLOG_TLS_CLIENT_CA), as a
 * certificate presented to MLog's own TLS would be; its validity is judged with the registered
 * certificate, as for every caller.
 */
export function readForwardedCertificate(value: string, header: string, issuers: readonly X509Certificate[]): ForwardedCertificate {
  const unreadable = { problem: `The client certificate that the proxy forwarded in ${header} cannot be read; it must be URL-encoded PEM, PEM or base64 DER.` };
  let text = value.trim();
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return unreadable;
    }
  }
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  const base64 = (pem === null ? text : (pem[1] ?? '')).replace(/\s+/g, '');
  if (base64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return unreadable;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(base64, 'base64'));
  } catch {
    return unreadable;
  }
  const issued = issuers.some((issuer) => certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey));
  return { fingerprint256: certificate.fingerprint256, chainError: issued ? undefined : NOT_FROM_AN_ACCEPTED_CA };
}

/**
 * The client's address behind trusted proxies: the right-most entry of X-Forwarded-For that is not
 * itself a trusted proxy (each proxy appends the address it was called from; entries further left
 * were written by the client and prove nothing). Without the header, the proxy's own address. An
 * entry that is not an IP address is returned as it is: it matches no allowed address.
 */
export function forwardedClientAddress(forwardedFor: string | string[] | undefined, isTrustedProxy: AddressMatcher, proxyAddress: string): string {
  const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = bareAddress(entries[index]!);
    if (isIP(entry) === 0 || !isTrustedProxy(entry)) return entry;
  }
  return proxyAddress;
}

/** "[2001:db8::1]:443" → "2001:db8::1", "10.0.0.1:5000" → "10.0.0.1": an address without brackets or port. */
function bareAddress(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed !== null) return bracketed[1]!;
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  return withPort === null ? entry : withPort[1]!;
}
