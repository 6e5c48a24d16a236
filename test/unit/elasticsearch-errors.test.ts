import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errors } from '@elastic/elasticsearch';
import { ConflictError, InternalError, StorageUnavailableError, StorageUnreachableError } from '../../src/errors/mlog-error.js';
import { describeStorageFailure, errorType, isTransientFailure, itemFailure, storageFailure } from '../../src/storage/elasticsearch-errors.js';

/** An error answer of Elasticsearch as the client raises it. */
function responseError(statusCode: number, body: unknown): errors.ResponseError {
  return new errors.ResponseError({ statusCode, body, headers: {}, warnings: null, meta: {} } as unknown as ConstructorParameters<typeof errors.ResponseError>[0]);
}

const REASON = 'rejected execution of search on subject 2000000000001';
const connectionRefused = () => new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200');

describe('Elasticsearch failures as MLog reads them', () => {
  test('errorType is the type Elasticsearch answered, when it answered one', () => {
    assert.equal(errorType(responseError(400, { error: { type: 'resource_already_exists_exception', reason: 'index [x] already exists' } })), 'resource_already_exists_exception');
    assert.equal(errorType(responseError(502, 'Bad Gateway')), undefined);
    assert.equal(errorType(connectionRefused()), undefined);
    assert.equal(errorType(undefined), undefined);
  });

  test('describeStorageFailure names the class, status and type, never the reason (which can quote a document)', () => {
    const failure = responseError(503, { error: { type: 'search_phase_execution_exception', reason: 'all shards failed for 2000000000001' } });
    assert.equal(describeStorageFailure(failure), 'ResponseError 503 search_phase_execution_exception');
    assert.equal(describeStorageFailure(connectionRefused()), 'ConnectionError');
    assert.equal(describeStorageFailure('not an error'), 'Error');
  });

  test('one predicate of what may pass: unreachable, timed out, aborted, 429 and every 5xx', () => {
    for (const error of [
      connectionRefused(),
      new errors.NoLivingConnectionsError('no living connections', { body: undefined, statusCode: undefined, headers: {}, warnings: null, meta: {} } as never),
      new errors.TimeoutError('Request timed out'),
      new errors.RequestAbortedError('Request aborted'),
      responseError(429, { error: { type: 'es_rejected_execution_exception' } }),
      responseError(500, { error: { type: 'null_pointer_exception' } }),
      responseError(502, 'Bad Gateway'),
      responseError(503, { error: { type: 'search_phase_execution_exception' } }),
      responseError(504, 'Gateway Timeout'),
    ]) {
      assert.equal(isTransientFailure(error), true, describeStorageFailure(error));
    }
    for (const error of [responseError(400, { error: { type: 'parsing_exception' } }), responseError(404, { error: { type: 'index_not_found_exception' } }), responseError(409, {}), new TypeError('x')]) {
      assert.equal(isTransientFailure(error), false, describeStorageFailure(error));
    }
  });
});

describe('storageFailure: the one translation of a failed Elasticsearch request into an MLogError', () => {
  test('429 and every 5xx are StorageUnavailableError: 503 with Retry-After, the consequence named, the reason left out', () => {
    for (const status of [429, 500, 502, 503, 504]) {
      const mapped = storageFailure(responseError(status, { error: { type: 'es_rejected_execution_exception', reason: REASON } }), 'the query cannot be answered now');
      assert.ok(mapped instanceof StorageUnavailableError, `status ${status}`);
      assert.ok(!(mapped instanceof StorageUnreachableError), `status ${status}: Elasticsearch answered`);
      assert.equal(mapped.status, 503);
      assert.ok((mapped.retryAfterSeconds ?? 0) > 0);
      assert.equal(mapped.message, 'Elasticsearch is unavailable; the query cannot be answered now. Retry later.');
      assert.equal(mapped.detail, `ResponseError ${status} es_rejected_execution_exception`);
    }
  });

  test('no node answered: StorageUnreachableError (a StorageUnavailableError); a timeout is unavailable, not unreachable', () => {
    const unreachable = storageFailure(connectionRefused(), 'the index templates cannot be installed now');
    assert.ok(unreachable instanceof StorageUnreachableError);
    assert.equal((unreachable as StorageUnreachableError).status, 503);
    const timedOut = storageFailure(new errors.TimeoutError('Request timed out'), 'the query cannot be answered now');
    assert.ok(timedOut instanceof StorageUnavailableError);
    assert.ok(!(timedOut instanceof StorageUnreachableError));
  });

  test('any other answer is an InternalError (MLog sent what Elasticsearch refuses), described without the reason', () => {
    const mapped = storageFailure(responseError(400, { error: { type: 'search_phase_execution_exception', reason: REASON } }), 'the query cannot be answered now');
    assert.ok(mapped instanceof InternalError);
    assert.equal(mapped.message, 'Elasticsearch refused a request of MLog (ResponseError 400 search_phase_execution_exception); the query cannot be answered now.');
    assert.doesNotMatch(mapped.message, /2000000000001/);
  });

  test('an MLogError and a defect of MLog\'s own code pass unchanged', () => {
    const conflict = new ConflictError('already registered');
    assert.equal(storageFailure(conflict, 'x'), conflict);
    const defect = new TypeError('x is undefined');
    assert.equal(storageFailure(defect, 'x'), defect);
  });

  test('an item Elasticsearch refused inside a bulk or multi-search is translated like a whole request', () => {
    assert.ok(storageFailure(itemFailure(429, { type: 'es_rejected_execution_exception' }), 'x') instanceof StorageUnavailableError);
    const refused = storageFailure(itemFailure(400, { type: 'illegal_argument_exception' }), 'expired Idempotency-Keys cannot be deleted now');
    assert.ok(refused instanceof InternalError);
    assert.match(refused.message, /ResponseError 400 illegal_argument_exception/);
  });
});
