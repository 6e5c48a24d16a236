import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Express } from 'express';
import { envelope } from './envelope.js';

export interface Listening {
  server: Server;
  port: number;
  /** Stops accepting, lets calls in flight finish for up to `graceMs`, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

/** Largest request line plus headers accepted (long query strings carry legal reasons and filters). */
export const MAX_HEADER_BYTES = 65_536;

/** Answers, in the envelope, requests that Node refuses before they reach MLog (oversized or malformed heads, timeouts). */
function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, `The request line and headers are larger than ${MAX_HEADER_BYTES} bytes; shorten the query parameters.`]
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'The request was not received in time.']
          : [400, 'The request is not valid HTTP.'];
    const body = JSON.stringify(envelope(status, message));
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}

function applyTimeouts(server: Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  answerClientErrors(server);
}

/**
 * Listens, and closes gracefully: `close(graceMs)` stops accepting connections at once, answers the
 * calls in flight (with `Connection: close`, so keep-alive clients do not hold the process up), closes
 * every connection as soon as it is idle, and after `graceMs` destroys what is left.
 */
async function listen(server: Server, host: string, port: number): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing = false;
  const inFlight = new Set<ServerResponse>();
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    if (closing) response.shouldKeepAlive = false;
    inFlight.add(response);
    response.on('close', () => {
      inFlight.delete(response);
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const response of inFlight) if (!response.headersSent) response.shouldKeepAlive = false;
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * The public listener: HTTPS that asks every client for its certificate. Chain errors do not end the
 * handshake, so that MLog can answer 401 in its envelope with the reason.
 */
export function listenPublic(app: Express, options: { host: string; port: number; certPath: string; keyPath: string; clientCaPath: string }): Promise<Listening> {
  const server = createHttpsServer(
    {
      cert: readFileSync(options.certPath),
      key: readFileSync(options.keyPath),
      ca: readFileSync(options.clientCaPath),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    app,
  );
  // The client certificate is read once per connection (see peer-credentials.ts): it must not change
  // during one, so TLS 1.2 renegotiation is refused (TLS 1.3 has none).
  server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
  applyTimeouts(server);
  return listen(server, options.host, options.port);
}

export function listenAdmin(app: Express, options: { host: string; port: number }): Promise<Listening> {
  const server = createHttpServer({ maxHeaderSize: MAX_HEADER_BYTES }, app);
  applyTimeouts(server);
  return listen(server, options.host, options.port);
}
