/** How the console's local administrators' passwords are hashed (src/admins/admin-accounts.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verify } from 'argon2';
import { hashPassword, PASSWORD_WORK_AT_ONCE } from '../../src/admins/admin-accounts.js';
import { argon2Parameters } from '../helpers/argon2-parameters.js';

test("a password is hashed with argon2id at OWASP's minimum: 19 MiB, 2 passes, 1 lane", async () => {
  const stored = await hashPassword('correct horse battery staple');
  assert.deepEqual(argon2Parameters(stored), { m: '19456', t: '2', p: '1' });
  assert.equal(await verify(stored, 'correct horse battery staple'), true);
  assert.equal(await verify(stored, 'correct horse battery stapler'), false);
});

test('more hashes than may run at once all finish, each of its own password, none lost while waiting its turn', async () => {
  const passwords = Array.from({ length: PASSWORD_WORK_AT_ONCE * 3 + 1 }, (_, i) => `password number ${i} of the burst`);
  const hashes = await Promise.all(passwords.map((password) => hashPassword(password)));
  assert.equal(new Set(hashes).size, passwords.length);
  for (const [i, stored] of hashes.entries()) {
    assert.equal(await verify(stored, passwords[i]!), true);
    assert.equal(await verify(stored, passwords[(i + 1) % passwords.length]!), false);
  }
  // The turns were all handed back: another hash runs at once rather than waiting forever.
  assert.match(await hashPassword('one more after the burst'), /^\$argon2id\$/);
});
