/**
 * The recorder of refused calls must never turn a 4xx into a 5xx nor slow the refusal: record() only
 * queues and never throws, whatever the store does; the queue is bounded and counts what it drops.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import winston from 'winston';
import { RejectionRecorder, type Rejection, type RejectionStore, type RejectionWriteOutcome } from '../../src/rejections/rejection-recorder.js';

function rejection(n: number): Rejection {
  return { at: new Date(), status: 400, reason: `refused ${n}`, sourceAddress: '127.0.0.1', method: 'POST', path: '/register', requestId: `r-${n}`, body: 'x'.repeat(100) };
}

/** A logger whose lines are kept in `lines`. */
function capturingLogger(): { logger: winston.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    objectMode: true,
    write(chunk: Record<string, unknown>, _encoding, done) {
      lines.push(chunk);
      done();
    },
  });
  return { logger: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }), lines };
}

/** A store that records what it is given, and fails or hangs as told. */
class FakeStore implements RejectionStore {
  calls: Rejection[][] = [];
  mode: 'ok' | 'reject' | 'throw' | 'hang' = 'ok';
  private releases: (() => void)[] = [];

  writeRejections(rejections: Rejection[]): Promise<RejectionWriteOutcome> {
    this.calls.push(rejections);
    switch (this.mode) {
      case 'throw':
        throw new Error('the store fails synchronously');
      case 'reject':
        return Promise.reject(new Error('Elasticsearch is down'));
      case 'hang':
        return new Promise((resolve) => this.releases.push(() => resolve({ reduced: 0, lost: 0 })));
      default:
        return Promise.resolve({ reduced: 0, lost: 0 });
    }
  }

  release(): void {
    for (const release of this.releases.splice(0)) release();
  }

  get written(): number {
    return this.calls.reduce((sum, batch) => sum + batch.length, 0);
  }
}

/** Fails the test on an unhandled rejection while `body` runs (Node would otherwise crash the process). */
async function withoutUnhandledRejections(body: () => Promise<void>): Promise<void> {
  const unhandled: unknown[] = [];
  const listener = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body();
    await nextTurn();
    await nextTurn();
  } finally {
    process.off('unhandledRejection', listener);
  }
  assert.deepEqual(unhandled, [], 'no unhandled promise rejection');
}

describe('RejectionRecorder', () => {
  test('record() queues and returns at once; flush() writes the queue in one batch', async () => {
    const store = new FakeStore();
    const recorder = new RejectionRecorder(store, capturingLogger().logger);
    assert.equal(recorder.record(rejection(1)), undefined);
    recorder.record(rejection(2));
    assert.equal(store.calls.length, 0, 'nothing is written while the refusal is being answered');
    await recorder.flush();
    assert.deepEqual(
      store.calls.map((batch) => batch.map((item) => item.requestId)),
      [['r-1', 'r-2']],
    );
  });

  test('a store that rejects: record() never throws, flush() resolves and logs a warning', async () => {
    const store = new FakeStore();
    store.mode = 'reject';
    const { logger, lines } = capturingLogger();
    const recorder = new RejectionRecorder(store, logger);
    await withoutUnhandledRejections(async () => {
      for (let n = 0; n < 1_200; n++) assert.doesNotThrow(() => recorder.record(rejection(n)));
      await recorder.flush();
    });
    assert.ok(store.written >= 1_200, 'every queued rejection was offered to the store');
    assert.ok(lines.some((line) => line.level === 'warn' && line.message === 'rejections could not be recorded'));
  });

  test('a store that throws synchronously: record() never throws and no promise rejection escapes', async () => {
    const store = new FakeStore();
    store.mode = 'throw';
    const recorder = new RejectionRecorder(store, capturingLogger().logger);
    await withoutUnhandledRejections(async () => {
      // Past the batch size, record() itself starts a write: the synchronous throw must not escape it.
      for (let n = 0; n < 1_200; n++) assert.doesNotThrow(() => recorder.record(rejection(n)));
      await recorder.flush();
    });
    assert.ok(store.calls.length >= 1);
  });

  test('a store that never answers: record() stays fast, the queue is bounded, drops are counted and logged', async () => {
    const store = new FakeStore();
    store.mode = 'hang';
    const { logger, lines } = capturingLogger();
    const recorder = new RejectionRecorder(store, logger, { maxQueued: 1_000, flushAt: 100 });
    await withoutUnhandledRejections(async () => {
      const started = process.hrtime.bigint();
      for (let n = 0; n < 5_000; n++) recorder.record(rejection(n));
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      assert.ok(ms < 1_000, `5,000 record() calls took ${ms.toFixed(0)} ms`);
      await nextTurn();
      // One write is in flight (hanging); at most maxQueued more wait; the rest were dropped and counted.
      assert.equal(store.calls.length, 1, 'one write at a time');
      const inFlight = store.written;
      assert.ok(inFlight >= 100 && inFlight <= 1_000, `the first batch holds ${inFlight}`);
      assert.equal(recorder.dropped, 5_000 - inFlight - 1_000);
      store.release();
      await nextTurn();
      store.mode = 'ok';
      store.release();
      await recorder.flush();
      store.release();
      await recorder.flush();
    });
    assert.equal(store.written + recorder.dropped, 5_000, 'each rejection was either written or counted as dropped');
    assert.ok(
      lines.some((line) => line.level === 'warn' && typeof line.dropped === 'number' && (line.dropped as number) > 0),
      'the drops are reported in the log',
    );
  });

  test('after a failed write the recorder keeps working', async () => {
    const store = new FakeStore();
    store.mode = 'reject';
    const recorder = new RejectionRecorder(store, capturingLogger().logger);
    recorder.record(rejection(1));
    await recorder.flush();
    store.mode = 'ok';
    recorder.record(rejection(2));
    await recorder.flush();
    assert.deepEqual(
      store.calls.map((batch) => batch.map((item) => item.requestId)),
      [['r-1'], ['r-2']],
    );
  });

  test('the timer writes what is queued about once a second, without a flush() call', async () => {
    const store = new FakeStore();
    const recorder = new RejectionRecorder(store, capturingLogger().logger, { flushEveryMs: 20 });
    recorder.record(rejection(1));
    for (let waited = 0; store.calls.length === 0 && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(store.written, 1);
  });

  test('flush() waits for a write in flight, so a stopping MLog loses nothing it queued', async () => {
    const store = new FakeStore();
    store.mode = 'hang';
    const recorder = new RejectionRecorder(store, capturingLogger().logger, { flushAt: 2 });
    recorder.record(rejection(1));
    recorder.record(rejection(2));
    await nextTurn();
    recorder.record(rejection(3));
    let flushed = false;
    const flushing = recorder.flush().then(() => {
      flushed = true;
    });
    await nextTurn();
    assert.equal(flushed, false, 'flush() does not resolve while a write is in flight');
    store.mode = 'ok';
    store.release();
    await flushing;
    assert.equal(store.written, 3);
  });
});
