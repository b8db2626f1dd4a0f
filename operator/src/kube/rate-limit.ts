import type { Clock } from './clock.js';

/** Decides how long a key waits before it is retried (client-go's workqueue.RateLimiter). */
export interface RateLimiter {
  /** Delay in ms for the next retry of `key`; each call counts as one retry. */
  when(key: string): number;
  /** Clears the retry history of `key` (after a success). */
  forget(key: string): void;
  /** How many times `key` was retried since the last `forget`. */
  retries(key: string): number;
}

/** Per-key exponential backoff: base·2^n, capped. */
export class ExponentialBackoffLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 50,
    private readonly maxMs = 300_000,
  ) {
    if (!(baseMs > 0) || !(maxMs >= baseMs)) {
      throw new Error(`backoff needs 0 < baseMs <= maxMs, got baseMs=${baseMs} maxMs=${maxMs}`);
    }
  }

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity for large n, which the cap absorbs.
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * Overall token bucket across all keys: `qps` tokens per second, at most `burst` saved. A retry that
 * finds the bucket empty reserves a future token and waits for it, so a storm of failures is spread out.
 */
export class TokenBucketLimiter implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Clock,
    private readonly qps = 10,
    private readonly burst = 100,
  ) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`token bucket needs qps > 0 and burst >= 1`);
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_key: string): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.qps);
  }

  forget(_key: string): void {}

  retries(_key: string): number {
    return 0;
  }
}

/** The strictest of several limiters (controller-runtime's default combines backoff and a bucket). */
export class MaxOfLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    let delay = 0;
    for (const l of this.limiters) delay = Math.max(delay, l.when(key));
    return delay;
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  retries(key: string): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.retries(key));
    return n;
  }
}

export interface DefaultRateLimiterOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  qps?: number;
  burst?: number;
}

/** Per-key backoff (50 ms doubling to 5 min) combined with a 10 qps / burst 100 bucket. */
export function defaultRateLimiter(clock: Clock, opts: DefaultRateLimiterOptions = {}): RateLimiter {
  return new MaxOfLimiter(
    new ExponentialBackoffLimiter(opts.baseDelayMs ?? 50, opts.maxDelayMs ?? 300_000),
    new TokenBucketLimiter(clock, opts.qps ?? 10, opts.burst ?? 100),
  );
}
