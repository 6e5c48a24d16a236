/**
 * The composition root: the one place outside src/storage that knows the Elasticsearch stores. The
 * server (src/main.ts) and every command of `mlog` (src/cli) get their services here, except
 * `mlog verify`, whose narrower composition (compose-verification.ts) is imported on its own: the
 * re-exports below load every module of MLog.
 */
export { composeMLog, withCommandLineServices, type CommandLineSettings, type ComposedMLog } from './compose-mlog.js';
export type { Services } from './create-services.js';
/** The index where MLog's own events (index deletions, activations) are recorded, named in the output of `mlog retention run`. */
export { AUDIT_INDEX } from '../storage/index-names.js';
