import { AuthenticationError, ValidationError } from '../errors/mlog-error.js';
import { parseJsonObject } from '../json/json-object-parser.js';
import { normalizeSerial, SERIAL_HEX_PATTERN, validityProblem, type SigningCertificate } from '../systems/certificate.js';
import { isCompactJws } from './compact-jws.js';
import { ACCEPTED_JWS_ALGORITHMS, isAcceptedJwsAlgorithm, keyMismatch, verifyJwsSignature, verifyJwsSignatureNow } from './jws-signature.js';

export { ACCEPTED_JWS_ALGORITHMS } from './jws-signature.js';

const KEY_CARRYING_HEADERS = ['jwk', 'x5c', 'jku', 'x5u'] as const;

export interface VerifiedJws {
  payload: string;
  kid: string;
  alg: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeSegment(segment: string, what: string, where: string): string {
  try {
    return utf8.decode(Buffer.from(segment, 'base64url'));
  } catch {
    throw new ValidationError(`${where}: the JWS ${what} is not UTF-8 text.`);
  }
}

/**
 * Verifies a JWS in compact serialization against the certificates of the calling IS only. The `kid`
 * must be the hex serial of one of them; keys carried in the token are never used. Throws
 * AuthenticationError (401) for anything that makes the signature untrustworthy and ValidationError
 * (400) for a malformed token or an unknown critical header. `where` names the line for messages.
 * The signature itself is checked on libuv's thread pool, or on this thread with `onThisThread`
 * (cheaper for a call that carries one or a few signatures: see verifyJwsSignatureNow).
 */
export async function verifyCompactJws(
  jws: string,
  certificatesBySerial: ReadonlyMap<string, SigningCertificate>,
  where: string,
  now: Date,
  onThisThread = false,
): Promise<VerifiedJws> {
  const segments = jws.split('.');
  const [headerSegment = '', payloadSegment = '', signatureSegment = ''] = segments;
  if (!isCompactJws(jws) || segments.some((segment) => segment.length % 4 === 1)) {
    throw new ValidationError(`${where}: the JWS is malformed: compact serialization is three base64url parts joined by dots.`);
  }
  const parsedHeader = parseJsonObject(decodeSegment(headerSegment, 'protected header', where));
  if (!parsedHeader.ok) throw new ValidationError(`${where}: the JWS protected header ${parsedHeader.reason}.`);
  const header = parsedHeader.value;

  const alg = header.alg;
  if (alg === undefined) throw new AuthenticationError(`${where}: the JWS protected header has no "alg"; use one of ${ACCEPTED_JWS_ALGORITHMS.join(', ')}.`);
  if (!isAcceptedJwsAlgorithm(alg)) {
    throw new AuthenticationError(
      `${where}: the JWS algorithm ${JSON.stringify(alg ?? null)} is not accepted; use one of ${ACCEPTED_JWS_ALGORITHMS.join(', ')}.`,
    );
  }
  for (const name of KEY_CARRYING_HEADERS) {
    if (name in header) {
      throw new AuthenticationError(`${where}: the JWS header carries "${name}"; MLog verifies only with the certificates registered to your system.`);
    }
  }
  if ('crit' in header) {
    throw new ValidationError(`${where}: the JWS header has critical extensions (${JSON.stringify(header.crit)}) that MLog does not understand.`);
  }
  if ('b64' in header) {
    throw new ValidationError(`${where}: the JWS header sets "b64"; MLog accepts only base64url-encoded payloads.`);
  }
  if (signatureSegment === '') throw new AuthenticationError(`${where}: the JWS has no signature.`);
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.trim() === '') {
    throw new AuthenticationError(`${where}: the JWS header has no "kid"; set it to your certificate's serial number in hex.`);
  }
  if (!SERIAL_HEX_PATTERN.test(kid)) {
    throw new AuthenticationError(
      `${where}: the JWS kid ${JSON.stringify(kid.slice(0, 80))} is not a serial number in hex: only the digits 0-9 and a-f (and "-" first for a negative serial), with no spaces.`,
    );
  }
  const certificate = certificatesBySerial.get(normalizeSerial(kid));
  if (certificate === undefined) {
    throw new AuthenticationError(`${where}: the JWS kid "${kid.slice(0, 80)}" is not the serial number of a certificate registered to your system.`);
  }
  const expired = validityProblem(certificate.record, now);
  if (expired !== undefined) throw new AuthenticationError(`${where}: the JWS is signed with ${expired}.`);

  const mismatch = keyMismatch(alg, certificate.publicKey);
  if (mismatch !== undefined) throw new AuthenticationError(`${where}: the JWS cannot be verified with certificate ${certificate.record.serial}: ${mismatch}.`);
  const signingInput = jws.slice(0, headerSegment.length + 1 + payloadSegment.length);
  const signature = Buffer.from(signatureSegment, 'base64url');
  const verified = onThisThread
    ? verifyJwsSignatureNow(alg, signingInput, signature, certificate.publicKey)
    : await verifyJwsSignature(alg, signingInput, signature, certificate.publicKey);
  if (!verified) {
    throw new AuthenticationError(`${where}: the JWS signature does not verify with certificate ${certificate.record.serial} (${alg}).`);
  }
  const payload = decodeSegment(payloadSegment, 'payload', where);
  return { payload, kid: certificate.record.serial, alg };
}
