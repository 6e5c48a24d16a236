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

/** Errors of the Elasticsearch client that mean the cluster could not be reached or could not answer in time. */
export function isConnectionProblem(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'ConnectionError' || name === 'TimeoutError' || name === 'NoLivingConnectionsError' || name === 'RequestAbortedError';
}

/** A failure that may pass: unreachable, timed out, or Elasticsearch answered 429 or a 5xx (a full queue, shards recovering). */
export function isTransientFailure(error: unknown): boolean {
  const status = statusOf(error);
  return isConnectionProblem(error) || status === 429 || (status !== undefined && status >= 500);
}

/** A failure that a caller should see as 503 (retry later): unreachable, or Elasticsearch itself answered 503. */
export function isStorageUnavailable(error: unknown): boolean {
  return isConnectionProblem(error) || statusOf(error) === 503;
}

/**
 * What went wrong with Elasticsearch, for MLog's log: the client's error class, the status and the
 * error type it answered — never its reason text, which can quote a document.
 */
export function describeStorageFailure(error: unknown): string {
  const name = (error as { name?: unknown } | undefined)?.name;
  return [typeof name === 'string' ? name : 'Error', statusOf(error), errorType(error)].filter((part) => part !== undefined).join(' ');
}
