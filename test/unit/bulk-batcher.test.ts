import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as afterBatcherTurn, setTimeout as sleep } from 'node:timers/promises';
import { BatchRefusedError, BulkBatcher, prepareCreate, splitItems, splitParts, takeFairGroup, takeGroup, type BulkItemResult, type PreparedOperation } from '../../src/storage/bulk-batcher.js';
import { couldMatchQueryRecords, RefreshTracker } from '../../src/storage/refresh-tracker.js';

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

describe('takeFairGroup', () => {
  test('takes one submission of each queue in turn, whole, while within the limits', () => {
    const [a1, a2, a3] = [submission(2, 10), submission(2, 10), submission(2, 10)];
    const [b1] = [submission(1, 10)];
    const [c1, c2] = [submission(1, 10), submission(1, 10)];
    const a = [a1, a2, a3];
    const b = [b1];
    const c = [c1, c2];
    const group = takeFairGroup([a, b, c], { maxOperations: 6, maxChars: 1_000 });
    assert.equal(group.length, 4);
    assert.ok(group[0] === a1 && group[1] === b1 && group[2] === c1 && group[3] === a2, 'round-robin: a, b, c, then a again; c2 would pass the limit of 6 operations');
    assert.ok(a[0] === a3 && b.length === 0 && c[0] === c2);
  });

  test('a queue whose head does not fit is skipped for this bulk; the others still join', () => {
    const big = submission(5_000, 10);
    const small = submission(1, 10);
    const group = takeFairGroup([[submission(1, 10), big], [small]], { maxOperations: 10, maxChars: 1_000 });
    assert.deepEqual(group.map((s) => s.operations), [1, 1]);
  });
});

describe('splitParts', () => {
  test('cuts an attempt into consecutive parts within the operation and character limits', () => {
    const operations = ops('a', 10);
    const parts = splitParts(operations, { maxOperations: 4, maxChars: 1e9 });
    assert.deepEqual(parts.map((part) => part.operations), [4, 4, 2]);
    assert.equal(parts.map((part) => part.body).join(''), operations.map((operation) => operation.lines).join(''), 'every operation once, in order');
    const size = (operations[0] as PreparedOperation).lines.length;
    assert.deepEqual(splitParts(operations, { maxOperations: 100, maxChars: size * 3 }).map((part) => part.operations), [3, 3, 3, 1]);
  });

  test('an attempt within the limits is one part; an operation larger than maxChars is a part of its own', () => {
    assert.equal(splitParts(ops('a', 3), { maxOperations: 3, maxChars: 1e9 }).length, 1);
    assert.deepEqual(splitParts(ops('a', 3), { maxOperations: 10, maxChars: 5 }).map((part) => part.operations), [1, 1, 1]);
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

describe('BulkBatcher fairness between systems', () => {
  test("with thousands of one system's events waiting, another system's single event leaves in the next bulk", async () => {
    const es = fakeBulk();
    const batcher = new BulkBatcher(es.send, { maxWaitMs: 0, maxOperations: 500, maxChars: 1e9, maxInFlight: 1 });
    const deadline = Date.now() + 60_000;
    // System A: nine calls of 500 events (the first leaves at once, the others wait for it); then system B's single event.
    const noisy = Array.from({ length: 9 }, (_, i) => batcher.submit(ops(`a${i}`, 500), deadline, 'a').outcome);
    const quiet = batcher.submit(ops('b', 1), deadline, 'b').outcome;
    const outcomes = await Promise.all([...noisy, quiet]);
    assert.ok(outcomes.every((outcome) => outcome.ok));
    assert.equal(es.bodies.length, 10, "each of A's calls fills a bulk");
    assert.match(es.bodies[0] as string, /"_id":"a0-0"/);
    assert.equal(es.bodies[1], ops('b', 1)[0]?.lines, "B's event is the very next bulk, not behind A's 4,000 waiting events");
    for (let i = 1; i < 9; i++) assert.match(es.bodies[i + 1] as string, new RegExp(`"_id":"a${i}-0"`), "A's calls follow, whole and in order");
  });

  test('bulks start with the system served least recently (round-robin between systems)', async () => {
    const es = fakeBulk();
    // Each bulk holds at most 2 operations; a, b and c each have three 1-operation calls waiting behind z's bulk.
    const batcher = new BulkBatcher(es.send, { maxWaitMs: 0, maxOperations: 2, maxChars: 1e9, maxInFlight: 1 });
    const deadline = Date.now() + 60_000;
    const outcomes = [batcher.submit(ops('z0', 2), deadline, 'z').outcome];
    for (const lane of ['a', 'b', 'c']) for (let i = 0; i < 3; i++) outcomes.push(batcher.submit(ops(`${lane}${i}`, 1), deadline, lane).outcome);
    await Promise.all(outcomes);
    const lanes = es.bodies.slice(1).map((body) => [...body.matchAll(/"_id":"([a-z])\d-0"/g)].map((match) => match[1]).join(''));
    assert.deepEqual(lanes, ['ab', 'ca', 'bc', 'ab', 'c']);
  });

  test("past a system's bound of waiting events or bytes its submission is refused at once; other systems are not", async () => {
    const es = fakeBulk();
    const releases: (() => void)[] = [];
    const send = async (body: string) => {
      await new Promise<void>((resolve) => releases.push(resolve));
      return es.send(body);
    };
    const batcher = new BulkBatcher(send, { maxWaitMs: 0, maxOperations: 500, maxChars: 1e9, maxInFlight: 1, maxQueuedOperationsPerLane: 10, maxQueuedCharsPerLane: 1e9, maxQueuedChars: 1e9 });
    const deadline = Date.now() + 60_000;
    const onItsWay = batcher.submit(ops('x', 1), deadline, 'a').outcome;
    await afterBatcherTurn();
    const waiting = batcher.submit(ops('a', 8), deadline, 'a');
    const refused = batcher.submit(ops('a-more', 3), deadline, 'a');
    const other = batcher.submit(ops('b', 8), deadline, 'b');
    const outcome = await refused.outcome;
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && outcome.error instanceof BatchRefusedError && outcome.error.bound === 'lane');
    assert.match((outcome as { error: Error }).error.message, /8 events .* at most 10 events/);
    releases[0]?.();
    await onItsWay;
    await afterBatcherTurn();
    releases[1]?.();
    assert.ok((await waiting.outcome).ok && (await other.outcome).ok, 'what was admitted is written; the other system was never refused');
    assert.doesNotMatch(es.bodies.join(''), /a-more/, 'nothing of the refused submission was sent');
  });

  test('an empty lane always takes a submission, even one larger than the bounds; the instance bound refuses with "instance"', async () => {
    const es = fakeBulk();
    const releases: (() => void)[] = [];
    const send = async (body: string) => {
      await new Promise<void>((resolve) => releases.push(resolve));
      return es.send(body);
    };
    const batcher = new BulkBatcher(send, { maxWaitMs: 0, maxOperations: 500, maxChars: 1e9, maxInFlight: 1, maxQueuedOperationsPerLane: 2, maxQueuedCharsPerLane: 1e9, maxQueuedChars: 400 });
    const deadline = Date.now() + 60_000;
    const onItsWay = batcher.submit(ops('x', 1), deadline, 'x').outcome;
    await afterBatcherTurn();
    const large = batcher.submit(ops('a', 5), deadline, 'a');
    const overInstance = batcher.submit(ops('b', 1), deadline, 'b');
    const outcome = await overInstance.outcome;
    assert.ok(!outcome.ok && outcome.error instanceof BatchRefusedError && outcome.error.bound === 'instance');
    releases[0]?.();
    await onItsWay;
    await afterBatcherTurn();
    releases[1]?.();
    assert.ok((await large.outcome).ok);
  });
});

describe('BulkBatcher: a call larger than a bulk', () => {
  /** The ids of each bulk body, joined by commas. */
  const idsOf = (body: string) => [...body.matchAll(/"_id":"([^"]+)"/g)].map((match) => match[1]).join(',');

  test("travels in several bulks, with another system's submission between its parts, and is answered whole, in order", async () => {
    const es = fakeBulk((id) => (id === 'a-5' ? 409 : 201));
    const batcher = new BulkBatcher(es.send, { maxWaitMs: 0, maxOperations: 4, maxChars: 1e9, maxInFlight: 1 });
    const deadline = Date.now() + 60_000;
    const large = batcher.submit(ops('a', 10), deadline, 'a').outcome;
    const single = batcher.submit(ops('b', 1), deadline, 'b').outcome;
    const [outcome, other] = await Promise.all([large, single]);
    assert.deepEqual(es.bodies.map(idsOf), ['a-0,a-1,a-2,a-3', 'b-0', 'a-4,a-5,a-6,a-7', 'a-8,a-9'], "B's event leaves right after the first part of A's call, not after the whole call");
    assert.ok(outcome.ok && other.ok);
    assert.deepEqual(outcome.items.map((item) => item.status), [201, 201, 201, 201, 201, 409, 201, 201, 201, 201], "every part's items, in the call's order");
  });

  test('a part whose request fails fails the whole call: its parts not sent yet never are, and the answer waits for the parts on their way', async () => {
    const bodies: string[] = [];
    const releases = new Map<string, () => void>();
    const send = async (body: string): Promise<BulkItemResult[]> => {
      bodies.push(body);
      const first = idsOf(body).split(',')[0] as string;
      await new Promise<void>((resolve) => releases.set(first, resolve));
      if (first === 'a-3') throw new Error('the request of the second part failed');
      return idsOf(body).split(',').map(() => ({ status: 201 }));
    };
    const batcher = new BulkBatcher(send, { maxWaitMs: 0, maxOperations: 3, maxChars: 1e9, maxInFlight: 2 });
    let settled = false;
    const outcome = batcher.submit(ops('a', 9), Date.now() + 60_000, 'a').outcome.then((result) => {
      settled = true;
      return result;
    });
    await afterBatcherTurn();
    assert.deepEqual(bodies.map(idsOf), ['a-0,a-1,a-2', 'a-3,a-4,a-5'], 'two parts on their way, the third waiting');
    releases.get('a-3')?.();
    await sleep(5);
    assert.equal(settled, false, 'the first part is still on its way: the call is not answered yet');
    releases.get('a-0')?.();
    const result = await outcome;
    assert.ok(!result.ok && (result.error as Error).message === 'the request of the second part failed');
    await sleep(5);
    assert.deepEqual(bodies.map(idsOf), ['a-0,a-1,a-2', 'a-3,a-4,a-5'], 'the third part was withdrawn, never sent');
  });

  test('withdrawn at its deadline after its first part left: the other parts are never sent', async () => {
    const es = fakeBulk(() => 201, 20);
    const batcher = new BulkBatcher(es.send, { maxWaitMs: 0, maxOperations: 2, maxChars: 1e9, maxInFlight: 1 });
    const ticket = batcher.submit(ops('a', 6), Date.now() + 60_000, 'a');
    await afterBatcherTurn();
    assert.equal(ticket.withdraw(), false, 'a part was already sent');
    const outcome = await ticket.outcome;
    assert.equal(outcome.ok, false);
    await sleep(30);
    assert.deepEqual(es.bodies.map(idsOf), ['a-0,a-1']);
  });

  test('the bounds of a lane count every part of a call', async () => {
    const es = fakeBulk();
    const releases: (() => void)[] = [];
    const send = async (body: string) => {
      await new Promise<void>((resolve) => releases.push(resolve));
      return es.send(body);
    };
    const batcher = new BulkBatcher(send, { maxWaitMs: 0, maxOperations: 2, maxChars: 1e9, maxInFlight: 1, maxQueuedOperationsPerLane: 10, maxQueuedCharsPerLane: 1e9, maxQueuedChars: 1e9 });
    const deadline = Date.now() + 60_000;
    const first = batcher.submit(ops('a', 9), deadline, 'a');
    await afterBatcherTurn();
    const refused = await batcher.submit(ops('a-more', 4), deadline, 'a').outcome;
    assert.ok(!refused.ok && refused.error instanceof BatchRefusedError && refused.error.bound === 'lane');
    assert.match((refused.error as Error).message, /^7 events /, 'the 7 operations of the parts still waiting');
    for (let i = 0; i < 5; i++) {
      releases[i]?.();
      await afterBatcherTurn();
      await afterBatcherTurn();
    }
    assert.ok((await first.outcome).ok);
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
