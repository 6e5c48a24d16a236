/**
 * `npm run docs:config`: writes the README's configuration table from the declaration in
 * src/config/config.ts, between the two markers below. test/unit/config-table.test.ts fails when the
 * README's table and the declaration differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configurationTable } from '../src/config/config.js';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const TABLE_START = '<!-- configuration table: made from src/config/config.ts by `npm run docs:config`; do not edit here -->';
export const TABLE_END = '<!-- end of configuration table -->';

/** `readme` with the text between the markers replaced by the table of the declaration. */
export function withConfigurationTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start === -1 || end === -1 || end < start) throw new Error(`README.md lacks the markers ${TABLE_START} … ${TABLE_END}.`);
  return `${readme.slice(0, start + TABLE_START.length)}\n\n${configurationTable()}\n\n${readme.slice(end)}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const before = readFileSync(README, 'utf8');
  const after = withConfigurationTable(before);
  if (after === before) process.stdout.write('README.md: the configuration table is up to date.\n');
  else {
    writeFileSync(README, after);
    process.stdout.write('README.md: configuration table written.\n');
  }
}
