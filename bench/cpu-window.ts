/**
 * CPU over a load's measured window: MLog's (every process of its tree, from /proc/<pid>/stat) and the
 * load generator's own (this process: process.cpuUsage, and how busy its event loop was). MLog's CPU
 * per call does not depend on what else the machine is doing; the generator's share shows when a
 * result is bound by the client rather than by MLog.
 */
import { availableParallelism } from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { processTree, readCpuSeconds } from './rss-sampler.js';

/** A generator whose event loop was busy this share of the window or more could not send faster: its result is client-bound. */
export const CLIENT_BOUND_LOOP_SHARE = 0.9;

export interface CpuFigures {
  wallSeconds: number;
  /** CPU seconds (user + system) of the measured process tree (MLog and its workers); undefined when none was measured. */
  serverSeconds?: number;
  /** CPU seconds of the load generator (this process, all its threads). */
  generatorSeconds: number;
  /** The generator's CPU as a share of the machine: CPU seconds ÷ wall seconds ÷ cores. */
  generatorShare: number;
  /** Share of the window the generator's event loop was busy (0–1). */
  generatorLoop: number;
  /** True when the generator's event loop was busy ≥ CLIENT_BOUND_LOOP_SHARE of the window. */
  clientBound: boolean;
}

/** Marks the start and end of a measured window (LoadOptions.onWindow) and gives the CPU figures of that window. */
export class CpuWindow {
  private startedAt = 0;
  private endedAt = 0;
  private serverAtStart = 0;
  private serverAtEnd = 0;
  private generatorAtStart: NodeJS.CpuUsage = { user: 0, system: 0 };
  private generatorUsed: NodeJS.CpuUsage = { user: 0, system: 0 };
  private loopAtStart: EventLoopUtilization | undefined;
  private loop: EventLoopUtilization | undefined;

  /** `pid`: the root of the server's process tree, or undefined when only the generator is measured (Elasticsearch-only rows). */
  constructor(private readonly pid?: number) {}

  private serverSeconds(): number {
    if (this.pid === undefined) return 0;
    let seconds = 0;
    for (const pid of processTree(this.pid)) seconds += readCpuSeconds(pid) ?? 0;
    return seconds;
  }

  readonly edge = (edge: 'start' | 'end'): void => {
    if (edge === 'start') {
      this.startedAt = performance.now();
      this.serverAtStart = this.serverSeconds();
      this.generatorAtStart = process.cpuUsage();
      this.loopAtStart = performance.eventLoopUtilization();
    } else {
      this.endedAt = performance.now();
      this.serverAtEnd = this.serverSeconds();
      this.generatorUsed = process.cpuUsage(this.generatorAtStart);
      this.loop = performance.eventLoopUtilization(this.loopAtStart);
    }
  };

  figures(): CpuFigures {
    const wallSeconds = Math.max(1e-9, (this.endedAt - this.startedAt) / 1000);
    const generatorSeconds = (this.generatorUsed.user + this.generatorUsed.system) / 1e6;
    const generatorLoop = this.loop?.utilization ?? 0;
    return {
      wallSeconds,
      ...(this.pid === undefined ? {} : { serverSeconds: Math.max(0, this.serverAtEnd - this.serverAtStart) }),
      generatorSeconds,
      generatorShare: generatorSeconds / wallSeconds / availableParallelism(),
      generatorLoop,
      clientBound: generatorLoop >= CLIENT_BOUND_LOOP_SHARE,
    };
  }
}
