import dateMath from '@elastic/datemath';

/** Turns the date picker's expressions (now-24h, absolute ISO) into the instants the API takes. */
export function resolveRange(from: string, to: string): { from: string; to: string } | undefined {
  const start = dateMath.parse(from);
  const end = dateMath.parse(to, { roundUp: true });
  if (!start?.isValid() || !end?.isValid()) return undefined;
  return { from: start.toISOString(), to: end.toISOString() };
}

export const QUICK_RANGES = [
  { start: 'now-15m', end: 'now', label: 'Last 15 minutes' },
  { start: 'now-1h', end: 'now', label: 'Last 1 hour' },
  { start: 'now-24h', end: 'now', label: 'Last 24 hours' },
  { start: 'now-7d', end: 'now', label: 'Last 7 days' },
  { start: 'now-30d', end: 'now', label: 'Last 30 days' },
  { start: 'now-1y', end: 'now', label: 'Last 1 year' },
];
