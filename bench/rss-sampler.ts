/**
 * Samples the resident set size (VmRSS in /proc/<pid>/status) of a process and its descendants (the
 * workers, when MLog runs several) every 200 ms, summed; keeps the peak since the last reset.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** `pid` and every process below it (from /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const found = [pid];
  for (let at = 0; at < found.length; at++) {
    const parent = found[at] as number;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        for (const child of readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').split(' ')) if (child.trim() !== '') found.push(Number(child));
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return found;
}

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
    let rss = 0;
    for (const pid of processTree(this.pid)) rss += readRssBytes(pid) ?? 0;
    if (rss > this.peakBytes) this.peakBytes = rss;
  }

  /** CPU seconds of the tree's live processes (a worker that exited takes its seconds with it). */
  private cpuSeconds(): number {
    let seconds = 0;
    for (const pid of processTree(this.pid)) seconds += readCpuSeconds(pid) ?? 0;
    return seconds;
  }

  /** Starts a new peak (at the beginning of a scenario). */
  reset(): void {
    this.peakBytes = 0;
    this.cpuAtReset = this.cpuSeconds();
    this.resetAt = performance.now();
    this.sample();
  }

  /** CPU the process tree used since the last reset, as a share of one core (1 = one core busy). */
  cpuShare(): number {
    const seconds = (performance.now() - this.resetAt) / 1000;
    return seconds <= 0 ? 0 : Math.max(0, this.cpuSeconds() - this.cpuAtReset) / seconds;
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
