import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as afterBatcherTurn, setTimeout as sleep } from 'node:timers/promises';
import { BulkBatcher, prepareCreate, splitItems, takeGroup, type BulkItemResult, type PreparedOperation } from '../../src/storage/bulk-batcher.js';
import { couldMatchQueryRecords, RefreshTracker } from '../../src/storage/elasticsearch-event-store.js';

function submission(operations: number, chars: number) {
  return { operations, body: 'x'.repeat(chars) };
}

function ops(prefix: string, count: number): PreparedOperation[] {
  return Array.from({ length: count }, (_, i) => prepareCreate('mlog-acme-2026.11', `${prefix}-${i}`, { n: i, who: prefix }));
}

/** A fake Elasticsearch: records bodies, answers each create with the status `statusOf(id)` chooses. */
function fakeBulk(statusOf: (id: string) => number = () => 201, delayMs = 0) {
  const bodies: string[] = [];
  const send = async (body: string): Promise<BulkItemResult[]> => {
    bodies.push(body);
    if (delayMs > 0) await sleep(delayMs);
    const lines = body.split('\n').filter((line) => line !== '');
    const items: BulkItemResult[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const id = (JSON.parse(lines[i] as string) as { create: { _id: string } }).create._id;
      const status = statusOf(id);
      items.push(status < 300 ? { status } : { status, error: { type: status === 400 ? 'document_parsing_exception' : 'es_rejected_execution_exception', reason: 'no' } });
    }
    return items;
  };
  return { bodies, send };
}

describe('prepareCreate', () => {
  test('serialises the action and the source once, as two NDJSON lines', () => {
    const op = prepareCreate('mlog-acme-2026.11', 'u-00000', { event_type: 'A "quoted" type', n: 1 });
    assert.equal(op.lines, '{"create":{"_index":"mlog-acme-2026.11","_id":"u-00000"}}\n{"event_type":"A \\"quoted\\" type","n":1}\n');
    const [action, source] = op.lines.split('\n');
    assert.deepEqual(JSON.parse(action as string), { create: { _index: 'mlog-acme-2026.11', _id: 'u-00000' } });
    assert.deepEqual(JSON.parse(source as string), { event_type: 'A "quoted" type', n: 1 });
  });
});

describe('takeGroup', () => {
  test('takes whole submissions in order while within the operation limit', () => {
    const queue = [submission(3, 10), submission(3, 10), submission(3, 10)];
    const group = takeGroup(queue, { maxOperations: 6, maxChars: 1_000 });
    assert.equal(group.length, 2);
    assert.equal(queue.length, 1);
  });

  test('stops at the character limit', () => {
    const queue = [submission(1, 60), submission(1, 60)];
    assert.equal(takeGroup(queue, { maxOperations: 100, maxChars: 100 }).length, 1);
    assert.equal(queue.length, 1);
  });

  test('a submission larger than the limits travels alone, never split', () => {
    const queue = [submission(5_000, 10), submission(1, 10)];
    const group = takeGroup(queue, { maxOperations: 2_000, maxChars: 1_000 });
    assert.deepEqual(group.map((s) => s.operations), [5_000]);
    assert.equal(queue.length, 1);
  });
});

describe('splitItems', () => {
  test('gives each submission its own items, in order', () => {
    const items = [201, 409, 400, 201, 429, 201].map((status) => ({ status }));
    assert.deepEqual(splitItems([2, 3, 1], items).map((part) => part.map((item) => item.status)), [[201, 409], [400, 201, 429], [201]]);
  });

  test('refuses an answer that does not hold one item per operation', () => {
    assert.throws(() => splitItems([2, 2], [{ status: 201 }]), /1 bulk items for 4 operations/);
  });
});

describe('BulkBatcher', () => {
  test('concurrent submissions share one bulk; each gets its own items', async () => {
    const es = fakeBulk((id) => (id === 'b-1' ? 400 : 201));
    const batcher = new BulkBatcher(es.send, { maxWaitMs: 5, maxOperations: 2_000, maxChars: 1e6, maxInFlight: 1 });
    const deadline = Date.now() + 10_000;
    const [a, b, c] = await Promise.all([batcher.submit(ops('a', 2), deadline).outcome, batcher.submit(ops('b', 3), deadline).outcome, batcher.submit(ops('c', 1), deadline).outcome]);
    assert.equal(es.bodies.length, 1, 'one bulk for three calls');
    assert.deepEqual(a, { ok: true, items: [{ status: 201 }, { status: 201 }] });
    assert.ok(b?.ok);
    assert.deepEqual(b.items.map((item) => item.status), [201, 400, 201], 'the refused item is in its own call only');
    assert.deepEqual(c, { ok: true, items: [{ status: 201 }] });
  });

  test('flushes at once when the operation limit is reached, without waiting', async () => {
    const es = fakeBulk();
    const batcher = new BulkBatcher(es.send, { maxWaitMs: 60_000, maxOperations: 4, maxChars: 1e6, maxInFlight: 2 });
    const outcome = await batcher.submit(ops('a', 4), Date.now() + 10_000).outcome;
    assert.ok(outcome.ok);
    assert.equal(es.bodies.length, 1);
  });

  test('with no bulk on its way, a submission leaves at once; with one on its way, the next waits for it', async () => {
    const es = fakeBulk();
    const releases: (() => void)[] = [];
    const send = async (body: string) => {
      await new Promise<void>((resolve) => releases.push(resolve));
      return es.send(body);
    };
    const batcher = new BulkBatcher(send, { maxWaitMs: 60_000, maxOperations: 2_000, maxChars: 1e6, maxInFlight: 2 });
    const deadline = Date.now() + 120_000;
    const first = batcher.submit(ops('first', 1), deadline).outcome;
    // The batcher's own setImmediate was queued first, so it has run when this one resolves (a timer could fire before it on a busy machine).
    await afterBatcherTurn();
    assert.equal(releases.length, 1, 'the first bulk left without waiting maxWaitMs');
    const second = batcher.submit(ops('second', 1), deadline).outcome;
    const third = batcher.submit(ops('third', 1), deadline).outcome;
    await sleep(20);
    assert.equal(releases.length, 1, 'while the first is on its way, the others gather');
    releases[0]?.();
    await first;
    await sleep(5);
    assert.equal(releases.length, 2, 'once it is answered, the gathered ones leave together');
    releases[1]?.();
    assert.ok((await second).ok && (await third).ok);
    assert.equal(es.bodies.length, 2);
  });

  test('maxWaitMs 0 sends on the next turn of the event loop', async () => {
    const es = fakeBulk();
    const batcher = new BulkBatcher(es.send, { maxWaitMs: 0, maxOperations: 2_000, maxChars: 1e6, maxInFlight: 1 });
    const outcome = await batcher.submit(ops('a', 1), Date.now() + 10_000).outcome;
    assert.ok(outcome.ok);
  });

  test('never more than maxInFlight bulks; what gathers meanwhile leaves together once one is answered', async () => {
    let inFlight = 0;
    let most = 0;
    const es = fakeBulk();
    const send = async (body: string) => {
      most = Math.max(most, ++inFlight);
      await sleep(20);
      inFlight--;
      return es.send(body);
    };
    const batcher = new BulkBatcher(send, { maxWaitMs: 0, maxOperations: 2_000, maxChars: 1e6, maxInFlight: 1 });
    const deadline = Date.now() + 10_000;
    const first = batcher.submit(ops('first', 1), deadline).outcome;
    await afterBatcherTurn();
    assert.equal(most, 1, 'the first bulk is on its way');
    const later = Array.from({ length: 5 }, (_, i) => batcher.submit(ops(`later${i}`, 1), deadline).outcome);
    const outcomes = await Promise.all([first, ...later]);
    assert.ok(outcomes.every((outcome) => outcome.ok));
    assert.equal(most, 1);
    assert.equal(es.bodies.length, 2, 'the five later calls share the second bulk');
  });

  test('a failed request is the answer of every submission in it', async () => {
    const failure = Object.assign(new Error('connect ECONNREFUSED'), { name: 'ConnectionError' });
    const batcher = new BulkBatcher(async () => Promise.reject(failure), { maxWaitMs: 1, maxOperations: 2_000, maxChars: 1e6, maxInFlight: 1 });
    const deadline = Date.now() + 10_000;
    const outcomes = await Promise.all([batcher.submit(ops('a', 1), deadline).outcome, batcher.submit(ops('b', 1), deadline).outcome]);
    assert.deepEqual(outcomes, [{ ok: false, error: failure }, { ok: false, error: failure }]);
  });

  test('a submission withdrawn before its bulk leaves is never sent', async () => {
    const es = fakeBulk();
    const batcher = new BulkBatcher(es.send, { maxWaitMs: 10, maxOperations: 2_000, maxChars: 1e6, maxInFlight: 1 });
    const deadline = Date.now() + 10_000;
    const withdrawn = batcher.submit(ops('gone', 1), deadline);
    const kept = batcher.submit(ops('kept', 1), deadline);
    assert.equal(withdrawn.withdraw(), true);
    assert.ok((await kept.outcome).ok);
    assert.equal(es.bodies.length, 1);
    assert.doesNotMatch(es.bodies[0] as string, /gone/);
    assert.equal(kept.withdraw(), false, 'once sent it cannot be taken back');
  });

  test('the bulk timeout is that of its most patient submission', async () => {
    const timeouts: number[] = [];
    const es = fakeBulk();
    const batcher = new BulkBatcher(async (body, timeoutMs) => {
      timeouts.push(timeoutMs);
      return es.send(body);
    }, { maxWaitMs: 1, maxOperations: 2_000, maxChars: 1e6, maxInFlight: 1 }, () => 1_000);
    await Promise.all([batcher.submit(ops('a', 1), 1_500).outcome, batcher.submit(ops('b', 1), 9_000).outcome]);
    assert.deepEqual(timeouts, [8_000]);
  });
});

describe('RefreshTracker', () => {
  test('only indices of the IS changed since their refresh are dirty; changes after the read stay dirty', () => {
    const tracker = new RefreshTracker();
    assert.deepEqual(tracker.dirty('acme').indices, []);
    tracker.touch([{ index: 'mlog-acme-2026.11' }, { index: 'personaldata-2026.11' }, { index: 'mlog-acme-test-2026.11' }]);
    const read = tracker.dirty('acme');
    assert.deepEqual(read.indices, ['mlog-acme-2026.11'], 'not personaldata, not the IS acme-test');
    tracker.touch([{ index: 'mlog-acme-2026.11' }]);
    tracker.refreshed(read.indices, read.generation);
    assert.deepEqual(tracker.dirty('acme').indices, ['mlog-acme-2026.11'], 'a change acknowledged after the refresh started stays dirty');
    const again = tracker.dirty('acme');
    tracker.refreshed(again.indices, again.generation);
    assert.deepEqual(tracker.dirty('acme').indices, []);
    assert.deepEqual(tracker.dirty('acme-test').indices, ['mlog-acme-test-2026.11']);
  });

  test('a query record makes its index dirty only for searches that could match it', () => {
    const tracker = new RefreshTracker();
    tracker.touch([{ index: 'mlog-acme-2026.11' }], 'query-record');
    assert.deepEqual(tracker.dirty('acme', false).indices, [], 'a search by UID does not wait for it');
    const read = tracker.dirty('acme', true);
    assert.deepEqual(read.indices, ['mlog-acme-2026.11']);
    tracker.touch([{ index: 'mlog-acme-2026.11' }], 'events');
    assert.deepEqual(tracker.dirty('acme', false).indices, ['mlog-acme-2026.11'], 'registered events make it dirty for every search');
    tracker.refreshed(read.indices, read.generation);
    assert.deepEqual(tracker.dirty('acme', true).indices, ['mlog-acme-2026.11'], 'the later registration stays dirty');
    const again = tracker.dirty('acme', true);
    tracker.refreshed(again.indices, again.generation);
    assert.deepEqual(tracker.dirty('acme', true).indices, []);
  });
});

describe('couldMatchQueryRecords', () => {
  const search = { isCode: 'acme', conditions: [], from: 0, size: 50, order: 'newest-first' as const };
  test('by UID: never; by range: unless the event_type filter leaves MLog.ClientQuery out', () => {
    assert.equal(couldMatchQueryRecords({ ...search, uid: 'u' }), false);
    assert.equal(couldMatchQueryRecords(search), true);
    assert.equal(couldMatchQueryRecords({ ...search, conditions: [{ field: 'event_type', values: ['MPass.Login'], match: 'exact' }] }), false);
    assert.equal(couldMatchQueryRecords({ ...search, conditions: [{ field: 'event_type', values: ['MPass.Login', 'MLog.ClientQuery'], match: 'exact' }] }), true);
    assert.equal(couldMatchQueryRecords({ ...search, conditions: [{ field: 'legal_basis', values: ['Law 1'], match: 'exact' }] }), true);
  });
});
