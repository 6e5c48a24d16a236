import type { TLSSocket } from 'node:tls';
import type { Request } from 'express';
import type { PeerCredentials } from '../auth/caller-identifier.js';

/** Per connection: the client certificate cannot change during one (servers.ts refuses renegotiation). */
const byConnection = new WeakMap<TLSSocket, PeerCredentials>();

/** What the TLS connection of a request tells about the caller; read once per connection (keep-alive calls reuse it). */
export function peerCredentials(request: Request): PeerCredentials {
  return connectionCredentials(request.socket as TLSSocket);
}

/** What a TLS connection tells about its peer, also when no request could be read from it; read once per connection. */
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
