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
  const logger = winston.createLogger({
    level,
    silent,
    format: winston.format.combine(withRequestId(), winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    defaultMeta: { service: 'mlog' },
    transports: [new winston.transports.Console()],
  });
  return skippingDisabledLevels(logger);
}

/**
 * winston builds and streams every line before its level filter drops it; on the hot path (a line
 * per request at info while running at warn) that was measurable. Each level's method now returns at
 * once when the level is off — `isLevelEnabled` reads the logger's current level, so changing it later
 * still works.
 */
function skippingDisabledLevels(logger: Logger): Logger {
  for (const level of Object.keys(logger.levels)) {
    const write = (logger as unknown as Record<string, unknown>)[level];
    if (typeof write !== 'function') continue;
    // `this`, not `logger`: a child logger (Object.create of this one) keeps its own write and metadata.
    (logger as unknown as Record<string, unknown>)[level] = function (this: Logger, ...args: unknown[]) {
      return this.isLevelEnabled(level) ? (write as (...a: unknown[]) => Logger).apply(this, args) : this;
    };
  }
  return logger;
}
