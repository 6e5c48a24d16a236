/** The HTTP status Elasticsearch answered with, when it answered. */
export function statusOf(error: unknown): number | undefined {
  return (error as { meta?: { statusCode?: number } } | undefined)?.meta?.statusCode;
}

/** Errors of the Elasticsearch client that mean the cluster could not be reached or could not answer in time. */
export function isConnectionProblem(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'ConnectionError' || name === 'TimeoutError' || name === 'NoLivingConnectionsError' || name === 'RequestAbortedError';
}

/** A failure that a caller should see as 503 (retry later): unreachable, or Elasticsearch itself answered 503. */
export function isStorageUnavailable(error: unknown): boolean {
  return isConnectionProblem(error) || statusOf(error) === 503;
}
