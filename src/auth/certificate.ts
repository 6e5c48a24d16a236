import { X509Certificate } from 'node:crypto';
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

/** Lower case hex without leading zeros, so kids compare however the client printed them. */
export function normalizeSerial(hex: string): string {
  const stripped = hex.trim().toLowerCase().replace(/^0+/, '');
  return stripped === '' ? '0' : stripped;
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
