import { existsSync, readFileSync } from 'node:fs';
import { closest, distance } from 'fastest-levenshtein';
import type peggy from 'peggy';
import { QuerySyntaxError } from '../errors/mlog-error.js';
import { countFullTextWords } from '../events/query-limits.js';

/**
 * The console's query language (docs/console.md, "The query language"): KQL-like text parsed by the
 * peggy grammar beside this module into a QueryNode tree. storage/console-query-builder.ts turns the
 * tree into the Elasticsearch query DSL; no text of a query is ever pasted into a query string.
 */

/** The empty query: every document of the scope. */
export interface MatchAllNode {
  kind: 'all';
}

export interface AndNode {
  kind: 'and';
  /** Two or more. */
  children: QueryNode[];
}

export interface OrNode {
  kind: 'or';
  /** Two or more. */
  children: QueryNode[];
}

export interface NotNode {
  kind: 'not';
  child: QueryNode;
}

/** Bare words (all of them, in any order) or a quoted phrase, searched in the scope's full-text field (event_message). */
export interface TextNode {
  kind: 'text';
  value: string;
  phrase: boolean;
  /** 1-based column where the words or the phrase start. */
  column: number;
}

/** field:value or field:"a phrase": the exact value of a keyword field, the words (or the phrase) of a text field. */
export interface MatchNode {
  kind: 'match';
  field: string;
  value: string;
  phrase: boolean;
  /** 1-based column of the value. */
  column: number;
}

/** field:val* — the field's value starts with `value`. */
export interface PrefixNode {
  kind: 'prefix';
  field: string;
  value: string;
  column: number;
}

/** field:* — the field has a value. */
export interface ExistsNode {
  kind: 'exists';
  field: string;
  column: number;
}

export type RangeOperator = 'gt' | 'gte' | 'lt' | 'lte';

/** field >= value (and >, <, <=). */
export interface RangeNode {
  kind: 'range';
  field: string;
  operator: RangeOperator;
  value: string;
  column: number;
}

export type QueryNode = MatchAllNode | AndNode | OrNode | NotNode | TextNode | MatchNode | PrefixNode | ExistsNode | RangeNode;

/** Longest query text, in UTF-16 units. */
export const MAX_QUERY_LENGTH = 8_192;

/** Deepest nesting of parentheses. */
export const MAX_QUERY_DEPTH = 32;

/**
 * Most clauses in one query: each field term counts one, each word of full text one. Elasticsearch 8
 * allows at least 1,024 clauses in a search; the console adds its own scope and time filters.
 */
export const MAX_QUERY_CLAUSES = 512;

/**
 * The parser `npm run build` compiled from the grammar into a module beside this one (dist/), else
 * (run from src/ through tsx) generated from the grammar as this module loads.
 */
const compiledParser = new URL('./query-language.peggy.js', import.meta.url);
const parser: peggy.Parser = existsSync(compiledParser)
  ? ((await import(compiledParser.href)) as peggy.Parser)
  : (await import('peggy')).default.generate(readFileSync(new URL('./query-language.peggy', import.meta.url), 'utf8'), { output: 'parser', grammarSource: 'query-language.peggy' });

interface ParseOptions {
  checkField(name: string, offset: number): void;
  refuse(offset: number, message: string): never;
}

/**
 * Parses the text of the query bar. Promises: the answer is a QueryNode tree whose fields are all in
 * `knownFields` when it is given; anything else is refused with a QuerySyntaxError naming the column.
 */
export function parseQuery(text: string, knownFields?: readonly string[]): QueryNode {
  if (text.length > MAX_QUERY_LENGTH) {
    throw new QuerySyntaxError(
      `The query is ${text.length.toLocaleString('en-US')} characters long; the limit is ${MAX_QUERY_LENGTH.toLocaleString('en-US')}.`,
      { column: MAX_QUERY_LENGTH + 1, expected: ['a shorter query'] },
    );
  }
  checkDepth(text);
  const known = knownFields === undefined ? undefined : new Set(knownFields);
  const options: ParseOptions = {
    checkField(name, offset) {
      if (known === undefined || known.has(name)) return;
      throw unknownField(name, offset + 1, knownFields ?? []);
    },
    refuse(offset, message) {
      throw new QuerySyntaxError(`At column ${offset + 1}: ${message}.`, { column: offset + 1, expected: [] });
    },
  };
  let tree: QueryNode;
  try {
    tree = parser.parse(text, options) as QueryNode;
  } catch (error) {
    if (error instanceof parser.SyntaxError) throw describeSyntaxError(text, error);
    throw error;
  }
  checkClauses(tree);
  return tree;
}

/** Refuses parentheses nested deeper than MAX_QUERY_DEPTH before the parser (which recurses on them) sees the text. */
function checkDepth(text: string): void {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const character = text[i];
    if (character === '\\') {
      i++;
    } else if (character === '"') {
      quoted = !quoted;
    } else if (!quoted && character === '(') {
      depth++;
      if (depth > MAX_QUERY_DEPTH) {
        throw new QuerySyntaxError(`At column ${i + 1}: parentheses are nested more than ${MAX_QUERY_DEPTH} deep; MLog accepts at most ${MAX_QUERY_DEPTH}.`, {
          column: i + 1,
          expected: [],
        });
      }
    } else if (!quoted && character === ')') {
      depth = Math.max(0, depth - 1);
    }
  }
}

function checkClauses(tree: QueryNode): void {
  let clauses = 0;
  const count = (node: QueryNode): void => {
    switch (node.kind) {
      case 'all':
        return;
      case 'and':
      case 'or':
        node.children.forEach(count);
        return;
      case 'not':
        count(node.child);
        return;
      case 'text':
        clauses += Math.max(1, countFullTextWords(node.value));
        return;
      case 'match':
        clauses += node.phrase ? Math.max(1, countFullTextWords(node.value)) : 1;
        return;
      default:
        clauses += 1;
    }
  };
  count(tree);
  if (clauses > MAX_QUERY_CLAUSES) {
    throw new QuerySyntaxError(
      `The query holds ${clauses.toLocaleString('en-US')} terms and words; MLog searches at most ${MAX_QUERY_CLAUSES.toLocaleString('en-US')} in one query.`,
      { column: 1, expected: [] },
    );
  }
}

/**
 * The known fields nearest to `name` in edit distance (case aside): those at the least distance, at most
 * 3, and none further than a third of its length; else a known field it begins or that begins it.
 */
export function closestFields(name: string, knownFields: readonly string[]): string[] {
  const limit = Math.max(1, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  const scored = knownFields
    .map((field) => ({ field, cost: distance(lower, field.toLowerCase()) }))
    .filter((candidate) => candidate.cost <= limit)
    .sort((a, b) => a.cost - b.cost || a.field.localeCompare(b.field));
  const best = scored[0]?.cost;
  const nearest = scored.filter((candidate) => candidate.cost === best).slice(0, 3).map((candidate) => candidate.field);
  if (nearest.length === 0 && knownFields.length > 0) {
    const near = closest(lower, knownFields.map((field) => field.toLowerCase()));
    const field = knownFields.find((known) => known.toLowerCase() === near)!;
    if (near.includes(lower) || lower.includes(near)) nearest.push(field);
  }
  return nearest;
}

function unknownField(name: string, column: number, knownFields: readonly string[]): QuerySyntaxError {
  const suggestions = closestFields(name, knownFields);
  const shown = name.length > 60 ? `${name.slice(0, 60)}…` : name;
  const hint =
    suggestions.length > 0 ? `did you mean ${wordList(suggestions.map((field) => `"${field}"`), 'or')}?` : 'the field list shows the fields this scope has.';
  return new QuerySyntaxError(`At column ${column}: there is no field "${shown}" here; ${hint}`, { column, expected: ['a known field'], suggestions });
}

/** Descriptions that say nothing a reader needs: an escape or a star would only continue a word, a ':' or a comparison would make it a field name. */
const NOISE = new Set(['whitespace', "'\\'", "'*'", "':'", 'a comparison (>=, <=, > or <)']);

/** What continues the word just before the fault; not worth saying when a complete term could end there. */
const CONTINUATIONS = new Set(['a word', 'a field name', 'a value']);

function describeExpectation(expectation: peggy.parser.Expectation): string | undefined {
  switch (expectation.type) {
    case 'end':
      return 'the end of the query';
    case 'other':
      return expectation.description;
    case 'literal':
      return `'${expectation.text}'`;
    case 'any':
      return 'a character';
    default:
      return undefined;
  }
}

/** The order in which expectations are read out: things to write before punctuation and the end. */
const ORDER = ['a word, field:value', 'a value', 'a field name', 'a word', 'a quoted phrase', "'('", "'not'", "')'", "'and'", "'or'"];

function describeSyntaxError(text: string, error: peggy.parser.SyntaxError): QuerySyntaxError {
  const offset = error.location.start.offset;
  const column = offset + 1;
  const all = [...new Set((error.expected ?? []).map(describeExpectation).filter((description): description is string => description !== undefined))];
  let expected = all.filter((description) => !NOISE.has(description));
  if (expected.length === 0) expected = all.filter((description) => description !== 'whitespace');
  const closing = expected.find((description) => description.includes('close the quoted phrase'));
  if (closing !== undefined) expected = [closing];
  const afterWord = offset > 0 && !/[\s()":<>]/u.test(text[offset - 1]!);
  if (afterWord && (expected.includes("'and'") || expected.includes("'or'"))) {
    expected = expected.filter((description) => !CONTINUATIONS.has(description));
  }
  if (expected.includes('a field name') && expected.includes('a word')) {
    expected = expected.filter((description) => description !== 'a field name' && description !== 'a word');
    expected.unshift('a word, field:value');
  }
  expected.sort((a, b) => rank(a) - rank(b));
  const before = text.slice(0, offset).trimEnd();
  const lastToken = before.split(/\s+/u).pop() ?? '';
  const after = before === '' || expected.some((description) => description.includes(' after ')) ? '' : ` after '${lastToken.length > 30 ? `…${lastToken.slice(-30)}` : lastToken}'`;
  const found = describeFound(text, offset);
  const message = `At column ${column}: expected ${wordList(expected, 'or')}${after} but found ${found}.`;
  return new QuerySyntaxError(message, { column, expected });
}

function rank(description: string): number {
  const at = ORDER.indexOf(description);
  if (at >= 0) return at;
  return description === 'the end of the query' ? ORDER.length + 1 : ORDER.length;
}

function describeFound(text: string, offset: number): string {
  if (offset >= text.length) return 'the end of the query';
  const rest = text.slice(offset);
  const token = /^[^\s]+/u.exec(rest)?.[0] ?? rest[0]!;
  const shown = [...token].slice(0, 20).join('');
  return `'${shown}${shown.length < token.length ? '…' : ''}'`;
}

function wordList(items: readonly string[], conjunction: string): string {
  if (items.length <= 1) return items[0] ?? 'something else';
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

const SPECIAL_IN_WORD = /[\s()":<>\\*]/u;
const KEYWORD = /^(and|or|not)$/iu;

/** A word as the parser reads it back: special characters escaped, and a keyword's first letter too. */
function escapeWord(word: string): string {
  let out = '';
  for (const character of word) out += SPECIAL_IN_WORD.test(character) ? `\\${character}` : character;
  return KEYWORD.test(word) ? `\\${out}` : out;
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/gu, (character) => `\\${character}`)}"`;
}

/** Bare words: single spaces between words stay, so the parser joins them back into the same text. */
function printWords(value: string): string {
  const words = value.split(' ');
  if (words.some((word) => word === '')) return escapeWord(value);
  return words.map(escapeWord).join(' ');
}

const OPERATORS: Record<RangeOperator, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** The query text of a tree; parseQuery(printQuery(tree)) is the same tree (columns aside). */
export function printQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'all':
      return '';
    case 'text':
      return node.phrase ? quote(node.value) : printWords(node.value);
    case 'match':
      return `${node.field}:${node.phrase || node.value === '' ? quote(node.value) : escapeWord(node.value)}`;
    case 'prefix':
      return `${node.field}:${escapeWord(node.value)}*`;
    case 'exists':
      return `${node.field}:*`;
    case 'range':
      return `${node.field} ${OPERATORS[node.operator]} ${node.value === '' ? '""' : escapeWord(node.value)}`;
    case 'not':
      return `not ${node.child.kind === 'text' && !node.child.phrase && printWords(node.child.value).includes(' ') ? `(${printQuery(node.child)})` : printOperand(node.child)}`;
    case 'and':
      return node.children.map(printOperand).join(' and ');
    case 'or':
      return node.children.map(printOperand).join(' or ');
  }
}

function printOperand(node: QueryNode): string {
  return node.kind === 'and' || node.kind === 'or' ? `(${printQuery(node)})` : printQuery(node);
}
