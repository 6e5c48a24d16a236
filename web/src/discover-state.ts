import type { Scope } from './api';

/** What Discover shows, as it is kept in the URL so a view can be bookmarked and shared. */
export interface DiscoverState {
  scope: Scope;
  from: string;
  to: string;
  query: string;
  columns: string[];
}

/** The columns a scope opens with: its time field and the fields its records always have. */
export const DEFAULT_COLUMNS: Record<Scope['kind'], string[]> = {
  events: ['event_time', 'event_type', 'event_message'],
  'personal-data': ['event_time', 'event_type', 'subject', 'user', 'legal_basis'],
  rejections: ['@received', 'is', 'status', 'reason'],
  audit: ['event_time', 'event_type', 'user', 'event_message'],
};

/**
 * The fields a scope's records are known to have, offered in the field list even when the search
 * counts no top values for them (a time, a text, an object), so a removed column can be added back.
 */
export const KNOWN_FIELDS: Record<Scope['kind'], string[]> = {
  events: ['event_time', 'event_type', 'event_message', 'event_details', 'event_id', 'event_correlation', 'user', 'subject', 'object'],
  'personal-data': ['event_time', 'event_type', 'subject', 'user', 'legal_basis', 'object', 'event_correlation'],
  rejections: ['@received', 'is', 'status', 'reason', 'method', 'path', 'source_address', 'request_id'],
  audit: ['event_time', 'event_type', 'user', 'event_message', 'action', 'outcome'],
};

/** What to call a scope where a person reads it (a document's badge, a title). */
export const SCOPE_LABELS: Record<Scope['kind'], string> = {
  events: 'Event',
  'personal-data': 'Personal data',
  rejections: 'Rejection',
  audit: 'MLog audit',
};
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
  const scope = scopeOf(params);
  return {
    scope,
    from: params.get('from') || DEFAULT_FROM,
    to: params.get('to') || DEFAULT_TO,
    query: params.get('query') ?? '',
    columns: columns.length === 0 ? DEFAULT_COLUMNS[scope.kind] : columns,
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

/** Which kind of record an index holds, by MLog's index names (docs/architecture.md). */
export function recordKindOf(index: string): Scope['kind'] {
  if (index === 'mlog_audit' || index.startsWith('mlog_audit-')) return 'audit';
  if (index.startsWith('mlog_rejections-')) return 'rejections';
  if (index.startsWith('personaldata-')) return 'personal-data';
  return 'events';
}
