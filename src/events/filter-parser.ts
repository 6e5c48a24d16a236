import { ValidationError } from '../errors/mlog-error.js';
import { decodeQueryComponent } from './query-string.js';

export interface FilterPair {
  field: string;
  value: string;
}

export const MAX_FILTER_PAIRS = 64;

/**
 * Parses the raw `filter` parameter, `field1=value1,field2=value2`: pairs split on ",", each on its first
 * "=", then key and value percent-decoded, so a value may carry "," or "=" as %2C / %3D. A filter sent
 * percent-encoded as a whole (no literal "=" at all) is decoded once first.
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
    const field = decodeQueryComponent(part.slice(0, equals), 'A filter field name').trim();
    const value = decodeQueryComponent(part.slice(equals + 1), `The filter value of ${part.slice(0, equals)}`);
    if (field === '') throw new ValidationError(`The filter pair "${part.slice(0, 80)}" has no field name before "=".`);
    pairs.push({ field, value });
  }
  if (pairs.length > MAX_FILTER_PAIRS) {
    throw new ValidationError(`The filter has ${pairs.length} pairs; MLog accepts at most ${MAX_FILTER_PAIRS}.`);
  }
  return pairs;
}
