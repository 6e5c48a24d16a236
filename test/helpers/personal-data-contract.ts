/**
 * The fields of the PersonalData projection as contract.md lists them, written out here for the tests
 * (never read from MLog's own list, so a field dropped from the code is caught).
 */
export const PERSONAL_DATA_CONTRACT_FIELDS = [
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
