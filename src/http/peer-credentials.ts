import type { TLSSocket } from 'node:tls';
import { identifyCaller, identifyCallerAtOnce, type PeerCredentials } from '../auth/caller-identifier.js';
import type { KnownSystem, SystemRegistry } from '../systems/system-registry.js';

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

/**
 * The IS calling on a TLS connection (identifyCaller on its credentials): from the registry in memory
 * without a promise (nearly every call), otherwise a promise after reading it. Throws (or rejects
 * with) the 401 or 403 of a caller that cannot be identified or may not call.
 */
export function connectionCaller(registry: SystemRegistry, socket: TLSSocket, now: Date): KnownSystem | Promise<KnownSystem> {
  const peer = connectionCredentials(socket);
  return identifyCallerAtOnce(registry, peer, now) ?? identifyCaller(registry, peer, now);
}
