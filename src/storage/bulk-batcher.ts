/**
 * Group commit: the create operations of concurrent `writeAll` calls travel to Elasticsearch in
 * shared `_bulk` requests, so that many small registrations cost one durable bulk (one translog
 * fsync per shard) instead of one each.
 *
 * Promise of the BulkBatcher to each submission (one attempt of one call):
 * - its operations are sent exactly once, whole (a submission is never split across bulks), in one
 *   `_bulk` that may also carry other calls' operations, or not at all if it is withdrawn first;
 * - it is answered with exactly its own items, in its own order, or with the error of the whole
 *   request; what happened to another submission of the same bulk never changes its answer;
 * - when no bulk is on its way, its bulk leaves on the next turn of the event loop (with whatever
 *   else was submitted in that turn); otherwise it waits at most `maxWaitMs` (plus the time for a
 *   bulk slot to free up), and less when the gathered operations reach `maxOperations` or
 *   `maxChars` or a bulk on its way is answered;
 * - at most `maxInFlight` bulks are on their way at once. The batcher never queues anything of its
 *   own: each submission is one attempt of a call in flight, and a call has at most one submission
 *   waiting, so what it holds is bounded by the in-flight limits of calls (MLOG_MAX_IN_FLIGHT ×
 *   the largest call), plus the bodies of the bulks in flight.
 *
 * What the batcher does not decide: classification of items, retries, the call's deadline, and the
 * removal of a refused call's documents stay with the caller (`ElasticsearchEventStore.writeAll`), per
 * call. A submission whose call gives up (its deadline) is withdrawn if it was not sent yet; if it
 * was, the bulk may still apply it, exactly like a bulk whose answer MLog stopped waiting for — the
 * caller's compensation deletes (and their late-write window) cover both.
 */
import type { estypes } from '@elastic/elasticsearch';

/** One create operation, serialised once: its two NDJSON lines (action and source), each ending in "\n". */
export interface PreparedOperation {
  index: string;
  id: string;
  lines: string;
}

/** What Elasticsearch answered for one operation. */
export interface BulkItemResult {
  status: number;
  error?: estypes.ErrorCause;
}

export type BulkOutcome = { ok: true; items: BulkItemResult[] } | { ok: false; error: unknown };

/** Sends one NDJSON bulk body with a request timeout; resolves with one item per operation, in order. */
export type BulkSender = (body: string, timeoutMs: number) => Promise<BulkItemResult[]>;

export interface BulkBatcherOptions {
  /** Longest a submission waits for others to join its bulk while other bulks are on their way (when none is, it leaves on the next turn of the event loop); 0 = always on the next turn. */
  maxWaitMs: number;
  /** A bulk is sent at once when the operations gathered reach this many… */
  maxOperations: number;
  /** …or this many characters of NDJSON (about bytes for ASCII bodies). */
  maxChars: number;
  /** Bulks on their way at once; more gathered operations wait for one to be answered. */
  maxInFlight: number;
}

/**
 * Measured on a 2-CPU machine (see docs/group-commit.md): 4 bulks of up to 500 operations beat 2 of
 * up to 2,000 — one large bulk into one shard is indexed by one write thread, so a few smaller bulks
 * keep more of them busy while still sharing each fsync among many calls.
 */
export const DEFAULT_BULK_BATCHER_OPTIONS: BulkBatcherOptions = { maxWaitMs: 1, maxOperations: 500, maxChars: 5 * 1024 * 1024, maxInFlight: 4 };

/** The NDJSON lines of a create operation of `source` (serialised here, once) at index/id. */
export function prepareCreate(index: string, id: string, source: unknown): PreparedOperation {
  return { index, id, lines: `{"create":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}\n${JSON.stringify(source)}\n` };
}

/** One submission as the batcher holds it. */
export interface Submission {
  operations: number;
  body: string;
  /** Epoch ms after which its call no longer waits. */
  deadline: number;
  settle(outcome: BulkOutcome): void;
}

/**
 * Takes from the front of `queue` the submissions of the next bulk: whole submissions, in order,
 * while the bulk stays within the limits; always at least one (a submission larger than the limits
 * travels alone). Removes them from `queue`.
 */
export function takeGroup<T extends Pick<Submission, 'operations' | 'body'>>(queue: T[], limits: Pick<BulkBatcherOptions, 'maxOperations' | 'maxChars'>): T[] {
  let operations = 0;
  let chars = 0;
  let count = 0;
  for (const submission of queue) {
    if (count > 0 && (operations + submission.operations > limits.maxOperations || chars + submission.body.length > limits.maxChars)) break;
    operations += submission.operations;
    chars += submission.body.length;
    count++;
  }
  return queue.splice(0, count);
}

/**
 * Splits the items of a bulk answer back into one list per submission (`sizes` = operations of each,
 * in the order they were put in the body). Throws when the answer does not hold one item per
 * operation: then no submission can know what happened to its own.
 */
export function splitItems(sizes: number[], items: BulkItemResult[]): BulkItemResult[][] {
  const expected = sizes.reduce((sum, size) => sum + size, 0);
  if (items.length !== expected) throw new Error(`Elasticsearch answered ${items.length} bulk items for ${expected} operations`);
  const parts: BulkItemResult[][] = [];
  let start = 0;
  for (const size of sizes) {
    parts.push(items.slice(start, start + size));
    start += size;
  }
  return parts;
}

/** A submission handed to the batcher: its outcome, and a way to take it back while it has not been sent. */
export interface BatchTicket {
  outcome: Promise<BulkOutcome>;
  /** True when the operations were taken back before being sent (they will never be); false once sent. */
  withdraw(): boolean;
}

export class BulkBatcher {
  private readonly queue: Submission[] = [];
  private queuedOperations = 0;
  private queuedChars = 0;
  private inFlight = 0;
  /** The oldest waiting submission has waited long enough (or a bulk was just answered). */
  private due = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    private readonly send: BulkSender,
    private readonly options: BulkBatcherOptions = DEFAULT_BULK_BATCHER_OPTIONS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Hands one attempt of a call (its operations, already serialised) to the next bulk. Never rejects. */
  submit(operations: PreparedOperation[], deadline: number): BatchTicket {
    let settle: (outcome: BulkOutcome) => void = () => {};
    const outcome = new Promise<BulkOutcome>((resolve) => (settle = resolve));
    let body = '';
    for (const operation of operations) body += operation.lines;
    const submission: Submission = { operations: operations.length, body, deadline, settle };
    this.queue.push(submission);
    this.queuedOperations += submission.operations;
    this.queuedChars += body.length;
    this.pump();
    return {
      outcome,
      withdraw: () => {
        const at = this.queue.indexOf(submission);
        if (at < 0) return false;
        this.queue.splice(at, 1);
        this.queuedOperations -= submission.operations;
        this.queuedChars -= submission.body.length;
        if (this.queue.length === 0) this.idle();
        return true;
      },
    };
  }

  private full(): boolean {
    return this.queuedOperations >= this.options.maxOperations || this.queuedChars >= this.options.maxChars;
  }

  private idle(): void {
    this.due = false;
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight && (this.due || this.full())) {
      const group = takeGroup(this.queue, this.options);
      for (const submission of group) {
        this.queuedOperations -= submission.operations;
        this.queuedChars -= submission.body.length;
      }
      void this.dispatch(group);
    }
    if (this.queue.length === 0) this.idle();
    else if (!this.due && this.timer === undefined) {
      const expire = () => {
        this.timer = undefined;
        this.due = true;
        this.pump();
      };
      // Nothing on its way: nobody to wait for, so the gathered operations leave on the next turn of the
      // event loop (what arrived in the same turn still joins them). Bulks on their way: wait a little
      // for more, or until one is answered.
      const wait = this.inFlight === 0 ? 0 : this.options.maxWaitMs;
      this.timer = wait <= 0 ? setImmediate(expire) : setTimeout(expire, wait);
    }
  }

  private async dispatch(group: Submission[]): Promise<void> {
    this.inFlight++;
    try {
      let body = '';
      let latest = 0;
      for (const submission of group) {
        body += submission.body;
        latest = Math.max(latest, submission.deadline);
      }
      let parts: BulkItemResult[][];
      try {
        // The bulk waits as long as its most patient submission; the others stop waiting at their own deadline.
        const items = await this.send(body, Math.max(1, latest - this.clock()));
        parts = splitItems(group.map((submission) => submission.operations), items);
      } catch (error) {
        for (const submission of group) submission.settle({ ok: false, error });
        return;
      }
      group.forEach((submission, position) => submission.settle({ ok: true, items: parts[position] as BulkItemResult[] }));
    } finally {
      this.inFlight--;
      // Whatever gathered while this bulk was on its way has waited long enough.
      if (this.queue.length > 0) this.due = true;
      this.pump();
    }
  }
}
