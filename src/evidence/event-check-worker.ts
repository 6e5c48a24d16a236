/**
 * A worker thread of `mlog verify` (event-check-pool.ts): parses the raw text of a search page and
 * checks each event (event-check.ts), sending back only what the verifier needs.
 */
import { parentPort } from 'node:worker_threads';
import { checkSearchPage } from './event-check.js';

parentPort?.on('message', (message: { id: number; text: string }) => {
  try {
    parentPort?.postMessage({ id: message.id, page: checkSearchPage(message.text) });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: (error as Error).message });
  }
});
