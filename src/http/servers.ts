import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface Listening {
  server: Server;
  port: number;
  /** Stops accepting, lets calls in flight finish for up to `graceMs`, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

function applyTimeouts(server: Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
}

async function listen(server: Server, host: string, port: number): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
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
    },
    app,
  );
  applyTimeouts(server);
  return listen(server, options.host, options.port);
}

export function listenAdmin(app: Express, options: { host: string; port: number }): Promise<Listening> {
  const server = createHttpServer(app);
  applyTimeouts(server);
  return listen(server, options.host, options.port);
}
