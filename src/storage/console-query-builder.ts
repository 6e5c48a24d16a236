import type { estypes } from '@elastic/elasticsearch';
import { QuerySyntaxError } from '../errors/mlog-error.js';
import { EVENT_TIME_SYNTAX, parseEventTime } from '../events/event-time.js';
import type { QueryNode, RangeOperator } from '../search/query-language.js';

/**
 * The Elasticsearch query DSL of a console query (src/search/query-language.ts). Every value goes into
 * the DSL as data (term, prefix, range, match); nothing is pasted into a query string.
 */

/** How a field is indexed, as the index templates say. */
export type ConsoleFieldType = 'keyword' | 'text' | 'date' | 'number' | 'boolean' | 'not-searchable';

export interface ConsoleQuerySchema {
  /** The field bare words and phrases search; undefined when the scope has none. */
  fullTextField: string | undefined;
  fields: Readonly<Record<string, ConsoleFieldType>>;
  /** The type of a field not listed (the events' own dotted fields are keywords). */
  otherFields: ConsoleFieldType;
  /** Objects stored as sent but not indexed: the object and everything under it is not searchable. */
  notSearchableObjects: readonly string[];
}

/** mlog-<is>-<month> (index-templates/mlog-events.json): every string an IS sends is a keyword but event_message. */
export const EVENT_QUERY_SCHEMA: ConsoleQuerySchema = {
  fullTextField: 'event_message',
  fields: { event_time: 'date', '@received': 'date', event_message: 'text', '@signed': 'boolean', '@line': 'not-searchable' },
  otherFields: 'keyword',
  notSearchableObjects: ['event_details', '@jws'],
};

/** personaldata-<month> (index-templates/personaldata.json): keywords and dates, no full text. */
export const PERSONAL_DATA_QUERY_SCHEMA: ConsoleQuerySchema = {
  fullTextField: undefined,
  fields: { event_time: 'date', '@received': 'date' },
  otherFields: 'keyword',
  notSearchableObjects: [],
};

/** mlog_rejections-<month> (index-templates/mlog-rejections.json). */
export const REJECTION_QUERY_SCHEMA: ConsoleQuerySchema = {
  fullTextField: 'reason',
  fields: { '@received': 'date', status: 'number', reason: 'text', body_bytes: 'number', reduced: 'boolean' },
  otherFields: 'keyword',
  notSearchableObjects: ['body_excerpt'],
};

/** mlog_audit (index-templates/mlog-audit.json). */
export const AUDIT_QUERY_SCHEMA: ConsoleQuerySchema = {
  fullTextField: 'event_message',
  fields: { event_time: 'date', '@received': 'date', event_message: 'text' },
  otherFields: 'keyword',
  notSearchableObjects: [],
};

const DAY_MILLIS = 86_400_000;

type Query = estypes.QueryDslQueryContainer;

/** The query DSL of a parsed console query. Promises: a value that cannot be searched as its field is indexed is refused with its column. */
export function buildConsoleQuery(node: QueryNode, schema: ConsoleQuerySchema = EVENT_QUERY_SCHEMA): Query {
  switch (node.kind) {
    case 'all':
      return { match_all: {} };
    case 'and':
      return { bool: { filter: node.children.map((child) => buildConsoleQuery(child, schema)) } };
    case 'or':
      return buildDisjunction(node.children, schema);
    case 'not':
      return { bool: { must_not: [buildConsoleQuery(node.child, schema)] } };
    case 'text': {
      if (schema.fullTextField === undefined) {
        throw refusal(node.column, `this scope has no full-text field to search bare words in; write field:value`);
      }
      return fullText(schema.fullTextField, node.value, node.phrase);
    }
    case 'exists':
      typeOf(node.field, node.column, schema);
      return { exists: { field: node.field } };
    case 'match':
      return buildMatch(node.field, node.value, node.phrase, node.column, schema);
    case 'prefix': {
      const type = typeOf(node.field, node.column, schema);
      if (type !== 'keyword') {
        throw refusal(node.column, `${node.field} is ${describeType(type)}; a wildcard (*) works only on keyword fields`);
      }
      return { prefix: { [node.field]: { value: node.value } } };
    }
    case 'range':
      return buildRange(node.field, node.operator, node.value, node.column, schema);
  }
}

/** field:(a or b) on a keyword field is one terms query; any other or is a bool.should. */
function buildDisjunction(children: readonly QueryNode[], schema: ConsoleQuerySchema): Query {
  const first = children[0];
  if (first?.kind === 'match' && typeOf(first.field, first.column, schema) === 'keyword') {
    const sameField = children.every((child) => child.kind === 'match' && child.field === first.field);
    if (sameField) return { terms: { [first.field]: children.map((child) => (child as { value: string }).value) } };
  }
  return { bool: { should: children.map((child) => buildConsoleQuery(child, schema)), minimum_should_match: 1 } };
}

function fullText(field: string, value: string, phrase: boolean): Query {
  return phrase ? { match_phrase: { [field]: { query: value } } } : { match: { [field]: { query: value, operator: 'and' } } };
}

function buildMatch(field: string, value: string, phrase: boolean, column: number, schema: ConsoleQuerySchema): Query {
  const type = typeOf(field, column, schema);
  switch (type) {
    case 'text':
      return fullText(field, value, phrase);
    case 'date': {
      const { start, span } = instant(field, value, column);
      return { range: { [field]: { gte: start, lt: start + span, format: 'epoch_millis' } } };
    }
    case 'number':
      return { term: { [field]: { value: number(field, value, column) } } };
    case 'boolean':
      return { term: { [field]: { value: boolean(field, value, column) } } };
    default:
      return { term: { [field]: { value } } };
  }
}

/**
 * A date is the span it names: 2026-01-01 the whole UTC day, 10:00:00 that second, 10:00:00.250 that
 * millisecond. "> day" starts after the day, "<= day" ends with it.
 */
function buildRange(field: string, operator: RangeOperator, value: string, column: number, schema: ConsoleQuerySchema): Query {
  const type = typeOf(field, column, schema);
  switch (type) {
    case 'text':
      throw refusal(column, `${field} is searched by words; a comparison (>=, <=, > or <) works on dates, numbers and keyword fields`);
    case 'boolean':
      throw refusal(column, `${field} is true or false; a comparison (>=, <=, > or <) works on dates, numbers and keyword fields`);
    case 'date': {
      const { start, span } = instant(field, value, column);
      const bound = operator === 'gt' ? { gte: start + span } : operator === 'lte' ? { lt: start + span } : { [operator]: start };
      return { range: { [field]: { ...bound, format: 'epoch_millis' } } };
    }
    case 'number':
      return { range: { [field]: { [operator]: number(field, value, column) } } };
    default:
      return { range: { [field]: { [operator]: value } } };
  }
}

function typeOf(field: string, column: number, schema: ConsoleQuerySchema): Exclude<ConsoleFieldType, 'not-searchable'> {
  const object = schema.notSearchableObjects.find((name) => field === name || field.startsWith(`${name}.`));
  const type = object !== undefined ? 'not-searchable' : (schema.fields[field] ?? schema.otherFields);
  if (type === 'not-searchable') {
    const stored = object ?? field;
    throw refusal(column, `${stored} is stored as sent but not indexed, so ${field} cannot be searched; search another field`);
  }
  return type;
}

function describeType(type: ConsoleFieldType): string {
  switch (type) {
    case 'text':
      return 'searched by words';
    case 'date':
      return 'a date';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    default:
      return 'a keyword';
  }
}

function instant(field: string, value: string, column: number): { start: number; span: number } {
  const parsed = parseEventTime(value);
  if (!parsed.ok) {
    throw refusal(column, `the date "${value.slice(0, 64)}" for ${field} ${parsed.reason}; write a date as ${EVENT_TIME_SYNTAX}`);
  }
  const span = value.length === 10 ? DAY_MILLIS : value[19] === '.' ? 1 : 1000;
  return { start: parsed.epochMillis, span };
}

function number(field: string, value: string, column: number): number {
  const parsed = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/u.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed)) throw refusal(column, `${field} is a number, and "${value.slice(0, 64)}" is not one`);
  return parsed;
}

function boolean(field: string, value: string, column: number): boolean {
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  throw refusal(column, `${field} is true or false, and "${value.slice(0, 64)}" is neither`);
}

function refusal(column: number, message: string): QuerySyntaxError {
  return new QuerySyntaxError(`At column ${column}: ${message}.`, { column, expected: [] });
}
