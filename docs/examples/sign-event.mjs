#!/usr/bin/env node
// Signs an MLog event (or a batch of events, one JSON object per line) as a JWS in compact
// serialization and prints it on one line, ready to be sent to POST /register.
//
//   node docs/examples/sign-event.mjs <private-key.pem> <certificate.pem> [event-file] > event.jws
//
// The event is read from event-file, or from standard input when it is absent or "-".
// - private-key.pem: the PKCS#8 PEM key of the system certificate ("-----BEGIN PRIVATE KEY-----").
//   A PKCS#1 RSA key ("BEGIN RSA PRIVATE KEY") can be converted with
//   `openssl pkcs8 -topk8 -nocrypt -in old.key -out key.pem`.
// - certificate.pem: the system certificate registered with MLog (PEM). Its serial number, in hex as
//   Java's BigInteger.toString(16) prints it, becomes the JWS "kid".
// The algorithm follows the key: RS256 for RSA, ES256 for EC P-256, ES384 for EC P-384
// (override with MLOG_JWS_ALG, e.g. PS256 or RS512 for an RSA key).
//
// Needs the `jose` package (npm install jose); run from the MLog repository it is already installed.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CompactSign, importPKCS8 } from 'jose';

const [keyPath, certPath, eventPath = '-'] = process.argv.slice(2);
if (keyPath === undefined || certPath === undefined) {
  process.stderr.write('usage: node sign-event.mjs <private-key.pem> <certificate.pem> [event-file|-]\n');
  process.exit(2);
}

const keyPem = readFileSync(keyPath, 'utf8');
const certificate = new X509Certificate(readFileSync(certPath));

// node prints the serial in upper-case hex, whole bytes (so possibly with a leading zero);
// Java's BigInteger.toString(16) prints lower case without leading zeros. MLog accepts both, but
// the Java form is the documented one.
const kid = certificate.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');

function algorithmFor(pem) {
  if (process.env.MLOG_JWS_ALG) return process.env.MLOG_JWS_ALG;
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
  }
  throw new Error(`MLog accepts RSA, EC P-256 and EC P-384 keys; this key is ${key.asymmetricKeyType}`);
}

const alg = algorithmFor(keyPem);
const payload = readFileSync(eventPath === '-' ? 0 : eventPath, 'utf8').trim();
const privateKey = await importPKCS8(keyPem, alg);

const jws = await new CompactSign(new TextEncoder().encode(payload))
  .setProtectedHeader({ alg, kid })
  .sign(privateKey);

process.stdout.write(`${jws}\n`);
