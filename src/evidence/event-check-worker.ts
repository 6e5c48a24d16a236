/**
 * A worker thread of `mlog verify` (event-check-pool.ts): parses the raw bytes of a search page and
 * checks each event (event-check.ts), sending back only what the verifier needs, as columns; or parses a page
 * of leaf chunks and hashes each chunk's leaves, sending back the chunks with their leaves as columns,
 * buffers moved (leaf-columns.ts).
 */
import { parentPort } from 'node:worker_threads';
import { checkSearchPage, packCheckedPage } from './event-check.js';
import { columnBuffers, leafColumnsPage } from './leaf-columns.js';

type Job = { id: number; kind: 'page'; bytes: Uint8Array } | { id: number; kind: 'leafPage'; text: string };

parentPort?.on('message', (job: Job) => {
  try {
    if (job.kind === 'page') {
      const packed = packCheckedPage(checkSearchPage(job.bytes));
      const moved = [packed.flags, packed.indexOf, packed.logOf, packed.positions].map((column) => column.buffer as ArrayBuffer);
      parentPort?.postMessage({ id: job.id, result: packed }, moved);
    } else {
      const chunks = leafColumnsPage(job.text);
      parentPort?.postMessage({ id: job.id, result: chunks }, chunks.flatMap(columnBuffers));
    }
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: (error as Error).message });
  }
});
