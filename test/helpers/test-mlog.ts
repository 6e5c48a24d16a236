/**
 * Starts a real MLog for a test file: HTTPS with client certificates made by a fresh test CA, over the
 * real Elasticsearch that `npm test` started (MLOG_TEST_ELASTICSEARCH_URL). Systems are added through
 * the administration API, and calls go through real mutual TLS.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign, importPKCS8 } from 'jose';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate, type CertificateAuthority, type IssuedCertificate, type KeyType } from '../../scripts/dev-pki.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import { startMLog, type RunningMLog } from '../../src/main.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed JSON body (undefined when it is not JSON). */
  json: any;
}

export function elasticsearchUrl(): string {
  const url = process.env.MLOG_TEST_ELASTICSEARCH_URL;
  if (url === undefined) throw new Error('MLOG_TEST_ELASTICSEARCH_URL is not set: run the tests with `npm test`, which starts Elasticsearch.');
  return url;
}

/** A unique IS code for this test run. */
export function uniqueCode(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface CallOptions {
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Present this certificate instead of the system's own (or none with null). */
  certificate?: IssuedCertificate | null;
  /** Local address to call from (for address allow-lists), e.g. 127.0.0.2. */
  localAddress?: string;
}

function defaultAlgorithm(keyPem: string): string {
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== 'ec') return 'RS256';
  return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256';
}

/** An information system of a test, with its certificate, signing key and an mTLS client. */
export class TestSystem {
  constructor(
    readonly code: string,
    readonly certificate: IssuedCertificate,
    private readonly harness: MLogCaller,
  ) {}

  call(path: string, options: CallOptions = {}): Promise<HttpAnswer> {
    return this.harness.callPublic(path, { certificate: this.certificate, ...options });
  }

  register(body: string | object, options: CallOptions = {}): Promise<HttpAnswer> {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return this.call('/register', { method: 'POST', body: text, headers: { 'Content-Type': 'application/json' }, ...options });
  }

  /** A JWS in compact serialization over `payload`, kid = this certificate's serial, unless overridden. */
  async sign(payload: string | object, options: { alg?: string; header?: Record<string, unknown>; certificate?: IssuedCertificate } = {}): Promise<string> {
    const certificate = options.certificate ?? this.certificate;
    const alg = options.alg ?? defaultAlgorithm(certificate.keyPem);
    const key = await importPKCS8(certificate.keyPem, alg);
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return new CompactSign(new TextEncoder().encode(text)).setProtectedHeader({ alg, kid: certificate.serialHex, ...options.header }).sign(key);
  }
}

export interface SystemOptions {
  code?: string;
  keyType?: KeyType;
  require_signature?: boolean;
  allowed_addresses?: string[];
  permissions?: string[];
  status?: 'staging' | 'active' | 'suspended';
  event_types?: string[];
}

/** The ports of a running MLog, in this process or another. */
export interface MLogPorts {
  publicPort: number;
  adminPort: number;
}

/**
 * Calls to a running MLog — admin API, mutual-TLS public API, systems with client certificates — from
 * its folder, CA, server certificate, admin token and ports. TestMLog starts one in this process; a
 * test that spawns MLog as a process (test/e2e/workers.test.ts) builds a caller for it directly.
 */
export class MLogCaller {
  constructor(
    readonly dir: string,
    readonly ca: CertificateAuthority,
    readonly server: IssuedCertificate,
    readonly ports: MLogPorts,
    readonly adminToken: string,
  ) {}

  /** Issues a client certificate from the test CA (or from `ca`). */
  issueCertificate(
    name: string,
    options: { keyType?: KeyType; notBefore?: Date; notAfter?: Date; der?: boolean; ca?: CertificateAuthority; serial?: bigint; certificateAuthority?: boolean } = {},
  ): Promise<IssuedCertificate> {
    return issueClientCertificate(options.ca ?? this.ca, this.dir, { name, ...options });
  }

  /** Registers an IS through the administration API, with a fresh client certificate. */
  async addSystem(options: SystemOptions = {}): Promise<TestSystem> {
    const code = options.code ?? uniqueCode('is');
    const certificate = await this.issueCertificate(code, { keyType: options.keyType ?? 'rsa' });
    const { keyType: _keyType, code: _code, ...rest } = options;
    const answer = await this.callAdmin('/admin/systems', {
      method: 'POST',
      body: JSON.stringify({ code, name: `Test system ${code}`, idno: '1003600000000', certificates: [certificate.certPem], status: 'active', ...rest }),
    });
    if (answer.status !== 201) throw new Error(`adding ${code} failed: ${answer.status} ${answer.text}`);
    return new TestSystem(code, certificate, this);
  }

  callPublic(path: string, options: CallOptions = {}): Promise<HttpAnswer> {
    const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        {
          host: '127.0.0.1',
          port: this.ports.publicPort,
          path,
          method: options.method ?? 'GET',
          ca: this.ca.certPem,
          servername: 'localhost',
          ...(options.certificate ? { cert: options.certificate.certPem, key: options.certificate.keyPem } : {}),
          ...(options.localAddress ? { localAddress: options.localAddress } : {}),
          headers: { ...(body ? { 'Content-Length': String(body.length) } : {}), ...options.headers },
          agent: false,
        },
        (response) => collect(response, resolve, reject),
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  callAdmin(path: string, options: { method?: string; body?: string; token?: string | null } = {}): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const token = options.token === undefined ? this.adminToken : options.token;
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: this.ports.adminPort,
          path,
          method: options.method ?? 'GET',
          headers: {
            ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
            ...(token !== null ? { Authorization: `Bearer ${token}` } : {}),
          },
          agent: false,
        },
        (response) => collect(response, resolve, reject),
      );
      request.on('error', reject);
      request.end(options.body);
    });
  }
}

/** MLog started in this process over the test run's Elasticsearch, with its own CA and admin token. */
export class TestMLog extends MLogCaller {
  private constructor(
    dir: string,
    ca: CertificateAuthority,
    server: IssuedCertificate,
    readonly mlog: RunningMLog,
    adminToken: string,
  ) {
    super(dir, ca, server, mlog, adminToken);
  }

  /** Starts MLog; `overrides` set further environment variables (e.g. MLOG_MAX_IN_FLIGHT_PER_IS) over the defaults of the tests. */
  static async start(overrides: Record<string, string> = {}): Promise<TestMLog> {
    const dir = mkdtempSync(join(tmpdir(), 'mlog-e2e-'));
    const ca = await createCertificateAuthority(dir, 'MLog Test CA');
    const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1', '::1'] });
    const token = randomBytes(24).toString('hex');
    const config = loadConfig({
      MLOG_ELASTICSEARCH_URL: elasticsearchUrl(),
      MLOG_HOST: '127.0.0.1',
      MLOG_PORT: '0',
      MLOG_ADMIN_PORT: '0',
      MLOG_TLS_CERT: server.certPath,
      MLOG_TLS_KEY: server.keyPath,
      MLOG_TLS_CLIENT_CA: ca.certPath,
      MLOG_ADMIN_TOKEN: token,
      MLOG_REGISTRY_CACHE_SECONDS: '5',
      MLOG_RETENTION_SCHEDULE: 'off',
      ...overrides,
    });
    const mlog = await startMLog(config, { logger: createLogger('error', process.env.MLOG_TEST_LOGS !== '1') });
    return new TestMLog(dir, ca, server, mlog, token);
  }

  async stop(): Promise<void> {
    await this.mlog.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function collect(response: import('node:http').IncomingMessage, resolve: (answer: HttpAnswer) => void, reject: (error: Error) => void): void {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('error', reject);
  response.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: parse(text) });
  });
}

/** A minimal valid event. */
export function event(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { event_time: new Date().toISOString(), event_type: 'Test.Event', ...fields };
}
