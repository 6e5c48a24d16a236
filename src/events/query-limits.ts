import { ValidationError } from '../errors/mlog-error.js';
import { MAX_STRING_BYTES } from './predefined-fields.js';

/**
 * The limits on query parameters (GET /query, /query/{uid}, /personal-data), all checked before
 * Elasticsearch is asked. docs/api.md states them.
 */

/** A parameter MLog stores or searches as one keyword (legal_*, user*, subject, a filter value): Elasticsearch's longest term, in UTF-8 bytes. */
export const MAX_KEYWORD_PARAMETER_BYTES = MAX_STRING_BYTES;

/** Pairs in one filter. */
export const MAX_FILTER_PAIRS = 64;

/**
 * Words in all the event_message values of one filter together. Each word is one clause of the
 * search; Elasticsearch 8 allows at least 1,024 clauses in a search whatever its heap (more on larger
 * heaps), and a filter adds up to 2 × 64 clauses of its own plus 4 of MLog's.
 */
export const MAX_FULL_TEXT_WORDS = 512;

/** The longest word Elasticsearch's standard analyzer keeps whole, in UTF-16 units; a longer run is cut into several. */
const MAX_WORD_LENGTH = 255;

/** C0 controls, DEL and C1 controls. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/u;

/** Refuses a decoded parameter that holds a control character (NUL, CR, LF, tab, DEL, U+0080–U+009F). */
export function checkNoControlCharacters(value: string, what: string): void {
  const found = CONTROL_CHARACTER.exec(value);
  if (found === null) return;
  const code = found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  throw new ValidationError(`${what} holds the control character U+${code} at position ${found.index + 1}; query parameters may not hold control characters.`);
}

/** Refuses a value longer than a keyword can be: `what` names it (for example "legal_reason"). */
export function checkKeywordLength(value: string, what: string): void {
  if (value.length * 3 <= MAX_KEYWORD_PARAMETER_BYTES) return;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_KEYWORD_PARAMETER_BYTES) {
    throw new ValidationError(`${what} is ${bytes.toLocaleString('en-US')} bytes long in UTF-8; the limit is ${MAX_KEYWORD_PARAMETER_BYTES.toLocaleString('en-US')} bytes.`);
  }
}

/**
 * The kind of a character for counting words: characters of one kind in a row make one word, except
 * ideographs and hiragana, which Elasticsearch's standard analyzer makes one word each. Marks and
 * connectors continue the word before them; punctuation and spaces separate words; any other
 * character (a symbol, an emoji) counts as a word by itself.
 */
function kindOf(character: string): 'single' | 'separator' | 'continues' | string {
  if (/[\p{Script=Han}\p{Script=Hiragana}]/u.test(character)) return 'single';
  if (/[\p{M}\p{Pc}]/u.test(character)) return 'continues';
  if (/\p{Script=Katakana}/u.test(character)) return 'katakana';
  if (/[\p{Script=Thai}\p{Script=Lao}\p{Script=Myanmar}\p{Script=Khmer}]/u.test(character)) return 'southeast-asian';
  if (/\p{L}/u.test(character)) return 'letter';
  if (/\p{N}/u.test(character)) return 'number';
  if (/[\p{P}\p{Z}\p{C}\s]/u.test(character)) return 'separator';
  return 'single';
}

/**
 * How many words a full-text value makes in Elasticsearch's standard analyzer, counted so that the
 * count is never below the analyzer's (it may be above: "abc123" counts 2, "1.5" counts 2).
 */
export function countFullTextWords(text: string): number {
  let words = 0;
  let kind = 'separator';
  let length = 0;
  for (const character of text) {
    let next = kindOf(character);
    if (next === 'continues') next = kind === 'separator' || kind === 'single' ? 'single' : kind;
    if (next === 'separator') {
      kind = next;
      continue;
    }
    if (next === kind && next !== 'single' && length + character.length <= MAX_WORD_LENGTH) {
      length += character.length;
      continue;
    }
    words += 1;
    kind = next;
    length = character.length;
  }
  return words;
}
