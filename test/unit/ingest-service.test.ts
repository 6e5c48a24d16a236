import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestService, LINES_PER_TURN } from '../../src/events/ingest-service.js';
import { createLogger } from '../../src/logging/logger.js';
import type { DocumentToWrite, EventStore } from '../../src/events/event-store-type.js';
import type { KnownSystem } from '../../src/systems/system-registry.js';

/** Keeps what it is asked to write, in memory; the order of writes is what the test reads. */
class RecordingStore implements EventStore {
  readonly written: DocumentToWrite[][] = [];
  constructor(private readonly onWrite: () => void) {}
  async writeAll(documents: DocumentToWrite[]): Promise<void> {
    this.onWrite();
    this.written.push(documents);
  }
  search(): never {
    throw new Error('not used');
  }
  fieldTypes(): never {
    throw new Error('not used');
  }
}

const caller = { system: { code: 'acme', require_signature: false }, isAllowedAddress: () => true, certificatesBySerial: new Map() } as unknown as KnownSystem;
const line = '{"event_time":"2025-06-01","event_type":"x"}';

test('a large batch is checked in slices: the event loop turns while it is parsed and validated, and its events stay whole and in order', async () => {
  let turns = 0;
  let turnsBeforeWrite = -1;
  const store = new RecordingStore(() => (turnsBeforeWrite = turns));
  const ingest = new IngestService(store, createLogger('error', true));
  let counting = true;
  const count = (): void => {
    turns++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  const events = LINES_PER_TURN * 8;
  const body = new TextEncoder().encode(`${line}\n`.repeat(events));
  const registration = await ingest.register({ caller, body, receivedAt: new Date() });
  counting = false;
  assert.equal(registration.events, events);
  assert.ok(turnsBeforeWrite >= 7, `the event loop turned ${turnsBeforeWrite} times before the batch was handed to the store; at least 7 expected (one per slice of ${LINES_PER_TURN} lines)`);
  assert.deepEqual(store.written[0]?.map((doc) => (doc.document as { '@line': number })['@line']), Array.from({ length: events }, (_, i) => i + 1));
});

test('a bad line is still the first one reported, whichever slice it is in', async () => {
  const ingest = new IngestService(new RecordingStore(() => {}), createLogger('error', true));
  const lines = Array.from({ length: LINES_PER_TURN * 3 }, () => line);
  lines[LINES_PER_TURN * 2 + 5] = '{"event_time":"2025-06-01"}';
  lines[LINES_PER_TURN * 2 + 9] = '{"broken":';
  await assert.rejects(ingest.register({ caller, body: new TextEncoder().encode(lines.join('\n')), receivedAt: new Date() }), (error: Error) => {
    assert.match(error.message, new RegExp(`^Line ${LINES_PER_TURN * 2 + 6}[: ]`), error.message);
    return true;
  });
});
