import { type Clock, systemClock } from './clock.js';
import { defaultRateLimiter, type RateLimiter } from './rate-limit.js';

export interface WorkQueueOptions {
  clock?: Clock;
  /** Used by `addRateLimited`; defaults to per-key exponential backoff plus an overall token bucket. */
  rateLimiter?: RateLimiter;
}

/**
 * A keyed work queue with client-go / controller-runtime semantics:
 * - a key waiting in the queue is stored once however often it is added (de-duplication);
 * - a key is handed to at most one worker at a time; a key added while it is being processed is
 *   queued again when that worker calls `done`;
 * - `addAfter` delays a key (the earliest pending time wins), `addRateLimited` delays it by the
 *   rate limiter (per-key exponential backoff), `forget` resets that backoff;
 * - after `shutDown` nothing new is accepted; `shutDownWithDrain` still hands out what was queued and
 *   resolves once every key handed out has been marked `done`.
 */
export class WorkQueue<K extends string = string> {
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  /** Keys ready to be handed out, in order. Every key here is also in `dirty`. */
  private readonly queue: K[] = [];
  private queueHead = 0;
  /** Keys that need processing (queued, or re-added while processing). */
  private readonly dirty = new Set<K>();
  /** Keys handed to a worker and not yet `done`. */
  private readonly processing = new Set<K>();
  /** Delayed keys and when they become ready. */
  private readonly waiting = new Map<K, number>();
  private cancelWaitTimer: (() => void) | undefined;
  private waitTimerAt = Number.POSITIVE_INFINITY;
  private readonly getters: Array<(key: K | undefined) => void> = [];
  private shuttingDown = false;
  private draining = false;
  private readonly drainWaiters: Array<() => void> = [];

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? systemClock();
    this.limiter = opts.rateLimiter ?? defaultRateLimiter(this.clock);
  }

  /** Marks `key` as needing processing now. */
  add(key: K): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Adds `key` once `delayMs` has passed. If it is already waiting with an earlier time, that time stays. */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const existing = this.waiting.get(key);
    if (existing !== undefined && existing <= readyAt) return;
    this.waiting.set(key, readyAt);
    this.armWaitTimer();
  }

  /** Adds `key` after the delay the rate limiter chooses (one more retry of `key`). */
  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    this.addAfter(key, this.limiter.when(key));
  }

  /** Resets the retry history of `key`; call after it was processed successfully. */
  forget(key: K): void {
    this.limiter.forget(key);
  }

  /** Retries of `key` since the last `forget`. */
  numRequeues(key: K): number {
    return this.limiter.retries(key);
  }

  /**
   * Waits for the next key and marks it as processing. Resolves `undefined` once the queue is shut
   * down (after a drain: once nothing is left to hand out). The caller must call `done(key)`.
   */
  get(): Promise<K | undefined> {
    const key = this.dequeue();
    if (key !== undefined) return Promise.resolve(key);
    if (this.shuttingDown && !this.mayStillRequeue()) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` as finished; if it was added meanwhile it is queued again. */
  done(key: K): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key) && (!this.shuttingDown || this.draining)) {
      this.enqueue(key);
    }
    this.checkDrained();
  }

  /** Keys ready and waiting for a worker (the queue depth). */
  len(): number {
    return this.queue.length - this.queueHead;
  }

  /** Keys delayed by `addAfter` / `addRateLimited`. */
  delayedLen(): number {
    return this.waiting.size;
  }

  /** Keys currently held by workers. */
  processingLen(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops at once: nothing new is accepted, queued and delayed keys are dropped, waiting `get`s resolve undefined. */
  shutDown(): void {
    this.draining = false;
    this.stopAccepting();
    this.queue.length = 0;
    this.queueHead = 0;
    this.dirty.clear();
    this.releaseGetters();
    this.checkDrained();
  }

  /**
   * Stops accepting new keys and drops delayed ones, but keeps handing out keys already queued; resolves
   * when none is left and every key handed out is `done`.
   */
  shutDownWithDrain(): Promise<void> {
    this.draining = true;
    this.stopAccepting();
    const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.checkDrained();
    return drained;
  }

  private stopAccepting(): void {
    this.shuttingDown = true;
    this.waiting.clear();
    this.cancelWaitTimer?.();
    this.cancelWaitTimer = undefined;
    this.waitTimerAt = Number.POSITIVE_INFINITY;
  }

  private enqueue(key: K): void {
    const getter = this.getters.shift();
    if (getter !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
      return;
    }
    this.queue.push(key);
  }

  private dequeue(): K | undefined {
    if (this.queueHead >= this.queue.length) return undefined;
    const key = this.queue[this.queueHead++];
    // Compact now and then so a long-lived queue does not grow without bound.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  /** While draining, a key still processing may be queued again by `done`, so idle workers must stay. */
  private mayStillRequeue(): boolean {
    return this.draining && this.processing.size > 0;
  }

  private releaseGetters(): void {
    if (this.len() > 0 || this.mayStillRequeue()) return;
    for (const g of this.getters.splice(0)) g(undefined);
  }

  private checkDrained(): void {
    if (!this.shuttingDown) return;
    this.releaseGetters();
    if (this.len() === 0 && this.processing.size === 0) {
      for (const w of this.drainWaiters.splice(0)) w();
    }
  }

  private armWaitTimer(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const at of this.waiting.values()) earliest = Math.min(earliest, at);
    if (earliest === this.waitTimerAt) return;
    this.cancelWaitTimer?.();
    this.cancelWaitTimer = undefined;
    this.waitTimerAt = earliest;
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.cancelWaitTimer = this.clock.setTimer(() => this.releaseDue(), earliest - this.clock.now());
  }

  private releaseDue(): void {
    this.cancelWaitTimer = undefined;
    this.waitTimerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const due = [...this.waiting].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    for (const [key] of due) {
      this.waiting.delete(key);
      this.add(key);
    }
    this.armWaitTimer();
  }
}
