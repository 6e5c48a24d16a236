import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Express } from 'express';
import type { ConnectionRefusal, ConnectionRefusalRecorder } from './connection-refusals.js';
import { requestLineOf } from './connection-refusals.js';
import { envelope } from './envelope.js';

export interface Listening {
  server: Server;
  port: number;
  /** Stops accepting, lets calls in flight finish for up to `graceMs`, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

/** Largest request line plus headers accepted (long query strings carry legal reasons and filters). */
export const MAX_HEADER_BYTES = 65_536;

/** How long a refused connection may still send what it had started (read and dropped) before it is destroyed. */
export const LINGER_MS = 2_000;

/** Connections already answered and closing: further errors of their parser are the rest of what they send. */
const answered = new WeakSet<Socket>();

/**
 * Answers in the envelope on a socket that no request handler will serve, then closes it: the answer
 * is sent with the end of the connection, what the client still sends is read and dropped (closing
 * with unread bytes would reset the connection and lose the answer), and the socket is destroyed when
 * the client closes or after LINGER_MS, whichever comes first.
 */
function answerAndClose(socket: Socket, status: number, message: string, refused?: Omit<ConnectionRefusal, 'status' | 'reason' | 'requestId'>, record?: ConnectionRefusalRecorder): void {
  answered.add(socket);
  const requestId = randomUUID();
  const body = JSON.stringify(envelope(status, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
  if (record !== undefined) {
    try {
      record(socket as TLSSocket, { status, reason: message, requestId, ...refused });
    } catch {
      // Recording never stands in the way of the answer.
    }
  }
  socket.on('error', () => socket.destroy());
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}

/**
 * Answers, in the envelope, requests that Node refuses before they reach MLog (oversized or malformed
 * heads, timeouts), and CONNECT. A connection whose TLS handshake failed or timed out (`speaksHttp`
 * false) cannot carry an answer and is destroyed at once. Every socket that fails is destroyed.
 * With `record` (the public listener), every answered refusal is also recorded in the rejections index.
 */
function answerClientErrors(server: Server, speaksHttp: (socket: Socket) => boolean, record?: ConnectionRefusalRecorder): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (answered.has(socket)) return;
    if (!speaksHttp(socket) || !socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, message]: [number, string] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, `The request line and headers are larger than ${MAX_HEADER_BYTES} bytes; shorten the query parameters.`]
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'The request was not received in time.']
          : [400, 'The request is not valid HTTP.'];
    // What the parser could not take (Node's rawPacket): for an oversized head, the chunk where the limit was crossed.
    const rawPacket: unknown = (error as { rawPacket?: unknown }).rawPacket;
    const sent = Buffer.isBuffer(rawPacket) ? rawPacket : undefined;
    answerAndClose(socket, status, message, { ...requestLineOf(sent), ...(sent === undefined ? {} : { sent }) }, record);
  });
  // Without a listener Node closes a CONNECT silently; MLog is no proxy and says so.
  server.on('connect', (request: IncomingMessage, socket: Socket) =>
    answerAndClose(socket, 405, 'The method CONNECT is not accepted; MLog is not a proxy.', { method: 'CONNECT', path: (request.url ?? '').slice(0, 1024) }, record),
  );
}

function applyTimeouts(server: Server, speaksHttp: (socket: Socket) => boolean, record?: ConnectionRefusalRecorder): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  answerClientErrors(server, speaksHttp, record);
}

/**
 * Hands the app the requests Node would answer itself outside the envelope: HTTP/1.1 without Host
 * (Node's bare 400; `requireHostHeader: false` at creation) and an Expect other than 100-continue
 * (Node's bare 417). The app refuses them in the envelope (see request-head.ts).
 */
function routeAllRequests(server: Server, app: RequestListener): void {
  server.on('checkExpectation', app);
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
 * handshake, so that MLog can answer 401 in its envelope with the reason. `recordRefusal` records the
 * calls refused before the app runs (oversized or unparsable heads, timeouts, CONNECT).
 */
export function listenPublic(
  app: RequestListener,
  options: { host: string; port: number; certPath: string; keyPath: string; clientCaPath: string; handshakeTimeoutMs: number; recordRefusal?: ConnectionRefusalRecorder },
): Promise<Listening> {
  const server = createHttpsServer(
    {
      cert: readFileSync(options.certPath),
      key: readFileSync(options.keyPath),
      ca: readFileSync(options.clientCaPath),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      // A connection that sends nothing, or never finishes its handshake, holds a socket and a file:
      // it is cut after this time (Node's default is 120 s).
      handshakeTimeout: options.handshakeTimeoutMs,
      maxHeaderSize: MAX_HEADER_BYTES,
      requireHostHeader: false,
    },
    app,
  );
  const secured = new WeakSet<Socket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    secured.add(socket);
    // The client certificate is read once per connection (see peer-credentials.ts): it must not change
    // during one, so TLS 1.2 renegotiation is refused (TLS 1.3 has none).
    socket.disableRenegotiation();
  });
  applyTimeouts(server, (socket) => secured.has(socket), options.recordRefusal);
  routeAllRequests(server, app);
  return listen(server, options.host, options.port);
}

/** The header every answer of the development listener carries: the IS its calls are. */
export const DEVELOPMENT_IDENTITY_HEADER = 'MLog-Development-Identity';

/**
 * The development listener (MLOG_DEV_HTTP_PORT with MLOG_DEV_IDENTITY): the public API over plain
 * HTTP, on 127.0.0.1 only whatever MLOG_HOST says, every call being the development identity (see
 * CallerIdentification). Every answer says so in the MLog-Development-Identity header.
 */
export function listenDevelopment(app: RequestListener, options: { port: number; identity: string }): Promise<Listening> {
  const marked: RequestListener = (request, response) => {
    response.setHeader(DEVELOPMENT_IDENTITY_HEADER, options.identity);
    app(request, response);
  };
  const server = createHttpServer({ maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false }, marked);
  applyTimeouts(server, () => true);
  routeAllRequests(server, marked);
  return listen(server, '127.0.0.1', options.port);
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./.test(host);
}

/** The administration listener: plain HTTP, or HTTPS (no client certificates: the console signs people in) when `tls` is given. */
export function listenAdmin(app: Express, options: { host: string; port: number; tls?: { certPath: string; keyPath: string } }): Promise<Listening> {
  const { tls } = options;
  const server =
    tls === undefined
      ? createHttpServer({ maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false }, app)
      : createHttpsServer({ cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath), minVersion: 'TLSv1.2', maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false }, app);
  if (tls === undefined) {
    applyTimeouts(server, () => true);
  } else {
    const secured = new WeakSet<Socket>();
    server.on('secureConnection', (socket: TLSSocket) => secured.add(socket));
    applyTimeouts(server, (socket) => secured.has(socket));
  }
  routeAllRequests(server, app);
  return listen(server, options.host, options.port);
}
