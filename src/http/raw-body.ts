import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors/mlog-error.js';
import { requestScope } from '../logging/logger.js';

/** The 413 of a body over `limit` bytes (its length when known). */
export function tooLarge(limit: number, length?: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `The message is ${length === undefined ? 'larger than allowed' : `${length} bytes`}; MLog accepts at most ${limit} bytes (${Math.round(limit / 1024)} KB) per message.`,
    length === undefined ? undefined : { bytes: length },
  );
}

/**
 * Reads the body as raw bytes into `request.body`, whatever the Content-Type, holding at most `limit`
 * bytes (see readRawBody).
 */
export function rawBody(limit: number): RequestHandler {
  return (request, response, nextInScope) => {
    // Stream events run outside the request's scope: resume the chain inside it (re-entering the
    // scope's store is much cheaper than binding an AsyncResource per request).
    const scope = requestScope.getStore();
    readRawBody(request, response, limit, (error, body) => {
      if (body !== undefined) request.body = body;
      if (scope === undefined) nextInScope(error);
      else requestScope.run(scope, () => nextInScope(error));
    });
  };
}

/**
 * Reads a request's body as raw bytes, whatever the Content-Type, holding at most `limit` bytes, and
 * calls `done` once: with the body, or with the error to answer. Past the limit (declared in
 * Content-Length, or counted while the body streams) `done` gets the 413 at once and the connection is
 * closed after the answer: the rest of the body is neither buffered nor waited for. A Content-Encoding
 * other than identity is refused with 415 (never inflated). A client gone before the body ended gets
 * no `done`: nobody is left to answer.
 */
export function readRawBody(request: IncomingMessage, response: ServerResponse, limit: number, done: (error: Error | undefined, body?: Buffer) => void): void {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== '') {
    response.setHeader('Connection', 'close');
    done(new UnsupportedMediaTypeError('Compressed bodies (Content-Encoding) are not accepted; send the body uncompressed.'));
    return;
  }
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    response.setHeader('Connection', 'close');
    done(tooLarge(limit, Number(declared)));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const settle = (error?: Error): void => {
    if (settled) return;
    settled = true;
    request.off('data', onData);
    request.off('end', onEnd);
    request.off('error', onError);
    request.off('close', onClose);
    if (error !== undefined) {
      chunks.length = 0;
      done(error);
      return;
    }
    // A body that came in one chunk (most single events) is used as it came, not copied.
    done(undefined, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > limit) {
      request.pause();
      response.setHeader('Connection', 'close');
      settle(tooLarge(limit));
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = (): void => settle();
  const onError = (error: Error): void => settle(new ValidationError(`The request body could not be read (${error.message}).`));
  // The client went away before the body ended: nobody is left to answer; drop what was read.
  const onClose = (): void => {
    if (!request.complete) {
      settled = true;
      chunks.length = 0;
      request.off('data', onData);
    }
  };
  request.on('data', onData);
  request.on('end', onEnd);
  request.on('error', onError);
  request.on('close', onClose);
}
