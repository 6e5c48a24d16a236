import { useEffect, useState } from 'react';

/** The console's views, each a path under /console/ whose query string holds the view's state. */
export type View = 'home' | 'sign-in' | 'discover' | 'correlation' | 'audit' | 'admins' | 'alerts';

const BASE = import.meta.env.BASE_URL; // '/console/'
const VIEWS: View[] = ['sign-in', 'discover', 'correlation', 'audit', 'admins', 'alerts'];

export interface Location {
  view: View;
  params: URLSearchParams;
  /** Path and query string under the console, as it appears in the address bar. */
  href: string;
}

function current(): Location {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : '';
  const name = path.split('/')[0] ?? '';
  const view = (VIEWS as string[]).includes(name) ? (name as View) : 'home';
  return { view, params: new URLSearchParams(window.location.search), href: `${window.location.pathname}${window.location.search}` };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((listener) => listener()));

export function hrefOf(view: View, params?: Record<string, string | undefined> | URLSearchParams): string {
  const search = params instanceof URLSearchParams ? params : new URLSearchParams();
  if (!(params instanceof URLSearchParams)) for (const [name, value] of Object.entries(params ?? {})) if (value !== undefined && value !== '') search.set(name, value);
  const text = search.toString();
  return `${BASE}${view === 'home' ? '' : view}${text === '' ? '' : `?${text}`}`;
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
