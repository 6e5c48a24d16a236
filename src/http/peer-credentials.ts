import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { identifyCaller, identifyCallerAtOnce, identifyDevelopmentCaller, type PeerCredentials } from '../auth/caller-identifier.js';
import type { AddressMatcher } from '../config/address-list.js';
import type { KnownSystem, SystemRegistry } from '../systems/system-registry.js';
import { forwardedClientAddress, readForwardedCertificate, type ForwardedCertificate } from './forwarded-credentials.js';

/** Per connection: the client certificate cannot change during one (servers.ts refuses renegotiation). */
const byConnection = new WeakMap<TLSSocket, PeerCredentials>();

/** What a TLS connection tells about its peer (read once per connection: keep-alive calls reuse it), also when no request could be read from it. */
export function connectionCredentials(socket: TLSSocket): PeerCredentials {
  const known = byConnection.get(socket);
  if (known !== undefined) return known;
  const certificate = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  const chainError = socket.authorizationError;
  const credentials: PeerCredentials = {
    fingerprint256: certificate?.fingerprint256,
    chainError: socket.authorized || chainError === undefined || chainError === null ? undefined : String(chainError),
    sourceAddress: socket.remoteAddress ?? '',
  };
  byConnection.set(socket, credentials);
  return credentials;
}

/** Reverse proxies that end TLS in front of MLog (MLOG_TRUSTED_PROXIES) and how they forward the client certificate. */
export interface ProxyTrust {
  isTrusted: AddressMatcher;
  /** The header (lower case) that carries the client certificate (MLOG_CLIENT_CERT_HEADER). */
  certificateHeader: string;
  /** The CAs of MLOG_TLS_CLIENT_CA: a forwarded certificate must be issued by one of them. */
  issuers: readonly X509Certificate[];
}

/** Forwarded certificates already read, by the header's text (bounded: emptied when full). */
const FORWARDED_REMEMBERED = 1_000;

/**
 * Who is calling, per request. A call on a connection from a trusted proxy is identified by the
 * certificate the proxy forwards and comes from the address it adds to X-Forwarded-For; any other
 * call by its own TLS connection, whose headers are never read for this.
 */
export class CallerIdentification {
  private readonly fromProxy = new WeakMap<Socket, boolean>();
  private readonly forwarded = new Map<string, ForwardedCertificate>();

  constructor(
    readonly registry: SystemRegistry,
    private readonly proxies?: ProxyTrust,
    /** MLOG_DEV_IDENTITY: the IS every call on the development listener (plain HTTP, the only connections not encrypted) is. */
    private readonly developmentIdentity?: string,
  ) {}

  /** The credentials of a request's caller (see the class). */
  credentials(request: IncomingMessage): PeerCredentials {
    const socket = request.socket as TLSSocket;
    if (this.proxies === undefined || !this.isProxy(socket, this.proxies)) return connectionCredentials(socket);
    const { certificateHeader, issuers, isTrusted } = this.proxies;
    const sourceAddress = forwardedClientAddress(request.headers['x-forwarded-for'], isTrusted, socket.remoteAddress ?? '');
    const value = request.headers[certificateHeader];
    if (value === undefined || value === '') return { fingerprint256: undefined, chainError: undefined, sourceAddress };
    if (Array.isArray(value)) return { fingerprint256: undefined, chainError: undefined, sourceAddress, problem: `The proxy forwarded ${certificateHeader} more than once; it must forward exactly one client certificate.` };
    let certificate = this.forwarded.get(value);
    if (certificate === undefined) {
      certificate = readForwardedCertificate(value, certificateHeader, issuers);
      if (this.forwarded.size >= FORWARDED_REMEMBERED) this.forwarded.clear();
      this.forwarded.set(value, certificate);
    }
    return 'problem' in certificate
      ? { fingerprint256: undefined, chainError: undefined, sourceAddress, problem: certificate.problem }
      : { fingerprint256: certificate.fingerprint256, chainError: certificate.chainError, sourceAddress };
  }

  /**
   * The IS calling (identifyCaller on the request's credentials): from the registry in memory without
   * a promise (nearly every call), otherwise a promise after reading it. Throws (or rejects with) the
   * 401 or 403 of a caller that cannot be identified or may not call.
   */
  caller(request: IncomingMessage, now: Date): KnownSystem | Promise<KnownSystem> {
    if (this.developmentIdentity !== undefined && (request.socket as TLSSocket).encrypted !== true) return identifyDevelopmentCaller(this.registry, this.developmentIdentity);
    const peer = this.credentials(request);
    return identifyCallerAtOnce(this.registry, peer, now) ?? identifyCaller(this.registry, peer, now);
  }

  private isProxy(socket: Socket, proxies: ProxyTrust): boolean {
    let trusted = this.fromProxy.get(socket);
    if (trusted === undefined) {
      trusted = proxies.isTrusted(socket.remoteAddress ?? '');
      this.fromProxy.set(socket, trusted);
    }
    return trusted;
  }
}
