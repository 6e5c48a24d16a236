/**
 * Local development PKI for MLog.
 *
 * Used by `npm start` (a development CA, a TLS server certificate and a demo
 * information-system client certificate) and by the end-to-end tests (mutual
 * TLS and JWS signing with real keys).
 *
 * Keys are generated with node:crypto (PKCS#8 PEM, loadable by createPrivateKey
 * and jose's importPKCS8); certificates are signed with the `openssl` command
 * (`openssl ca`, because OpenSSL 3.0's `x509 -req` cannot set an arbitrary
 * notBefore), and read back with node:crypto's X509Certificate.
 *
 * Every `openssl` invocation gets its own throw-away working directory with a
 * minimal configuration, a fresh index.txt and a serial file, so concurrent
 * issuance is safe and the system openssl.cnf is never consulted.
 */
import { execFile as execFileCallback } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFile = promisify(execFileCallback);

export interface IssuedCertificate {
  /** PEM certificate file. */
  certPath: string;
  /** PEM private key file (PKCS#8). */
  keyPath: string;
  /** DER copy of the certificate (.cer) when requested. */
  derPath?: string;
  certPem: string;
  keyPem: string;
  /** Serial as Java BigInteger.toString(16) prints it: lower case, no leading zeros. */
  serialHex: string;
  /** As node's X509Certificate.fingerprint256 gives it (upper-case hex pairs separated by colons). */
  fingerprint256: string;
}

export interface CertificateAuthority extends IssuedCertificate {
  dir: string;
}

export type KeyType = 'rsa' | 'ec-p256' | 'ec-p384';

export interface ServerCertificateOptions {
  /** File base name and CN. */
  name: string;
  /** DNS names and IP addresses for subjectAltName, e.g. ['localhost', '127.0.0.1', '::1']. */
  hosts: string[];
}

export interface ClientCertificateOptions {
  /** File base name and CN. */
  name: string;
  /** Default 'rsa' (2048 bits). */
  keyType?: KeyType;
  /** Default: now - 1 hour. */
  notBefore?: Date;
  /** Default: now + 365 days. May be in the past (expired certificate). */
  notAfter?: Date;
  /** Also write <name>.cer in DER. */
  der?: boolean;
  /** A chosen serial number, negative ones included (default: random positive 128 bits). notBefore is then the time of issue. */
  serial?: bigint;
  /** Issue it with basicConstraints CA:TRUE, as a certificate authority's own certificate is. */
  certificateAuthority?: boolean;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const CA_VALIDITY_MS = 10 * 365 * DAY_MS;
const DEFAULT_VALIDITY_MS = 365 * DAY_MS;
const BACKDATE_MS = HOUR_MS;
/** The CA is backdated further than leaf certificates so leaves never predate it. */
const CA_BACKDATE_MS = DAY_MS;

export const DEVELOPMENT_CA_NAME = 'MLog Development CA';

/**
 * Converts a serial number as node's X509Certificate.serialNumber gives it
 * (upper-case hex, whole bytes, so possibly with a leading zero nibble) to the
 * form Java's BigInteger.toString(16) prints: lower case, no leading zeros.
 */
export function toJavaSerialHex(serialNumber: string): string {
  const text = serialNumber.replace(/:/g, '').toLowerCase();
  const negative = text.startsWith('-');
  const stripped = (negative ? text.slice(1) : text).replace(/^0+/, '');
  if (stripped === '') return '0';
  return negative ? `-${stripped}` : stripped;
}

// ---------------------------------------------------------------------------
// Public API

export async function createCertificateAuthority(dir: string, commonName: string): Promise<CertificateAuthority> {
  assertCommonName(commonName);
  await mkdir(dir, { recursive: true });
  const { certPath, keyPath } = caPaths(dir);
  const keyPem = await generatePrivateKeyPem('rsa');
  const now = Date.now();
  const certPem = await withWorkDir(async (work) => {
    const { configPath, keyFile } = await prepareWorkDir(work, keyPem, [
      '[ ext_ca ]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign,digitalSignature',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
    ]);
    const csrPath = path.join(work, 'request.csr');
    const outPath = path.join(work, 'certificate.pem');
    await createRequest(configPath, keyFile, commonName, csrPath);
    await openssl([
      'ca', '-batch', '-notext', '-utf8', '-preserveDN',
      '-config', configPath,
      '-selfsign', '-keyfile', keyFile,
      '-in', csrPath, '-out', outPath,
      '-outdir', work,
      '-md', 'sha256',
      '-extensions', 'ext_ca',
      '-startdate', opensslTime(new Date(now - CA_BACKDATE_MS)),
      '-enddate', opensslTime(new Date(now + CA_VALIDITY_MS)),
    ]);
    return readFile(outPath, 'utf8');
  });
  await writeKeyFile(keyPath, keyPem);
  await writeFile(certPath, certPem);
  return { dir, ...describe(certPath, keyPath, undefined, certPem, keyPem) };
}

export async function issueServerCertificate(
  ca: CertificateAuthority,
  dir: string,
  options: ServerCertificateOptions,
): Promise<IssuedCertificate> {
  if (options.hosts.length === 0) throw new Error('issueServerCertificate: at least one host is required');
  const san = options.hosts.map(subjectAltNameEntry).join(',');
  const now = Date.now();
  return issueLeaf(ca, dir, {
    name: options.name,
    keyType: 'rsa',
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + DEFAULT_VALIDITY_MS),
    der: false,
    extensions: [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage = serverAuth',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid,issuer',
      `subjectAltName = ${san}`,
    ],
  });
}

export async function issueClientCertificate(
  ca: CertificateAuthority,
  dir: string,
  options: ClientCertificateOptions,
): Promise<IssuedCertificate> {
  const keyType = options.keyType ?? 'rsa';
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - BACKDATE_MS);
  const notAfter = options.notAfter ?? new Date(now + DEFAULT_VALIDITY_MS);
  return issueLeaf(ca, dir, {
    name: options.name,
    keyType,
    notBefore,
    notAfter,
    der: options.der ?? false,
    ...(options.serial === undefined ? {} : { serial: options.serial }),
    extensions: [
      options.certificateAuthority === true ? 'basicConstraints = critical,CA:TRUE' : 'basicConstraints = critical,CA:FALSE',
      keyType === 'rsa'
        ? 'keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment'
        : 'keyUsage = critical,digitalSignature,nonRepudiation',
      'extendedKeyUsage = clientAuth',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid,issuer',
    ],
  });
}

/**
 * Creates a local development PKI under `dir` if absent:
 *   dir/ca.pem, dir/ca.key                       CA "MLog Development CA"
 *   dir/server.pem, dir/server.key               server cert for localhost, 127.0.0.1, ::1
 *   dir/clients/<clientName>.{pem,key,cer}       demo information-system client certificate
 * Reuses existing files when present, still valid for at least a day, matching
 * their keys and (for leaves) signed by the CA; anything else is re-created
 * (a new CA forces new leaves).
 */
export async function ensureDevelopmentPki(
  dir: string,
  clientName: string,
): Promise<{ ca: CertificateAuthority; server: IssuedCertificate; client: IssuedCertificate }> {
  await mkdir(dir, { recursive: true });
  const clientsDir = path.join(dir, 'clients');

  const { certPath: caCertPath, keyPath: caKeyPath } = caPaths(dir);
  const existingCa = await loadExisting(caCertPath, caKeyPath, undefined);
  let ca: CertificateAuthority;
  let caIsNew = false;
  if (existingCa && existingCa.x509.ca && existingCa.x509.verify(existingCa.x509.publicKey)) {
    ca = { dir, ...existingCa.issued };
  } else {
    ca = await createCertificateAuthority(dir, DEVELOPMENT_CA_NAME);
    caIsNew = true;
  }
  const caX509 = new X509Certificate(ca.certPem);

  const reuse = async (certPath: string, keyPath: string, derPath: string | undefined): Promise<IssuedCertificate | undefined> => {
    if (caIsNew) return undefined;
    const existing = await loadExisting(certPath, keyPath, derPath);
    if (!existing || !existing.x509.verify(caX509.publicKey)) return undefined;
    return existing.issued;
  };

  const serverPaths = leafPaths(dir, 'server');
  const server =
    (await reuse(serverPaths.certPath, serverPaths.keyPath, undefined)) ??
    (await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1', '::1'] }));

  const clientPaths = leafPaths(clientsDir, clientName);
  const client =
    (await reuse(clientPaths.certPath, clientPaths.keyPath, clientPaths.derPath)) ??
    (await issueClientCertificate(ca, clientsDir, { name: clientName, der: true }));

  return { ca, server, client };
}

// ---------------------------------------------------------------------------
// Internals

interface LeafRequest {
  name: string;
  keyType: KeyType;
  notBefore: Date;
  notAfter: Date;
  der: boolean;
  extensions: string[];
  serial?: bigint;
}

async function issueLeaf(ca: CertificateAuthority, dir: string, request: LeafRequest): Promise<IssuedCertificate> {
  assertCommonName(request.name);
  assertValidDate(request.notBefore, 'notBefore');
  assertValidDate(request.notAfter, 'notAfter');
  if (request.notAfter.getTime() <= request.notBefore.getTime()) {
    throw new Error(`certificate "${request.name}": notAfter must be later than notBefore`);
  }
  await mkdir(dir, { recursive: true });
  const { certPath, keyPath, derPath } = leafPaths(dir, request.name);
  const keyPem = await generatePrivateKeyPem(request.keyType);
  const certPem = await withWorkDir(async (work) => {
    const { configPath, keyFile } = await prepareWorkDir(work, keyPem, ['[ ext_leaf ]', ...request.extensions]);
    const csrPath = path.join(work, 'request.csr');
    const outPath = path.join(work, 'certificate.pem');
    await createRequest(configPath, keyFile, request.name, csrPath);
    if (request.serial !== undefined) {
      // `openssl ca` takes its serial from a file that cannot hold a negative number; `x509 -req` can,
      // but starts the validity at the time of issue.
      if (request.notBefore.getTime() > Date.now()) throw new Error(`certificate "${request.name}": a chosen serial needs notBefore in the past`);
      await openssl([
        'x509', '-req', '-in', csrPath,
        '-CA', ca.certPath, '-CAkey', ca.keyPath,
        '-set_serial', request.serial.toString(),
        '-extfile', configPath, '-extensions', 'ext_leaf',
        '-days', String(Math.max(1, Math.ceil((request.notAfter.getTime() - Date.now()) / DAY_MS))),
        '-sha256', '-out', outPath,
      ]);
      return readFile(outPath, 'utf8');
    }
    await openssl([
      'ca', '-batch', '-notext', '-utf8', '-preserveDN',
      '-config', configPath,
      '-cert', ca.certPath, '-keyfile', ca.keyPath,
      '-in', csrPath, '-out', outPath,
      '-outdir', work,
      '-md', 'sha256',
      '-extensions', 'ext_leaf',
      '-startdate', opensslTime(request.notBefore),
      '-enddate', opensslTime(request.notAfter),
    ]);
    return readFile(outPath, 'utf8');
  });
  await writeKeyFile(keyPath, keyPem);
  await writeFile(certPath, certPem);
  if (request.der) {
    await writeFile(derPath, new X509Certificate(certPem).raw);
  }
  return describe(certPath, keyPath, request.der ? derPath : undefined, certPem, keyPem);
}

function describe(
  certPath: string,
  keyPath: string,
  derPath: string | undefined,
  certPem: string,
  keyPem: string,
): IssuedCertificate {
  const x509 = new X509Certificate(certPem);
  const issued: IssuedCertificate = {
    certPath,
    keyPath,
    certPem,
    keyPem,
    serialHex: toJavaSerialHex(x509.serialNumber),
    fingerprint256: x509.fingerprint256,
  };
  if (derPath !== undefined) issued.derPath = derPath;
  return issued;
}

/** Loads an existing certificate/key pair if both exist, match, and stay valid for at least a day. */
async function loadExisting(
  certPath: string,
  keyPath: string,
  derPath: string | undefined,
): Promise<{ issued: IssuedCertificate; x509: X509Certificate } | undefined> {
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const x509 = new X509Certificate(certPem);
    if (!x509.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    const now = Date.now();
    if (new Date(x509.validFrom).getTime() > now) return undefined;
    if (new Date(x509.validTo).getTime() < now + DAY_MS) return undefined;
    let der: string | undefined;
    if (derPath !== undefined) {
      if (!(await exists(derPath))) await writeFile(derPath, x509.raw);
      der = derPath;
    }
    return { issued: describe(certPath, keyPath, der, certPem, keyPem), x509 };
  } catch {
    return undefined;
  }
}

function caPaths(dir: string): { certPath: string; keyPath: string } {
  return { certPath: path.join(dir, 'ca.pem'), keyPath: path.join(dir, 'ca.key') };
}

function leafPaths(dir: string, name: string): { certPath: string; keyPath: string; derPath: string } {
  const base = path.join(dir, fileBaseName(name));
  return { certPath: `${base}.pem`, keyPath: `${base}.key`, derPath: `${base}.cer` };
}

/** Makes a name safe as a file base name (no separators, no leading dots); the CN keeps the original. */
function fileBaseName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return safe === '' ? 'certificate' : safe;
}

function assertCommonName(name: string): void {
  if (typeof name !== 'string' || name.trim() === '') throw new Error('certificate name (CN) must not be empty');
  // OpenSSL's default string_mask/CN upper bound is 64 characters (ub-common-name).
  if ([...name].length > 64) throw new Error(`certificate name (CN) is longer than 64 characters: ${name}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new Error('certificate name (CN) must not contain control characters');
}

function assertValidDate(date: Date, label: string): void {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new Error(`${label} is not a valid date`);
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new Error(`${label} must be between the years 1950 and 9999`);
}

function subjectAltNameEntry(host: string): string {
  if (isIP(host) !== 0) return `IP:${host}`;
  // DNS names (optionally a leading wildcard label); anything else could break the config syntax.
  if (/^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
    return `DNS:${host}`;
  }
  throw new Error(`not a DNS name or IP address: ${JSON.stringify(host)}`);
}

/** YYYYMMDDHHMMSSZ (UTC), as `openssl ca -startdate/-enddate` accept it. */
function opensslTime(date: Date): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return (
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds()) +
    'Z'
  );
}

/** Escapes a value for `-subj` (OpenSSL treats '/', '+', '=' and '\' specially). */
function subjectValue(value: string): string {
  return value.replace(/[\\/+=]/g, (c) => `\\${c}`);
}

/** Escapes a value for an OpenSSL configuration file ($ expansion, # comments, quotes, backslashes). */
function configValue(value: string): string {
  return value.replace(/[\\$#"';]/g, (c) => `\\${c}`);
}

/** A random positive 128-bit serial (hex, as the `serial` file of `openssl ca` wants it). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  if (bytes.every((b) => b === 0)) bytes[15] = 1;
  return bytes.toString('hex').toUpperCase();
}

async function prepareWorkDir(
  work: string,
  keyPem: string,
  extensionSection: string[],
): Promise<{ configPath: string; keyFile: string }> {
  const configPath = path.join(work, 'openssl.cnf');
  const keyFile = path.join(work, 'subject.key');
  const config = [
    '[ ca ]',
    'default_ca = CA_default',
    '',
    '[ CA_default ]',
    `database = ${configValue(path.join(work, 'index.txt'))}`,
    `serial = ${configValue(path.join(work, 'serial'))}`,
    `new_certs_dir = ${configValue(work)}`,
    'default_md = sha256',
    'policy = policy_any',
    'unique_subject = no',
    'copy_extensions = none',
    'email_in_dn = no',
    'string_mask = utf8only',
    '',
    '[ policy_any ]',
    'commonName = supplied',
    '',
    '[ req ]',
    'distinguished_name = req_dn',
    'string_mask = utf8only',
    'utf8 = yes',
    '',
    '[ req_dn ]',
    '',
    ...extensionSection,
    '',
  ].join('\n');
  await Promise.all([
    writeFile(configPath, config),
    writeFile(path.join(work, 'index.txt'), ''),
    writeFile(path.join(work, 'index.txt.attr'), 'unique_subject = no\n'),
    writeFile(path.join(work, 'serial'), `${randomSerial()}\n`),
    writeKeyFile(keyFile, keyPem),
  ]);
  return { configPath, keyFile };
}

async function createRequest(configPath: string, keyFile: string, commonName: string, csrPath: string): Promise<void> {
  await openssl([
    'req', '-new', '-utf8',
    '-config', configPath,
    '-key', keyFile,
    '-subj', `/CN=${subjectValue(commonName)}`,
    '-out', csrPath,
  ]);
}

async function withWorkDir<T>(fn: (work: string) => Promise<T>): Promise<T> {
  const work = await mkdtemp(path.join(tmpdir(), 'mlog-dev-pki-'));
  try {
    return await fn(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function openssl(args: string[]): Promise<string> {
  try {
    const { stdout } = await execFile('openssl', args, {
      // Never pick up a user/system configuration by accident.
      env: { ...process.env, OPENSSL_CONF: '/dev/null' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('the `openssl` command was not found on PATH; it is needed for the development PKI');
    const detail = typeof err.stderr === 'string' && err.stderr.trim() !== '' ? err.stderr.trim() : err.message;
    throw new Error(`openssl ${args[0] ?? ''} failed: ${detail}`);
  }
}

function generatePrivateKeyPem(keyType: KeyType): Promise<string> {
  const encoding = {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  } as const;
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _publicKey: string, privateKey: string): void => {
      if (err) reject(err);
      else resolve(privateKey);
    };
    switch (keyType) {
      case 'rsa':
        generateKeyPair('rsa', { modulusLength: 2048, ...encoding }, done);
        break;
      case 'ec-p256':
        generateKeyPair('ec', { namedCurve: 'P-256', ...encoding }, done);
        break;
      case 'ec-p384':
        generateKeyPair('ec', { namedCurve: 'P-384', ...encoding }, done);
        break;
      default:
        reject(new Error(`unsupported key type: ${String(keyType)}`));
    }
  });
}

async function writeKeyFile(file: string, pem: string): Promise<void> {
  await writeFile(file, pem, { mode: 0o600 });
  await chmod(file, 0o600); // writeFile's mode only applies when the file is created
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
