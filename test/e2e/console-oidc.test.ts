/**
 * Sign-in to the console through OpenID Connect, through the door a person uses: a real provider
 * (oidc-provider) over HTTPS with its own test CA, MLog's admin listener over HTTPS, and the whole
 * authorization code flow followed over HTTP with cookie jars, posting the provider's login and
 * consent forms as a browser does.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpsServer, request as httpsRequest, type Server } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Provider from 'oidc-provider';
import { createCertificateAuthority, issueServerCertificate, type CertificateAuthority } from '../../scripts/dev-pki.js';
import { closeInspectionClient, inspectionClient, auditRecords as auditRecordsWhere } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, uniqueCode, uniqueLoopbackAddress, type HttpAnswer } from '../helpers/test-mlog.js';

const CLIENT_ID = 'mlog-console';
const CLIENT_SECRET = randomBytes(24).toString('hex');

/** The role claim each test person has at the provider (absent: no claim). */
const ROLES = new Map<string, string>();

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Cookies per host:port, as a browser keeps them (the attributes are not needed here). */
class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  take(origin: string, answer: HttpAnswer): void {
    const jar = this.cookies.get(origin) ?? new Map<string, string>();
    for (const line of ([] as string[]).concat(answer.headers['set-cookie'] ?? [])) {
      const pair = line.split(';')[0] ?? '';
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(origin, jar);
  }

  header(origin: string): string {
    return [...(this.cookies.get(origin) ?? new Map()).entries()].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get(origin: string, name: string): string | undefined {
    return this.cookies.get(origin)?.get(name);
  }
}

/** A browser: HTTPS trusting `cas`, a cookie jar, calls from `localAddress`. */
class Browser {
  readonly jar = new CookieJar();
  constructor(
    private readonly cas: string[],
    readonly address: string,
  ) {}

  call(url: string, options: { method?: string; form?: Record<string, string> } = {}): Promise<HttpAnswer & { url: URL }> {
    const target = new URL(url);
    const body = options.form === undefined ? undefined : Buffer.from(new URLSearchParams(options.form).toString());
    const cookie = this.jar.header(target.host);
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        {
          host: '127.0.0.1',
          servername: 'localhost',
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method: options.method ?? 'GET',
          ca: this.cas,
          localAddress: this.address,
          agent: false,
          headers: {
            Host: target.host,
            Accept: 'text/html,application/json',
            ...(cookie === '' ? {} : { Cookie: cookie }),
            ...(body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.length) }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            const answer = { status: response.statusCode ?? 0, headers: response.headers, text, json, url: target };
            this.jar.take(target.host, answer);
            resolve(answer);
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  /** Follows redirects from `url` until an answer that is not one, or until `stop` says the next location is to be left alone. */
  async follow(url: string, stop: (location: URL) => boolean = () => false): Promise<HttpAnswer & { url: URL; stoppedAt?: URL }> {
    let answer = await this.call(url);
    for (let hops = 0; hops < 20; hops += 1) {
      const location = answer.headers.location;
      if (answer.status < 300 || answer.status >= 400 || typeof location !== 'string') return answer;
      const next = new URL(location, answer.url);
      if (stop(next)) return { ...answer, stoppedAt: next };
      answer = await this.call(next.href);
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** Posts the provider's form on `page` (its action and hidden fields) with `fields` added, then follows the redirects. */
  async submitForm(page: HttpAnswer & { url: URL }, fields: Record<string, string>, stop: (location: URL) => boolean): Promise<HttpAnswer & { url: URL; stoppedAt?: URL }> {
    const action = /<form[^>]*action="([^"]+)"/.exec(page.text)?.[1];
    assert.ok(action, `no form on ${page.url.href}: ${page.text.slice(0, 500)}`);
    const hidden = Object.fromEntries([...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((match) => [match[1], match[2]]));
    const answer = await this.call(new URL(action, page.url).href, { method: 'POST', form: { ...hidden, ...fields } });
    const location = answer.headers.location;
    if (typeof location !== 'string') return answer;
    const next = new URL(location, answer.url);
    if (stop(next)) return { ...answer, stoppedAt: next };
    return this.follow(next.href, stop);
  }
}

/** The audit records of `eventType` from `address`, newest first. */
function auditRecords(eventType: string, address: string): Promise<Record<string, unknown>[]> {
  return auditRecordsWhere(eventType, { address });
}

describe('console sign-in through OpenID Connect', () => {
  let dir: string;
  let providerCa: CertificateAuthority;
  let providerServer: Server;
  let issuer: string;
  let mlog: TestMLog;
  let mlogOrigin: string;
  let callbackUrl: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-oidc-'));
    providerCa = await createCertificateAuthority(dir, 'Test identity provider CA');
    const providerCertificate = await issueServerCertificate(providerCa, dir, { name: 'provider', hosts: ['localhost', '127.0.0.1'] });
    const providerPort = await freePort();
    const adminPort = await freePort();
    issuer = `https://localhost:${providerPort}`;
    mlogOrigin = `https://localhost:${adminPort}`;
    callbackUrl = `${mlogOrigin}/console/api/oidc/callback`;
    const provider = new Provider(issuer, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [callbackUrl], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
      claims: { openid: ['sub'], profile: ['preferred_username', 'mlog_role'] },
      conformIdTokenClaims: false,
      cookies: { keys: [randomBytes(16).toString('hex')] },
      features: { devInteractions: { enabled: true } },
      findAccount: (_context, id) => ({
        accountId: id,
        claims: () => ({ sub: id, preferred_username: id, ...(ROLES.has(id) ? { mlog_role: ROLES.get(id) } : {}) }),
      }),
    });
    providerServer = createHttpsServer({ cert: providerCertificate.certPem, key: providerCertificate.keyPem }, provider.callback());
    await new Promise<void>((resolve) => providerServer.listen(providerPort, '127.0.0.1', resolve));
    mlog = await TestMLog.start(
      {
        MLOG_ADMIN_PORT: String(adminPort),
        MLOG_OIDC_ISSUER: issuer,
        MLOG_OIDC_CLIENT_ID: CLIENT_ID,
        MLOG_OIDC_CLIENT_SECRET: CLIENT_SECRET,
        MLOG_OIDC_REDIRECT_URL: callbackUrl,
        MLOG_OIDC_CA: providerCa.certPath,
      },
      { adminTls: true },
    );
  });

  after(async () => {
    await mlog?.stop();
    await new Promise((resolve) => providerServer?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    await closeInspectionClient();
  });

  function browser(): Browser {
    return new Browser([providerCa.certPem, mlog.ca.certPem], uniqueLoopbackAddress());
  }

  const atCallback = (location: URL): boolean => location.href.startsWith(callbackUrl);

  /** Starts at MLog's login, signs in at the provider as `login` and consents; stops at the redirect back to MLog's callback. */
  async function throughProvider(person: Browser, login: string, next?: string): Promise<URL> {
    const start = `${mlogOrigin}/console/api/oidc/login${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`;
    const loginPage = await person.follow(start, atCallback);
    if (loginPage.stoppedAt !== undefined) return loginPage.stoppedAt;
    assert.equal(loginPage.status, 200, loginPage.text.slice(0, 500));
    assert.match(loginPage.text, /name="login"/);
    const consentPage = await person.submitForm(loginPage, { login, password: 'any' }, atCallback);
    if (consentPage.stoppedAt !== undefined) return consentPage.stoppedAt;
    assert.match(consentPage.text, /name="prompt" value="consent"/, consentPage.text.slice(0, 500));
    const back = await person.submitForm(consentPage, {}, atCallback);
    assert.ok(back.stoppedAt, `the provider did not send the browser back to MLog: ${back.status} ${back.text.slice(0, 500)}`);
    return back.stoppedAt;
  }

  test('GET /config says OpenID Connect is configured', async () => {
    const answer = await mlog.callConsole('/config');
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json, { oidc: true });
  });

  test('login sends the browser to the provider with the code flow, PKCE (S256), state and nonce, and keeps them in a sealed HttpOnly SameSite=Lax cookie', async () => {
    const person = browser();
    const answer = await person.call(`${mlogOrigin}/console/api/oidc/login`);
    assert.equal(answer.status, 302, answer.text);
    const location = new URL(String(answer.headers.location));
    assert.equal(location.origin, issuer);
    assert.equal(location.searchParams.get('client_id'), CLIENT_ID);
    assert.equal(location.searchParams.get('response_type'), 'code');
    assert.equal(location.searchParams.get('redirect_uri'), callbackUrl);
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    for (const parameter of ['state', 'nonce', 'code_challenge']) assert.match(location.searchParams.get(parameter) ?? '', /^[A-Za-z0-9_-]{20,}$/, parameter);
    const cookie = ([] as string[]).concat(answer.headers['set-cookie'] ?? []).find((line) => line.startsWith('mlog_oidc='));
    assert.ok(cookie);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /Path=\/console\/api\/oidc/);
    // Sealed: neither the state nor the PKCE verifier can be read from it.
    assert.ok(!cookie.includes(location.searchParams.get('state') ?? '-'));
  });

  test('signing in through the provider ends signed in to the console with the role of the claim, back at the view left behind; recorded in the audit trail', async () => {
    const login = uniqueCode('alice');
    ROLES.set(login, 'auditor');
    const person = browser();
    const callback = await throughProvider(person, login, '/console/discover?q=event_type%3AX');
    assert.ok(callback.searchParams.get('code'));
    const answer = await person.call(callback.href);
    assert.equal(answer.status, 303, answer.text);
    assert.equal(answer.headers.location, '/console/discover?q=event_type%3AX');
    const sessionCookie = ([] as string[]).concat(answer.headers['set-cookie'] ?? []).find((line) => line.startsWith('mlog_console='));
    assert.ok(sessionCookie, JSON.stringify(answer.headers['set-cookie']));
    assert.match(sessionCookie, /HttpOnly; SameSite=Strict; Secure/);
    assert.equal(person.jar.get(new URL(mlogOrigin).host, 'mlog_oidc'), undefined, 'the transaction cookie is cleared');

    const session = await person.call(`${mlogOrigin}/console/api/session`);
    assert.equal(session.status, 200, session.text);
    assert.equal((session.json as { username: string }).username, login);
    assert.equal((session.json as { role: string }).role, 'auditor');

    const [record] = await auditRecords('MLog.Admin.SignIn', person.address);
    assert.equal(record?.outcome, 'success');
    assert.equal(record?.method, 'oidc');
    assert.equal(record?.role, 'auditor');

    const admins = await mlog.signedInAs('administrator');
    const list = await admins.get('/admins');
    const listed = (list.json.admins as { username: string; source: string; role: string }[]).find((admin) => admin.username === login);
    assert.deepEqual(listed && { source: listed.source, role: listed.role }, { source: 'oidc', role: 'auditor' });
  });

  test('a person whose role claim is missing or not a role of MLog is refused with a message naming the claim, and the refusal is recorded', async () => {
    for (const claim of [undefined, 'superuser']) {
      const login = uniqueCode('norole');
      if (claim !== undefined) ROLES.set(login, claim);
      const person = browser();
      const callback = await throughProvider(person, login);
      const answer = await person.call(callback.href);
      assert.equal(answer.status, 403, answer.text);
      assert.match((answer.json as { message: string }).message, /the claim "mlog_role" must be one of viewer, auditor, administrator/);
      assert.ok(!([] as string[]).concat(answer.headers['set-cookie'] ?? []).some((line) => line.startsWith('mlog_console=')), 'no session cookie');
      const [record] = await auditRecords('MLog.Admin.SignIn', person.address);
      assert.equal(record?.outcome, 'failure');
      assert.equal(record?.reason, 'no-role');
      assert.equal(record?.user, login);
      assert.equal((await mlog.mlog.accounts.find(login)), undefined, 'no account is made');
    }
  });

  test('a callback whose state is not the one this browser started with is refused and recorded, and the code is not used', async () => {
    const login = uniqueCode('mallory');
    ROLES.set(login, 'administrator');
    const person = browser();
    const callback = await throughProvider(person, login);
    const forged = new URL(callback.href);
    forged.searchParams.set('state', 'not-the-state-of-this-sign-in');
    const answer = await person.call(forged.href);
    assert.equal(answer.status, 401, answer.text);
    assert.match((answer.json as { message: string }).message, /"state" differs/);
    const [record] = await auditRecords('MLog.Admin.SignIn', person.address);
    assert.equal(record?.reason, 'state-mismatch');

    // Without the transaction cookie (another browser), the genuine callback is refused too.
    const other = browser();
    const stolen = await other.call(callback.href);
    assert.equal(stolen.status, 401, stolen.text);
    assert.match((stolen.json as { message: string }).message, /not started by this browser/);
  });

  test('a disabled OpenID Connect administrator cannot sign in, and their open session ends', async () => {
    const login = uniqueCode('bob');
    ROLES.set(login, 'viewer');
    const person = browser();
    const first = await person.call((await throughProvider(person, login)).href);
    assert.equal(first.status, 303, first.text);
    assert.equal((await person.call(`${mlogOrigin}/console/api/session`)).status, 200);

    await mlog.mlog.accounts.update(login, { disabled: true }, 'test');
    assert.equal((await person.call(`${mlogOrigin}/console/api/session`)).status, 401);
    const again = await person.call((await throughProvider(person, login)).href);
    assert.equal(again.status, 403, again.text);
    assert.match((again.json as { message: string }).message, /is disabled/);
    const [record] = await auditRecords('MLog.Admin.SignIn', person.address);
    assert.equal(record?.reason, 'disabled');
  });

  test('the provider cannot sign in as a local account', async () => {
    const { username } = await mlog.addAdministrator('viewer');
    ROLES.set(username, 'administrator');
    const person = browser();
    const answer = await person.call((await throughProvider(person, username)).href);
    assert.equal(answer.status, 403, answer.text);
    assert.match((answer.json as { message: string }).message, /is a local account/);
    assert.equal((await mlog.mlog.accounts.find(username))?.role, 'viewer');
  });
});
