import { describe, expect, it } from 'vitest';
import { writeBodyJson } from '../protocol/index.js';
import { consumeStatsBody, consumeStatsTopics, topicStatsBody, totalDiff } from './consume-stats.js';

describe('consume stats', () => {
  it('picks the requested topic, else stored-offset topics the group still subscribes to', () => {
    expect(consumeStatsTopics('T', ['A', 'B'], new Set(['A']))).toEqual(['T']);
    expect(consumeStatsTopics(undefined, ['A', 'B', '%RETRY%G'], undefined)).toEqual(['A', 'B', '%RETRY%G']);
    expect(consumeStatsTopics('', ['A', 'B', '%RETRY%G'], new Set(['A', '%RETRY%G']))).toEqual([
      'A',
      '%RETRY%G',
    ]);
    expect(consumeStatsTopics(undefined, ['A'], new Set())).toEqual(['A']);
  });

  it("adds the group's retry and DLQ topics when no topic is asked for", () => {
    expect(consumeStatsTopics(undefined, ['A', '%RETRY%G'], new Set(['A']), ['%RETRY%G', '%DLQ%G'])).toEqual([
      'A',
      '%RETRY%G',
      '%DLQ%G',
    ]);
    expect(consumeStatsTopics(undefined, [], undefined, ['%DLQ%G'])).toEqual(['%DLQ%G']);
    expect(consumeStatsTopics('A', ['A'], undefined, ['%DLQ%G'])).toEqual(['A']);
  });

  it('sums lag over queues', () => {
    expect(
      totalDiff([
        { brokerOffset: 10n, consumerOffset: 7n, lastTimestamp: 0 },
        { brokerOffset: 5n, consumerOffset: 5n, lastTimestamp: 0 },
        { brokerOffset: 8n, consumerOffset: 0n, lastTimestamp: 0 },
      ]),
    ).toBe(11n);
  });

  it('writes MessageQueue keys in fastjson object-key form', () => {
    const body = consumeStatsBody(
      'broker-a',
      [
        {
          topic: 'TopicTest',
          queueId: 0,
          brokerOffset: 10n,
          consumerOffset: 7n,
          lastTimestamp: 1700000000000,
        },
      ],
      1.5,
    );
    expect(writeBodyJson(body)).toBe(
      '{"consumeTps":1.5,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:{"brokerOffset":10,"consumerOffset":7,"lastTimestamp":1700000000000}}}',
    );
    const stats = topicStatsBody('broker-a', 'T', [{ minOffset: 0n, maxOffset: 3n, lastUpdateTimestamp: 5 }]);
    expect(writeBodyJson(stats)).toBe(
      '{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"minOffset":0,"maxOffset":3,"lastUpdateTimestamp":5}}}',
    );
  });
});
