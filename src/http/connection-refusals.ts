import type { TLSSocket } from 'node:tls';
import { identifyCaller, type PeerCredentials } from '../auth/caller-identifier.js';
import { MLogError, PayloadTooLargeError } from '../errors/mlog-error.js';
import { REJECTION_EXCERPT_BYTES, type RejectionRecorder } from '../rejections/rejection-recorder.js';
import type { SystemRegistry } from '../systems/system-registry.js';
import { connectionCredentials } from './peer-credentials.js';

/** A call the public listener refused before any route ran (an oversized or unparsable head, a timeout, CONNECT). */
export interface ConnectionRefusal {
  status: number;
  reason: string;
  /** The X-Request-Id of the answer. */
  requestId: string;
  /** Method and path, when the request line could be read. */
  method?: string;
  path?: string;
  /** What the client sent that Node could not parse (for an oversized head, the part where the limit was crossed). */
  sent?: Buffer;
}

/** Records a refusal of the public listener; never throws and never delays the answer. */
export type ConnectionRefusalRecorder = (socket: TLSSocket, refusal: ConnectionRefusal) => void;

/** The method and path of a request line at the start of `sent` (no query string), when it starts with one. */
export function requestLineOf(sent: Buffer | undefined): { method?: string; path?: string } {
  if (sent === undefined) return {};
  const line = /^([A-Z]{1,16}) ([^\s?#]{1,1024})/.exec(sent.subarray(0, 1100).toString('latin1'));
  return line === null ? {} : { method: line[1], path: line[2] };
}

/**
 * Records refusals of the public listener in the rejections index like every refused call: the IS is
 * identified from the client certificate of the TLS connection (as for a request), an unidentified
 * one is recorded with the fingerprint it presented. The recording runs after the answer is on its way.
 */
export function connectionRefusalRecorder(registry: SystemRegistry, rejections: RejectionRecorder): ConnectionRefusalRecorder {
  return (socket, refusal) => {
    const at = new Date();
    // Only the excerpt is kept while the record waits in the queue (a copy: Node's chunk may share a larger buffer).
    const excerpt = refusal.sent === undefined ? undefined : Buffer.from(refusal.sent.subarray(0, REJECTION_EXCERPT_BYTES));
    void (async () => {
      const peer = connectionCredentials(socket);
      let system: string | undefined;
      try {
        system = (await identifyCaller(registry, peer, at)).system.code;
      } catch (error) {
        // A refused IS (suspended, another address, an expired certificate) is recorded as that IS; an unknown caller with its fingerprint only.
        if (error instanceof MLogError) system = error.system;
      }
      rejections.record({
        at,
        status: refusal.status,
        reason: refusal.reason,
        ...(system === undefined ? {} : { system }),
        ...(peer.fingerprint256 === undefined ? {} : { certificateFingerprint: peer.fingerprint256 }),
        sourceAddress: peer.sourceAddress,
        ...(refusal.method === undefined ? {} : { method: refusal.method }),
        ...(refusal.path === undefined ? {} : { path: refusal.path }),
        requestId: refusal.requestId,
        ...(refusal.sent === undefined || excerpt === undefined ? {} : { body: excerpt, bodyBytes: refusal.sent.length }),
      });
    })().catch(() => {});
  };
}

/** A call refused after its head was read (by the app or the direct register door), as recordRefusedCall records it. */
export interface RefusedCall {
  /** The caller's credentials: its connection's, or those a trusted proxy forwarded (CallerIdentification). */
  peer: PeerCredentials;
  /** The IS, when it was identified before the refusal. */
  system?: string;
  method: string;
  /** The path without the query string. */
  path: string;
  /** The request target as sent (its query string is recorded when there is no body). */
  url: string;
  requestId: string;
  /** The body, when it was read. */
  body?: Buffer;
}

/** Queues a refused call for the rejections index: reason, IS when known, address, first 4 KB of what was sent (the body, else the query string). */
export function recordRefusedCall(rejections: RejectionRecorder, call: RefusedCall, error: MLogError): void {
  const { peer } = call;
  // The IS identified before the refusal, else the one the refusal concerns (suspended, another address, an expired certificate).
  const system = call.system ?? error.system;
  const queryAt = call.url.indexOf('?');
  rejections.record({
    at: new Date(),
    status: error.status,
    reason: error.message,
    ...(system === undefined ? {} : { system }),
    ...(peer.fingerprint256 === undefined ? {} : { certificateFingerprint: peer.fingerprint256 }),
    sourceAddress: peer.sourceAddress,
    method: call.method,
    path: call.path,
    requestId: call.requestId,
    ...(call.body !== undefined ? { body: call.body } : queryAt >= 0 ? { body: call.url.slice(queryAt + 1) } : {}),
    // A body refused unread for its declared size: its size is recorded, not 0.
    ...(call.body === undefined && error instanceof PayloadTooLargeError && error.bytes !== undefined ? { bodyBytes: error.bytes } : {}),
  });
}
