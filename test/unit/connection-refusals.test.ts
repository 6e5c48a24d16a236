import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { requestLineOf } from '../../src/http/connection-refusals.js';

describe('the request line of a refused head', () => {
  test('method and path (without the query string) when what was sent starts with a request line', () => {
    assert.deepEqual(requestLineOf(Buffer.from('GET /query?legal_reason=aaa HTTP/1.1\r\nHost: x\r\n')), { method: 'GET', path: '/query' });
    assert.deepEqual(requestLineOf(Buffer.from('POST /register HTTP/1.1\r\nBad Header\r\n\r\n')), { method: 'POST', path: '/register' });
  });

  test('nothing when the bytes are the middle of a head, not HTTP, or absent', () => {
    assert.deepEqual(requestLineOf(Buffer.from('aaaaaaaaaaaaaaaa')), {});
    assert.deepEqual(requestLineOf(Buffer.from('\u0001\u0002 garbage')), {});
    assert.deepEqual(requestLineOf(undefined), {});
  });

  test('a path is cut to 1,024 characters', () => {
    assert.equal(requestLineOf(Buffer.from(`GET /${'p'.repeat(5_000)} HTTP/1.1\r\n`)).path?.length, 1024);
  });
});
