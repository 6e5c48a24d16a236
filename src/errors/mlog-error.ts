/**
 * The one error hierarchy of MLog. Every refusal and failure that reaches a client is an MLogError:
 * it carries its HTTP status and a plain-English message naming what was wrong (line, field, limit).
 * `src/http/error-response.ts` is the only place that turns one into a response.
 */
export abstract class MLogError extends Error {
  abstract readonly status: number;
  /** Seconds a client should wait before retrying, for 429 and 503. */
  readonly retryAfterSeconds?: number;
  /**
   * The code of the IS a refusal concerns when MLog found it but refused it (its certificate expired,
   * it is suspended, it called from another address): the rejections index records it as the IS.
   */
  readonly system?: string;

  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number; system?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options?.system !== undefined) this.system = options.system;
  }
}

/** 400: the request is malformed or an event breaks a validation rule. */
export class ValidationError extends MLogError {
  readonly status = 400;
}

/**
 * 400: the console's query text cannot be read or searched. `column` (1-based) points at the fault;
 * `expected` says what would have been read there; `suggestions` are the known fields closest to an
 * unknown one. The console API adds `column` and `suggestions` to the envelope.
 */
export class QuerySyntaxError extends ValidationError {
  readonly column: number;
  readonly expected: readonly string[];
  readonly suggestions?: readonly string[];

  constructor(message: string, details: { column: number; expected: readonly string[]; suggestions?: readonly string[] }) {
    super(message);
    this.column = details.column;
    this.expected = details.expected;
    if (details.suggestions !== undefined) this.suggestions = details.suggestions;
  }
}

/** 401: the caller or a signature could not be identified or verified. */
export class AuthenticationError extends MLogError {
  readonly status = 401;
}

/** 403: the caller is known but not allowed to do this. */
export class ForbiddenError extends MLogError {
  readonly status = 403;
}

/** 404: nothing matches, or the resource does not exist for this caller. */
export class NotFoundError extends MLogError {
  readonly status = 404;
}

/** 405: the method is not accepted on this path. */
export class MethodNotAllowedError extends MLogError {
  readonly status = 405;
}

/** 409: the resource already exists. */
export class ConflictError extends MLogError {
  readonly status = 409;
}

/** 417: the request carries an Expect header that MLog cannot meet (anything but 100-continue). */
export class ExpectationFailedError extends MLogError {
  readonly status = 417;
}

/** 422: the request is well formed but cannot be honoured as sent (an Idempotency-Key reused with another body). */
export class UnprocessableContentError extends MLogError {
  readonly status = 422;
}

/** 428: the request needs something stated first (the console's purpose of a reading). */
export class PreconditionRequiredError extends MLogError {
  readonly status = 428;
}

/** 413: the message is larger than MLog accepts. */
export class PayloadTooLargeError extends MLogError {
  readonly status = 413;
  /** The body's size in bytes, when the request declared it (Content-Length); the rejections index records it. */
  readonly bytes?: number;
  constructor(message: string, options?: { bytes?: number }) {
    super(message);
    if (options?.bytes !== undefined) this.bytes = options.bytes;
  }
}

/** 415: the body is sent in an encoding MLog does not accept. */
export class UnsupportedMediaTypeError extends MLogError {
  readonly status = 415;
}

/** 429: the caller has too much work in flight; retry later. */
export class TooManyRequestsError extends MLogError {
  readonly status = 429;
  constructor(message: string, retryAfterSeconds = 1) {
    super(message, { retryAfterSeconds });
  }
}

/** 502: the identity provider the console signs in through could not be reached or answered unreadably; nothing was signed in. */
export class IdentityProviderError extends MLogError {
  readonly status = 502;
}

/** 503: storage is unavailable; nothing of the call was registered. */
export class StorageUnavailableError extends MLogError {
  readonly status = 503;
  /** What storage reported (e.g. "ResponseError 429 es_rejected_execution_exception"), for MLog's log only; never in an answer. */
  readonly detail?: string;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number; detail?: string }) {
    const { detail, ...rest } = options ?? {};
    super(message, { retryAfterSeconds: 5, ...rest });
    if (detail !== undefined) this.detail = detail;
  }
}

/** 503: storage could not be reached at all (no connection); nothing of the call was done. */
export class StorageUnreachableError extends StorageUnavailableError {}

/** 503: this instance is handling as many calls as it can; nothing of the call was done. */
export class OverloadedError extends MLogError {
  readonly status = 503;
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { retryAfterSeconds });
  }
}

/** 500: a defect of MLog. Never the answer to bad input. */
export class InternalError extends MLogError {
  readonly status = 500;
}

/** A configuration value is wrong; the process stops with this one line. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}
