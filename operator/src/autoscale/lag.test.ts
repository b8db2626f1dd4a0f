import { describe, expect, it } from 'vitest';
import { lagTopics, type QueueProgress, retryTopicOf, summarizeLag } from './lag.js';

const row = (topic: string, brokerName: string, queueId: number, broker: number, consumer: number) =>
  ({ topic, brokerName, queueId, brokerOffset: broker, consumerOffset: consumer }) satisfies QueueProgress;

describe('lagTopics', () => {
  it('is the subscriptions, then the retry topic, each once', () => {
    expect(lagTopics('g', ['a', 'b', 'a'])).toEqual(['a', 'b', '%RETRY%g']);
    expect(lagTopics('g', ['%RETRY%g', 'a'])).toEqual(['a', '%RETRY%g']);
    expect(retryTopicOf('billing')).toBe('%RETRY%billing');
  });
});

describe('summarizeLag', () => {
  it('sums per topic and over the retry topic; queues across masters and per master', () => {
    const rows = [
      row('orders', 'broker-a', 0, 100, 40),
      row('orders', 'broker-a', 1, 50, 50),
      row('orders', 'broker-b', 0, 10, 0),
      row('orders', 'broker-b', 1, 10, 5),
      row('orders', 'broker-b', 2, 0, 0),
      row('audit', 'broker-a', 0, 7, 0),
      row('%RETRY%g', 'broker-a', 0, 3, 1),
      row('%RETRY%g', 'broker-b', 0, 0, 0),
    ];
    expect(summarizeLag('g', ['orders', 'audit'], rows)).toEqual({
      lag: 60 + 0 + 10 + 5 + 0 + 7 + 2,
      topics: [
        { topic: 'orders', lag: 75, queues: 5, queuesPerMaster: 3, retry: false },
        { topic: 'audit', lag: 7, queues: 1, queuesPerMaster: 1, retry: false },
        { topic: '%RETRY%g', lag: 2, queues: 2, queuesPerMaster: 1, retry: true },
      ],
    });
  });

  it('a topic nobody reported has no lag and no queues', () => {
    expect(summarizeLag('g', ['missing'], []).topics).toEqual([
      { topic: 'missing', lag: 0, queues: 0, queuesPerMaster: 0, retry: false },
      { topic: '%RETRY%g', lag: 0, queues: 0, queuesPerMaster: 0, retry: true },
    ]);
  });

  it('a consumer ahead of the broker is no lag; duplicates and foreign topics are ignored', () => {
    const s = summarizeLag(
      'g',
      ['t'],
      [row('t', 'a', 0, 5, 9), row('t', 'a', 1, 9, 5), row('t', 'a', 1, 9, 5), row('other', 'a', 0, 1000, 0)],
    );
    expect(s.lag).toBe(4);
    expect(s.topics[0]).toMatchObject({ lag: 4, queues: 2 });
  });
});
