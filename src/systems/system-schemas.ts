import { Ajv, type ErrorObject } from 'ajv';
import { ValidationError } from '../errors/mlog-error.js';
import { IS_CODE_PATTERN } from './information-system.js';
import { SYSTEM_PERMISSIONS, SYSTEM_STATUSES } from './information-system.js';

const editableProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  idno: { type: 'string', minLength: 1, maxLength: 32 },
  certificates: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', minLength: 1 } },
  allowed_addresses: { type: 'array', maxItems: 200, items: { type: 'string', minLength: 1, maxLength: 64 } },
  require_signature: { type: 'boolean' },
  syslog_addresses: { type: 'array', maxItems: 200, items: { type: 'string', minLength: 1, maxLength: 64 } },
  syslog_timezone: { type: 'string', minLength: 1, maxLength: 64 },
  permissions: { type: 'array', uniqueItems: true, items: { enum: [...SYSTEM_PERMISSIONS] } },
  event_types: { type: 'array', maxItems: 1000, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 200 } },
  retention_months: { type: 'integer', minimum: 1, maximum: 1200 },
  status: { enum: [...SYSTEM_STATUSES] },
} as const;

export const newSystemSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'name', 'idno', 'certificates'],
  properties: { code: { type: 'string', pattern: IS_CODE_PATTERN.source }, ...editableProperties },
} as const;

export const systemChangesSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: editableProperties,
} as const;

/** The body of POST /admin/systems (and `mlog systems add`). */
export interface NewSystem {
  code: string;
  name: string;
  idno: string;
  /** PEM texts (or base64 DER) of the system certificates. */
  certificates: string[];
  allowed_addresses?: string[];
  require_signature?: boolean;
  syslog_addresses?: string[];
  syslog_timezone?: string;
  permissions?: (typeof SYSTEM_PERMISSIONS)[number][];
  event_types?: string[];
  retention_months?: number;
  status?: (typeof SYSTEM_STATUSES)[number];
}

/** The body of PATCH /admin/systems/{code} (and `mlog systems update`). */
export type SystemChanges = Partial<Omit<NewSystem, 'code'>>;

const ajv = new Ajv({ allErrors: false, strict: true });
const checkNewSystem = ajv.compile<NewSystem>(newSystemSchema);
const checkSystemChanges = ajv.compile<SystemChanges>(systemChangesSchema);

/** A field's name as a message names it: `permissions[0]` for an element, `name` for a field. */
function fieldName(instancePath: string): string {
  return instancePath
    .replace(/^\//, '')
    .split('/')
    .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('');
}

/** What an ajv error says of the field, in plain English. */
function describe(error: ErrorObject | undefined): string {
  if (error === undefined) return 'is not valid';
  const field = fieldName(error.instancePath);
  if (field === '' && error.keyword === 'type') return 'must be sent as a JSON object (with Content-Type: application/json)';
  const limit = Number(error.params.limit);
  switch (error.keyword) {
    case 'required':
      return `${String(error.params.missingProperty)} is missing`;
    case 'additionalProperties':
      return `"${String(error.params.additionalProperty)}" is not a field of an information system`;
    case 'minProperties':
      return 'names no field to change';
    case 'pattern':
      return `${field} must match ${String(error.params.pattern)} (lower-case letters, digits and "-", 2 to 31 characters, starting and ending with a letter or digit)`;
    case 'enum':
      return `${field} must be one of ${(error.params.allowedValues as string[]).join(', ')}`;
    case 'type':
      return `${field} must be ${error.params.type === 'integer' ? 'a whole number' : `a${error.params.type === 'array' ? 'n' : ''} ${String(error.params.type)}`}`;
    case 'minLength':
      return limit === 1 ? `${field} must not be empty` : `${field} must be at least ${limit} characters long`;
    case 'maxLength':
      return `${field} must be at most ${limit} characters long`;
    case 'minItems':
      return `${field} must hold at least ${limit} ${limit === 1 ? 'item' : 'items'}`;
    case 'maxItems':
      return `${field} may hold at most ${limit} items`;
    case 'uniqueItems':
      return `${field} holds the same value twice (items ${Math.min(Number(error.params.i), Number(error.params.j))} and ${Math.max(Number(error.params.i), Number(error.params.j))})`;
    case 'minimum':
      return `${field} must be at least ${limit}`;
    case 'maximum':
      return `${field} must be at most ${limit}`;
    default:
      return `${field} ${error.message ?? 'is not valid'}`;
  }
}

export function parseNewSystem(body: unknown): NewSystem {
  if (!checkNewSystem(body)) throw new ValidationError(`The information system ${describe(checkNewSystem.errors?.[0])}.`);
  return body;
}

export function parseSystemChanges(body: unknown): SystemChanges {
  if (!checkSystemChanges(body)) throw new ValidationError(`The change ${describe(checkSystemChanges.errors?.[0])}.`);
  return body;
}
