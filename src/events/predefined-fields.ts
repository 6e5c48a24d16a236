/** The event fields the MLog API reference predefines. */
export const PREDEFINED_FIELDS = [
  'event_time',
  'event_type',
  'event_id',
  'event_correlation',
  'event_level',
  'event_source',
  'event_message',
  'event_details',
  'legal_entity',
  'legal_basis',
  'legal_reason',
  'user',
  'user_session',
  'user_address',
  'subject',
  'subject_type',
  'subject_name',
  'object',
  'object_type',
  'object_name',
] as const;

export type PredefinedField = (typeof PREDEFINED_FIELDS)[number];

const predefined = new Set<string>(PREDEFINED_FIELDS);

export function isPredefinedField(name: string): name is PredefinedField {
  return predefined.has(name);
}

/** The fields copied into the shared personaldata-* index for events whose event_type contains "PersonalData". */
export const PERSONAL_DATA_FIELDS = [
  'event_time',
  'event_type',
  'event_correlation',
  'legal_entity',
  'legal_basis',
  'legal_reason',
  'user',
  'user_address',
  'subject',
  'subject_type',
  'subject_name',
  'object',
  'object_type',
] as const;

export function isPersonalDataEvent(eventType: string): boolean {
  return eventType.includes('PersonalData');
}

/** Longest string, in UTF-8 bytes, that Elasticsearch can index as one keyword term. */
export const MAX_STRING_BYTES = 32_766;

/** Longest dotted field name ("request.headers.accept"), in UTF-8 bytes: each name is kept in the index mapping. */
export const MAX_FIELD_NAME_BYTES = 256;

/** Most parts a dotted field name may have (objects and dotted names together), as Elasticsearch's mapping depth limit. */
export const MAX_FIELD_DEPTH = 20;
