import type { Scope } from './api';

/** What Discover shows, as it is kept in the URL so a view can be bookmarked and shared. */
export interface DiscoverState {
  scope: Scope;
  from: string;
  to: string;
  query: string;
  columns: string[];
}

export const DEFAULT_COLUMNS = ['event_time', 'event_type', 'event_message'];
export const DEFAULT_FROM = 'now-24h';
export const DEFAULT_TO = 'now';

function scopeOf(params: URLSearchParams): Scope {
  switch (params.get('scope')) {
    case 'personal-data':
      return { kind: 'personal-data' };
    case 'rejections':
      return { kind: 'rejections' };
    case 'audit':
      return { kind: 'audit' };
    default: {
      const systems = (params.get('systems') ?? '').split(',').filter((code) => code !== '');
      return systems.length === 0 ? { kind: 'events' } : { kind: 'events', systems };
    }
  }
}

export function readDiscoverState(params: URLSearchParams): DiscoverState {
  const columns = (params.get('columns') ?? '').split(',').filter((name) => name !== '');
  return {
    scope: scopeOf(params),
    from: params.get('from') || DEFAULT_FROM,
    to: params.get('to') || DEFAULT_TO,
    query: params.get('query') ?? '',
    columns: columns.length === 0 ? DEFAULT_COLUMNS : columns,
  };
}

export function discoverParams(state: DiscoverState): Record<string, string | undefined> {
  return {
    scope: state.scope.kind,
    systems: state.scope.kind === 'events' && state.scope.systems?.length ? state.scope.systems.join(',') : undefined,
    from: state.from,
    to: state.to,
    query: state.query || undefined,
    columns: state.columns.join(','),
  };
}

/** A KQL clause that matches `value` of `field` exactly (or excludes it). */
export function filterClause(field: string, value: unknown, exclude: boolean): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const clause = `${field}:"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return exclude ? `not ${clause}` : clause;
}

export function addClause(query: string, clause: string): string {
  const trimmed = query.trim();
  return trimmed === '' ? clause : `(${trimmed}) and ${clause}`;
}
