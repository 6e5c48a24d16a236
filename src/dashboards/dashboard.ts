/**
 * A dashboard of the console (docs/dashboards.md): a title, a default time range, an auto-refresh
 * interval and panels on a 12-column grid. Each panel is a scope, a query in the console's language
 * and one visualisation, always an aggregation (the latest events only for auditors and up).
 * Validation names the path of what is wrong ("panels[2].visualisation.top_n must be …").
 */
import { QuerySyntaxError, ValidationError } from '../errors/mlog-error.js';
import { parseEventTime } from '../events/event-time.js';
import type { ConsoleScope } from '../search/console-search-store-type.js';
import { parseScope } from '../search/console-search-service.js';
import { MAX_QUERY_LENGTH, parseQuery, type QueryNode } from '../search/query-language.js';

export const MAX_PANELS = 30;
export const GRID_COLUMNS = 12;
export const MAX_PANEL_HEIGHT = 40;
export const MIN_PANEL_HEIGHT = 2;
export const MAX_GRID_Y = 10_000;
export const MAX_TITLE_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 2_000;
export const MIN_REFRESH_SECONDS = 10;
export const MAX_REFRESH_SECONDS = 86_400;
export const MAX_COUNTS_SPLIT = 10;
export const MAX_TOP_VALUES = 50;
export const MAX_LATEST_EVENTS = 100;
export const MAX_COLUMNS = 50;
const MAX_FIELD_LENGTH = 256;
const MAX_ID_LENGTH = 64;

export const DASHBOARD_ID_PATTERN = /^[a-z0-9-]{1,64}$/;
export const PANEL_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** "now", "now-<n>m|h|d|w", or an ISO instant. */
const RELATIVE_TIME = /^now(?:-(\d{1,6})([mhdw]))?$/;
const UNIT_MILLIS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export interface GridPlace {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type Visualisation =
  | { kind: 'counts-over-time'; split_field?: string; top_n: number }
  | { kind: 'top-values'; field: string; top_n: number; display: 'bar' | 'table' }
  | { kind: 'metric'; metric: 'count' }
  | { kind: 'metric'; metric: 'distinct'; field: string }
  | { kind: 'latest-events'; columns: string[]; size: number }
  | { kind: 'system-health' };

export const VISUALISATION_KINDS = ['counts-over-time', 'top-values', 'metric', 'latest-events', 'system-health'] as const;

export interface Panel {
  id: string;
  title: string;
  grid: GridPlace;
  scope: ConsoleScope;
  /** The console's query language; "" is every document of the scope. */
  query: string;
  visualisation: Visualisation;
}

/** A dashboard as it is saved, exported and imported. */
export interface DashboardDefinition {
  id: string;
  title: string;
  description: string;
  time_range: { from: string; to: string };
  /** 0 = off, else 10 to 86,400. */
  refresh_seconds: number;
  panels: Panel[];
}

/** A dashboard as the API answers it. */
export interface Dashboard extends DashboardDefinition {
  shipped: boolean;
  updated_at: string;
  updated_by: string;
  /** Opaque: given back with a change, which is refused when the dashboard changed since. */
  version: string;
}

/** Keys a client may send back unchanged from an answer; they are ignored on a write. */
const ANSWER_ONLY_KEYS = new Set(['shipped', 'updated_at', 'updated_by', 'version', 'created_at', 'created_by']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return (JSON.stringify(value ?? null) ?? String(value)).slice(0, 40);
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) throw new ValidationError(`${path} must be an object.`);
  return value;
}

function onlyKeys(value: Record<string, unknown>, path: string, allowed: readonly string[], ignored: ReadonlySet<string> = new Set()): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key) && !ignored.has(key)) {
      throw new ValidationError(`${path === '' ? '' : `${path}.`}${key} is not a field of ${path === '' ? 'a dashboard' : path}; the fields are ${allowed.join(', ')}.`);
    }
  }
}

function wholeNumber(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${path} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

function text(value: unknown, path: string, max: number, options: { required?: boolean } = {}): string {
  if (value === undefined || value === null) {
    if (options.required === true) throw new ValidationError(`${path} is required: text of 1 to ${max} characters.`);
    return '';
  }
  if (typeof value !== 'string') throw new ValidationError(`${path} must be text.`);
  if (value.length > max) throw new ValidationError(`${path} is ${value.length} characters long; the limit is ${max}.`);
  if (options.required === true && value.trim() === '') throw new ValidationError(`${path} is empty; give text of 1 to ${max} characters.`);
  return value;
}

function fieldName(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_FIELD_LENGTH) {
    throw new ValidationError(`${path} must be a field name of 1 to ${MAX_FIELD_LENGTH} characters.`);
  }
  return value;
}

/** Reads a time of a dashboard's range: "now", "now-<n>m|h|d|w" or an ISO instant; answers its epoch milliseconds at `now`. */
export function resolveDashboardTime(value: string, now: number): number | undefined {
  const relative = RELATIVE_TIME.exec(value);
  if (relative !== null) {
    const [, amount, unit] = relative;
    return amount === undefined || unit === undefined ? now : now - Number(amount) * UNIT_MILLIS[unit]!;
  }
  const parsed = parseEventTime(value);
  return parsed.ok ? parsed.epochMillis : undefined;
}

function timeRange(value: unknown, now: number): { from: string; to: string } {
  if (value === undefined || value === null) return { from: 'now-24h', to: 'now' };
  const range = object(value, 'time_range');
  onlyKeys(range, 'time_range', ['from', 'to']);
  const resolved: Record<string, number> = {};
  for (const end of ['from', 'to'] as const) {
    const given = range[end];
    const millis = typeof given === 'string' && given.length <= 64 ? resolveDashboardTime(given, now) : undefined;
    if (millis === undefined) {
      throw new ValidationError(`time_range.${end} must be "now", "now-<n>m", "now-<n>h", "now-<n>d", "now-<n>w" or an ISO instant such as 2026-01-01T00:00:00Z, not ${describe(given)}.`);
    }
    resolved[end] = millis;
  }
  if (resolved.from! >= resolved.to!) throw new ValidationError('time_range.from must be before time_range.to.');
  return { from: range.from as string, to: range.to as string };
}

function refreshSeconds(value: unknown): number {
  if (value === undefined || value === null || value === 0) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_REFRESH_SECONDS || value > MAX_REFRESH_SECONDS) {
    throw new ValidationError(`refresh_seconds must be 0 (off) or a whole number from ${MIN_REFRESH_SECONDS} to ${MAX_REFRESH_SECONDS}.`);
  }
  return value;
}

function grid(value: unknown, path: string): GridPlace {
  const place = object(value, path);
  onlyKeys(place, path, ['x', 'y', 'w', 'h']);
  const x = wholeNumber(place.x, `${path}.x`, 0, GRID_COLUMNS - 1);
  const y = wholeNumber(place.y, `${path}.y`, 0, MAX_GRID_Y);
  const w = wholeNumber(place.w, `${path}.w`, 1, GRID_COLUMNS);
  const h = wholeNumber(place.h, `${path}.h`, MIN_PANEL_HEIGHT, MAX_PANEL_HEIGHT);
  if (x + w > GRID_COLUMNS) throw new ValidationError(`${path}.x + ${path}.w is ${x + w}; a panel must fit in the ${GRID_COLUMNS} columns (x + w at most ${GRID_COLUMNS}).`);
  return { x, y, w, h };
}

function scopeAt(value: unknown, path: string): ConsoleScope {
  try {
    return parseScope(value);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(`${path}: ${error.message}`);
    throw error;
  }
}

/** Parses a panel's query (syntax only: fields are checked when it is rendered); a fault is refused with its column and the path. */
export function parsePanelQuery(queryText: string, path: string, knownFields?: readonly string[]): QueryNode {
  try {
    return parseQuery(queryText, knownFields);
  } catch (error) {
    if (error instanceof QuerySyntaxError) {
      throw new QuerySyntaxError(`${path}: ${error.message}`, { column: error.column, expected: error.expected, ...(error.suggestions === undefined ? {} : { suggestions: error.suggestions }) });
    }
    throw error;
  }
}

function visualisation(value: unknown, path: string): Visualisation {
  const given = object(value, path);
  switch (given.kind) {
    case 'counts-over-time': {
      onlyKeys(given, path, ['kind', 'split_field', 'top_n']);
      const top_n = given.top_n === undefined ? 5 : wholeNumber(given.top_n, `${path}.top_n`, 1, MAX_COUNTS_SPLIT);
      if (given.split_field === undefined || given.split_field === null || given.split_field === '') return { kind: 'counts-over-time', top_n };
      return { kind: 'counts-over-time', split_field: fieldName(given.split_field, `${path}.split_field`), top_n };
    }
    case 'top-values': {
      onlyKeys(given, path, ['kind', 'field', 'top_n', 'display']);
      const display = given.display ?? 'bar';
      if (display !== 'bar' && display !== 'table') throw new ValidationError(`${path}.display must be "bar" or "table", not ${describe(display)}.`);
      return {
        kind: 'top-values',
        field: fieldName(given.field, `${path}.field`),
        top_n: given.top_n === undefined ? 10 : wholeNumber(given.top_n, `${path}.top_n`, 1, MAX_TOP_VALUES),
        display,
      };
    }
    case 'metric': {
      if (given.metric === 'count') {
        onlyKeys(given, path, ['kind', 'metric']);
        return { kind: 'metric', metric: 'count' };
      }
      if (given.metric === 'distinct') {
        onlyKeys(given, path, ['kind', 'metric', 'field']);
        return { kind: 'metric', metric: 'distinct', field: fieldName(given.field, `${path}.field`) };
      }
      throw new ValidationError(`${path}.metric must be "count" or "distinct", not ${describe(given.metric)}.`);
    }
    case 'latest-events': {
      onlyKeys(given, path, ['kind', 'columns', 'size']);
      const columns = given.columns ?? ['event_time', '@is', 'event_type'];
      if (!Array.isArray(columns) || columns.length === 0 || columns.length > MAX_COLUMNS) {
        throw new ValidationError(`${path}.columns must be a list of 1 to ${MAX_COLUMNS} field names.`);
      }
      return {
        kind: 'latest-events',
        columns: columns.map((column, position) => fieldName(column, `${path}.columns[${position}]`)),
        size: given.size === undefined ? 20 : wholeNumber(given.size, `${path}.size`, 1, MAX_LATEST_EVENTS),
      };
    }
    case 'system-health':
      onlyKeys(given, path, ['kind']);
      return { kind: 'system-health' };
    default:
      throw new ValidationError(`${path}.kind must be one of ${VISUALISATION_KINDS.map((kind) => `"${kind}"`).join(', ')}, not ${describe(given.kind)}.`);
  }
}

/** Reads one panel at `path` ("panels[2]", or "panel" for a preview). */
export function validatePanel(value: unknown, path: string): Panel {
  const given = object(value, path);
  onlyKeys(given, path, ['id', 'title', 'grid', 'scope', 'query', 'visualisation']);
  if (typeof given.id !== 'string' || !PANEL_ID_PATTERN.test(given.id)) {
    throw new ValidationError(`${path}.id must be 1 to 32 letters, digits, "_" or "-", not ${describe(given.id)}.`);
  }
  const query = text(given.query, `${path}.query`, MAX_QUERY_LENGTH);
  parsePanelQuery(query, `${path}.query`);
  return {
    id: given.id,
    title: text(given.title, `${path}.title`, MAX_TITLE_LENGTH),
    grid: grid(given.grid, `${path}.grid`),
    scope: scopeAt(given.scope, `${path}.scope`),
    query,
    visualisation: visualisation(given.visualisation, `${path}.visualisation`),
  };
}

/**
 * Reads a dashboard as a client sends it. Promises: whatever is wrong is refused with a 400 naming its
 * path; a query that does not parse is refused with its column. Keys that answers carry (version,
 * updated_at…) are ignored. Without an id, `idFor` makes one from the title.
 */
export function validateDashboard(value: unknown, options: { idFor?: (title: string) => string; now?: number; path?: string } = {}): DashboardDefinition {
  const prefix = options.path === undefined ? '' : `${options.path}.`;
  if (!isRecord(value)) throw new ValidationError(`${options.path ?? 'The dashboard'} must be an object.`);
  const given = value;
  try {
    onlyKeys(given, '', ['id', 'title', 'description', 'time_range', 'refresh_seconds', 'panels'], ANSWER_ONLY_KEYS);
    const title = text(given.title, 'title', MAX_TITLE_LENGTH, { required: true }).trim();
    let id: string;
    if (given.id === undefined || given.id === null || given.id === '') {
      id = options.idFor === undefined ? idFromTitle(title) : options.idFor(title);
    } else if (typeof given.id !== 'string' || !DASHBOARD_ID_PATTERN.test(given.id)) {
      throw new ValidationError(`id must be 1 to 64 lower-case letters, digits or "-", not ${describe(given.id)}.`);
    } else {
      id = given.id;
    }
    const panelsGiven = given.panels ?? [];
    if (!Array.isArray(panelsGiven)) throw new ValidationError('panels must be a list of panels.');
    if (panelsGiven.length > MAX_PANELS) throw new ValidationError(`panels holds ${panelsGiven.length} panels; a dashboard has at most ${MAX_PANELS}.`);
    const panels = panelsGiven.map((panel, position) => validatePanel(panel, `panels[${position}]`));
    const seen = new Set<string>();
    panels.forEach((panel, position) => {
      if (seen.has(panel.id)) throw new ValidationError(`panels[${position}].id "${panel.id}" is already the id of another panel; each panel's id is unique in its dashboard.`);
      seen.add(panel.id);
    });
    return {
      id,
      title,
      description: text(given.description, 'description', MAX_DESCRIPTION_LENGTH),
      time_range: timeRange(given.time_range, options.now ?? Date.now()),
      refresh_seconds: refreshSeconds(given.refresh_seconds),
      panels,
    };
  } catch (error) {
    if (prefix === '' || !(error instanceof ValidationError)) throw error;
    if (error instanceof QuerySyntaxError) {
      throw new QuerySyntaxError(`${prefix}${error.message}`, { column: error.column, expected: error.expected, ...(error.suggestions === undefined ? {} : { suggestions: error.suggestions }) });
    }
    throw new ValidationError(`${prefix}${error.message}`);
  }
}

/** The id a title gives: lower-case letters and digits, other runs turned into "-", at most 64 characters ("dashboard" when nothing is left). */
export function idFromTitle(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_ID_LENGTH)
    .replace(/-+$/g, '');
  return slug === '' ? 'dashboard' : slug;
}

/** `base`, or base-2, base-3 … (cut to fit 64 characters), the first that `taken` does not hold. */
export function uniqueId(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let counter = 2; ; counter++) {
    const suffix = `-${counter}`;
    const candidate = `${base.slice(0, MAX_ID_LENGTH - suffix.length).replace(/-+$/g, '')}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}
