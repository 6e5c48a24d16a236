import type { Request } from 'express';

/** A request target split at its first "?": the path, and the query string as it came (still percent-encoded, without the "?"; empty when there is none). */
export function splitTarget(url: string): { path: string; rawQuery: string } {
  const at = url.indexOf('?');
  return at < 0 ? { path: url, rawQuery: '' } : { path: url.slice(0, at), rawQuery: url.slice(at + 1) };
}

/** The query string of a request as it came (still percent-encoded), without the "?"; empty when there is none. */
export function rawQueryString(request: Request): string {
  return splitTarget(request.originalUrl).rawQuery;
}
