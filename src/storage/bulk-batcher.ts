/**
 * Group commit: the create operations of concurrent `writeAll` calls travel to Elasticsearch in
 * shared `_bulk` requests, so that many small registrations cost one durable bulk (one translog
 * fsync per shard) instead of one each.
 *
 * Promise of the BulkBatcher to each submission (one attempt of one call):
 * - its operations are sent exactly once, in one `_bulk` that may also carry other calls' operations,
 *   or not at all if it is withdrawn first; a submission with more than `maxOperations` operations or
 *   `maxChars` characters is cut into parts within those limits, each sent whole in its own bulk, and
 *   answered as one (see `submit`);
 * - it is answered with exactly its own items, in its own order, or with the error of the whole
 *   request; what happened to another submission of the same bulk never changes its answer;
 * - when no bulk is on its way, its bulk leaves on the next turn of the event loop (with whatever
 *   else was submitted in that turn); otherwise it waits at most `maxWaitMs` (plus the time for a
 *   bulk slot to free up), and less when the gathered operations reach `maxOperations` or
 *   `maxChars` or a bulk on its way is answered;
 * - at most `maxInFlight` bulks are on their way at once. The batcher never queues anything of its
 *   own: each submission is one attempt of a call in flight, and a call has at most one submission
 *   waiting, plus the bodies of the bulks in flight;
 * - fairness between lanes (one lane per information system): each lane waits in its own queue, and a
 *   bulk is formed round-robin, one whole submission of each waiting lane in turn, starting with the
 *   lane served least recently; so a lane with thousands of operations waiting — even in one call —
 *   delays another lane's single submission by at most one bulk slot, never by its whole backlog;
 * - bounded: a lane holds at most `maxQueuedOperationsPerLane` operations and `maxQueuedCharsPerLane`
 *   characters waiting, all lanes together at most `maxQueuedChars`; a submission past a bound is
 *   refused at once (its outcome is a BatchRefusedError naming the bound, nothing is sent), except
 *   into an empty lane, so that a call larger than the bounds is still written. Every part of a
 *   submission counts.
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
  /** Operations one lane (information system) may have waiting; past it its submissions are refused. */
  maxQueuedOperationsPerLane: number;
  /** Characters of NDJSON one lane may have waiting. */
  maxQueuedCharsPerLane: number;
  /** Characters of NDJSON all lanes together may have waiting. */
  maxQueuedChars: number;
}

/**
 * Measured on a 2-CPU machine (see docs/group-commit.md): 4 bulks of up to 500 operations beat 2 of
 * up to 2,000 — one large bulk into one shard is indexed by one write thread, so a few smaller bulks
 * keep more of them busy while still sharing each fsync among many calls.
 */
export const DEFAULT_BULK_BATCHER_OPTIONS: BulkBatcherOptions = {
  maxWaitMs: 1,
  maxOperations: 500,
  maxChars: 5 * 1024 * 1024,
  maxInFlight: 4,
  maxQueuedOperationsPerLane: 20_000,
  maxQueuedCharsPerLane: 16 * 1024 * 1024,
  maxQueuedChars: 64 * 1024 * 1024,
};

/** The outcome of a submission refused at once because its lane (`lane`) or the batcher (`instance`) has too much waiting; nothing of it was sent. */
export class BatchRefusedError extends Error {
  override name = 'BatchRefusedError';
  constructor(
    readonly bound: 'lane' | 'instance',
    message: string,
  ) {
    super(message);
  }
}

/** A document already serialised by its writer: prepareCreate sends its text as it is. */
export class SerializedJson {
  constructor(readonly text: string) {}
}

/** The NDJSON lines of a create operation of `source` (serialised here, once, unless it comes as SerializedJson) at index/id. */
export function prepareCreate(index: string, id: string, source: unknown): PreparedOperation {
  const text = source instanceof SerializedJson ? source.text : JSON.stringify(source);
  return { index, id, lines: `{"create":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}\n${text}\n` };
}

/**
 * The operations of one attempt as the parts it waits in: consecutive runs of at most `maxOperations`
 * operations and `maxChars` characters each (an operation larger than `maxChars` is a part of its own);
 * one part when the attempt is within both.
 */
export function splitParts(operations: PreparedOperation[], limits: Pick<BulkBatcherOptions, 'maxOperations' | 'maxChars'>): { operations: number; body: string }[] {
  const parts: { operations: number; body: string }[] = [];
  let body = '';
  let count = 0;
  for (const operation of operations) {
    if (count > 0 && (count + 1 > limits.maxOperations || body.length + operation.lines.length > limits.maxChars)) {
      parts.push({ operations: count, body });
      body = '';
      count = 0;
    }
    body += operation.lines;
    count++;
  }
  if (count > 0 || parts.length === 0) parts.push({ operations: count, body });
  return parts;
}

/** One submission as the batcher holds it. */
export interface Submission {
  /** Whose submission it is (the information system): bulks are formed round-robin between lanes. */
  lane: string;
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
  return takeFairGroup([queue], limits);
}

/**
 * Takes the submissions of the next bulk from several queues (lanes), round-robin: the head of the
 * first queue, then the head of the second, …, then again from the first, while the bulk stays within
 * the limits; a queue whose head does not fit any more is done for this bulk. Always at least one
 * submission (the head of the first queue, even when larger than the limits). Removes them from their
 * queues; the caller decides the order of the queues (least recently served first).
 */
export function takeFairGroup<T extends Pick<Submission, 'operations' | 'body'>>(queues: T[][], limits: Pick<BulkBatcherOptions, 'maxOperations' | 'maxChars'>): T[] {
  const group: T[] = [];
  let operations = 0;
  let chars = 0;
  let open = queues.filter((queue) => queue.length > 0);
  while (open.length > 0) {
    const stillOpen: T[][] = [];
    for (const queue of open) {
      const head = queue[0] as T;
      if (group.length > 0 && (operations + head.operations > limits.maxOperations || chars + head.body.length > limits.maxChars)) continue;
      queue.shift();
      group.push(head);
      operations += head.operations;
      chars += head.body.length;
      if (queue.length > 0) stillOpen.push(queue);
    }
    open = stillOpen;
  }
  return group;
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
  /** Waiting submissions per lane. */
  private readonly lanes = new Map<string, Submission[]>();
  /** When each lane was last served (a count of submissions sent); a bulk is formed starting with the lane served least recently. */
  private readonly lastServed = new Map<string, number>();
  private served = 0;
  private readonly laneOperations = new Map<string, number>();
  private readonly laneChars = new Map<string, number>();
  private queuedOperations = 0;
  private queuedChars = 0;
  private inFlight = 0;
  /** The oldest waiting submission has waited long enough (or a bulk was just answered). */
  private due = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly options: BulkBatcherOptions;

  /** `options` left out take DEFAULT_BULK_BATCHER_OPTIONS. */
  constructor(
    private readonly send: BulkSender,
    options: Partial<BulkBatcherOptions> = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_BULK_BATCHER_OPTIONS, ...options };
  }

  /**
   * Hands one attempt of a call (its operations, already serialised) of `lane` to the bulks. Never
   * rejects; past a bound of the lane or of the batcher the outcome is a BatchRefusedError at once.
   *
   * An attempt with more than `maxOperations` operations or `maxChars` characters waits as several
   * parts (see splitParts), one after another in its lane, so that bulks of other lanes leave between
   * them. Its outcome is whole all the same: the items of every part, in order, once every part is
   * answered; or, when a part's request fails, that error — the parts not sent yet are then withdrawn
   * and never sent, and the outcome waits for the parts already on their way to be answered, so that
   * nothing of the attempt is still travelling when the caller decides (retry, or delete what the
   * other parts wrote).
   */
  submit(operations: PreparedOperation[], deadline: number, lane = ''): BatchTicket {
    let settle: (outcome: BulkOutcome) => void = () => {};
    const outcome = new Promise<BulkOutcome>((resolve) => (settle = resolve));
    const parts = splitParts(operations, this.options);
    const chars = parts.reduce((sum, part) => sum + part.body.length, 0);
    const refusal = this.refusal(lane, operations.length, chars);
    if (refusal !== undefined) {
      settle({ ok: false, error: refusal });
      return { outcome, withdraw: () => true };
    }
    const answers: (BulkItemResult[] | undefined)[] = parts.map(() => undefined);
    let unanswered = parts.length;
    let failure: { error: unknown } | undefined;
    const fail = (error: unknown): void => {
      if (failure !== undefined) return;
      failure = { error };
      // A failed (or abandoned) part fails the attempt: what has not left yet never will.
      unanswered -= this.withdraw(submissions);
    };
    const finish = (): void => {
      if (unanswered > 0) return;
      settle(failure === undefined ? { ok: true, items: answers.flatMap((items) => items ?? []) } : { ok: false, error: failure.error });
    };
    const submissions: Submission[] = parts.map((part, position) => ({
      lane,
      operations: part.operations,
      body: part.body,
      deadline,
      settle: (partOutcome) => {
        unanswered--;
        if (partOutcome.ok) answers[position] = partOutcome.items;
        else fail(partOutcome.error);
        finish();
      },
    }));
    const queue = this.lanes.get(lane);
    if (queue === undefined) this.lanes.set(lane, [...submissions]);
    else queue.push(...submissions);
    for (const submission of submissions) this.count(submission, 1);
    this.pump();
    return {
      outcome,
      withdraw: () => {
        const before = unanswered;
        fail(new Error('the attempt was withdrawn before all its parts were sent'));
        finish();
        return before === parts.length && unanswered === 0;
      },
    };
  }

  /** Takes back those of `submissions` still waiting (they will never be sent); returns how many. */
  private withdraw(submissions: Submission[]): number {
    let withdrawn = 0;
    for (const submission of submissions) {
      const queue = this.lanes.get(submission.lane);
      const at = queue === undefined ? -1 : queue.indexOf(submission);
      if (queue === undefined || at < 0) continue;
      queue.splice(at, 1);
      if (queue.length === 0) this.lanes.delete(submission.lane);
      this.count(submission, -1);
      withdrawn++;
    }
    if (this.lanes.size === 0) this.idle();
    return withdrawn;
  }

  /** Why a submission of `lane` cannot wait now, or undefined. An empty lane (an empty batcher) always takes one, so a call larger than the bounds still travels alone. */
  private refusal(lane: string, operations: number, chars: number): BatchRefusedError | undefined {
    const laneOperations = this.laneOperations.get(lane) ?? 0;
    const laneChars = this.laneChars.get(lane) ?? 0;
    const laneBusy = this.lanes.has(lane);
    if (laneBusy && (laneOperations + operations > this.options.maxQueuedOperationsPerLane || laneChars + chars > this.options.maxQueuedCharsPerLane)) {
      return new BatchRefusedError(
        'lane',
        `${laneOperations} events (${laneChars} bytes) of this system are already waiting to be written; at most ${this.options.maxQueuedOperationsPerLane} events or ${this.options.maxQueuedCharsPerLane} bytes of one system wait at once`,
      );
    }
    if (this.lanes.size > 0 && this.queuedChars + chars > this.options.maxQueuedChars) {
      return new BatchRefusedError('instance', `${this.queuedChars} bytes of events are already waiting to be written; at most ${this.options.maxQueuedChars} bytes wait at once`);
    }
    return undefined;
  }

  private count(submission: Submission, sign: 1 | -1): void {
    const operations = (this.laneOperations.get(submission.lane) ?? 0) + sign * submission.operations;
    const chars = (this.laneChars.get(submission.lane) ?? 0) + sign * submission.body.length;
    if (operations <= 0 && chars <= 0) {
      this.laneOperations.delete(submission.lane);
      this.laneChars.delete(submission.lane);
    } else {
      this.laneOperations.set(submission.lane, operations);
      this.laneChars.set(submission.lane, chars);
    }
    this.queuedOperations += sign * submission.operations;
    this.queuedChars += sign * submission.body.length;
  }

  /** The submissions of the next bulk, round-robin between lanes, the lane served least recently first. */
  private takeNext(): Submission[] {
    const order = [...this.lanes.keys()].sort((a, b) => (this.lastServed.get(a) ?? -1) - (this.lastServed.get(b) ?? -1));
    const group = takeFairGroup(
      order.map((lane) => this.lanes.get(lane) as Submission[]),
      this.options,
    );
    for (const submission of group) {
      this.count(submission, -1);
      this.lastServed.set(submission.lane, ++this.served);
      if (this.lanes.get(submission.lane)?.length === 0) this.lanes.delete(submission.lane);
    }
    // One entry per system that wrote recently; forgotten once many more have (they then count as never served).
    if (this.lastServed.size > 10_000) for (const lane of this.lastServed.keys()) if (!this.lanes.has(lane)) this.lastServed.delete(lane);
    return group;
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
    while (this.lanes.size > 0 && this.inFlight < this.options.maxInFlight && (this.due || this.full())) {
      void this.dispatch(this.takeNext());
    }
    if (this.lanes.size === 0) this.idle();
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
      if (this.lanes.size > 0) this.due = true;
      this.pump();
    }
  }
}
