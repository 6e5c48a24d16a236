import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { ExpectationFailedError, ValidationError, type MLogError } from '../errors/mlog-error.js';

/** Node's own test of an Expect header it meets itself (it answers 100 Continue before the request is handed on). */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * Refuses, in the envelope, request heads that HTTP/1.1 forbids or MLog cannot honour: an HTTP/1.1
 * request without Host (400) and an Expect other than 100-continue (417). The listeners hand these
 * requests to the app instead of answering them bare (see servers.ts).
 */
export function requestHead(): RequestHandler {
  return (request, _response, next) => {
    const problem = headProblem(request);
    if (problem !== undefined) throw problem;
    next();
  };
}

/** What requestHead refuses in a request's head, or undefined. */
export function headProblem(request: IncomingMessage): MLogError | undefined {
  if (request.httpVersion === '1.1' && request.headers.host === undefined) {
    return new ValidationError('The Host header is missing; every HTTP/1.1 request must carry one.');
  }
  const expect = request.headers.expect;
  if (expect !== undefined && !CONTINUE.test(expect)) {
    return new ExpectationFailedError('The Expect header asks for something MLog cannot do; only "Expect: 100-continue" is supported.');
  }
  return undefined;
}
