import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeCertificate, hasCaBasicConstraint, normalizeSerial, readCertificate, readSystemCertificate, SERIAL_HEX_PATTERN, validityProblem } from '../../src/systems/certificate.js';
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

  test('a negative serial keeps its sign and loses its leading zeros, as Java prints it', () => {
    assert.equal(normalizeSerial('-04D2'), '-4d2');
    assert.equal(normalizeSerial('-01234'), '-1234');
    assert.equal(normalizeSerial('-1234'), '-1234');
    assert.equal(normalizeSerial('-0'), '0');
  });

  test('the kid form is hex digits with an optional leading "-", nothing else', () => {
    for (const kid of ['4d2', '04D2', '-4d2', '-01234']) assert.match(kid, SERIAL_HEX_PATTERN, kid);
    for (const kid of [' 4d2', '4d2 ', '4d2\n', '4d:2', '+4d2', '--4d2', '0x4d2', '', '-']) assert.doesNotMatch(kid, SERIAL_HEX_PATTERN, JSON.stringify(kid));
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

describe('readSystemCertificate', () => {
  test('refuses a CA certificate (basicConstraints CA:TRUE, with or without keyCertSign) naming it; accepts a leaf', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlog-certificate-test-'));
    try {
      const ca = await createCertificateAuthority(path.join(dir, 'ca'), 'MLog Unit Test CA');
      const caFlagged = await issueClientCertificate(ca, path.join(dir, 'clients'), { name: 'ca-flagged', certificateAuthority: true });
      const leaf = await issueClientCertificate(ca, path.join(dir, 'clients'), { name: 'leaf-is' });
      for (const [certificate, subject] of [[ca, 'MLog Unit Test CA'], [caFlagged, 'ca-flagged']] as const) {
        assert.throws(
          () => readSystemCertificate(certificate.certPem, 'certificates[1]'),
          (error: unknown) =>
            error instanceof ValidationError && error.message.startsWith('certificates[1] ') && error.message.includes(subject) && /CA:TRUE/.test(error.message),
        );
      }
      assert.equal(readSystemCertificate(leaf.certPem, 'certificates[0]').subject, 'CN=leaf-is');
      assert.equal(hasCaBasicConstraint(readCertificate(leaf.certPem).raw), false);
      assert.equal(hasCaBasicConstraint(Buffer.from([0x30, 0x82, 0xff])), false, 'truncated DER is not a CA');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a negative serial is described as Java prints it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlog-certificate-test-'));
    try {
      const ca = await createCertificateAuthority(path.join(dir, 'ca'), 'MLog Unit Test CA');
      const negative = await issueClientCertificate(ca, path.join(dir, 'clients'), { name: 'negative', serial: -0x4d2n });
      assert.equal(describeCertificate(readCertificate(negative.certPem)).serial, '-4d2');
      assert.equal(negative.serialHex, '-4d2');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
