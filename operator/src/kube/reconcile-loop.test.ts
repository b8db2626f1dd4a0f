import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { ConflictError, TerminalError } from './errors.js';
import { ExponentialBackoffLimiter } from './rate-limit.js';
import { ReconcileLoop, type ReconcileOutcome, type Reconciler } from './reconcile-loop.js';
import { WorkQueue } from './workqueue.js';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

function setup(reconcile: Reconciler, concurrency = 1) {
  const clock = new ManualClock();
  const queue = new WorkQueue({ clock, rateLimiter: new ExponentialBackoffLimiter(100, 10_000) });
  const outcomes: ReconcileOutcome[] = [];
  const loop = new ReconcileLoop({
    name: 'Test',
    queue,
    reconcile,
    concurrency,
    clock,
    conflictRequeueMs: 50,
    observer: { reconciled: (_c, outcome) => outcomes.push(outcome) },
  });
  loop.start();
  return { clock, queue, loop, outcomes };
}

describe('ReconcileLoop retry policy', () => {
  it('retries a failing key with growing delays and resets the backoff after a success', async () => {
    const calls: Array<{ key: string; retries: number }> = [];
    let failuresLeft = 3;
    const { clock, queue, loop, outcomes } = setup(async (key, ctx) => {
      calls.push({ key, retries: ctx.retries });
      if (failuresLeft-- > 0) throw new Error('broker unreachable');
    });
    queue.add('ns/a');
    await settle();
    expect(calls.length).toBe(1);
    clock.advance(99);
    await settle();
    expect(calls.length).toBe(1);
    clock.advance(1);
    await settle();
    expect(calls.length).toBe(2);
    clock.advance(200);
    await settle();
    expect(calls.length).toBe(3);
    clock.advance(399);
    await settle();
    expect(calls.length).toBe(3);
    clock.advance(1);
    await settle();
    expect(calls.map((c) => c.retries)).toEqual([0, 1, 2, 3]);
    expect(outcomes).toEqual(['error', 'error', 'error', 'success']);
    expect(queue.numRequeues('ns/a')).toBe(0);
    clock.advance(60_000);
    await settle();
    expect(calls.length).toBe(4);
    await loop.stop();
  });

  it('requeues after the asked delay and forgets earlier failures', async () => {
    let n = 0;
    const { clock, queue, loop, outcomes } = setup(async () => {
      n++;
      if (n === 1) throw new Error('transient');
      if (n === 2) return { requeueAfter: 5000 };
      return undefined;
    });
    queue.add('k');
    await settle();
    clock.advance(100);
    await settle();
    expect(n).toBe(2);
    expect(queue.numRequeues('k')).toBe(0);
    clock.advance(4999);
    await settle();
    expect(n).toBe(2);
    clock.advance(1);
    await settle();
    expect(n).toBe(3);
    expect(outcomes).toEqual(['error', 'requeue_after', 'success']);
    await loop.stop();
  });

  it('does not retry a terminal error until the key is added again', async () => {
    let n = 0;
    const { clock, queue, loop, outcomes } = setup(async () => {
      n++;
      throw new TerminalError('spec.flushMode is invalid');
    });
    queue.add('k');
    await settle();
    clock.advance(3_600_000);
    await settle();
    expect(n).toBe(1);
    queue.add('k');
    await settle();
    expect(n).toBe(2);
    expect(outcomes).toEqual(['terminal_error', 'terminal_error']);
    await loop.stop();
  });

  it('retries a write conflict after a short fixed delay without growing the backoff', async () => {
    let n = 0;
    const { clock, queue, loop, outcomes } = setup(async () => {
      n++;
      if (n <= 3) throw new ConflictError(409, { reason: 'Conflict' }, 'update');
    });
    queue.add('k');
    for (let i = 0; i < 3; i++) {
      await settle();
      clock.advance(50);
    }
    await settle();
    expect(n).toBe(4);
    expect(outcomes).toEqual(['conflict', 'conflict', 'conflict', 'success']);
    await loop.stop();
  });

  it('treats a non-Error throw like an error', async () => {
    const { queue, loop, outcomes } = setup(async () => {
      throw 'plain string';
    });
    queue.add('k');
    await settle();
    expect(outcomes).toEqual(['error']);
    expect(queue.numRequeues('k')).toBe(1);
    await loop.stop();
  });
});

describe('ReconcileLoop concurrency', () => {
  it('runs different keys in parallel but never the same key twice at once', async () => {
    const running = new Set<string>();
    let maxParallel = 0;
    let overlapSameKey = false;
    const releases: Array<() => void> = [];
    const { queue, loop } = setup(async (key) => {
      if (running.has(key)) overlapSameKey = true;
      running.add(key);
      maxParallel = Math.max(maxParallel, running.size);
      await new Promise<void>((r) => releases.push(r));
      running.delete(key);
    }, 3);
    queue.add('a');
    queue.add('b');
    await settle();
    queue.add('a');
    queue.add('a');
    await settle();
    expect(running).toEqual(new Set(['a', 'b']));
    for (const r of releases.splice(0)) r();
    await settle();
    // 'a' comes back exactly once.
    expect([...running]).toEqual(['a']);
    for (const r of releases.splice(0)) r();
    await settle();
    expect(running.size).toBe(0);
    expect(overlapSameKey).toBe(false);
    expect(maxParallel).toBe(2);
    await loop.stop();
  });

  it('stop without drain aborts the signal, drops queued keys and waits for running ones', async () => {
    const seen: string[] = [];
    let signal: AbortSignal | undefined;
    let release = () => {};
    const { queue, loop } = setup(async (key, ctx) => {
      seen.push(key);
      signal = ctx.signal;
      await new Promise<void>((r) => {
        release = r;
      });
    });
    queue.add('a');
    queue.add('b');
    await settle();
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(signal?.aborted).toBe(true);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(seen).toEqual(['a']);
  });

  it('stop with drain reconciles what was queued first', async () => {
    const seen: string[] = [];
    const { queue, loop } = setup(async (key) => {
      seen.push(key);
    });
    queue.add('a');
    queue.add('b');
    queue.add('c');
    await loop.stop({ drain: true });
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('rejects a bad concurrency', () => {
    const queue = new WorkQueue();
    expect(() => new ReconcileLoop({ name: 'x', queue, reconcile: async () => {}, concurrency: 0 })).toThrow(
      /concurrency/,
    );
    queue.shutDown();
  });
});
