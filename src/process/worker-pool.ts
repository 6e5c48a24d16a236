/**
 * The primary process when MLog runs as several workers (MLOG_WORKERS > 1): forks the workers with
 * node:cluster (each runs startMLog and shares the public and admin listeners through cluster's
 * round-robin), replaces a worker that exits unexpectedly, gives up when workers keep dying, and on
 * stop lets every worker shut down cleanly (SIGTERM), killing one that overruns its grace. A worker
 * runs with the primary's node flags and environment (cluster's default execArgv is the primary's),
 * so the memory settings bin/mlog-server gives the primary hold in every worker.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from '../logging/logger.js';

/** How long after an unexpected exit a replacement is forked. */
const RESTART_DELAY_MS = 1_000;
/** This many unexpected exits within CRASH_WINDOW_MS stop MLog instead of forking again. */
const CRASH_LIMIT = 5;
const CRASH_WINDOW_MS = 60_000;
/** Time a stopping worker gets beyond MLOG_SHUTDOWN_GRACE_SECONDS to close storage after its calls in flight ended. */
const STOP_MARGIN_MS = 5_000;

export interface WorkerPoolOptions {
  /** MLOG_WORKERS. */
  workers: number;
  /** MLOG_SHUTDOWN_GRACE_SECONDS, in milliseconds. */
  shutdownGraceMs: number;
  logger: Logger;
}

function describe(worker: Worker): { worker: number; pid: number | undefined } {
  return { worker: worker.id, pid: worker.process.pid };
}

export class WorkerPool {
  /** Workers forked and not exited yet, and those of them that listen (their metrics can be read). */
  private readonly live = new Map<number, Worker>();
  private readonly serving = new Set<number>();
  /** Times of the unexpected exits within the last CRASH_WINDOW_MS. */
  private crashes: number[] = [];
  private readonly restarts = new Set<NodeJS.Timeout>();
  private stopping = false;
  private exitCode = 0;
  private killTimer: NodeJS.Timeout | undefined;
  private finished: ((exitCode: number) => void) | undefined;

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Forks the workers; resolves with the exit code of the primary once every worker has exited after `stop` (0: all stopped cleanly). */
  run(): Promise<number> {
    const { logger, workers } = this.options;
    const cores = availableParallelism();
    if (workers > cores) logger.warn('MLOG_WORKERS is more than the CPU cores: the workers will compete for them', { workers, cores });
    cluster.on('listening', (worker) => {
      if (this.serving.has(worker.id) || !this.live.has(worker.id)) return;
      this.serving.add(worker.id);
      logger.info('worker serving', describe(worker));
    });
    cluster.on('exit', (worker, code, signal) => this.exited(worker, code, signal));
    logger.info('starting workers', { workers, pid: process.pid });
    const done = new Promise<number>((resolve) => (this.finished = resolve));
    for (let i = 0; i < workers; i++) this.fork();
    return done;
  }

  /** A worker that cannot send its metrics yet (forked, not listening), named for a log or an answer; undefined when all serve. */
  startingWorker(): string | undefined {
    for (const [id, worker] of this.live) if (!this.serving.has(id)) return `worker ${id} (pid ${worker.process.pid})`;
    return undefined;
  }

  /**
   * Stops forking, sends SIGTERM to every worker (each stops listening, lets its calls in flight
   * finish within MLOG_SHUTDOWN_GRACE_SECONDS and closes storage) and kills those still running
   * STOP_MARGIN_MS after that grace. `run()` then resolves with `exitCode`, or 1 if a worker had to be
   * killed or failed to stop.
   */
  stop(reason: string, exitCode = 0): void {
    if (this.stopping) return;
    this.stopping = true;
    this.exitCode = exitCode;
    for (const timer of this.restarts) clearTimeout(timer);
    this.restarts.clear();
    this.options.logger.info('stopping workers', { reason, workers: this.live.size });
    for (const worker of this.live.values()) worker.process.kill('SIGTERM');
    const limitMs = this.options.shutdownGraceMs + STOP_MARGIN_MS;
    this.killTimer = setTimeout(() => {
      for (const worker of this.live.values()) {
        this.options.logger.error(`worker did not stop within ${limitMs / 1000} s; killing it`, describe(worker));
        worker.process.kill('SIGKILL');
      }
      this.exitCode = 1;
    }, limitMs);
    this.finishIfEmpty();
  }

  private fork(): void {
    const worker = cluster.fork();
    this.live.set(worker.id, worker);
    this.options.logger.info('worker started', describe(worker));
    // A failed spawn or IPC send; an exit that follows is handled by exited().
    worker.on('error', (error: Error) => this.options.logger.error('worker process error', { ...describe(worker), error: error.message }));
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    if (!this.live.delete(worker.id)) return;
    this.serving.delete(worker.id);
    const details = { ...describe(worker), code, signal };
    if (this.stopping) {
      // SIGTERM before its handler was installed (the worker was still starting) is a clean stop too.
      const clean = code === 0 || signal === 'SIGTERM';
      if (clean) this.options.logger.info('worker stopped', details);
      else {
        this.options.logger.error('worker did not stop cleanly', details);
        this.exitCode = 1;
      }
      this.finishIfEmpty();
      return;
    }
    const now = Date.now();
    this.crashes = [...this.crashes.filter((at) => at > now - CRASH_WINDOW_MS), now];
    if (this.crashes.length >= CRASH_LIMIT) {
      this.options.logger.error(`workers keep dying: ${this.crashes.length} unexpected exits within ${CRASH_WINDOW_MS / 1000} s; stopping MLog`, details);
      this.stop('workers keep dying', 1);
      return;
    }
    this.options.logger.error(`worker exited unexpectedly; starting another in ${RESTART_DELAY_MS / 1000} s`, details);
    const timer = setTimeout(() => {
      this.restarts.delete(timer);
      this.fork();
    }, RESTART_DELAY_MS);
    this.restarts.add(timer);
  }

  private finishIfEmpty(): void {
    if (!this.stopping || this.live.size > 0) return;
    clearTimeout(this.killTimer);
    this.options.logger.info('MLog stopped', { exitCode: this.exitCode });
    this.finished?.(this.exitCode);
  }
}
