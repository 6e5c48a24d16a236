import { X509Certificate, type KeyObject } from 'node:crypto';
import { ValidationError } from '../errors/mlog-error.js';

/** What MLog keeps of a system certificate (the `.cer` an IS registers). */
export interface CertificateRecord {
  pem: string;
  fingerprint256: string;
  /** Serial as Java's BigInteger.toString(16) prints it: the `kid` of the IS's signatures. */
  serial: string;
  subject: string;
  issuer: string;
  not_before: string;
  not_after: string;
}

/** A serial number in hex as a `kid` may carry it: digits only, with a leading "-" for a negative serial. */
export const SERIAL_HEX_PATTERN = /^-?[0-9a-f]+$/i;

/**
 * Lower case hex without leading zeros, as Java's BigInteger.toString(16) prints it ("-4d2" for a
 * negative serial), so kids compare however the client printed them. `hex` matches SERIAL_HEX_PATTERN.
 */
export function normalizeSerial(hex: string): string {
  const negative = hex.startsWith('-');
  const stripped = (negative ? hex.slice(1) : hex).toLowerCase().replace(/^0+/, '');
  if (stripped === '') return '0';
  return negative ? `-${stripped}` : stripped;
}

/** Reads a certificate given as PEM text or DER bytes. */
export function readCertificate(input: string | Buffer, label = 'the certificate'): X509Certificate {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const looksPem = text.includes('-----BEGIN CERTIFICATE-----');
  try {
    if (looksPem) return new X509Certificate(text);
    if (typeof input !== 'string') return new X509Certificate(input);
    return new X509Certificate(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
  } catch {
    throw new ValidationError(`${label} is not an X.509 certificate in PEM or DER form.`);
  }
}

interface DerElement {
  tag: number;
  /** Where the element's contents start and end in the DER bytes. */
  start: number;
  end: number;
}

function readDerElement(der: Buffer, at: number, limit: number): DerElement {
  const tag = der[at];
  const first = der[at + 1];
  if (tag === undefined || first === undefined) throw new RangeError('truncated DER');
  let start = at + 2;
  let length = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[start++] ?? 0);
  }
  if (start + length > limit) throw new RangeError('DER element past its parent');
  return { tag, start, end: start + length };
}

function derChildren(der: Buffer, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readDerElement(der, at, parent.end);
    children.push(child);
    at = child.end;
  }
  return children;
}

const BASIC_CONSTRAINTS_OID = Buffer.from([0x55, 0x1d, 0x13]); // 2.5.29.19

/**
 * Whether a certificate's basicConstraints extension says cA TRUE, read from its DER (node:crypto's
 * `ca` also asks for keyCertSign in keyUsage, so a CA:TRUE certificate without it would pass).
 */
export function hasCaBasicConstraint(der: Buffer): boolean {
  try {
    const certificate = readDerElement(der, 0, der.length);
    const [tbs] = derChildren(der, certificate);
    if (tbs === undefined) return false;
    const extensionsField = derChildren(der, tbs).find((element) => element.tag === 0xa3);
    const [extensions] = extensionsField === undefined ? [] : derChildren(der, extensionsField);
    if (extensions === undefined) return false;
    for (const extension of derChildren(der, extensions)) {
      const parts = derChildren(der, extension);
      const [oid] = parts;
      const value = parts[parts.length - 1];
      if (oid === undefined || value === undefined || !der.subarray(oid.start, oid.end).equals(BASIC_CONSTRAINTS_OID)) continue;
      const [constraints] = derChildren(der, value);
      const [cA] = constraints === undefined ? [] : derChildren(der, constraints);
      return cA !== undefined && cA.tag === 0x01 && cA.end > cA.start && der[cA.start] !== 0;
    }
    return false;
  } catch {
    return false;
  }
}

/**
 * Reads a certificate an IS registers as its own: refuses a CA certificate (basicConstraints CA:TRUE),
 * which identifies an issuer, not one system.
 */
export function readSystemCertificate(input: string | Buffer, label: string): X509Certificate {
  const certificate = readCertificate(input, label);
  if (certificate.ca || hasCaBasicConstraint(certificate.raw)) {
    const subject = certificate.subject.replace(/\n/g, ', ').slice(0, 120);
    throw new ValidationError(
      `${label} (${subject}) is a CA certificate (basicConstraints CA:TRUE); register the system's own certificate, not the authority that issued it.`,
    );
  }
  return certificate;
}

export function describeCertificate(certificate: X509Certificate): CertificateRecord {
  return {
    pem: certificate.toString(),
    fingerprint256: certificate.fingerprint256,
    serial: normalizeSerial(certificate.serialNumber),
    subject: certificate.subject.replace(/\n/g, ', '),
    issuer: certificate.issuer.replace(/\n/g, ', '),
    not_before: new Date(certificate.validFrom).toISOString(),
    not_after: new Date(certificate.validTo).toISOString(),
  };
}

/** Why a certificate is not usable at `at`, or undefined when it is within its validity period. */
export function validityProblem(record: Pick<CertificateRecord, 'not_before' | 'not_after' | 'serial'>, at: Date): string | undefined {
  if (at.getTime() < Date.parse(record.not_before)) return `certificate ${record.serial} is not valid before ${record.not_before}`;
  if (at.getTime() > Date.parse(record.not_after)) return `certificate ${record.serial} expired on ${record.not_after}`;
  return undefined;
}

/** A certificate of the calling IS with its public key, as the registry cache holds it. */
export interface SigningCertificate {
  record: CertificateRecord;
  publicKey: KeyObject;
}
