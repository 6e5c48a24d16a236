/**
 * `npm run bench:query-language`: what parsing and compiling a console query costs, in this process,
 * without Elasticsearch: a typical query, the longest accepted, the deepest accepted, and the hostile
 * ones refused (too deep, a long run of "not", unbalanced quotes). Prints µs per query; asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { MAX_QUERY_DEPTH, MAX_QUERY_LENGTH, parseQuery } from '../src/search/query-language.js';
import { buildConsoleQuery } from '../src/storage/console-query-builder.js';

const ROUNDS = 2_000;

/** µs per call of `fn`, after a warm-up; a refusal counts as a finished call. */
function timed(fn: () => void, rounds = ROUNDS): number {
  const run = () => {
    try {
      fn();
    } catch {
      // refused: the cost of the refusal is what is measured
    }
  };
  for (let i = 0; i < 100; i++) run();
  const started = performance.now();
  for (let i = 0; i < rounds; i++) run();
  return ((performance.now() - started) * 1000) / rounds;
}

const words = 'login failed for the user '.repeat(2_000).slice(0, MAX_QUERY_LENGTH - 1).trimEnd();
const cases: Array<[string, string, number?]> = [
  ['typical: event_type:MPass.* and user:(alice or bob) and not "login failed" and event_time >= 2026-01-01', 'event_type:MPass.* and user:(alice or bob) and not "login failed" and event_time >= 2026-01-01'],
  [`longest accepted (${MAX_QUERY_LENGTH.toLocaleString('en-US')} characters of bare words, refused for its 512-word limit)`, words.slice(0, MAX_QUERY_LENGTH), 200],
  [`deepest accepted (${MAX_QUERY_DEPTH} parentheses)`, `${'('.repeat(MAX_QUERY_DEPTH)}user:a${')'.repeat(MAX_QUERY_DEPTH)}`],
  [`too deep (${MAX_QUERY_LENGTH.toLocaleString('en-US')} × "(", refused before parsing)`, '('.repeat(MAX_QUERY_LENGTH)],
  ['1,600 × "not " then a word', `${'not '.repeat(1_600)}a`, 200],
  ['4,000 × " and" after a word (refused)', `a${' and'.repeat(2_000)}`, 200],
  [`an unclosed phrase of ${(MAX_QUERY_LENGTH - 1).toLocaleString('en-US')} characters (refused)`, `"${'x'.repeat(MAX_QUERY_LENGTH - 1)}`, 200],
];

for (const [name, text, rounds] of cases) {
  const micros = timed(() => buildConsoleQuery(parseQuery(text)), rounds);
  console.log(`${micros.toFixed(1).padStart(10)} µs  ${name}`);
}
