import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { IdentityProviderError, InternalError, MethodNotAllowedError, MLogError, OverloadedError, QuerySyntaxError, StorageUnavailableError, UnsupportedMediaTypeError, ValidationError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import { envelope } from './envelope.js';
import { tooLarge } from './raw-body.js';

export const MAX_MESSAGE_BYTES = 262_144;

/** Errors raised by Express's body parsers carry a `type` and a `status`. */
interface BodyParserError {
  type: string;
  status: number;
  length?: number;
  limit?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === 'object' && error !== null && typeof (error as BodyParserError).type === 'string' && typeof (error as BodyParserError).status === 'number';
}

/**
 * The one mapping from anything thrown while handling a request to an MLogError. Storage has already
 * turned Elasticsearch's failures into MLogErrors (503 for what may pass); anything else that is not
 * an MLogError, and every InternalError, is answered as a defect of MLog naming the request.
 */
export function toMLogError(error: unknown, requestId: string): MLogError {
  if (error instanceof MLogError && !(error instanceof InternalError)) return error;
  if (isBodyParserError(error)) {
    switch (error.type) {
      case 'entity.too.large':
        return tooLarge(error.limit ?? MAX_MESSAGE_BYTES, error.length);
      case 'encoding.unsupported':
        return new UnsupportedMediaTypeError('Compressed bodies (Content-Encoding) are not accepted; send the body uncompressed.');
      case 'entity.parse.failed':
        return new ValidationError('The body is not valid JSON.');
      default:
        if (error.status >= 400 && error.status < 500) return new ValidationError(`The request body could not be read (${error.type}).`);
    }
  }
  // Express's router cannot decode a path parameter ("Failed to decode param '%ZZ'").
  if (error instanceof URIError) {
    const part = /'(.*)'/s.exec(error.message)?.[1];
    return new ValidationError(`The request path${part === undefined ? '' : ` part "${part.slice(0, 80)}"`} is not valid percent-encoding: "%" must be followed by two hexadecimal digits, and the bytes must be UTF-8.`);
  }
  const status = (error as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ValidationError(`The request could not be read: ${(error as Error).message || 'malformed request'}.`);
  }
  return new InternalError(`MLog failed to handle the request because of a defect of MLog (request ${requestId}); please report it to the MLog administrators.`);
}

/** What storage reported behind a 503, for the log: its detail, else the class of its cause (never a message, which can quote a document). */
function storageDetail(error: MLogError): string | undefined {
  if (error instanceof StorageUnavailableError && error.detail !== undefined) return error.detail;
  return error.cause instanceof Error ? error.cause.name : undefined;
}

/** Refuses methods a listener does not serve (OPTIONS, HEAD, …) in the envelope, before any route runs. */
export function onlyMethods(methods: readonly string[]): RequestHandler {
  return (request, _response, next) => {
    if (!methods.includes(request.method)) {
      throw new MethodNotAllowedError(`The method ${request.method} is not accepted; MLog answers ${methods.join(', ')}.`);
    }
    next();
  };
}

/** Answers `body` (an envelope) as JSON with `status`, as Express's `response.json` does. */
export function sendEnvelope(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  const json = JSON.stringify(body);
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(json));
  response.end(json);
}

export function sendError(response: ServerResponse, error: MLogError): void {
  if (error.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(error.retryAfterSeconds));
  // A query error points at its column, and at the closest known fields for an unknown one.
  const extra = error instanceof QuerySyntaxError ? { column: error.column, ...(error.suggestions === undefined ? {} : { suggestions: error.suggestions }) } : {};
  sendEnvelope(response, error.status, envelope(error.status, error.message, extra));
}

/** Maps a failure (toMLogError) and logs it by its kind: defects with their stack, storage and identity-provider outages, overload. */
export function mapFailure(logger: Logger, error: unknown, requestId: string): MLogError {
  const mapped = toMLogError(error, requestId);
  if (mapped instanceof IdentityProviderError) {
    logger.warn('identity provider unavailable', { requestId, error: mapped.message });
  } else if (mapped.status >= 500 && mapped.status !== 503) {
    logger.error('request failed', { requestId, error: error instanceof Error ? error.stack : String(error) });
  } else if (mapped instanceof OverloadedError) {
    logger.debug('call refused: instance at its in-flight limit', { requestId });
  } else if (mapped.status === 503) {
    logger.warn('storage unavailable', { requestId, error: mapped.message, cause: storageDetail(mapped) });
  }
  return mapped;
}

/** Express error middleware: answers every failure in the envelope; logs defects with their stack. */
export function errorResponder(logger: Logger, onRefused?: (request: Request, response: Response, error: MLogError) => void): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const mapped = mapFailure(logger, error, String(response.locals.requestId ?? ''));
    if (mapped.status >= 400 && mapped.status < 500) onRefused?.(request, response, mapped);
    if (response.headersSent) return;
    sendError(response, mapped);
  };
}
