import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRegisterTarget } from '../../src/http/register-door.js';

describe('isRegisterTarget: the request targets the Express app answers with POST /register', () => {
  test('/register in any case, with or without one trailing slash, with any query string', () => {
    for (const url of ['/register', '/Register', '/REGISTER/', '/register/', '/register?x=1', '/register/?a=b&c', '/register?']) {
      assert.equal(isRegisterTarget(url), true, url);
    }
  });
  test('anything else is left to the Express app', () => {
    for (const url of ['/', '/registe', '/registers', '/register//', '/register/x', '/regist%65r', '//register', 'https://host/register', '/query', '']) {
      assert.equal(isRegisterTarget(url), false, url);
    }
  });
});
