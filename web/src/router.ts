import { useEffect, useState } from 'react';

/** The console's views, each a path under /console/ whose query string holds the view's state. */
export type View = 'home' | 'sign-in' | 'discover' | 'correlation' | 'audit' | 'admins' | 'alerts' | 'dashboards';

const BASE = import.meta.env.BASE_URL; // '/console/'
const VIEWS: View[] = ['sign-in', 'discover', 'correlation', 'audit', 'admins', 'alerts', 'dashboards'];

export interface Location {
  view: View;
  params: URLSearchParams;
  /** The path's segments after the view's name, decoded: ['mlog-overview'] for /console/dashboards/mlog-overview. */
  rest: string[];
  /** Path and query string under the console, as it appears in the address bar. */
  href: string;
}

function current(): Location {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : '';
  const [name = '', ...rest] = path.split('/');
  const view = (VIEWS as string[]).includes(name) ? (name as View) : 'home';
  const segments = rest.filter((part) => part !== '').map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  return { view, params: new URLSearchParams(window.location.search), rest: segments, href: `${window.location.pathname}${window.location.search}` };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((listener) => listener()));

export function hrefOf(view: View, params?: Record<string, string | undefined> | URLSearchParams): string {
  const search = params instanceof URLSearchParams ? params : new URLSearchParams();
  if (!(params instanceof URLSearchParams)) for (const [name, value] of Object.entries(params ?? {})) if (value !== undefined && value !== '') search.set(name, value);
  const text = search.toString();
  return `${BASE}${view === 'home' ? '' : view}${text === '' ? '' : `?${text}`}`;
}

/** A dashboard's own view, /console/dashboards/<id>?from=…&to=… */
export function dashboardHref(id: string, params?: Record<string, string | undefined>): string {
  const href = hrefOf('dashboards', params);
  const [path = '', search] = href.split('?');
  return `${path}/${encodeURIComponent(id)}${search === undefined ? '' : `?${search}`}`;
}

/** Goes to `href` (a path under /console/) without reloading; `replace` keeps the history entry. */
export function navigate(href: string, replace = false): void {
  if (href === `${window.location.pathname}${window.location.search}`) return;
  if (replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  listeners.forEach((listener) => listener());
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const listener = () => setLocation(current());
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return location;
}

/** Only paths under the console count as a place to come back to after signing in. */
export function safeReturnPath(value: string | null): string {
  if (value === null || !value.startsWith(BASE) || value.startsWith(`${BASE}api`) || value.startsWith(`${BASE}sign-in`) || value.includes('//')) return BASE;
  return value;
}
