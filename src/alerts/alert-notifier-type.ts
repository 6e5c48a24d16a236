// src/alerts/alert-notifier-type.ts
export type AlertChannel = { kind: 'webhook'; url: string; secret: string } | { kind: 'email'; to: string[] };
export interface AlertNotification {
  /** Deterministic: the same transition evaluated twice (after a restart, by a second instance) gives the same id, e.g. `${ruleId}:${group}:${sequence}:${kind}`. */
  id: string;
  kind: 'fired' | 'recovered' | 'reminder';
  rule: { id: string; name: string; type: string };
  /** '' when the rule has no group_by. */
  group: string;
  value: number | string;
  /** When the alert became active (ISO). */
  since: string;
  window: { from: string; to: string };
  /** Up to 100 triggering events. */
  events: { index: string; id: string }[];
  /** When evaluated (ISO). */
  at: string;
}
export interface AlertNotifier {
  /** Durably queues the notification for each channel (idempotent on id + channel); resolves once stored. Delivery, retries (backoff for 10 minutes), and the MLog.Alert.Notified / MLog.Alert.NotificationFailed records in mlog_audit are the notifier's. */
  enqueue(notification: AlertNotification, channels: AlertChannel[]): Promise<void>;
  /** Starts delivering (only while this instance holds the alerts lease — the engine calls start/stop as it gains/loses it), and stops. */
  start(): void;
  stop(): Promise<void>;
}
