import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { EncryptJWT, jwtDecrypt } from 'jose';
import * as client from 'openid-client';
import type { AuditLog } from '../audit/audit-log.js';
import { AuthenticationError, ConfigurationError, ForbiddenError, IdentityProviderError } from '../errors/mlog-error.js';
import { USERNAME_PATTERN, type AdminAccounts } from './admin-accounts.js';
import { ADMIN_ROLES, isAdminRole } from './administrator.js';
import type { ConsoleSessions, StartedSession } from './console-sessions.js';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The callback address registered at the provider (…/console/api/oidc/callback). */
  redirectUrl: string;
  /** The claim whose value is the role. */
  roleClaim: string;
  /** PEM CA(s) of the provider's HTTPS certificate, when not a public one. */
  caPath?: string;
}

/** How long a sign-in may take at the provider, from leaving MLog to coming back. */
export const OIDC_TRANSACTION_SECONDS = 600;

/** A sign-in on its way to the provider: what the callback must find again, sealed into a cookie. */
export interface OidcTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** The console view to return to. */
  next: string;
}

/** The console path to return to after sign-in: a path under /console/ (never another site), else /console/. */
export function safeConsolePath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/console/') || value.startsWith('/console/api/') || value.length > 2000 || /[\\\s]/.test(value)) return '/console/';
  return value;
}

class ProviderUnreachable extends Error {}

/** Fetch over node:https trusting `ca`: the provider's certificate may be issued by the state's own CA. */
function fetchTrusting(ca: string): client.CustomFetch {
  return (url, options) =>
    new Promise((resolve, reject) => {
      const request = httpsRequest(url, { method: options.method, headers: options.headers, ca, timeout: 10_000, signal: options.signal }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => reject(new ProviderUnreachable(error.message)));
        response.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const one of ([] as string[]).concat(value ?? [])) headers.append(name, one);
          }
          const status = response.statusCode ?? 502;
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers }));
        });
      });
      request.on('timeout', () => request.destroy(new ProviderUnreachable(`no answer from ${new URL(url).origin} within 10 s`)));
      request.on('error', (error) => reject(error instanceof ProviderUnreachable ? error : new ProviderUnreachable(error.message)));
      const body = options.body;
      request.end(body instanceof URLSearchParams ? body.toString() : typeof body === 'string' || body instanceof Uint8Array ? body : undefined);
    });
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 10; current = (current as { cause?: unknown }).cause) chain.push(current);
  return chain;
}

/** True when `error` (or what caused it) says the provider could not be reached, rather than that it refused. */
function isUnreachable(error: unknown): boolean {
  return causes(error).some((one) => one instanceof ProviderUnreachable || (one instanceof TypeError && /fetch failed/.test(one.message)) || (one as { code?: unknown }).code === 'ECONNREFUSED');
}

/** True when openid-client refused the provider's answer (an error answer, a token that does not verify), as opposed to a defect. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof client.ResponseBodyError ||
    error instanceof client.AuthorizationResponseError ||
    error instanceof client.WWWAuthenticateChallengeError ||
    (error instanceof client.ClientError && typeof error.code === 'string' && error.code.startsWith('OAUTH_')) ||
    (error instanceof Error && error.message === 'no ID token')
  );
}

/**
 * Sign-in to the console through an OpenID Connect provider: the authorization code flow with PKCE,
 * state and nonce (openid-client). What the callback must check travels in a cookie encrypted with a
 * key derived from the client secret, so any MLog instance can finish a sign-in another began. The
 * role comes from one claim and must be a role of MLog; the person's account (source oidc) is created
 * or brought to that role, and the session is started by the console's session service. Every
 * refusal is recorded in the audit trail like a failed password sign-in.
 */
export class OidcSignIn {
  private configuration: Promise<client.Configuration> | undefined;
  private readonly sealingKey: Uint8Array;
  private readonly ca: string | undefined;

  constructor(
    private readonly settings: OidcSettings,
    private readonly accounts: AdminAccounts,
    private readonly sessions: ConsoleSessions,
    private readonly audit: AuditLog,
  ) {
    this.sealingKey = new Uint8Array(hkdfSync('sha256', settings.clientSecret, 'mlog', 'mlog console oidc transaction', 32));
    try {
      this.ca = settings.caPath === undefined ? undefined : readFileSync(settings.caPath, 'utf8');
    } catch {
      throw new ConfigurationError(`MLOG_OIDC_CA names ${settings.caPath}, which cannot be read.`);
    }
  }

  /** The provider's address to send the browser to, and the sealed transaction to keep in a cookie until it comes back. */
  async begin(next: unknown): Promise<{ redirectTo: string; sealedTransaction: string }> {
    const config = await this.discovered();
    const transaction: OidcTransaction = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier(), next: safeConsolePath(next) };
    const redirectTo = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUrl,
      scope: 'openid profile email',
      response_type: 'code',
      state: transaction.state,
      nonce: transaction.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(transaction.codeVerifier),
      code_challenge_method: 'S256',
    });
    const sealedTransaction = await new EncryptJWT({ ...transaction })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${OIDC_TRANSACTION_SECONDS}s`)
      .encrypt(this.sealingKey);
    return { redirectTo: redirectTo.href, sealedTransaction };
  }

  /**
   * Finishes the sign-in the provider sent back to the callback with `query` (its query string):
   * the state must be the transaction's, the code is exchanged, the ID token validated (issuer,
   * audience, nonce, signature), and the role claim read. The started session and the view to return to.
   */
  async finish(query: URLSearchParams, sealedTransaction: string | undefined, address: string): Promise<{ started: StartedSession; next: string }> {
    const transaction = await this.openTransaction(sealedTransaction, address);
    if (query.get('state') !== transaction.state) {
      await this.refuse(address, '(unknown)', 'state-mismatch');
      throw new AuthenticationError('The answer of the identity provider does not belong to the sign-in this browser started (its "state" differs); sign in again from the console.');
    }
    const providerError = query.get('error');
    if (providerError !== null) {
      await this.refuse(address, '(unknown)', 'provider-refused', providerError);
      throw new AuthenticationError(`The identity provider did not sign you in (${providerError.slice(0, 100)}); sign in again from the console.`);
    }
    const config = await this.discovered();
    const currentUrl = new URL(this.settings.redirectUrl);
    currentUrl.search = query.toString();
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: transaction.codeVerifier, expectedState: transaction.state, expectedNonce: transaction.nonce, idTokenExpected: true });
      const idClaims = tokens.claims();
      if (idClaims === undefined) throw new Error('no ID token');
      claims = { ...idClaims };
      if (claims[this.settings.roleClaim] === undefined || claims.preferred_username === undefined) {
        const userInfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        claims = { ...userInfo, ...claims };
      }
    } catch (error) {
      if (isUnreachable(error)) throw new IdentityProviderError(`The identity provider ${this.settings.issuer} could not be reached to finish the sign-in; try again later.`);
      if (!isRefusal(error)) throw error;
      await this.refuse(address, '(unknown)', 'token-refused');
      throw new AuthenticationError('The identity provider\'s answer could not be verified (the code was refused, or the ID token is not valid for MLog); sign in again from the console.');
    }
    const username = this.usernameOf(claims);
    if (username === undefined) {
      await this.refuse(address, '(no valid username)', 'no-username');
      throw new ForbiddenError('The identity provider gave no usable username: "preferred_username" (or "email") must be 2 to 64 characters of lower-case letters, digits and . _ @ -.');
    }
    const role = claims[this.settings.roleClaim];
    if (!isAdminRole(role)) {
      await this.refuse(address, username, 'no-role');
      throw new ForbiddenError(`The identity provider gives you no role in MLog: the claim "${this.settings.roleClaim}" must be one of ${ADMIN_ROLES.join(', ')}; ask the administrators of the identity provider.`);
    }
    const admitted = await this.accounts.admitOidcPerson(username, role);
    if ('refused' in admitted) {
      await this.refuse(address, username, admitted.refused);
      throw new ForbiddenError(
        admitted.refused === 'disabled'
          ? `The administrator "${username}" is disabled in MLog; ask an MLog administrator.`
          : `"${username}" is a local account of MLog, which signs in with its password, not through the identity provider.`,
      );
    }
    const started = await this.sessions.start({ username, role: admitted.account.role, source: 'oidc' }, address);
    return { started, next: transaction.next };
  }

  private usernameOf(claims: Record<string, unknown>): string | undefined {
    for (const claim of ['preferred_username', 'email']) {
      const value = claims[claim];
      if (typeof value === 'string' && USERNAME_PATTERN.test(value.toLowerCase())) return value.toLowerCase();
    }
    return undefined;
  }

  private async openTransaction(sealed: string | undefined, address: string): Promise<OidcTransaction> {
    try {
      if (sealed === undefined) throw new Error('no transaction cookie');
      const { payload } = await jwtDecrypt(sealed, this.sealingKey);
      const { state, nonce, codeVerifier, next } = payload;
      if (typeof state !== 'string' || typeof nonce !== 'string' || typeof codeVerifier !== 'string') throw new Error('incomplete transaction');
      return { state, nonce, codeVerifier, next: safeConsolePath(next) };
    } catch {
      await this.refuse(address, '(unknown)', 'no-transaction');
      throw new AuthenticationError(`This sign-in was not started by this browser at MLog, or took longer than ${OIDC_TRANSACTION_SECONDS / 60} minutes; sign in again from the console.`);
    }
  }

  private async refuse(address: string, username: string, reason: string, providerError?: string): Promise<void> {
    await this.audit.record({
      event_type: 'MLog.Admin.SignIn',
      event_message: `Sign-in through OpenID Connect as "${username}" refused (${reason}).`,
      user: username,
      address,
      outcome: 'failure',
      method: 'oidc',
      reason,
      ...(providerError === undefined ? {} : { provider_error: providerError.slice(0, 100) }),
    });
  }

  /** The provider's metadata, discovered once (again after a failure). */
  private discovered(): Promise<client.Configuration> {
    this.configuration ??= client
      .discovery(new URL(this.settings.issuer), this.settings.clientId, { client_secret: this.settings.clientSecret, redirect_uris: [this.settings.redirectUrl], response_types: ['code'] }, client.ClientSecretBasic(this.settings.clientSecret), {
        ...(this.ca === undefined ? {} : { [client.customFetch]: fetchTrusting(this.ca) }),
      })
      .then((config) => {
        if (this.ca !== undefined) config[client.customFetch] = fetchTrusting(this.ca);
        return config;
      });
    return this.configuration.catch((error: unknown) => {
      this.configuration = undefined;
      throw new IdentityProviderError(`The identity provider ${this.settings.issuer} could not be reached or its discovery document could not be read (${isUnreachable(error) ? 'unreachable' : 'unexpected answer'}); try again later.`);
    });
  }
}
