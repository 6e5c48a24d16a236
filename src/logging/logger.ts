import winston from 'winston';

export type Logger = winston.Logger;

/**
 * MLog's own log: one JSON object per line. Callers pass identifiers and counts only — never request
 * bodies, signatures, certificates' private parts, secrets or personal data. JSON encoding escapes
 * CR/LF, so client-supplied text cannot forge a line.
 */
export function createLogger(level: string, silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    defaultMeta: { service: 'mlog' },
    transports: [new winston.transports.Console()],
  });
}
