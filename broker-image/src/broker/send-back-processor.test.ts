import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../store/index.js';
import { sendBackMessage, sendBackTarget } from './send-back-processor.js';

describe('send-back target', () => {
  it('retries at 3 + reconsumeTimes, capped at the highest level', () => {
    expect(sendBackTarget(0, 16, 0, 18)).toEqual({ kind: 'retry', level: 3 });
    expect(sendBackTarget(5, 16, 0, 18)).toEqual({ kind: 'retry', level: 8 });
    expect(sendBackTarget(15, 16, 0, 18)).toEqual({ kind: 'retry', level: 18 });
    expect(sendBackTarget(20, 1000, 0, 18)).toEqual({ kind: 'retry', level: 18 });
  });

  it('uses a requested level, refusing one the table does not have', () => {
    expect(sendBackTarget(0, 16, 1, 18)).toEqual({ kind: 'retry', level: 1 });
    expect(sendBackTarget(0, 16, 19, 18)).toEqual({ problem: expect.stringMatching(/out of range/) });
  });

  it('goes to the DLQ at the limit or on request', () => {
    expect(sendBackTarget(16, 16, 0, 18)).toEqual({ kind: 'dlq' });
    expect(sendBackTarget(2, 2, 5, 18)).toEqual({ kind: 'dlq' });
    expect(sendBackTarget(0, 16, -1, 18)).toEqual({ kind: 'dlq' });
    expect(sendBackTarget(0, 0, 0, 18)).toEqual({ kind: 'dlq' });
  });
});

describe('send-back message', () => {
  const host = { address: '10.0.0.9', port: 1 };
  const record = (topic: string, props: Record<string, string>, reconsumeTimes = 0) =>
    decodeRecord(
      encodeRecord({
        topic,
        queueId: 1,
        flag: 3,
        queueOffset: 4n,
        physicalOffset: 100n,
        sysFlag: 0x1,
        bornTimestamp: 10,
        bornHost: host,
        storeTimestamp: 20,
        storeHost: host,
        reconsumeTimes,
        preparedTransactionOffset: 0n,
        body: Buffer.from('zipped'),
        properties: new Map(Object.entries(props)),
      }),
    );

  it('keeps the first topic and id, and counts the delivery', () => {
    const first = sendBackMessage(record('Orders', { KEYS: 'k1', DELAY: '2' }), '%RETRY%G', 0, {
      offsetMsgId: 'OFF1',
    });
    expect(first.reconsumeTimes).toBe(1);
    expect(first.sysFlag).toBe(0x1);
    expect(first.body.toString()).toBe('zipped');
    expect(Object.fromEntries(first.properties)).toEqual({
      KEYS: 'k1',
      RETRY_TOPIC: 'Orders',
      ORIGIN_MESSAGE_ID: 'OFF1',
    });
    const second = sendBackMessage(
      record('%RETRY%G', { RETRY_TOPIC: 'Orders', ORIGIN_MESSAGE_ID: 'OFF1' }, 1),
      '%RETRY%G',
      0,
      { offsetMsgId: 'OFF2' },
    );
    expect(second.reconsumeTimes).toBe(2);
    expect(second.properties.get('RETRY_TOPIC')).toBe('Orders');
    expect(second.properties.get('ORIGIN_MESSAGE_ID')).toBe('OFF1');
  });
});
