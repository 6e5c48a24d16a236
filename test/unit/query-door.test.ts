import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { queryTarget } from '../../src/http/query-door.js';

describe('queryTarget: the request targets the direct door answers as GET /query and GET /query/{uid}', () => {
  test('/query in any case, with or without one trailing slash, with its query string as it came', () => {
    assert.deepEqual(queryTarget('/query'), { rawQuery: '' });
    assert.deepEqual(queryTarget('/QUERY/'), { rawQuery: '' });
    assert.deepEqual(queryTarget('/Query?event_time_from=a%20b&filter=x=1'), { rawQuery: 'event_time_from=a%20b&filter=x=1' });
    assert.deepEqual(queryTarget('/query/?uid=1'), { rawQuery: 'uid=1' });
  });
  test('/query/{uid} with a UID that needs no decoding, with or without one trailing slash', () => {
    assert.deepEqual(queryTarget('/query/0b7c6f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f'), { uid: '0b7c6f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f', rawQuery: '' });
    assert.deepEqual(queryTarget('/Query/abc_D.1~x/?page=2'), { uid: 'abc_D.1~x', rawQuery: 'page=2' });
  });
  test('anything else is left to the Express app', () => {
    for (const url of ['/', '/quer', '/querys', '/query-x', '/query//', '/query/a/b', '/query/a%2Db', '/query/a b', '/query/a#b', '//query', 'https://host/query', '/register', '']) {
      assert.equal(queryTarget(url), undefined, url);
    }
  });
});
