import { StorageUnavailableError, StorageUnreachableError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import type { AuditEvent, AuditLog } from './audit-log.js';

/** What a reading of the record says, and does, when it cannot be recorded and so reads nothing. */
export interface UnrecordedReading {
  /** The message of the StorageUnavailableError thrown: names what is not read, or not shown ("so no refused call is read"). */
  refusal: string;
  /**
   * Elasticsearch not answering at all is thrown as the StorageUnreachableError it is (the command
   * line then says where it looked), not as `refusal`. Default false: every failure is `refusal`.
   */
  unreachableAsIs?: boolean;
  /** Written to MLog's log as a warning, with the failure's class name only (never its text) added to `fields`. */
  warning?: { logger: Logger; message: string; fields?: Record<string, string> };
}

/**
 * Records a reading of the record by a person in the audit (mlog_audit), its undefined members left
 * out, and resolves once it is durably stored: only then may the caller read, or show what it read.
 * When it cannot be stored, it throws StorageUnavailableError with `unrecorded.refusal` as its
 * message (503), so nothing is read or shown.
 */
export async function recordBeforeReading(audit: AuditLog, event: AuditEvent, unrecorded: UnrecordedReading): Promise<void> {
  for (const key of Object.keys(event)) if (event[key] === undefined) delete event[key];
  try {
    await audit.record(event, new Date(), { waitForSearch: false });
  } catch (error) {
    if (unrecorded.unreachableAsIs === true && error instanceof StorageUnreachableError) throw error;
    unrecorded.warning?.logger.warn(unrecorded.warning.message, { ...unrecorded.warning.fields, error: (error as Error).name });
    throw new StorageUnavailableError(unrecorded.refusal, { cause: error });
  }
}
