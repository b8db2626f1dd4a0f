import { describe, expect, it } from 'vitest';
import { parseConsumeStats } from './consume-stats-reader.js';

describe('parseConsumeStats', () => {
  it('reads the fastjson body with MessageQueue objects as keys', () => {
    const body = Buffer.from(
      '{"consumeTps":1.5,"offsetTable":{' +
        '{"brokerName":"broker-a","queueId":0,"topic":"orders"}:{"brokerOffset":120,"consumerOffset":100,"lastTimestamp":1700000000000},' +
        '{"brokerName":"broker-a","queueId":1,"topic":"orders"}:{"brokerOffset":9007199254740993,"consumerOffset":0,"lastTimestamp":0}' +
        '}}',
    );
    expect(parseConsumeStats(body)).toEqual([
      { topic: 'orders', brokerName: 'broker-a', queueId: 0, brokerOffset: 120, consumerOffset: 100 },
      {
        topic: 'orders',
        brokerName: 'broker-a',
        queueId: 1,
        brokerOffset: 9007199254740992,
        consumerOffset: 0,
      },
    ]);
  });

  it('an empty answer has no rows', () => {
    expect(parseConsumeStats(undefined)).toEqual([]);
    expect(parseConsumeStats(Buffer.from('{"consumeTps":0.0,"offsetTable":{}}'))).toEqual([]);
  });

  it('a key that is not a MessageQueue is an error, not a silent zero', () => {
    expect(() => parseConsumeStats(Buffer.from('{"offsetTable":{"x":{"brokerOffset":1}}}'))).toThrow();
    expect(() =>
      parseConsumeStats(Buffer.from('{"offsetTable":{{"queueId":1}:{"brokerOffset":1}}}')),
    ).toThrow(/MessageQueue/);
  });
});
