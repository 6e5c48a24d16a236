import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCertificateAuthority, issueClientCertificate, type IssuedCertificate } from '../../scripts/dev-pki.js';
import { parseAddressList } from '../../src/config/address-list.js';
import { forwardedClientAddress, readForwardedCertificate } from '../../src/http/forwarded-credentials.js';

const HEADER = 'x-ssl-client-cert';

describe('readForwardedCertificate', () => {
  let dir: string;
  let issuer: X509Certificate;
  let client: IssuedCertificate;
  let stranger: IssuedCertificate;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-forwarded-'));
    const ca = await createCertificateAuthority(join(dir, 'ca'), 'Accepted CA');
    const other = await createCertificateAuthority(join(dir, 'other'), 'Other CA');
    issuer = new X509Certificate(ca.certPem);
    client = await issueClientCertificate(ca, dir, { name: 'client' });
    stranger = await issueClientCertificate(other, dir, { name: 'stranger' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads URL-encoded PEM (nginx), PEM with line breaks or spaces, and base64 DER to the same fingerprint', () => {
    const expected = new X509Certificate(client.certPem).fingerprint256;
    const der = new X509Certificate(client.certPem).raw.toString('base64');
    const forms = [encodeURIComponent(client.certPem), client.certPem, client.certPem.replace(/\n/g, ' '), der];
    for (const form of forms) {
      assert.deepEqual(readForwardedCertificate(form, HEADER, [issuer]), { fingerprint256: expected, chainError: undefined }, form.slice(0, 40));
    }
  });

  test('a certificate from a CA that MLog does not accept has a chain error', () => {
    const read = readForwardedCertificate(encodeURIComponent(stranger.certPem), HEADER, [issuer]);
    assert.deepEqual(read, { fingerprint256: new X509Certificate(stranger.certPem).fingerprint256, chainError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  test('what is not a certificate is a problem naming the header', () => {
    for (const value of ['garbage', '%E0%A4', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', 'QUJD']) {
      const read = readForwardedCertificate(value, HEADER, [issuer]);
      assert.ok('problem' in read, value);
      assert.match(read.problem, /forwarded in x-ssl-client-cert cannot be read/);
    }
  });
});

describe('forwardedClientAddress', () => {
  const parsed = parseAddressList(['10.0.0.0/8', '192.0.2.1']);
  assert.ok('matches' in parsed);
  const trusted = parsed.matches;

  test('the right-most address that is not a trusted proxy; entries the client wrote further left are ignored', () => {
    assert.equal(forwardedClientAddress('203.0.113.7', trusted, '10.0.0.2'), '203.0.113.7');
    assert.equal(forwardedClientAddress('198.51.100.1, 203.0.113.7, 10.1.2.3', trusted, '10.0.0.2'), '203.0.113.7');
    assert.equal(forwardedClientAddress(['198.51.100.1', '203.0.113.7, 192.0.2.1'], trusted, '10.0.0.2'), '203.0.113.7');
  });

  test('ports and brackets are removed; without the header, or with only proxies in it, the proxy itself', () => {
    assert.equal(forwardedClientAddress('203.0.113.7:5050', trusted, '10.0.0.2'), '203.0.113.7');
    assert.equal(forwardedClientAddress('[2001:db8::5]:443', trusted, '10.0.0.2'), '2001:db8::5');
    assert.equal(forwardedClientAddress(undefined, trusted, '10.0.0.2'), '10.0.0.2');
    assert.equal(forwardedClientAddress('10.9.9.9, 192.0.2.1', trusted, '10.0.0.2'), '10.0.0.2');
  });

  test('an entry that is not an address is returned as it is, to match no allowed address', () => {
    assert.equal(forwardedClientAddress('unknown, 10.0.0.9', trusted, '10.0.0.2'), 'unknown');
  });
});
