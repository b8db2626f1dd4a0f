import { describe, expect, it } from 'vitest';
import { parseBodyJson, parseObjectKey } from '../protocol/index.js';
import { parseResetOffsetBody } from './client-instance.js';
import { encodeConsumerRunningInfo } from './running-info.js';

describe('encodeConsumerRunningInfo', () => {
  it('writes ConsumerRunningInfo with MessageQueue object keys, queues sorted', () => {
    const queue = (queueId: number) => ({
      mq: { topic: 'T', brokerName: 'b', queueId },
      commitOffset: 10 + queueId,
      cachedMsgMinOffset: 10,
      cachedMsgMaxOffset: 12,
      cachedMsgCount: 3,
      cachedMsgSizeInMiB: 0,
      locked: true,
      lastLockTimestamp: 5,
      dropped: false,
      lastPullTimestamp: 6,
      lastConsumeTimestamp: 7,
    });
    const body = encodeConsumerRunningInfo({
      properties: { PROP_CONSUMEORDERLY: true, PROP_THREADPOOL_CORE_SIZE: 20 },
      subscriptions: [],
      queues: [queue(1), queue(0)],
    }).toString();
    expect(body).toContain('"mqTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{');
    const parsed = parseBodyJson(body) as {
      properties: Record<string, string>;
      mqTable: Record<string, { commitOffset: number; locked: boolean; droped: boolean }>;
    };
    expect(parsed.properties).toEqual({ PROP_CONSUMEORDERLY: 'true', PROP_THREADPOOL_CORE_SIZE: '20' });
    const keys = Object.keys(parsed.mqTable);
    expect(keys.map((k) => (parseObjectKey(k) as { queueId: number }).queueId)).toEqual([0, 1]);
    expect(parsed.mqTable[keys[1]]).toMatchObject({ commitOffset: 11, locked: true, droped: false });
  });
});

describe('parseResetOffsetBody', () => {
  it('reads the offset table the broker sends and skips malformed entries', () => {
    const body = Buffer.from(
      '{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:5,{"brokerName":"b","queueId":1,"topic":"T"}:7,{"topic":"T"}:1}}',
    );
    expect(parseResetOffsetBody(body)).toEqual([
      { mq: { topic: 'T', brokerName: 'b', queueId: 0 }, offset: 5 },
      { mq: { topic: 'T', brokerName: 'b', queueId: 1 }, offset: 7 },
    ]);
    expect(parseResetOffsetBody(undefined)).toEqual([]);
    expect(parseResetOffsetBody(Buffer.from('{}'))).toEqual([]);
  });
});
