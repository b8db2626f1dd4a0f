import { describe, expect, it } from 'vitest';
import type { MessageExt } from './message.js';
import { ProcessQueue } from './process-queue.js';

function msg(queueOffset: number, size = 10): MessageExt {
  return { queueOffset, body: Buffer.alloc(size) } as MessageExt;
}

describe('ProcessQueue', () => {
  it('commits only up to the oldest message still in flight', () => {
    const pq = new ProcessQueue();
    expect(pq.putMessages([msg(5), msg(6), msg(7)])).toBe(3);
    expect(pq.cachedCount).toBe(3);
    expect(pq.cachedSize).toBe(30);
    expect(pq.offsetSpan).toBe(2);
    expect(pq.removeMessages([msg(6)])).toBe(5);
    expect(pq.removeMessages([msg(7)])).toBe(5);
    expect(pq.removeMessages([msg(5)])).toBe(8);
    expect(pq.cachedCount).toBe(0);
    expect(pq.cachedSize).toBe(0);
    expect(pq.removeMessages([msg(5)])).toBe(-1);
  });

  it('ignores duplicates and keeps order when offsets arrive out of order', () => {
    const pq = new ProcessQueue();
    pq.putMessages([msg(10), msg(12)]);
    expect(pq.putMessages([msg(10), msg(11)])).toBe(1);
    expect(pq.removeMessages([msg(10)])).toBe(11);
    expect(pq.removeMessages([msg(11), msg(12)])).toBe(13);
  });

  it('ignores removal of messages it does not hold', () => {
    const pq = new ProcessQueue();
    pq.putMessages([msg(1)]);
    expect(pq.removeMessages([msg(99)])).toBe(1);
    pq.clear();
    expect(pq.cachedCount).toBe(0);
  });
});
