import type { Request, Response } from 'express';

/** The console's session cookie: HttpOnly, SameSite=Strict, Path=/console, Secure under TLS. */
export const SESSION_COOKIE = 'mlog_console';

/** The value of the session cookie the request carries, when it carries one. */
export function readSessionCookie(request: Request): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === SESSION_COOKIE) return part.slice(separator + 1).trim();
  }
  return undefined;
}

function attributes(secure: boolean): string {
  return `Path=/console; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function setSessionCookie(response: Response, secret: string, secure: boolean): void {
  response.append('Set-Cookie', `${SESSION_COOKIE}=${secret}; ${attributes(secure)}`);
}

export function clearSessionCookie(response: Response, secure: boolean): void {
  response.append('Set-Cookie', `${SESSION_COOKIE}=; ${attributes(secure)}; Max-Age=0`);
}
