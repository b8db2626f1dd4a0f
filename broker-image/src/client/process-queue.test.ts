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

describe('ProcessQueue, orderly', () => {
  it('takes the oldest messages, commits one past the highest taken', () => {
    const pq = new ProcessQueue();
    pq.putMessages([msg(3), msg(1), msg(2), msg(4)]);
    expect(pq.takeMessages(2).map((m) => m.queueOffset)).toEqual([1, 2]);
    expect(pq.cachedCount).toBe(4);
    expect(pq.commit()).toBe(3);
    expect(pq.cachedCount).toBe(2);
    expect(pq.cachedSize).toBe(20);
    expect(pq.commit()).toBe(-1);
  });

  it('puts failed messages back in front, in order', () => {
    const pq = new ProcessQueue();
    pq.putMessages([msg(10), msg(11), msg(12)]);
    const taken = pq.takeMessages(2);
    pq.putMessages([msg(13)]);
    pq.makeMessagesToConsumeAgain(taken);
    expect(pq.takeMessages(10).map((m) => m.queueOffset)).toEqual([10, 11, 12, 13]);
    expect(pq.commit()).toBe(14);
    expect(pq.cachedCount).toBe(0);
  });

  it('keeps a message that went to the DLQ in the consuming set so the commit covers it', () => {
    const pq = new ProcessQueue();
    pq.putMessages([msg(0), msg(1)]);
    const [dead, retried] = pq.takeMessages(2);
    expect(dead.queueOffset).toBe(0);
    pq.makeMessagesToConsumeAgain([retried]);
    expect(pq.takeMessages(1)).toEqual([retried]);
    expect(pq.commit()).toBe(2);
  });

  it('treats the lock as expired after the live time', () => {
    const pq = new ProcessQueue();
    pq.lastLockTimestamp = 1_000;
    expect(pq.isLockExpired(31_000, 30_000)).toBe(false);
    expect(pq.isLockExpired(31_001, 30_000)).toBe(true);
  });
});
