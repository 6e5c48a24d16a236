/** The longest wait between two attempts at one notification. */
export const MAX_RETRY_DELAY_MS = 5 * 60_000;

/**
 * How long to wait after the `failedAttempts`-th failed attempt (1 or more): exponential from
 * `firstDelayMs` (doubling each time, at most MAX_RETRY_DELAY_MS), with jitter — a random point in
 * the upper half — so notifications failing together do not retry in lockstep.
 */
export function retryDelayMs(failedAttempts: number, firstDelayMs: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(30, failedAttempts - 1));
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, firstDelayMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * When to attempt again after a failure at `now`, or undefined to give up: never after `giveUpAt`
 * (the last attempt is made at `giveUpAt` itself when the backoff would pass it).
 */
export function nextAttemptAt(now: Date, giveUpAt: Date, failedAttempts: number, firstDelayMs: number, random: () => number = Math.random): Date | undefined {
  if (now.getTime() >= giveUpAt.getTime()) return undefined;
  return new Date(Math.min(giveUpAt.getTime(), now.getTime() + retryDelayMs(failedAttempts, firstDelayMs, random)));
}
