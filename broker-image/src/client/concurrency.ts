// Small async helpers for the consumer: a counting semaphore and an abortable sleep.

/** FIFO counting semaphore. */
export class Semaphore {
  private readonly waiters: (() => void)[] = [];
  /** Permits it was created with. */
  readonly capacity: number;

  constructor(private permits: number) {
    if (!Number.isInteger(permits) || permits < 1)
      throw new Error(`semaphore needs ≥ 1 permit, got ${permits}`);
    this.capacity = permits;
  }

  async acquire(): Promise<void> {
    if (this.permits > 0) {
      this.permits--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.permits++;
  }

  get waiting(): number {
    return this.waiters.length;
  }
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
