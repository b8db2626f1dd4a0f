import { describe, expect, it } from 'vitest';
import { parseBodyJson, writeBodyJson } from '../protocol/index.js';
import { parseMessageQueueKey } from './admin.js';

describe('parseMessageQueueKey', () => {
  it('reads fastjson MessageQueue object keys and the quoted-string fallback', () => {
    const native = writeBodyJson({
      offsetTable: new Map([[{ brokerName: 'broker-a', queueId: 3, topic: 'T' }, { brokerOffset: 10 }]]),
    });
    expect(native).toContain('{{"brokerName":"broker-a","queueId":3,"topic":"T"}:');
    const parsed = parseBodyJson(native) as { offsetTable: Record<string, unknown> };
    const [key] = Object.keys(parsed.offsetTable);
    expect(parseMessageQueueKey(key)).toEqual({ topic: 'T', brokerName: 'broker-a', queueId: 3 });
    expect(parseMessageQueueKey('{"brokerName":"b","queueId":"1","topic":"X"}')).toEqual({
      topic: 'X',
      brokerName: 'b',
      queueId: 1,
    });
    expect(() => parseMessageQueueKey('{"queueId":1}')).toThrow(/MessageQueue/);
  });
});
