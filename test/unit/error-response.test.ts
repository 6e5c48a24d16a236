import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { InternalError, QuerySyntaxError, StorageUnavailableError, StorageUnreachableError, ValidationError } from '../../src/errors/mlog-error.js';
import { errorResponder, toMLogError } from '../../src/http/error-response.js';
import { createLogger } from '../../src/logging/logger.js';

function elasticsearchResponse(statusCode: number): Error {
  return Object.assign(new Error(`response ${statusCode}`), { name: 'ResponseError', meta: { statusCode } });
}

describe('toMLogError: the one mapping from a failure to an answer', () => {
  test('an MLogError keeps its status and message', () => {
    const mapped = toMLogError(new ValidationError('Line 2: event_type is missing.'), 'r1');
    assert.equal(mapped.status, 400);
    assert.equal(mapped.message, 'Line 2: event_type is missing.');
  });

  test('storage unavailable (storage has turned Elasticsearch\'s failure into it) is 503 with Retry-After', () => {
    for (const error of [new StorageUnavailableError('Elasticsearch is unavailable; the query cannot be answered now. Retry later.'), new StorageUnreachableError('Elasticsearch is unavailable; x. Retry later.')]) {
      const mapped = toMLogError(error, 'r2');
      assert.equal(mapped.status, 503, error.name);
      assert.equal(mapped.message, error.message);
      assert.ok((mapped.retryAfterSeconds ?? 0) > 0);
    }
  });

  test('an Elasticsearch error that reaches the mapping raw is a defect of MLog, whatever its status: 500 naming the request', () => {
    for (const status of [400, 429, 503]) {
      const mapped = toMLogError(elasticsearchResponse(status), 'request-7');
      assert.equal(mapped.status, 500, `status ${status}`);
      assert.match(mapped.message, /defect of MLog \(request request-7\)/);
    }
    assert.equal(toMLogError(Object.assign(new Error('connect ECONNREFUSED'), { name: 'ConnectionError' }), 'r8').status, 500);
  });

  test('an InternalError (storage: Elasticsearch refused what MLog sent) is answered as a defect naming the request, not with its own text', () => {
    const mapped = toMLogError(new InternalError('Elasticsearch refused a request of MLog (ResponseError 400 parsing_exception); the query cannot be answered now.'), 'request-8');
    assert.equal(mapped.status, 500);
    assert.match(mapped.message, /defect of MLog \(request request-8\)/);
    assert.doesNotMatch(mapped.message, /parsing_exception/);
  });

  test('body reader errors: too large → 413 with the limit, malformed → 400', () => {
    const tooLarge = toMLogError(Object.assign(new Error('too large'), { type: 'entity.too.large', status: 413, length: 300_000, limit: 262_144 }), 'r3');
    assert.equal(tooLarge.status, 413);
    assert.match(tooLarge.message, /300000 bytes; MLog accepts at most 262144 bytes \(256 KB\)/);
    assert.equal(toMLogError(Object.assign(new Error('bad'), { type: 'entity.parse.failed', status: 400 }), 'r4').status, 400);
    assert.equal(toMLogError(Object.assign(new Error("Failed to decode param '%E0'"), { status: 400 }), 'r5').status, 400);
    // Express's router throws a URIError for a path parameter it cannot decode: the answer says so in plain words.
    const undecodable = toMLogError(Object.assign(new URIError("Failed to decode param '%E0%A4'"), { status: 400 }), 'r6');
    assert.equal(undecodable.status, 400);
    assert.equal(undecodable.message, 'The request path part "%E0%A4" is not valid percent-encoding: "%" must be followed by two hexadecimal digits, and the bytes must be UTF-8.');
  });

  test('anything else is a 500 that names the request', () => {
    const mapped = toMLogError(new TypeError('x is undefined'), 'request-9');
    assert.equal(mapped.status, 500);
    assert.doesNotMatch(mapped.message, /x is undefined/);
  });

  test('a query error answers its column, and the closest known fields for an unknown one, in the envelope', async () => {
    const app = express();
    app.get('/syntax', () => {
      throw new QuerySyntaxError("At column 6: expected a value after 'user:'.", { column: 6, expected: ['a value'] });
    });
    app.get('/unknown', () => {
      throw new QuerySyntaxError('At column 1: there is no field "usr" here; did you mean "user"?', { column: 1, expected: [], suggestions: ['user'] });
    });
    app.use(errorResponder(createLogger('error', true)));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const syntax = await fetch(`${base}/syntax`);
      assert.equal(syntax.status, 400);
      const body = (await syntax.json()) as Record<string, unknown>;
      assert.equal(body.status, '400');
      assert.equal(body.column, 6);
      assert.equal('suggestions' in body, false);
      const unknown = (await (await fetch(`${base}/unknown`)).json()) as Record<string, unknown>;
      assert.equal(unknown.column, 1);
      assert.deepEqual(unknown.suggestions, ['user']);
    } finally {
      server.close();
    }
  });
});
