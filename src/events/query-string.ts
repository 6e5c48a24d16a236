import { ValidationError } from '../errors/mlog-error.js';
import { checkNoControlCharacters } from './query-limits.js';

export interface QueryParameter {
  /** As it appeared in the URL, still percent-encoded. */
  raw: string;
  /** Percent-decoded, "+" read as a space. */
  value: string;
}

export function decodeQueryComponent(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new ValidationError(`${what} has malformed percent-encoding ("${raw.slice(0, 80)}").`);
  }
}

/** Parses the query string of a URL keeping each value's raw form (the filter parameter needs it). */
export function parseQueryString(rawQuery: string): Map<string, QueryParameter[]> {
  const parameters = new Map<string, QueryParameter[]>();
  if (rawQuery === '') return parameters;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const rawName = equals < 0 ? part : part.slice(0, equals);
    const raw = equals < 0 ? '' : part.slice(equals + 1);
    const name = decodeQueryComponent(rawName, 'A query parameter name');
    const list = parameters.get(name) ?? [];
    list.push({ raw, value: decodeQueryComponent(raw, `Query parameter ${name}`) });
    parameters.set(name, list);
  }
  return parameters;
}

/** The one value of a parameter that may appear once, refused if it holds a control character; undefined when absent. */
export function singleParameter(parameters: Map<string, QueryParameter[]>, name: string): QueryParameter | undefined {
  const list = parameters.get(name);
  if (list === undefined) return undefined;
  if (list.length > 1) throw new ValidationError(`Query parameter ${name} is given ${list.length} times; give it once.`);
  const parameter = list[0]!;
  checkNoControlCharacters(parameter.value, `Query parameter ${name}`);
  return parameter;
}
