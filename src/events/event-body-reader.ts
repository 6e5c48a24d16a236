import { isCompactJws } from '../auth/compact-jws.js';
import { ValidationError } from '../errors/mlog-error.js';

export interface BodyLine {
  /** 1-based line number in the body. */
  number: number;
  text: string;
  kind: 'json' | 'jws';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text; a body that is not UTF-8 is refused. */
export function decodeBody(body: Uint8Array): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new ValidationError('The body is not valid UTF-8 text.');
  }
}

/**
 * Splits a /register body into its non-blank lines, each a JSON object or a compact JWS. A body that
 * holds no line is refused; so is a line that is neither.
 */
export function readBodyLines(body: string): BodyLine[] {
  const lines: BodyLine[] = [];
  const texts = body.split('\n');
  for (let i = 0; i < texts.length; i++) {
    const text = (texts[i] as string).trim();
    if (text === '') continue;
    if (text.charCodeAt(0) === 123 /* { */) lines.push({ number: i + 1, text, kind: 'json' });
    else if (isCompactJws(text)) lines.push({ number: i + 1, text, kind: 'jws' });
    else {
      const hint = text.startsWith('[') ? ' (a JSON array is not accepted: send one event per line)' : '';
      throw new ValidationError(`Line ${i + 1} is neither a JSON object nor a JWS in compact serialization${hint}.`);
    }
  }
  if (lines.length === 0) throw new ValidationError('The body is empty: send one event (a JSON object or a JWS) or several, one per line.');
  return lines;
}
