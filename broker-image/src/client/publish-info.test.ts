import { describe, expect, it } from 'vitest';
import type { Message, MessageQueue } from './message.js';
import { selectMessageQueueByHash, TopicPublishInfo } from './publish-info.js';

const mqs: MessageQueue[] = [
  { topic: 'T', brokerName: 'a', queueId: 0 },
  { topic: 'T', brokerName: 'a', queueId: 1 },
  { topic: 'T', brokerName: 'b', queueId: 0 },
  { topic: 'T', brokerName: 'b', queueId: 1 },
];
const name = (q: MessageQueue) => `${q.brokerName}${q.queueId}`;

describe('TopicPublishInfo', () => {
  it('round-robins over every queue', () => {
    const info = new TopicPublishInfo(mqs, 0);
    expect([1, 2, 3, 4, 5].map(() => name(info.select()))).toEqual(['a0', 'a1', 'b0', 'b1', 'a0']);
  });

  it('retries on a different broker than the last one', () => {
    const info = new TopicPublishInfo(mqs, 0);
    expect(name(info.select('a'))).toBe('b0');
    expect(name(info.select('b'))).toBe('a0');
    expect(name(info.select('b'))).toBe('a1');
    expect(name(info.select('a'))).toBe('b0');
  });

  it('falls back to round robin when every queue is on the failed broker', () => {
    const info = new TopicPublishInfo(mqs.slice(0, 2), 0);
    expect(name(info.select('a'))).toMatch(/^a/);
    expect(() => new TopicPublishInfo([]).select()).toThrow(/no queue/);
  });
});

describe('selectMessageQueueByHash', () => {
  const msg = { topic: 'T', body: Buffer.alloc(0) } as Message;
  it('maps the same key to the same queue like Java', () => {
    // "order-1".hashCode() = -1207111310 → % 4 = -2 → abs = 2.
    expect(name(selectMessageQueueByHash(mqs, msg, 'order-1'))).toBe('b0');
    expect(name(selectMessageQueueByHash(mqs, msg, 7))).toBe('b1');
    expect(name(selectMessageQueueByHash(mqs, msg, -7))).toBe('b1');
    expect(selectMessageQueueByHash(mqs, msg, 'k')).toBe(selectMessageQueueByHash(mqs, msg, 'k'));
  });
});
