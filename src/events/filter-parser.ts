import { ValidationError } from '../errors/mlog-error.js';
import {
  checkKeywordLength,
  checkNoControlCharacters,
  countFullTextWords,
  MAX_FILTER_PAIRS,
  MAX_FULL_TEXT_WORDS,
} from './query-limits.js';
import { decodeQueryComponent } from './query-string.js';

export interface FilterPair {
  field: string;
  value: string;
}

export { MAX_FILTER_PAIRS };

/** The field of full-text filter pairs; every other field is matched exactly. */
export const FULL_TEXT_FIELD = 'event_message';

/**
 * Parses the raw `filter` parameter, `field1=value1,field2=value2`: pairs split on ",", each on its first
 * "=", then key and value percent-decoded, so a value may carry "," or "=" as %2C / %3D. A filter sent
 * percent-encoded as a whole (no literal "=" at all) is decoded once first. Promises: every pair is one
 * Elasticsearch can search (no control character, a value of at most 32,766 bytes, at most
 * MAX_FULL_TEXT_WORDS words of event_message in all).
 */
export function parseFilter(raw: string): FilterPair[] {
  let text = raw;
  if (!text.includes('=') && /%3d/i.test(text)) text = decodeQueryComponent(text, 'The filter parameter');
  const pairs: FilterPair[] = [];
  for (const part of text.split(',')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    if (equals < 0) {
      throw new ValidationError(`The filter pair "${decodeQueryComponent(part, 'The filter').slice(0, 80)}" has no "="; write field=value, pairs separated by ",".`);
    }
    const decodedField = decodeQueryComponent(part.slice(0, equals), 'A filter field name');
    checkNoControlCharacters(decodedField, 'A filter field name');
    const field = decodedField.trim();
    const value = decodeQueryComponent(part.slice(equals + 1), `The filter value of ${part.slice(0, equals).slice(0, 80)}`);
    if (field === '') throw new ValidationError(`The filter pair "${part.slice(0, 80)}" has no field name before "=".`);
    checkNoControlCharacters(value, `The filter value of ${field.slice(0, 80)}`);
    checkKeywordLength(value, `The filter value of ${field.slice(0, 80)}`);
    pairs.push({ field, value });
  }
  if (pairs.length > MAX_FILTER_PAIRS) {
    throw new ValidationError(`The filter has ${pairs.length} pairs; MLog accepts at most ${MAX_FILTER_PAIRS}.`);
  }
  const words = pairs.reduce((sum, pair) => sum + (pair.field === FULL_TEXT_FIELD ? countFullTextWords(pair.value) : 0), 0);
  if (words > MAX_FULL_TEXT_WORDS) {
    throw new ValidationError(
      `The filter's ${FULL_TEXT_FIELD} values hold ${words.toLocaleString('en-US')} words; MLog searches at most ${MAX_FULL_TEXT_WORDS.toLocaleString('en-US')} words of ${FULL_TEXT_FIELD} in one filter.`,
    );
  }
  return pairs;
}
