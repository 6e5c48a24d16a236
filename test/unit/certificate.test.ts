import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeCertificate, normalizeSerial, readCertificate, validityProblem } from '../../src/auth/certificate.js';
import { ValidationError } from '../../src/errors/mlog-error.js';
import { createCertificateAuthority, issueClientCertificate } from '../../scripts/dev-pki.js';

describe('normalizeSerial', () => {
  test('upper case becomes lower case', () => {
    assert.equal(normalizeSerial('1A2B3C'), '1a2b3c');
  });

  test('leading zeros are dropped (Java BigInteger.toString(16))', () => {
    assert.equal(normalizeSerial('00AB'), 'ab');
    assert.equal(normalizeSerial('0001'), '1');
    assert.equal(normalizeSerial('0a0b'), 'a0b');
  });

  test('inner and trailing zeros are kept', () => {
    assert.equal(normalizeSerial('A000'), 'a000');
    assert.equal(normalizeSerial('10'), '10');
  });

  test('zero stays "0"', () => {
    assert.equal(normalizeSerial('0'), '0');
    assert.equal(normalizeSerial('0000'), '0');
  });

  test('surrounding whitespace is trimmed', () => {
    assert.equal(normalizeSerial('  00FF\n'), 'ff');
  });

  test('the forms a client may print compare equal', () => {
    const forms = ['4F1A2B', '4f1a2b', '004F1A2B', '00004f1a2b'];
    assert.equal(new Set(forms.map(normalizeSerial)).size, 1);
  });
});

describe('validityProblem', () => {
  const record = { serial: '4f1a', not_before: '2024-01-01T00:00:00.000Z', not_after: '2025-01-01T00:00:00.000Z' };

  test('within the validity period there is no problem', () => {
    assert.equal(validityProblem(record, new Date('2024-06-01T00:00:00Z')), undefined);
  });

  test('the edges are inside the period', () => {
    assert.equal(validityProblem(record, new Date('2024-01-01T00:00:00.000Z')), undefined);
    assert.equal(validityProblem(record, new Date('2025-01-01T00:00:00.000Z')), undefined);
  });

  test('not yet valid', () => {
    const problem = validityProblem(record, new Date('2023-12-31T23:59:59.999Z'));
    assert.ok(problem !== undefined);
    assert.match(problem, /not valid before/);
    assert.match(problem, /4f1a/);
    assert.match(problem, /2024-01-01T00:00:00\.000Z/);
  });

  test('expired', () => {
    const problem = validityProblem(record, new Date('2025-01-01T00:00:00.001Z'));
    assert.ok(problem !== undefined);
    assert.match(problem, /expired/);
    assert.match(problem, /4f1a/);
    assert.match(problem, /2025-01-01T00:00:00\.000Z/);
  });
});

describe('readCertificate and describeCertificate', () => {
  test('PEM, DER and bare base64 DER give the same certificate; garbage is refused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlog-certificate-test-'));
    try {
      const ca = await createCertificateAuthority(path.join(dir, 'ca'), 'MLog Unit Test CA');
      const notBefore = new Date(Date.UTC(2024, 0, 1));
      const notAfter = new Date(Date.UTC(2030, 0, 1));
      const client = await issueClientCertificate(ca, path.join(dir, 'clients'), { name: 'unit-is', der: true, notBefore, notAfter });
      assert.ok(client.derPath !== undefined);
      const der = await readFile(client.derPath);

      const fromPem = describeCertificate(readCertificate(client.certPem));
      const fromPemBuffer = describeCertificate(readCertificate(Buffer.from(client.certPem)));
      const fromDer = describeCertificate(readCertificate(der));
      const fromBase64 = describeCertificate(readCertificate(der.toString('base64').replace(/(.{64})/g, '$1\n')));
      for (const other of [fromPemBuffer, fromDer, fromBase64]) assert.deepEqual(other, fromPem);

      assert.equal(fromPem.serial, client.serialHex);
      assert.match(fromPem.serial, /^(0|[1-9a-f][0-9a-f]*)$/);
      assert.equal(fromPem.fingerprint256, client.fingerprint256);
      assert.match(fromPem.subject, /unit-is/);
      assert.match(fromPem.issuer, /MLog Unit Test CA/);
      assert.ok(!fromPem.subject.includes('\n'));
      assert.equal(fromPem.not_before, notBefore.toISOString());
      assert.equal(fromPem.not_after, notAfter.toISOString());
      assert.match(fromPem.pem, /^-----BEGIN CERTIFICATE-----/);

      assert.equal(validityProblem(fromPem, new Date(Date.UTC(2025, 0, 1))), undefined);
      assert.match(validityProblem(fromPem, new Date(Date.UTC(2031, 0, 1))) ?? '', /expired/);

      for (const input of ['not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', Buffer.from([1, 2, 3])]) {
        assert.throws(
          () => readCertificate(input, 'certificates[0]'),
          (error: unknown) => error instanceof ValidationError && error.message.startsWith('certificates[0] '),
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
