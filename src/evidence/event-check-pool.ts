import { Worker } from 'node:worker_threads';
import { checkSearchPage, type CheckedPage } from './event-check.js';

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
 * Checks search pages of events (event-check.ts) in `size` worker threads, each page on the least
 * busy one; with size 0, in this thread. Parsing and hashing are most of `mlog verify`'s work, and
 * pages are independent, so they spread over the cores.
 */
export class EventCheckPool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly waiting = new Map<number, { resolve: (page: CheckedPage) => void; reject: (error: Error) => void; slot: { busy: number } }>();
  private nextId = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = startWorker();
      const slot = { worker, busy: 0 };
      worker.on('message', (message: { id: number; page?: CheckedPage; error?: string }) => {
        const pending = this.waiting.get(message.id);
        if (pending === undefined) return;
        this.waiting.delete(message.id);
        pending.slot.busy -= 1;
        if (message.page !== undefined) pending.resolve(message.page);
        else pending.reject(new Error(`a page of events could not be checked: ${message.error ?? 'unknown error'}`));
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

  check(text: string): Promise<CheckedPage> {
    if (this.workers.length === 0) return Promise.resolve().then(() => checkSearchPage(text));
    const slot = this.workers.reduce((least, each) => (each.busy < least.busy ? each : least));
    slot.busy += 1;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, text });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((slot) => slot.worker.terminate()));
  }
}
