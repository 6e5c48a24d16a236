import { AsyncLocalStorage } from 'node:async_hooks';
import winston from 'winston';

export type Logger = winston.Logger;

/** The request a piece of work belongs to, carried across awaits so every log line can name it. */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/** Adds the current request's id to a log line written while handling that request. */
const withRequestId = winston.format((info) => {
  const scope = requestScope.getStore();
  if (scope !== undefined && info.requestId === undefined) info.requestId = scope.requestId;
  return info;
});

/**
 * MLog's own log: one JSON object per line. Callers pass identifiers and counts only — never request
 * bodies, signatures, certificates' private parts, secrets or personal data. JSON encoding escapes
 * CR/LF, so client-supplied text cannot forge a line.
 */
export function createLogger(level: string, silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(withRequestId(), winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    defaultMeta: { service: 'mlog' },
    transports: [new winston.transports.Console()],
  });
}
