/**
 * A worker thread of `mlog verify` (event-check-pool.ts): parses the raw bytes of a search page and
 * checks each event (event-check.ts), sending back only what the verifier needs, as columns; or parses a page
 * of leaf chunks and hashes each chunk's leaves, sending back their hashes as buffers.
 */
import { parentPort } from 'node:worker_threads';
import { checkSearchPage, hashLeafPage, packCheckedPage } from './event-check.js';

type Job = { id: number; kind: 'page'; bytes: Uint8Array } | { id: number; kind: 'leafPage'; text: string };

parentPort?.on('message', (job: Job) => {
  try {
    if (job.kind === 'page') {
      const packed = packCheckedPage(checkSearchPage(job.bytes));
      const moved = [packed.flags, packed.indexOf, packed.logOf, packed.positions].map((column) => column.buffer as ArrayBuffer);
      parentPort?.postMessage({ id: job.id, result: packed }, moved);
    } else {
      const hashed = hashLeafPage(job.text);
      parentPort?.postMessage({ id: job.id, result: hashed }, hashed.map((each) => each.hashes.buffer as ArrayBuffer));
    }
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: (error as Error).message });
  }
});
