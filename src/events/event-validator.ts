import { Ajv, type ErrorObject } from 'ajv';
import { parseEventTime } from './event-time.js';
import type { JsonObject } from './json-object-parser.js';
import { isPredefinedField, MAX_STRING_BYTES } from './predefined-fields.js';

const eventShapeSchema = {
  type: 'object',
  required: ['event_time', 'event_type'],
  properties: {
    event_time: { type: 'string' },
    event_type: { type: 'string', pattern: '\\S' },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const validateEventShape = ajv.compile(eventShapeSchema);

function describeAjvError(error: ErrorObject): string {
  if (error.keyword === 'required') return `${String(error.params.missingProperty)} is missing`;
  const field = error.instancePath.replace(/^\//, '');
  if (error.keyword === 'type') return `${field} must be a string`;
  if (error.keyword === 'pattern') return `${field} must not be empty`;
  return `${field} ${error.message ?? 'is not valid'}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Refuses reserved names, over-long strings and numbers that cannot be kept exactly, at any depth; returns the reason or undefined. */
function checkNamesAndStrings(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') {
    // A UTF-16 code unit is at most 3 UTF-8 bytes: only long strings need counting.
    if (value.length * 3 > MAX_STRING_BYTES && Buffer.byteLength(value, 'utf8') > MAX_STRING_BYTES) {
      return `field ${path} is ${Buffer.byteLength(value, 'utf8')} bytes long in UTF-8; the limit is ${MAX_STRING_BYTES} bytes`;
    }
    return undefined;
  }
  if (typeof value === 'number') {
    // JSON numbers are read as doubles: refuse what a double cannot hold exactly rather than alter it.
    if (!Number.isFinite(value)) return `field ${path} holds a number too large to keep; send it as a string`;
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      return `field ${path} holds an integer beyond ±${Number.MAX_SAFE_INTEGER}, which MLog cannot keep exactly; send it as a string`;
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const reason = checkNamesAndStrings(value[i], `${path}[${i}]`);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const keyPath = path === '' ? key : `${path}.${key}`;
      if (key.startsWith('_') || key.startsWith('@')) {
        return `field name "${keyPath}" is reserved: names starting with "_" or "@" are not accepted`;
      }
      if (key.trim() === '') return path === '' ? 'a field name is empty; every field needs a name' : `a field name under "${path}" is empty; every field needs a name`;
      const reason = checkNamesAndStrings((value as JsonObject)[key], keyPath);
      if (reason !== undefined) return reason;
    }
  }
  return undefined;
}

/** Predefined fields other than event_details hold values (or arrays of values), not objects. */
function checkPredefinedFieldValues(event: JsonObject): string | undefined {
  for (const [name, value] of Object.entries(event)) {
    if (name === 'event_details' || !isPredefinedField(name)) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const element of values) {
      if (element !== null && typeof element === 'object') {
        return `field ${name} must be a string, number or boolean (or an array of them), not ${describeValue(element)}`;
      }
    }
  }
  return undefined;
}

/**
 * Checks one event against MLog's rules: event_time and event_type present and well formed, no
 * reserved names, no string over 32,766 UTF-8 bytes, predefined fields not objects. Returns the
 * plain-English reason for the first rule broken, or undefined when the event is accepted.
 */
export function findEventProblem(event: JsonObject): string | undefined {
  if (!validateEventShape(event)) {
    const first = validateEventShape.errors?.[0];
    return first === undefined ? 'is not a valid event' : describeAjvError(first);
  }
  const names = checkNamesAndStrings(event, '');
  if (names !== undefined) return names;
  const time = parseEventTime(event.event_time as string);
  if (!time.ok) return `event_time "${truncate(event.event_time as string)}" ${time.reason}`;
  return checkPredefinedFieldValues(event);
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
