import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeStorageFailure, errorType } from '../../src/storage/elasticsearch-errors.js';

function responseError(statusCode: number, body: unknown): Error {
  return Object.assign(new Error('response'), { name: 'ResponseError', meta: { statusCode, body } });
}

describe('Elasticsearch failures as MLog reads them', () => {
  test('errorType is the type Elasticsearch answered, when it answered one', () => {
    assert.equal(errorType(responseError(400, { error: { type: 'resource_already_exists_exception', reason: 'index [x] already exists' } })), 'resource_already_exists_exception');
    assert.equal(errorType(responseError(502, 'Bad Gateway')), undefined);
    assert.equal(errorType(Object.assign(new Error('connect ECONNREFUSED'), { name: 'ConnectionError' })), undefined);
    assert.equal(errorType(undefined), undefined);
  });

  test('describeStorageFailure names the class, status and type, never the reason (which can quote a document)', () => {
    const failure = responseError(503, { error: { type: 'search_phase_execution_exception', reason: 'all shards failed for 2000000000001' } });
    assert.equal(describeStorageFailure(failure), 'ResponseError 503 search_phase_execution_exception');
    assert.equal(describeStorageFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9200'), { name: 'ConnectionError' })), 'ConnectionError');
    assert.equal(describeStorageFailure('not an error'), 'Error');
  });
});
