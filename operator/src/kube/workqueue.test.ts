import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { ExponentialBackoffLimiter, MaxOfLimiter, TokenBucketLimiter } from './rate-limit.js';
import { WorkQueue } from './workqueue.js';

/** Lets promise callbacks (resolved getters) run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

function newQueue(clock = new ManualClock()) {
  const queue = new WorkQueue({ clock, rateLimiter: new ExponentialBackoffLimiter(10, 1000) });
  return { clock, queue };
}

describe('WorkQueue de-duplication and ordering', () => {
  it('stores a waiting key once however often it is added, and hands keys out in order', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    queue.add('ns/c');
    queue.add('ns/b');
    expect(queue.len()).toBe(3);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(await queue.get()).toBe('ns/c');
    expect(queue.len()).toBe(0);
    expect(queue.processingLen()).toBe(3);
  });

  it('hands a key added while a worker waits straight to that worker', async () => {
    const { queue } = newQueue();
    const got = queue.get();
    queue.add('k');
    expect(await got).toBe('k');
    expect(queue.len()).toBe(0);
    expect(queue.processingLen()).toBe(1);
  });
});

describe('WorkQueue per-key exclusivity', () => {
  it('never gives a key to a second worker while the first holds it; re-queues it on done', async () => {
    const { queue } = newQueue();
    queue.add('k');
    expect(await queue.get()).toBe('k');
    queue.add('k');
    queue.add('k');
    // Dirty but not handed out: a second worker finds nothing.
    expect(queue.len()).toBe(0);
    let second: string | undefined;
    const secondGet = queue.get().then((k) => {
      second = k;
    });
    await settle();
    expect(second).toBeUndefined();
    queue.done('k');
    await secondGet;
    expect(second).toBe('k');
    // Processed once more, not twice: the two adds collapsed into one.
    queue.done('k');
    expect(queue.len()).toBe(0);
    expect(queue.processingLen()).toBe(0);
  });

  it('lets other keys through while one key is held', async () => {
    const { queue } = newQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    queue.add('b');
    expect(await queue.get()).toBe('b');
    queue.done('b');
    queue.done('a');
    expect(await queue.get()).toBe('a');
  });

  it('ignores done for a key it never handed out', () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.done('a');
    expect(queue.len()).toBe(1);
    expect(queue.processingLen()).toBe(0);
  });
});

describe('WorkQueue delays', () => {
  it('adds a key after the delay, not before', async () => {
    const { clock, queue } = newQueue();
    queue.addAfter('k', 1000);
    expect(queue.len()).toBe(0);
    expect(queue.delayedLen()).toBe(1);
    clock.advance(999);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(queue.delayedLen()).toBe(0);
    expect(await queue.get()).toBe('k');
  });

  it('keeps the earliest time when a delayed key is added again', () => {
    const { clock, queue } = newQueue();
    queue.addAfter('k', 5000);
    queue.addAfter('k', 1000);
    queue.addAfter('k', 3000);
    expect(queue.delayedLen()).toBe(1);
    clock.advance(1000);
    expect(queue.len()).toBe(1);
    clock.advance(10_000);
    expect(queue.len()).toBe(1);
  });

  it('releases several delayed keys in time order', async () => {
    const { clock, queue } = newQueue();
    queue.addAfter('late', 300);
    queue.addAfter('early', 100);
    queue.addAfter('middle', 200);
    clock.advance(150);
    expect(queue.len()).toBe(1);
    clock.advance(200);
    expect(queue.len()).toBe(3);
    expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(['early', 'middle', 'late']);
  });

  it('treats a zero or negative delay as an immediate add', () => {
    const { queue } = newQueue();
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    expect(queue.len()).toBe(2);
  });

  it('de-duplicates a delayed key that became ready while the key was already queued', () => {
    const { clock, queue } = newQueue();
    queue.add('k');
    queue.addAfter('k', 50);
    clock.advance(50);
    expect(queue.len()).toBe(1);
  });
});

describe('WorkQueue rate limiting', () => {
  it('backs off exponentially per key, caps the delay, and resets on forget', async () => {
    const { clock, queue } = newQueue();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const before = clock.now();
      queue.addRateLimited('k');
      // Step 1 ms at a time (bounded) until the key becomes ready.
      for (let step = 0; step < 5000 && queue.len() === 0; step++) clock.advance(1);
      delays.push(clock.now() - before);
      const key = await queue.get();
      queue.done(key!);
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(queue.numRequeues('k')).toBe(9);
    queue.forget('k');
    expect(queue.numRequeues('k')).toBe(0);
  });

  it('keeps separate backoff per key', () => {
    const limiter = new ExponentialBackoffLimiter(10, 1000);
    expect([limiter.when('a'), limiter.when('a'), limiter.when('a')]).toEqual([10, 20, 40]);
    expect(limiter.when('b')).toBe(10);
    limiter.forget('a');
    expect(limiter.when('a')).toBe(10);
    expect(limiter.retries('b')).toBe(1);
  });

  it('never overflows the cap however many failures pile up', () => {
    const limiter = new ExponentialBackoffLimiter(5, 60_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when('k');
    expect(last).toBe(60_000);
  });

  it('refuses nonsensical backoff settings', () => {
    expect(() => new ExponentialBackoffLimiter(0, 10)).toThrow(/baseMs/);
    expect(() => new ExponentialBackoffLimiter(100, 10)).toThrow(/baseMs/);
  });

  it('spreads retries out once the token bucket is empty and refills over time', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucketLimiter(clock, 10, 3);
    expect([bucket.when('a'), bucket.when('b'), bucket.when('c')]).toEqual([0, 0, 0]);
    expect(bucket.when('d')).toBe(100);
    expect(bucket.when('e')).toBe(200);
    clock.advance(1000);
    // 10 tokens refilled, but never more than the burst of 3 (minus the 2 reserved ahead).
    expect(bucket.when('f')).toBe(0);
  });

  it('applies the strictest of backoff and bucket', () => {
    const clock = new ManualClock();
    const limiter = new MaxOfLimiter(
      new ExponentialBackoffLimiter(10, 1000),
      new TokenBucketLimiter(clock, 1, 1),
    );
    expect(limiter.when('a')).toBe(10);
    expect(limiter.when('b')).toBe(1000);
    expect(limiter.retries('a')).toBe(1);
    limiter.forget('a');
    expect(limiter.retries('a')).toBe(0);
  });

  it('delays rate-limited adds by the bucket through the queue', () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock, rateLimiter: new TokenBucketLimiter(clock, 2, 1) });
    queue.addRateLimited('a');
    queue.addRateLimited('b');
    expect(queue.len()).toBe(1);
    clock.advance(499);
    expect(queue.len()).toBe(1);
    clock.advance(1);
    expect(queue.len()).toBe(2);
  });
});

describe('WorkQueue shutdown', () => {
  it('releases waiting workers, drops queued and delayed keys and refuses new ones', async () => {
    const { clock, queue } = newQueue();
    const waiting = queue.get();
    await settle();
    queue.shutDown();
    expect(await waiting).toBeUndefined();

    const { queue: q2, clock: c2 } = newQueue(clock);
    q2.add('queued');
    q2.addAfter('delayed', 100);
    q2.shutDown();
    expect(q2.len()).toBe(0);
    expect(q2.delayedLen()).toBe(0);
    q2.add('new');
    q2.addRateLimited('new');
    c2.advance(10_000);
    expect(q2.len()).toBe(0);
    expect(await q2.get()).toBeUndefined();
    expect(q2.isShuttingDown()).toBe(true);
  });

  it('cancels its delay timer on shutdown', () => {
    const { clock, queue } = newQueue();
    queue.addAfter('k', 100);
    expect(clock.pendingTimers()).toBe(1);
    queue.shutDown();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('drains: hands out what was queued, waits for running keys, then releases workers', async () => {
    const { queue } = newQueue();
    queue.add('running');
    expect(await queue.get()).toBe('running');
    queue.add('running'); // re-added while processing: must still be reconciled once more
    queue.add('queued');
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => {
      drained = true;
    });
    queue.add('too-late');
    expect(await queue.get()).toBe('queued');
    // An idle worker waits: 'running' may still come back.
    let idle: string | undefined | null = null;
    const idleGet = queue.get().then((k) => {
      idle = k;
    });
    await settle();
    expect(idle).toBeNull();
    queue.done('queued');
    queue.done('running');
    await idleGet;
    expect(idle).toBe('running');
    await settle();
    expect(drained).toBe(false);
    queue.done('running');
    await drain;
    expect(drained).toBe(true);
    expect(await queue.get()).toBeUndefined();
  });

  it('resolves a drain at once when nothing is queued or running', async () => {
    const { queue } = newQueue();
    await queue.shutDownWithDrain();
    expect(await queue.get()).toBeUndefined();
  });
});
