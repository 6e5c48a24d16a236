import { Worker, type TransferListItem } from 'node:worker_threads';
import { checkSearchPage, unpackCheckedPage, type CheckedPage, type PackedPage } from './event-check.js';
import { leafColumnsPage, type ColumnLeafChunk } from './leaf-columns.js';

const FROM_SOURCES = import.meta.url.endsWith('.ts');
/** The worker's module beside this one: .ts when run from the sources, .js when compiled. */
const WORKER_URL = new URL(FROM_SOURCES ? './event-check-worker.ts' : './event-check-worker.js', import.meta.url);

/** A worker on WORKER_URL; from the sources, it first registers tsx (a loader given by --import does not reach a worker's entry on Node 20). */
function startWorker(): Worker {
  if (!FROM_SOURCES) return new Worker(WORKER_URL);
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

/**
 * Checks search pages of events and hashes leaf chunks (event-check.ts) in `size` worker threads,
 * each job on the least busy one; with size 0, in this thread. Parsing and hashing are most of
 * `mlog verify`'s work, and pages and chunks are independent, so they spread over the cores; a
 * page's bytes are moved to the worker, not copied.
 */
export class EventCheckPool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly waiting = new Map<number, { resolve: (result: never) => void; reject: (error: Error) => void; slot: { busy: number } }>();
  private nextId = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = startWorker();
      const slot = { worker, busy: 0 };
      worker.on('message', (message: { id: number; result?: never; error?: string }) => {
        const pending = this.waiting.get(message.id);
        if (pending === undefined) return;
        this.waiting.delete(message.id);
        pending.slot.busy -= 1;
        if (message.result !== undefined) pending.resolve(message.result);
        else pending.reject(new Error(`a page of events or of leaves could not be checked: ${message.error ?? 'unknown error'}`));
      });
      worker.on('error', (error) => {
        for (const [id, pending] of this.waiting) {
          if (pending.slot !== slot) continue;
          this.waiting.delete(id);
          pending.reject(error);
        }
      });
      this.workers.push(slot);
    }
  }

  /** Checks a search page; its bytes move to the worker (the caller must not use them after). */
  check(bytes: Uint8Array): Promise<CheckedPage> {
    if (this.workers.length === 0) return Promise.resolve().then(() => checkSearchPage(bytes));
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return this.run<PackedPage>({ kind: 'page', bytes }, whole ? [bytes.buffer as ArrayBuffer] : []).then(unpackCheckedPage);
  }

  /** The leaf chunks of a search answer over leaf chunks (its raw JSON), in hit order, their leaves as hashed columns. */
  leafColumnsPage(text: string): Promise<ColumnLeafChunk[]> {
    if (this.workers.length === 0) return Promise.resolve().then(() => leafColumnsPage(text));
    return this.run({ kind: 'leafPage', text }, []);
  }

  private run<T>(job: object, transfer: TransferListItem[]): Promise<T> {
    const slot = this.workers.reduce((least, each) => (each.busy < least.busy ? each : least));
    slot.busy += 1;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (result: never) => void, reject, slot });
      slot.worker.postMessage({ id, ...job }, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((slot) => slot.worker.terminate()));
  }
}
