import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { CompactSign, compactVerify, importPKCS8, importX509 } from 'jose';
import {
  createCertificateAuthority,
  ensureDevelopmentPki,
  issueClientCertificate,
  issueServerCertificate,
  toJavaSerialHex,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../scripts/dev-pki.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mlog-dev-pki-test-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function expectedSerialHex(x509: X509Certificate): string {
  return x509.serialNumber.toLowerCase().replace(/^0+/, '') || '0';
}

function assertIssuedBy(issued: IssuedCertificate, ca: CertificateAuthority): X509Certificate {
  const x509 = new X509Certificate(issued.certPem);
  const caX509 = new X509Certificate(ca.certPem);
  assert.equal(x509.verify(caX509.publicKey), true, 'certificate must verify with the CA public key');
  assert.equal(x509.checkIssued(caX509), true);
  assert.equal(x509.checkPrivateKey(createPrivateKey(issued.keyPem)), true, 'key must match certificate');
  assert.equal(issued.serialHex, expectedSerialHex(x509));
  assert.match(issued.serialHex, /^(0|[1-9a-f][0-9a-f]*)$/);
  assert.equal(issued.fingerprint256, x509.fingerprint256);
  assert.match(issued.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  return x509;
}

function assertValidity(x509: X509Certificate, notBefore: Date, notAfter: Date): void {
  // Validity is stored with one-second precision.
  assert.equal(new Date(x509.validFrom).getTime(), Math.floor(notBefore.getTime() / 1000) * 1000);
  assert.equal(new Date(x509.validTo).getTime(), Math.floor(notAfter.getTime() / 1000) * 1000);
}

interface TlsResult {
  statusCode: number;
  body: string;
}

/** Starts a mutual-TLS server, makes one request presenting `client`, returns the fingerprint the server saw. */
async function mutualTlsRequest(ca: CertificateAuthority, server: IssuedCertificate, client: IssuedCertificate): Promise<TlsResult> {
  const httpsServer = https.createServer(
    { key: server.keyPem, cert: server.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      res.setHeader('content-type', 'text/plain');
      res.end(socket.authorized ? peer.fingerprint256 : 'unauthorized');
    },
  );
  await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpsServer.address() as AddressInfo;
  try {
    return await new Promise<TlsResult>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          method: 'GET',
          key: client.keyPem,
          cert: client.certPem,
          ca: ca.certPem,
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  } finally {
    httpsServer.closeAllConnections();
    await new Promise<void>((resolve) => httpsServer.close(() => resolve()));
  }
}

test('toJavaSerialHex strips leading zeros and lower-cases', () => {
  assert.equal(toJavaSerialHex('0A1B2C'), 'a1b2c');
  assert.equal(toJavaSerialHex('00FF'), 'ff');
  assert.equal(toJavaSerialHex('7F'), '7f');
  assert.equal(toJavaSerialHex('00'), '0');
  assert.equal(toJavaSerialHex('0a:1b'), 'a1b');
});

test('development PKI: CA, server and client certificates with mutual TLS', async (t) => {
  await withTempDir(async (dir) => {
    const ca = await createCertificateAuthority(path.join(dir, 'ca'), 'MLog Test CA');
    const caX509 = new X509Certificate(ca.certPem);

    await t.test('CA certificate', async () => {
      assert.equal(ca.dir, path.join(dir, 'ca'));
      assert.equal(caX509.ca, true);
      assert.equal(caX509.subject, 'CN=MLog Test CA');
      assert.equal(caX509.issuer, 'CN=MLog Test CA');
      assert.equal(caX509.verify(caX509.publicKey), true);
      assert.equal(ca.serialHex, expectedSerialHex(caX509));
      assert.equal(ca.fingerprint256, caX509.fingerprint256);
      assert.equal(await readFile(ca.certPath, 'utf8'), ca.certPem);
      assert.equal(await readFile(ca.keyPath, 'utf8'), ca.keyPem);
      assert.equal((await stat(ca.keyPath)).mode & 0o777, 0o600);
      assert.ok(new Date(caX509.validFrom).getTime() <= Date.now());
      assert.ok(new Date(caX509.validTo).getTime() > Date.now() + 5 * 365 * DAY);
    });

    const server = await issueServerCertificate(ca, path.join(dir, 'server'), {
      name: 'localhost',
      hosts: ['localhost', '127.0.0.1', '::1'],
    });

    await t.test('server certificate', () => {
      const x509 = assertIssuedBy(server, ca);
      assert.equal(x509.ca, false);
      assert.equal(x509.subject, 'CN=localhost');
      assert.equal(x509.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      assert.equal(x509.checkHost('localhost'), 'localhost');
      assert.equal(x509.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(x509.checkIP('::1'), '::1');
      assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.1']); // extended key usage: serverAuth
      assert.equal(server.derPath, undefined);
    });

    await t.test('server certificate rejects invalid hosts', async () => {
      await assert.rejects(issueServerCertificate(ca, path.join(dir, 'bad'), { name: 'bad', hosts: ['a,b'] }));
      await assert.rejects(issueServerCertificate(ca, path.join(dir, 'bad'), { name: 'bad', hosts: [] }));
    });

    const clientsDir = path.join(dir, 'clients');
    for (const keyType of ['rsa', 'ec-p256', 'ec-p384'] as const) {
      await t.test(`${keyType} client certificate: DER, JWS and mutual TLS`, async () => {
        const notBefore = new Date(Date.now() - 2 * HOUR);
        const notAfter = new Date(Date.now() + 30 * DAY);
        const client = await issueClientCertificate(ca, clientsDir, {
          name: `client-${keyType}`,
          keyType,
          notBefore,
          notAfter,
          der: true,
        });
        const x509 = assertIssuedBy(client, ca);
        assert.equal(x509.subject, `CN=client-${keyType}`);
        assert.equal(x509.ca, false);
        assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.2']); // extended key usage: clientAuth
        assertValidity(x509, notBefore, notAfter);
        assert.equal(x509.publicKey.asymmetricKeyType, keyType === 'rsa' ? 'rsa' : 'ec');
        if (keyType !== 'rsa') {
          assert.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, keyType === 'ec-p256' ? 'prime256v1' : 'secp384r1');
        } else {
          assert.equal(x509.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
        }

        assert.ok(client.derPath);
        assert.equal(path.extname(client.derPath), '.cer');
        const der = await readFile(client.derPath);
        assert.equal(new X509Certificate(der).fingerprint256, client.fingerprint256);

        const alg = keyType === 'rsa' ? 'RS256' : keyType === 'ec-p256' ? 'ES256' : 'ES384';
        const privateKey = await importPKCS8(client.keyPem, alg);
        const publicKey = await importX509(client.certPem, alg);
        const jws = await new CompactSign(new TextEncoder().encode('{"event":"test"}'))
          .setProtectedHeader({ alg })
          .sign(privateKey);
        const verified = await compactVerify(jws, publicKey);
        assert.equal(new TextDecoder().decode(verified.payload), '{"event":"test"}');

        const result = await mutualTlsRequest(ca, server, client);
        assert.equal(result.statusCode, 200);
        assert.equal(result.body, client.fingerprint256);
      });
    }

    await t.test('expired client certificate', async () => {
      const notBefore = new Date(Date.now() - 30 * DAY);
      const notAfter = new Date(Date.now() - 1 * DAY);
      const client = await issueClientCertificate(ca, clientsDir, { name: 'expired', notBefore, notAfter });
      const x509 = assertIssuedBy(client, ca);
      assertValidity(x509, notBefore, notAfter);
      assert.ok(new Date(x509.validTo).getTime() < Date.now());
      // A real TLS server refuses it.
      await assert.rejects(mutualTlsRequest(ca, server, client));
    });

    await t.test('not-yet-valid client certificate', async () => {
      const notBefore = new Date(Date.now() + 10 * DAY);
      const notAfter = new Date(Date.now() + 40 * DAY);
      const client = await issueClientCertificate(ca, clientsDir, { name: 'future', keyType: 'ec-p256', notBefore, notAfter });
      const x509 = assertIssuedBy(client, ca);
      assertValidity(x509, notBefore, notAfter);
      assert.ok(new Date(x509.validFrom).getTime() > Date.now());
      await assert.rejects(mutualTlsRequest(ca, server, client));
    });

    await t.test('client certificate with a CN that needs escaping', async () => {
      const name = 'IS/Demo+x=y ä \\ $HOME #1';
      const client = await issueClientCertificate(ca, clientsDir, { name, keyType: 'ec-p256' });
      const x509 = assertIssuedBy(client, ca);
      assert.equal(path.dirname(client.certPath), clientsDir);
      // x509.subject escapes RFC 2253 style; the legacy object has the raw CN value.
      assert.equal(x509.toLegacyObject().subject.CN, name);
      assert.equal(path.basename(client.certPath), 'IS_Demo_x_y______HOME__1.pem');
    });

    await t.test('invalid validity period is rejected', async () => {
      const now = Date.now();
      await assert.rejects(
        issueClientCertificate(ca, clientsDir, { name: 'bad', notBefore: new Date(now), notAfter: new Date(now - DAY) }),
        /notAfter must be later than notBefore/,
      );
    });

    await t.test('serials are random and formatted like Java BigInteger', async () => {
      const serials = new Set<string>();
      const issued = await Promise.all(
        Array.from({ length: 6 }, (_, i) => issueClientCertificate(ca, clientsDir, { name: `serial-${i}`, keyType: 'ec-p256' })),
      );
      for (const cert of issued) {
        const x509 = new X509Certificate(cert.certPem);
        assert.equal(cert.serialHex, expectedSerialHex(x509));
        serials.add(cert.serialHex);
      }
      assert.equal(serials.size, issued.length);
    });
  });
});

test('ensureDevelopmentPki creates once and reuses existing files', async () => {
  await withTempDir(async (dir) => {
    const pkiDir = path.join(dir, 'pki');
    const first = await ensureDevelopmentPki(pkiDir, 'demo-is');
    const caX509 = new X509Certificate(first.ca.certPem);
    assert.equal(caX509.subject, 'CN=MLog Development CA');
    assert.equal(caX509.ca, true);
    const serverX509 = assertIssuedBy(first.server, first.ca);
    assert.equal(serverX509.checkHost('localhost'), 'localhost');
    assert.equal(serverX509.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(serverX509.checkIP('::1'), '::1');
    const clientX509 = assertIssuedBy(first.client, first.ca);
    assert.equal(clientX509.subject, 'CN=demo-is');
    assert.ok(first.client.derPath);
    assert.equal(new X509Certificate(await readFile(first.client.derPath)).fingerprint256, first.client.fingerprint256);

    const second = await ensureDevelopmentPki(pkiDir, 'demo-is');
    assert.equal(second.ca.fingerprint256, first.ca.fingerprint256);
    assert.equal(second.server.fingerprint256, first.server.fingerprint256);
    assert.equal(second.client.fingerprint256, first.client.fingerprint256);
    assert.equal(second.client.derPath, first.client.derPath);
    assert.deepEqual(second, first);

    // A second client name adds a client, keeping CA and server.
    const third = await ensureDevelopmentPki(pkiDir, 'other-is');
    assert.equal(third.ca.fingerprint256, first.ca.fingerprint256);
    assert.equal(third.server.fingerprint256, first.server.fingerprint256);
    assert.notEqual(third.client.fingerprint256, first.client.fingerprint256);
    assertIssuedBy(third.client, third.ca);

    const result = await mutualTlsRequest(first.ca, first.server, first.client);
    assert.equal(result.body, first.client.fingerprint256);
  });
});
