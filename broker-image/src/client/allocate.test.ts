import { describe, expect, it } from 'vitest';
import { allocateAveragely, allocateQueues } from './allocate.js';
import type { MessageQueue } from './message.js';

function queues(brokers: string[], perBroker: number, topic = 'T'): MessageQueue[] {
  return brokers.flatMap((brokerName) =>
    Array.from({ length: perBroker }, (_, queueId) => ({ topic, brokerName, queueId })),
  );
}

const ids = (mqs: MessageQueue[]) => mqs.map((q) => `${q.brokerName}:${q.queueId}`);

describe('allocateAveragely', () => {
  it('gives the first N mod C members one extra queue, in contiguous blocks', () => {
    const mqAll = queues(['broker-a'], 8);
    const cids = ['c0', 'c1', 'c2'];
    expect(ids(allocateAveragely('c0', mqAll, cids))).toEqual(['broker-a:0', 'broker-a:1', 'broker-a:2']);
    expect(ids(allocateAveragely('c1', mqAll, cids))).toEqual(['broker-a:3', 'broker-a:4', 'broker-a:5']);
    expect(ids(allocateAveragely('c2', mqAll, cids))).toEqual(['broker-a:6', 'broker-a:7']);
  });

  it('gives one queue each to the first N members when there are more members than queues', () => {
    const mqAll = queues(['b'], 2);
    const cids = ['a', 'b', 'c', 'd'];
    expect(ids(allocateAveragely('a', mqAll, cids))).toEqual(['b:0']);
    expect(ids(allocateAveragely('b', mqAll, cids))).toEqual(['b:1']);
    expect(allocateAveragely('c', mqAll, cids)).toEqual([]);
    expect(allocateAveragely('d', mqAll, cids)).toEqual([]);
  });

  it('gives nothing to a member missing from the list', () => {
    expect(allocateAveragely('x', queues(['b'], 4), ['a', 'b'])).toEqual([]);
  });

  it('partitions every queue exactly once for any group size', () => {
    for (let n = 1; n <= 40; n++) {
      for (let c = 1; c <= 12; c++) {
        const mqAll = queues(['b'], n);
        const cids = Array.from({ length: c }, (_, i) => `cid-${String(i).padStart(2, '0')}`);
        const seen = cids.flatMap((cid) => ids(allocateAveragely(cid, mqAll, cids)));
        expect(seen.sort()).toEqual(ids(mqAll).sort());
      }
    }
  });

  it('matches the Java strategy on a hand-computed 10 queues / 4 members case', () => {
    // N=10, C=4: mod=2, members 0 and 1 get 3, members 2 and 3 get 2 starting at i*2+2.
    const mqAll = queues(['b'], 10);
    const cids = ['a', 'b', 'c', 'd'];
    expect(allocateAveragely('a', mqAll, cids).map((q) => q.queueId)).toEqual([0, 1, 2]);
    expect(allocateAveragely('b', mqAll, cids).map((q) => q.queueId)).toEqual([3, 4, 5]);
    expect(allocateAveragely('c', mqAll, cids).map((q) => q.queueId)).toEqual([6, 7]);
    expect(allocateAveragely('d', mqAll, cids).map((q) => q.queueId)).toEqual([8, 9]);
  });
});

describe('allocateQueues', () => {
  it('sorts queues by topic, broker name, queue id and ids as Java strings before allocating', () => {
    const mqAll = [...queues(['broker-b'], 3), ...queues(['broker-a'], 3)].reverse();
    // Java sorts "10.0.0.10@1" before "10.0.0.9@1" (code-unit order, not numeric).
    const cids = ['10.0.0.9@1', '10.0.0.10@1'];
    expect(ids(allocateQueues('10.0.0.10@1', mqAll, cids))).toEqual([
      'broker-a:0',
      'broker-a:1',
      'broker-a:2',
    ]);
    expect(ids(allocateQueues('10.0.0.9@1', mqAll, cids))).toEqual([
      'broker-b:0',
      'broker-b:1',
      'broker-b:2',
    ]);
  });

  it('orders queue ids numerically, not as strings', () => {
    const mqAll = queues(['b'], 12).reverse();
    expect(allocateQueues('a', mqAll, ['a', 'b']).map((q) => q.queueId)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('does not mutate its inputs', () => {
    const mqAll = queues(['b'], 3).reverse();
    const cids = ['z', 'a'];
    allocateQueues('a', mqAll, cids);
    expect(mqAll.map((q) => q.queueId)).toEqual([2, 1, 0]);
    expect(cids).toEqual(['z', 'a']);
  });
});
