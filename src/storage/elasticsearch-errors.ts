import { errors } from '@elastic/elasticsearch';
import { InternalError, MLogError, StorageUnavailableError, StorageUnreachableError } from '../errors/mlog-error.js';

/** The HTTP status Elasticsearch answered with, when it answered. */
export function statusOf(error: unknown): number | undefined {
  return (error as { meta?: { statusCode?: number } } | undefined)?.meta?.statusCode;
}

/** The type of the error Elasticsearch answered with (e.g. "resource_already_exists_exception"), when it answered one. */
export function errorType(error: unknown): string | undefined {
  const body = (error as { meta?: { body?: unknown } } | undefined)?.meta?.body;
  const type = (body as { error?: { type?: unknown } } | undefined)?.error?.type;
  return typeof type === 'string' ? type : undefined;
}

function nameOf(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** The client found no node to talk to: refused, reset, no route — Elasticsearch did not answer at all. */
function isUnreachable(error: unknown): boolean {
  const name = nameOf(error);
  return name === 'ConnectionError' || name === 'NoLivingConnectionsError';
}

/** The one status test of what may pass: 429 (a full queue, a circuit breaker) or any 5xx (shards recovering, a node leaving). */
export function isTransientStatus(status: number | undefined): boolean {
  return status !== undefined && (status === 429 || status >= 500);
}

/**
 * The one predicate of what may pass: Elasticsearch unreachable, a request that timed out or was
 * aborted, or an answer of 429 or 5xx. Storage answers these with StorageUnavailableError (503 and
 * Retry-After), and the bulk write retries them within its deadline.
 */
export function isTransientFailure(error: unknown): boolean {
  const name = nameOf(error);
  return isUnreachable(error) || name === 'TimeoutError' || name === 'RequestAbortedError' || isTransientStatus(statusOf(error));
}

/**
 * What went wrong with Elasticsearch, for MLog's log: the client's error class, the status and the
 * error type it answered — never its reason text, which can quote a document.
 */
export function describeStorageFailure(error: unknown): string {
  return [nameOf(error) ?? 'Error', statusOf(error), errorType(error)].filter((part) => part !== undefined).join(' ');
}

/** An error raised by the Elasticsearch client (it answered with an error, or could not be asked), as opposed to a defect of MLog's own code. */
function isClientError(error: unknown): boolean {
  return error instanceof errors.ElasticsearchClientError || statusOf(error) !== undefined;
}

/**
 * A failure Elasticsearch reported for one item of a bulk or multi-search (the request as a whole
 * succeeded), in the shape of the client's error for a whole request, to pass to storageFailure.
 */
export function itemFailure(status: number, cause: { type?: string } | undefined): Error {
  return Object.assign(new Error(`Elasticsearch answered ${status} for an item`), {
    name: 'ResponseError',
    meta: { statusCode: status, body: { error: { type: cause?.type ?? 'unknown' } } },
  });
}

/**
 * The one translation of a failed Elasticsearch request into MLog's error hierarchy; every store
 * passes what the client threw through it. `consequence` says what cannot be done now, in words a
 * caller understands ("the query cannot be answered now").
 *
 * - transient (isTransientFailure) → StorageUnavailableError, 503 with Retry-After; when no node
 *   answered at all, its subclass StorageUnreachableError;
 * - any other answer of Elasticsearch → InternalError: MLog sent a request Elasticsearch refuses,
 *   a defect of MLog, described by class, status and error type only;
 * - an MLogError, or an error that is not the client's (a defect of MLog's own code), is returned as it is.
 *
 * Elasticsearch's reason text never reaches the message: it can quote a document or a query.
 */
export function storageFailure(error: unknown, consequence: string): Error {
  if (error instanceof MLogError || !isClientError(error)) return error instanceof Error ? error : new Error(String(error));
  const detail = describeStorageFailure(error);
  if (isTransientFailure(error)) {
    const Unavailable = isUnreachable(error) ? StorageUnreachableError : StorageUnavailableError;
    return new Unavailable(`Elasticsearch is unavailable; ${consequence}. Retry later.`, { cause: error, detail });
  }
  return new InternalError(`Elasticsearch refused a request of MLog (${detail}); ${consequence}.`, { cause: error });
}
