/** How the console writes values, durations and nested fields. */

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const minutes = seconds / 60;
  if (minutes < 60) return `${Math.floor(minutes)} min ${Math.round(seconds % 60)} s`;
  const hours = minutes / 60;
  if (hours < 48) return `${Math.floor(hours)} h ${Math.round(minutes % 60)} min`;
  return `${Math.floor(hours / 24)} d ${Math.round(hours % 24)} h`;
}

export function displayValue(value: unknown): string {
  if (value === undefined || value === null) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A nested field's value by its dotted name. */
export function fieldValue(source: Record<string, unknown>, name: string): unknown {
  if (name in source) return source[name];
  let value: unknown = source;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Every leaf of a document as dotted name → value, for the document view. */
export function flatten(source: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(source).flatMap(([name, value]) => {
    const full = prefix === '' ? name : `${prefix}.${name}`;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? flatten(value as Record<string, unknown>, full) : [[full, value] as [string, unknown]];
  });
}

/**
 * An instant as the console writes it everywhere: `2026-11-29 10:14:58.795 UTC`, or to the second
 * (`2026-11-29 10:14:58 UTC`) or minute where the page shows no finer. Text that is not an instant is
 * given back as it is; null and undefined are "—".
 */
export function formatInstant(at: string | number | Date | null | undefined, precision: 'ms' | 's' | 'min' = 'ms'): string {
  if (at === null || at === undefined) return '—';
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) return String(at);
  const iso = date.toISOString(); // 2026-11-29T10:14:58.795Z
  const end = precision === 'ms' ? 23 : precision === 's' ? 19 : 16;
  return `${iso.slice(0, 10)} ${iso.slice(11, end)} UTC`;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found',
  ECONNRESET: 'connection reset',
};

/** A delivery failure's recorded reason in words: "ECONNREFUSED" becomes "connection refused (ECONNREFUSED)"; other reasons are kept. */
export function describeFailure(reason: string): string {
  const words = REASONS[reason.trim()];
  return words === undefined ? reason : `${words} (${reason.trim()})`;
}
