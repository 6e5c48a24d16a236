/**
 * Starts a real MLog for a test file: HTTPS with client certificates made by a fresh test CA, over the
 * real Elasticsearch that `npm test` started (MLOG_TEST_ELASTICSEARCH_URL). Systems are added through
 * the administration API, and calls go through real mutual TLS.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * A loopback address of its own (127.x.y.z, random) for a test's deliberately failed console
 * sign-ins: the lockout rule counts failures per address across MLog instances, so failures sent
 * from 127.0.0.1 would lock out the other tests sharing the Elasticsearch.
 */
export function uniqueLoopbackAddress(): string {
  const octet = () => 1 + Math.floor(Math.random() * 254);
  return `127.${octet()}.${octet()}.${octet()}`;
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
  /** Call this port instead of MLog's public one (a reverse proxy in front of it). */
  port?: number;
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
  syslog_addresses?: string[];
  syslog_timezone?: string;
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
          port: options.port ?? this.ports.publicPort,
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

  /** True when the admin listener serves HTTPS (MLOG_ADMIN_TLS_CERT, with the test CA's server certificate). */
  adminTls = false;

  /** A call to the console API on the admin listener (no cookie unless given in headers). Paths are under /console/api unless they start with /console/. */
  callConsole(path: string, options: ConsoleCallOptions = {}): Promise<HttpAnswer> {
    const fullPath = path.startsWith('/console/') ? path : `/console/api${path}`;
    const body = options.body === undefined ? undefined : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
    const headers = {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(body.length) }),
      ...options.headers,
    };
    const common = { host: '127.0.0.1', port: this.ports.adminPort, path: fullPath, method: options.method ?? 'GET', headers, agent: false as const, ...(options.localAddress ? { localAddress: options.localAddress } : {}) };
    return new Promise((resolve, reject) => {
      const request = this.adminTls
        ? httpsRequest({ ...common, ca: this.ca.certPem, servername: 'localhost' }, (response) => collect(response, resolve, reject))
        : httpRequest(common, (response) => collect(response, resolve, reject));
      request.on('error', reject);
      request.end(body);
    });
  }

  /** Signs in to the console (POST /console/api/session) and returns the signed-in client; throws unless 200. */
  async consoleSignIn(username: string, password: string, options: { localAddress?: string } = {}): Promise<ConsoleClient> {
    const answer = await this.callConsole('/session', { method: 'POST', body: { username, password }, ...options });
    if (answer.status !== 200) throw new Error(`signing in as ${username} failed: ${answer.status} ${answer.text}`);
    const setCookie = ([] as string[]).concat(answer.headers['set-cookie'] ?? []);
    const pair = setCookie.map((line) => line.split(';')[0] ?? '').find((first) => first.startsWith('mlog_console='));
    if (pair === undefined) throw new Error(`signing in as ${username} set no mlog_console cookie`);
    return new ConsoleClient(this, pair, answer.json, options.localAddress);
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

export interface ConsoleCallOptions {
  method?: string;
  /** An object is sent as JSON; a string as it is (with Content-Type application/json unless headers say otherwise). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Local address to call from, e.g. 127.0.0.2 (the lockout rule counts per address). */
  localAddress?: string;
}

/**
 * A person signed in to the console: keeps the session cookie and sends the CSRF token with every
 * call that changes state, as the console in a browser does. Paths are under /console/api unless they
 * start with /console/.
 */
export class ConsoleClient {
  constructor(
    private readonly caller: MLogCaller,
    /** The `mlog_console=<secret>` pair to send as Cookie. */
    readonly cookie: string,
    /** The Session answered at sign-in (username, role, csrfToken, purpose, expiresAt). */
    readonly session: { username: string; role: string; csrfToken: string; purpose: unknown; expiresAt: string },
    private readonly localAddress?: string,
  ) {}

  get csrfToken(): string {
    return this.session.csrfToken;
  }

  /** A call with the cookie; `csrf: false` leaves the X-CSRF-Token header out. */
  call(path: string, options: ConsoleCallOptions & { csrf?: boolean } = {}): Promise<HttpAnswer> {
    const method = options.method ?? 'GET';
    const csrf = options.csrf ?? (method !== 'GET' && method !== 'HEAD');
    return this.caller.callConsole(path, {
      ...options,
      ...(this.localAddress === undefined || options.localAddress !== undefined ? {} : { localAddress: this.localAddress }),
      headers: { Cookie: this.cookie, ...(csrf ? { 'X-CSRF-Token': this.csrfToken } : {}), ...options.headers },
    });
  }

  get(path: string, options: Omit<ConsoleCallOptions, 'method' | 'body'> = {}): Promise<HttpAnswer> {
    return this.call(path, { ...options, method: 'GET' });
  }

  post(path: string, body?: unknown, options: Omit<ConsoleCallOptions, 'method' | 'body'> = {}): Promise<HttpAnswer> {
    return this.call(path, { ...options, method: 'POST', body });
  }

  put(path: string, body?: unknown, options: Omit<ConsoleCallOptions, 'method' | 'body'> = {}): Promise<HttpAnswer> {
    return this.call(path, { ...options, method: 'PUT', body });
  }

  patch(path: string, body?: unknown, options: Omit<ConsoleCallOptions, 'method' | 'body'> = {}): Promise<HttpAnswer> {
    return this.call(path, { ...options, method: 'PATCH', body });
  }

  delete(path: string, options: Omit<ConsoleCallOptions, 'method' | 'body'> = {}): Promise<HttpAnswer> {
    return this.call(path, { ...options, method: 'DELETE' });
  }

  /** States the purpose of this session's readings (PUT /console/api/session/purpose); throws unless 200. */
  async statePurpose(purpose: { legal_basis: string; reason: string } = { legal_basis: 'Test legal basis', reason: 'Test reason' }): Promise<void> {
    const answer = await this.put('/session/purpose', purpose);
    if (answer.status !== 200) throw new Error(`stating the purpose failed: ${answer.status} ${answer.text}`);
  }
}

/** MLog started in this process over the test run's Elasticsearch, with its own CA and admin token. */
export class TestMLog extends MLogCaller {
  /** False for an instance started `sameCaAs` another: the first one's stop removes the folder. */
  private ownsDir = true;
  private constructor(
    dir: string,
    ca: CertificateAuthority,
    server: IssuedCertificate,
    readonly mlog: RunningMLog,
    adminToken: string,
  ) {
    super(dir, ca, server, mlog, adminToken);
  }

  /** The file of MLog's signing key (MLOG_SIGNING_KEY), made for this MLog: PKCS#8 PEM, Ed25519. */
  signingKeyPath = '';

  /** The public half of MLog's signing key, as PEM (SPKI). */
  get signingPublicKeyPem(): string {
    return createPublicKey(createPrivateKey(readFileSync(this.signingKeyPath, 'utf8'))).export({ format: 'pem', type: 'spki' }).toString();
  }

  /** The ports of the syslog listeners started (see the `syslog` option of start). */
  get syslogPorts(): RunningMLog['syslogPorts'] {
    return this.mlog.syslogPorts;
  }

  /**
   * Starts MLog; `overrides` set further environment variables (e.g. MLOG_MAX_IN_FLIGHT_PER_IS) over the defaults of the tests; `adminTls` serves the admin listener over HTTPS with the test server certificate;
   * `syslog` turns on syslog listeners on free ports ('tls': MLOG_SYSLOG_TLS_PORT, 'relp': MLOG_RELP_PORT, 'tcp': MLOG_SYSLOG_TCP_PORT).
   */
  static async start(overrides: Record<string, string> = {}, options: { adminTls?: boolean; syslog?: ('tls' | 'relp' | 'tcp')[]; sameCaAs?: TestMLog } = {}): Promise<TestMLog> {
    const syslogVariables = { tls: 'MLOG_SYSLOG_TLS_PORT', relp: 'MLOG_RELP_PORT', tcp: 'MLOG_SYSLOG_TCP_PORT' } as const;
    for (const door of options.syslog ?? []) overrides = { [syslogVariables[door]]: '0', ...overrides };
    // `sameCaAs`: a second instance of the same deployment (same CA, server certificate and admin token), as behind a load balancer.
    const shared = options.sameCaAs;
    const dir = shared?.dir ?? mkdtempSync(join(tmpdir(), 'mlog-e2e-'));
    const ca = shared?.ca ?? (await createCertificateAuthority(dir, 'MLog Test CA'));
    const server = shared?.server ?? (await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1', '::1'] }));
    if (options.adminTls === true) overrides = { MLOG_ADMIN_TLS_CERT: server.certPath, MLOG_ADMIN_TLS_KEY: server.keyPath, ...overrides };
    const token = shared?.adminToken ?? randomBytes(24).toString('hex');
    // A second instance of the same deployment signs with the deployment's key.
    let signingKeyPath = shared?.signingKeyPath ?? '';
    if (signingKeyPath === '') {
      signingKeyPath = join(dir, 'signing-key.pem');
      writeFileSync(signingKeyPath, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    }
    const config = loadConfig({
      MLOG_ELASTICSEARCH_URL: overrides.MLOG_ELASTICSEARCH_URL ?? elasticsearchUrl(),
      MLOG_HOST: '127.0.0.1',
      MLOG_PORT: '0',
      MLOG_ADMIN_PORT: '0',
      MLOG_TLS_CERT: server.certPath,
      MLOG_TLS_KEY: server.keyPath,
      MLOG_TLS_CLIENT_CA: ca.certPath,
      MLOG_ADMIN_TOKEN: token,
      MLOG_REGISTRY_CACHE_SECONDS: '5',
      MLOG_RETENTION_SCHEDULE: 'off',
      MLOG_SIGNING_KEY: signingKeyPath,
      ...overrides,
    });
    const mlog = await startMLog(config, { logger: createLogger('error', process.env.MLOG_TEST_LOGS !== '1') });
    const started = new TestMLog(dir, ca, server, mlog, token);
    started.adminTls = config.adminApi.tlsCertPath !== undefined;
    started.signingKeyPath = config.evidence.signingKeyPath ?? '';
    started.ownsDir = shared === undefined;
    return started;
  }

  /** Creates a local console administrator through the accounts service; a unique username and a random password unless given. */
  async addAdministrator(role: 'viewer' | 'auditor' | 'administrator', options: { username?: string; password?: string } = {}): Promise<{ username: string; password: string }> {
    const username = options.username ?? uniqueCode(role);
    const password = options.password ?? randomBytes(12).toString('base64url');
    await this.mlog.accounts.add({ username, role, password }, 'test');
    return { username, password };
  }

  /** A new administrator of `role`, signed in to the console. */
  async signedInAs(role: 'viewer' | 'auditor' | 'administrator', options: { localAddress?: string } = {}): Promise<ConsoleClient> {
    const { username, password } = await this.addAdministrator(role);
    return this.consoleSignIn(username, password, options);
  }

  async stop(): Promise<void> {
    await this.mlog.stop();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Reads an answer's body and resolves with it (parsed as JSON when it is). */
export function collect(response: import('node:http').IncomingMessage, resolve: (answer: HttpAnswer) => void, reject: (error: Error) => void): void {
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
