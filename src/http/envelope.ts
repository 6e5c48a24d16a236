/** MLog's answer envelope: the HTTP status as a string, a plain-English message, epoch milliseconds as a string. */
export function envelope(status: number, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: String(status), message, timestamp: String(Date.now()), ...extra };
}
