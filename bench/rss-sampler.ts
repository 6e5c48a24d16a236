/** Samples a process's resident set size (VmRSS in /proc/<pid>/status) every 200 ms; keeps the peak since the last reset. */
import { readFileSync } from 'node:fs';

export function readRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export class RssSampler {
  private peakBytes = 0;
  private cpuAtReset = 0;
  private resetAt = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const rss = readRssBytes(this.pid);
    if (rss !== undefined && rss > this.peakBytes) this.peakBytes = rss;
  }

  /** Starts a new peak (at the beginning of a scenario). */
  reset(): void {
    this.peakBytes = 0;
    this.cpuAtReset = readCpuSeconds(this.pid) ?? 0;
    this.resetAt = performance.now();
    this.sample();
  }

  /** CPU the process used since the last reset, as a share of one core (1 = one core busy). */
  cpuShare(): number {
    const seconds = (performance.now() - this.resetAt) / 1000;
    return seconds <= 0 ? 0 : ((readCpuSeconds(this.pid) ?? this.cpuAtReset) - this.cpuAtReset) / seconds;
  }

  /** Peak RSS in bytes since the last reset (sampling once more now). */
  peak(): number {
    this.sample();
    return this.peakBytes;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
