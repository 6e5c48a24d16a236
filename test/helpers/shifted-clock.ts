/**
 * Preloaded (`node --import`) into an `mlog` process by a test: moves the process's clock forward by
 * MLOG_TEST_CLOCK_SHIFT_MS, so a command that judges dates against now (retention) acts as it will
 * months from now. Only `new Date()` and `Date.now()` move; dates built from a value are unchanged.
 */
const shift = Number(process.env.MLOG_TEST_CLOCK_SHIFT_MS ?? '0');
const RealDate = Date;

class ShiftedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + shift);
    else super(...(args as [string | number | Date]));
  }

  static override now(): number {
    return RealDate.now() + shift;
  }
}

globalThis.Date = ShiftedDate as DateConstructor;
