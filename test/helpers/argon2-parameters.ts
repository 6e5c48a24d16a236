import assert from 'node:assert/strict';

/** The m, t and p of a PHC-format argon2id hash ($argon2id$v=19$m=…,t=…,p=…$salt$hash, in any order). */
export function argon2Parameters(stored: string): Record<string, string> {
  const [, kind, , parameters] = stored.split('$');
  assert.equal(kind, 'argon2id');
  return Object.fromEntries((parameters ?? '').split(',').map((pair) => pair.split('=') as [string, string]).sort(([a], [b]) => (a < b ? -1 : 1)));
}
