import { Ajv, type ErrorObject } from 'ajv';
import { parseEventTime } from './event-time.js';
import type { JsonObject } from '../json/json-object-parser.js';
import { isPredefinedField, MAX_FIELD_DEPTH, MAX_FIELD_NAME_BYTES, MAX_STRING_BYTES } from './predefined-fields.js';

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

/** The shape a dotted field takes in an event, and the first name that gave it that shape. */
interface FieldShape {
  kind: 'value' | 'object';
  /** The name as the client wrote it, array positions included ("list[1].a.b"). */
  written: string;
  /** The member names that lead to it, array positions left out: two spellings of one field differ here. */
  spelling: string;
}

function shorten(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

/** How many parts a member name adds to a dotted name: "a.b.c" adds 3. */
function partCount(key: string): number {
  let count = 1;
  for (let at = key.indexOf('.'); at !== -1; at = key.indexOf('.', at + 1)) count++;
  return count;
}

/**
 * Refuses what no field may hold or be named, at any depth: reserved and empty names (and empty parts
 * of dotted names), dotted names over MAX_FIELD_NAME_BYTES or MAX_FIELD_DEPTH parts, over-long
 * strings, numbers that cannot be kept exactly. Notes whether the event needs the shape check (a
 * dotted name, or an array holding objects or arrays, among the indexed fields).
 */
class NameAndValueCheck {
  needsShapeCheck = false;

  /** `dotted`: the field's dotted name; `depth`: its parts; `indexed`: outside event_details. */
  walk(value: unknown, written: string, dotted: string, depth: number, indexed: boolean): string | undefined {
    if (typeof value === 'string') {
      // A UTF-16 code unit is at most 3 UTF-8 bytes: only long strings need counting.
      if (value.length * 3 > MAX_STRING_BYTES && Buffer.byteLength(value, 'utf8') > MAX_STRING_BYTES) {
        return `field ${written} is ${Buffer.byteLength(value, 'utf8')} bytes long in UTF-8; the limit is ${MAX_STRING_BYTES} bytes`;
      }
      return undefined;
    }
    if (typeof value === 'number') {
      // JSON numbers are read as doubles: refuse what a double cannot hold exactly rather than alter it.
      if (!Number.isFinite(value)) return `field ${written} holds a number too large to keep; send it as a string`;
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        return `field ${written} holds an integer beyond ±${Number.MAX_SAFE_INTEGER}, which MLog cannot keep exactly; send it as a string`;
      }
      return undefined;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const element: unknown = value[i];
        if (indexed && element !== null && typeof element === 'object') this.needsShapeCheck = true;
        const reason = this.walk(element, `${written}[${i}]`, dotted, depth, indexed);
        if (reason !== undefined) return reason;
      }
      return undefined;
    }
    if (value === null || typeof value !== 'object') return undefined;
    for (const key of Object.keys(value)) {
      const keyWritten = written === '' ? key : `${written}.${key}`;
      const keyDotted = dotted === '' ? key : `${dotted}.${key}`;
      const dots = key.includes('.');
      if (key.startsWith('_') || key.startsWith('@') || (dots && /(?:^|\.)[_@]/.test(key))) {
        return `field name "${shorten(keyWritten)}" is reserved: names starting with "_" or "@" are not accepted`;
      }
      if (key.trim() === '') return written === '' ? 'a field name is empty; every field needs a name' : `a field name under "${shorten(written)}" is empty; every field needs a name`;
      if (dots && key.split('.').some((part) => part.trim() === '')) {
        return `field name "${shorten(keyWritten)}" has an empty part between dots; a name may not start or end with "." or hold ".."`;
      }
      const keyDepth = depth + (dots ? partCount(key) : 1);
      if (keyDepth > MAX_FIELD_DEPTH) {
        return `field "${shorten(keyWritten)}" is nested ${keyDepth} levels deep (objects and the parts of dotted names); the limit is ${MAX_FIELD_DEPTH}`;
      }
      if (keyDotted.length * 3 > MAX_FIELD_NAME_BYTES && Buffer.byteLength(keyDotted, 'utf8') > MAX_FIELD_NAME_BYTES) {
        return `field name "${shorten(keyWritten)}" is ${Buffer.byteLength(keyDotted, 'utf8')} bytes long in UTF-8 (with the names that hold it, joined by dots); the limit is ${MAX_FIELD_NAME_BYTES} bytes`;
      }
      const keyIndexed = indexed && !(dotted === '' && (key === 'event_details' || key.startsWith('event_details.')));
      if (keyIndexed && dots) {
        this.needsShapeCheck = true;
        const root = dotted === '' ? key.slice(0, key.indexOf('.')) : '';
        if (isPredefinedField(root)) return `field name "${shorten(keyWritten)}" puts a nested field under ${root}, a predefined field that holds values only`;
      }
      const reason = this.walk((value as JsonObject)[key], keyWritten, keyDotted, keyDepth, keyIndexed);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }
}

/**
 * The fields Elasticsearch indexes (all but event_details) as one event shapes them: refuses a field
 * named twice by different spellings ("a.b" and "a":{"b"}), and a field given both values and nested
 * fields ([1,{"z":1}], or "a" and "a.b"), which Elasticsearch would merge or refuse.
 */
class ShapeCheck {
  private readonly shapes = new Map<string, FieldShape>();

  walk(value: unknown, written: string, dotted: string, spelling: string): string | undefined {
    if (value === null) return undefined;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const reason = this.walk(value[i], `${written}[${i}]`, dotted, spelling);
        if (reason !== undefined) return reason;
      }
      return undefined;
    }
    if (typeof value !== 'object') return this.note(dotted, 'value', written, spelling);
    if (dotted !== '') {
      const reason = this.note(dotted, 'object', written, spelling);
      if (reason !== undefined) return reason;
    }
    for (const key of Object.keys(value)) {
      // Predefined fields have their own rule (values only; event_details anything), checked after.
      if (dotted === '' && (isPredefinedField(key) || key.startsWith('event_details.'))) continue;
      const keyWritten = written === '' ? key : `${written}.${key}`;
      const keyDotted = dotted === '' ? key : `${dotted}.${key}`;
      // "a.b.c" makes a and a.b objects, as nested members would.
      for (let at = key.indexOf('.'); at !== -1; at = key.indexOf('.', at + 1)) {
        const reason = this.note(dotted === '' ? key.slice(0, at) : `${dotted}.${key.slice(0, at)}`, 'object', keyWritten, '');
        if (reason !== undefined) return reason;
      }
      const reason = this.walk((value as JsonObject)[key], keyWritten, keyDotted, `${spelling}\u0000${key}`);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }

  private note(field: string, kind: FieldShape['kind'], written: string, spelling: string): string | undefined {
    const seen = this.shapes.get(field);
    if (seen === undefined) {
      this.shapes.set(field, { kind, written, spelling });
      return undefined;
    }
    if (seen.kind !== kind) {
      const [valueName, objectName] = kind === 'value' ? [written, seen.written] : [seen.written, written];
      return `field ${shorten(field)} is given both a value (by "${shorten(valueName)}") and nested fields (by "${shorten(objectName)}"); a field holds values or nested fields, not both`;
    }
    if (kind === 'value' && seen.spelling !== spelling) {
      return `field names "${shorten(seen.written)}" and "${shorten(written)}" both name the field ${shorten(field)}; send each field once`;
    }
    return undefined;
  }
}

/** Field names and values that can be stored and queried; the shape check only where one event could give a field two shapes or names. */
function checkFields(event: JsonObject): string | undefined {
  const check = new NameAndValueCheck();
  const reason = check.walk(event, '', '', 0, true);
  if (reason !== undefined || !check.needsShapeCheck) return reason;
  return new ShapeCheck().walk(event, '', '', '');
}

/** Predefined fields other than event_details hold values (or arrays of values), not objects. */
function checkPredefinedFieldValues(event: JsonObject): string | undefined {
  // Per name, without an array of entries or of the one value: this runs on every event of every door.
  for (const name of Object.keys(event)) {
    if (name === 'event_details' || !isPredefinedField(name)) continue;
    const value = event[name];
    if (!Array.isArray(value)) {
      if (value !== null && typeof value === 'object') return notAValue(name, value);
      continue;
    }
    for (const element of value) {
      if (element !== null && typeof element === 'object') return notAValue(name, element);
    }
  }
  return undefined;
}

function notAValue(name: string, element: unknown): string {
  return `field ${name} must be a string, number or boolean (or an array of them), not ${describeValue(element)}`;
}

/**
 * Checks one event against MLog's rules: event_time and event_type present and well formed, field
 * names that can be stored and queried (see checkFields), no string over 32,766 UTF-8 bytes,
 * predefined fields not objects. Returns the
 * plain-English reason for the first rule broken, or undefined when the event is accepted.
 */
export function findEventProblem(event: JsonObject): string | undefined {
  if (!validateEventShape(event)) {
    const first = validateEventShape.errors?.[0];
    return first === undefined ? 'is not a valid event' : describeAjvError(first);
  }
  const names = checkFields(event);
  if (names !== undefined) return names;
  const time = parseEventTime(event.event_time as string);
  if (!time.ok) return `event_time "${truncate(event.event_time as string)}" ${time.reason}`;
  return checkPredefinedFieldValues(event);
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
