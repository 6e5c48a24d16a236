/** One of MLog's own events, recorded in the audit index so it outlives what it describes. */
export interface AuditEvent {
  /** MLog.Retention.IndexDeleted, MLog.System.Activated, … */
  event_type: string;
  event_message: string;
  /** Who or what acted: "scheduler on <host>", "cli by <user>", "admin-api". */
  user: string;
  [field: string]: string | number | boolean | string[] | undefined;
}

export interface RecordOptions {
  /** Resolve only once searches see the event (default true); false still waits until it is durably stored. */
  waitForSearch?: boolean;
  /** Stores the event under this id, once: recording the same id again changes nothing (an alert's firing recorded after a restart). */
  id?: string;
}

/** Where audit events go. record() resolves once the event is durably stored. */
export interface AuditLog {
  record(event: AuditEvent, at?: Date, options?: RecordOptions): Promise<void>;
  /** The audit events of a type, newest first (for reports and tests). */
  list(eventType: string, filter?: Record<string, string>, size?: number): Promise<(AuditEvent & { event_time: string })[]>;
}
