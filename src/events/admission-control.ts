/**
 * Bounded work in flight: at most `maxInFlight` calls at once in this instance, and at most
 * `maxInFlightPerSystem` of one IS, so that one noisy system cannot take every slot. Past a limit a
 * call is refused at once — never queued — so memory stays bounded under any load. Independent of
 * any transport; counters live in memory and cost one map entry per IS with calls in flight.
 * The same counting serves for bytes (the /register bodies being registered): each acquisition then
 * counts `amount` bytes instead of one call, and one acquisition is always admitted when nothing of
 * its IS is counted and the instance has room.
 */
export interface AdmissionLimits {
  maxInFlight: number;
  maxInFlightPerSystem: number;
}

export type Admission =
  /** Admitted: call `release` exactly once when the call is over (further calls do nothing). */
  | { admitted: true; release: () => void }
  /** Refused: the IS has too much in flight (`system`), or the instance does (`global`). */
  | { admitted: false; limit: 'system' | 'global' };

export interface AdmissionSnapshot {
  total: number;
  bySystem: ReadonlyMap<string, number>;
}

export class AdmissionControl {
  private total = 0;
  private readonly bySystem = new Map<string, number>();

  constructor(
    readonly limits: AdmissionLimits,
    /** Told the counts after each change (for gauges). */
    private readonly onChange: (systemCode: string, systemInFlight: number, total: number) => void = () => {},
  ) {}

  /** Admits a call of `systemCode` when both limits leave room. The per-IS limit is checked first, so a noisy IS hears 429, not 503. */
  tryAcquire(systemCode: string, amount = 1): Admission {
    const own = this.bySystem.get(systemCode) ?? 0;
    if (own > 0 && own + amount > this.limits.maxInFlightPerSystem) return { admitted: false, limit: 'system' };
    if (this.total > 0 && this.total + amount > this.limits.maxInFlight) return { admitted: false, limit: 'global' };
    this.bySystem.set(systemCode, own + amount);
    this.total += amount;
    this.onChange(systemCode, own + amount, this.total);
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.bySystem.get(systemCode) ?? amount) - amount;
        if (left <= 0) this.bySystem.delete(systemCode);
        else this.bySystem.set(systemCode, left);
        this.total -= amount;
        this.onChange(systemCode, Math.max(left, 0), this.total);
      },
    };
  }

  snapshot(): AdmissionSnapshot {
    return { total: this.total, bySystem: new Map(this.bySystem) };
  }
}
