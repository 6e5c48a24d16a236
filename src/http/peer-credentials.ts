import type { TLSSocket } from 'node:tls';
import type { Request } from 'express';
import type { PeerCredentials } from '../auth/caller-identifier.js';

/** What the TLS connection of a request tells about the caller. */
export function peerCredentials(request: Request): PeerCredentials {
  const socket = request.socket as TLSSocket;
  const certificate = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  const chainError = socket.authorizationError;
  return {
    fingerprint256: certificate?.fingerprint256,
    chainError: socket.authorized || chainError === undefined || chainError === null ? undefined : String(chainError),
    sourceAddress: socket.remoteAddress ?? '',
  };
}
