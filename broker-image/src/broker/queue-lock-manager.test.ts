import { describe, expect, it } from 'vitest';
import { QueueLockManager } from './queue-lock-manager.js';

const q = (queueId: number, topic = 'T') => ({ topic, brokerName: 'broker-a', queueId });

describe('queue lock manager', () => {
  it('grants free queues and refuses queues another client holds', () => {
    const locks = new QueueLockManager(60_000);
    expect(locks.tryLockBatch('G', [q(0), q(1)], 'A', 1000)).toEqual([q(0), q(1)]);
    expect(locks.tryLockBatch('G', [q(1), q(2)], 'B', 2000)).toEqual([q(2)]);
    expect(locks.holder('G', q(1), 2000)).toBe('A');
    expect(locks.holder('G', q(2), 2000)).toBe('B');
  });

  it('keeps groups and topics apart', () => {
    const locks = new QueueLockManager(60_000);
    locks.tryLockBatch('G1', [q(0)], 'A', 0);
    expect(locks.tryLockBatch('G2', [q(0)], 'B', 0)).toEqual([q(0)]);
    expect(locks.tryLockBatch('G1', [q(0, 'U')], 'B', 0)).toEqual([q(0, 'U')]);
    expect(locks.tryLockBatch('G1', [{ ...q(0), brokerName: 'broker-b' }], 'B', 0)).toHaveLength(1);
  });

  it('renews the holder and lets another client in only after 60 s without renewal', () => {
    const locks = new QueueLockManager(60_000);
    locks.tryLockBatch('G', [q(0)], 'A', 0);
    expect(locks.tryLockBatch('G', [q(0)], 'B', 60_000)).toEqual([]);
    expect(locks.tryLockBatch('G', [q(0)], 'A', 50_000)).toEqual([q(0)]);
    expect(locks.tryLockBatch('G', [q(0)], 'B', 110_000)).toEqual([]);
    expect(locks.holder('G', q(0), 110_001)).toBeUndefined();
    expect(locks.tryLockBatch('G', [q(0)], 'B', 110_001)).toEqual([q(0)]);
    expect(locks.holder('G', q(0), 110_001)).toBe('B');
    // The old holder renewing now is refused: it lost the queue.
    expect(locks.tryLockBatch('G', [q(0)], 'A', 110_002)).toEqual([]);
  });

  it("unlocks only the caller's queues", () => {
    const locks = new QueueLockManager(60_000);
    locks.tryLockBatch('G', [q(0), q(1)], 'A', 0);
    expect(locks.unlockBatch('G', [q(0), q(1), q(5)], 'B')).toBe(0);
    expect(locks.holder('G', q(0), 1)).toBe('A');
    expect(locks.unlockBatch('G', [q(0)], 'A')).toBe(1);
    expect(locks.tryLockBatch('G', [q(0), q(1)], 'B', 2)).toEqual([q(0)]);
    expect(locks.unlockBatch('NoSuchGroup', [q(0)], 'A')).toBe(0);
  });

  it('ignores a queue listed twice and sweeps expired locks', () => {
    const locks = new QueueLockManager(10);
    expect(locks.tryLockBatch('G', [q(0), q(0)], 'A', 0)).toEqual([q(0)]);
    locks.sweep(5);
    expect(locks.holder('G', q(0), 5)).toBe('A');
    locks.sweep(11);
    expect(locks.holder('G', q(0), 0)).toBeUndefined();
  });
});
