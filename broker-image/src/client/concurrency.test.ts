import { describe, expect, it } from 'vitest';
import { Semaphore, sleep } from './concurrency.js';

describe('Semaphore', () => {
  it('admits at most N holders, in FIFO order', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    let active = 0;
    let peak = 0;
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        await sem.acquire();
        order.push(i);
        active++;
        peak = Math.max(peak, active);
        await sleep(5);
        active--;
        sem.release();
      }),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(() => new Semaphore(0)).toThrow(/permit/);
  });
});

describe('sleep', () => {
  it('ends early when aborted', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = sleep(60_000, ac.signal);
    ac.abort();
    await p;
    expect(Date.now() - started).toBeLessThan(30_000);
    await sleep(1, ac.signal);
  });
});
