import type { Request } from 'express';

/** The query string of a request as it came (still percent-encoded), without the "?"; empty when there is none. */
export function rawQueryString(request: Request): string {
  const at = request.originalUrl.indexOf('?');
  return at < 0 ? '' : request.originalUrl.slice(at + 1);
}
