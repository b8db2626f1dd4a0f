import { type Clock, systemClock } from './clock.js';
import { isConflict, TerminalError } from './errors.js';
import { type Logger, silentLogger } from './log.js';
import type { WorkQueue } from './workqueue.js';

/** What a reconcile asks for when it succeeded: come back after this many ms (poll something unwatched). */
export interface ReconcileResult {
  requeueAfter?: number;
}

export interface ReconcileContext {
  /** Aborted when the loop stops; long waits inside a reconcile should honour it. */
  readonly signal: AbortSignal;
  /** How many times this key has been retried after errors since its last success. */
  readonly retries: number;
}

/**
 * One level-triggered pass for `key` (`namespace/name`). Throw to retry with backoff, throw
 * `TerminalError` to stop retrying, throw `ConflictError` (from a write) to retry shortly.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: lets `async () => {}` be a reconciler that never requeues.
export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | undefined | void>;

export type ReconcileOutcome = 'success' | 'requeue_after' | 'error' | 'terminal_error' | 'conflict';

/** Receives one call per finished reconcile (metrics live elsewhere; this keeps kube free of them). */
export interface ReconcileObserver {
  reconciled(controller: string, outcome: ReconcileOutcome, durationSeconds: number): void;
}

export interface ReconcileLoopOptions {
  /** Names the controller in logs and metrics, e.g. the kind it reconciles. */
  name: string;
  queue: WorkQueue;
  reconcile: Reconciler;
  /** Parallel workers; one key is still never reconciled twice at once. Default 1. */
  concurrency?: number;
  /** Delay before retrying after a ConflictError. Default 500 ms. */
  conflictRequeueMs?: number;
  observer?: ReconcileObserver;
  logger?: Logger;
  clock?: Clock;
}

/**
 * Workers that take keys from a queue and apply controller-runtime's retry policy:
 * success → forget (reset backoff); `requeueAfter` → forget, then add after that delay;
 * ConflictError → add after a short fixed delay; TerminalError → forget, no requeue;
 * any other throw → rate-limited re-add (exponential per-key backoff).
 */
export class ReconcileLoop {
  private readonly opts: ReconcileLoopOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];

  constructor(opts: ReconcileLoopOptions) {
    const concurrency = opts.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger();
    this.clock = opts.clock ?? systemClock();
  }

  /** Starts the workers; they run until `stop`. */
  start(): void {
    if (this.workers.length > 0) throw new Error(`reconcile loop ${this.opts.name} already started`);
    for (let i = 0; i < (this.opts.concurrency ?? 1); i++) this.workers.push(this.work());
  }

  /**
   * Stops taking new keys and waits for running reconciles to finish. With `drain`, keys already queued
   * are still reconciled first; without it they are dropped (what a replica losing leadership wants).
   */
  async stop(opts: { drain?: boolean } = {}): Promise<void> {
    if (opts.drain) {
      await this.opts.queue.shutDownWithDrain();
    } else {
      this.abort.abort();
      this.opts.queue.shutDown();
    }
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    const { queue } = this.opts;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.processOne(key);
      } finally {
        queue.done(key);
      }
    }
  }

  private async processOne(key: string): Promise<void> {
    const { queue, name } = this.opts;
    const started = this.clock.now();
    let outcome: ReconcileOutcome;
    try {
      const result = await this.opts.reconcile(key, {
        signal: this.abort.signal,
        retries: queue.numRequeues(key),
      });
      queue.forget(key);
      const after = result?.requeueAfter;
      if (after !== undefined && after > 0) {
        queue.addAfter(key, after);
        outcome = 'requeue_after';
      } else {
        outcome = 'success';
      }
    } catch (err) {
      if (err instanceof TerminalError) {
        queue.forget(key);
        outcome = 'terminal_error';
        this.logger.error('reconcile failed permanently', { controller: name, key, error: err });
      } else if (isConflict(err)) {
        queue.addAfter(key, this.opts.conflictRequeueMs ?? 500);
        outcome = 'conflict';
        this.logger.info('write conflict, requeueing', { controller: name, key });
      } else {
        queue.addRateLimited(key);
        outcome = 'error';
        this.logger.warn('reconcile failed, will retry', {
          controller: name,
          key,
          retries: queue.numRequeues(key),
          error: err instanceof Error ? err : String(err),
        });
      }
    }
    this.opts.observer?.reconciled(name, outcome, (this.clock.now() - started) / 1000);
  }
}
