import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { SigningKey } from '../../src/evidence/signing-key.js';

function keyFile(dir: string, name: string, pem: string): string {
  const path = join(dir, name);
  writeFileSync(path, pem);
  return path;
}

test('Ed25519 and P-256 keys sign compact JWS that jose verifies with the public JWK, both ways of signing; kid is the RFC 7638 thumbprint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlog-signing-key-'));
  try {
    const ed = keyFile(dir, 'ed.pem', generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const ec = keyFile(dir, 'ec.pem', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    for (const [path, alg] of [[ed, 'EdDSA'], [ec, 'ES256']] as const) {
      const key = await SigningKey.fromFile(path);
      assert.equal(key.alg, alg);
      assert.match(key.kid, /^[A-Za-z0-9_-]{43}$/);
      const publicKey = await importJWK(key.publicJwk, alg);
      for (const jws of [await key.sign('{"a":1}', 'mlog-evidence+jws'), key.signNow('{"a":1}', 'mlog-receipt+jws')]) {
        const { payload, protectedHeader } = await compactVerify(jws, publicKey);
        assert.equal(new TextDecoder().decode(payload), '{"a":1}');
        assert.equal(protectedHeader.kid, key.kid);
        assert.equal(protectedHeader.alg, alg);
      }
      assert.deepEqual(decodeProtectedHeader(key.signNow('{}', 'mlog-receipt+jws')), { alg, kid: key.kid, typ: 'mlog-receipt+jws' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not a usable key refuses to start, naming MLOG_SIGNING_KEY and the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlog-signing-key-'));
  try {
    const garbage = keyFile(dir, 'garbage.pem', 'not a key');
    await assert.rejects(SigningKey.fromFile(garbage), new RegExp(`^ConfigurationError: MLOG_SIGNING_KEY: the file ${garbage} holds no PEM private key`));
    const rsa = keyFile(dir, 'rsa.pem', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    await assert.rejects(SigningKey.fromFile(rsa), /MLOG_SIGNING_KEY: the file .*rsa\.pem holds a rsa key; MLog signs with Ed25519 or P-256 \(ES256\) only\./);
    const p384 = keyFile(dir, 'p384.pem', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    await assert.rejects(SigningKey.fromFile(p384), /holds an EC key on secp384r1/);
    await assert.rejects(SigningKey.fromFile(join(dir, 'absent.pem')), /MLOG_SIGNING_KEY: the file .*absent\.pem cannot be read \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
