import { describe, expect, it } from 'vitest';
import type { MessageExt } from './message.js';
import {
  filterByKey,
  originalTopic,
  parseOffsetMsgId,
  parseUserTimestamp,
  pickByUniqKey,
  resendableCopy,
  uniqKeyWindow,
} from './message-query.js';
import { UniqKeyGenerator } from './uniq-key.js';

function rec(
  topic: string,
  keys: string | undefined,
  storeTimestamp: number,
  props: Record<string, string> = {},
) {
  return {
    topic,
    keys,
    storeTimestamp,
    properties: props,
    msgId: 'M',
    flag: 0,
    body: Buffer.from('x'),
  } as MessageExt;
}

describe('message query helpers', () => {
  it('keeps only records of the topic whose KEYS contain the key, oldest first', () => {
    const a = rec('T', 'k1 k2', 20);
    const b = rec('T', 'k2', 10);
    const out = filterByKey([a, b, rec('T', 'k22', 5), rec('U', 'k2', 1), rec('T', undefined, 1)], 'T', 'k2');
    expect(out).toEqual([b, a]);
  });

  it('picks the earliest record with the unique key', () => {
    const a = rec('T', undefined, 20, { UNIQ_KEY: 'U1' });
    const b = rec('T', undefined, 10, { UNIQ_KEY: 'U1' });
    expect(pickByUniqKey([a, rec('T', undefined, 1, { UNIQ_KEY: 'U2' }), b], 'U1')).toBe(b);
    expect(pickByUniqKey([a], 'U3')).toBeUndefined();
  });

  it('tells offset ids from other ids', () => {
    expect(parseOffsetMsgId('0A00000100002A9F0000000000001234')).toEqual({
      address: '10.0.0.1:10911',
      physicalOffset: 0x1234n,
    });
    expect(parseOffsetMsgId('xyz')).toBeUndefined();
    // Port 0 is what a client id decodes to more often than not; no broker listens there.
    expect(parseOffsetMsgId('0A000001000000000000000000001234')).toBeUndefined();
  });

  it('bounds a unique-key query by the time inside the key', () => {
    const now = new Date(2026, 4, 20, 12).getTime();
    const id = new UniqKeyGenerator({ ip: '10.0.0.1', pid: 1, now: () => now - 60_000 }).next();
    const { begin, end } = uniqKeyWindow(id, now);
    expect(end).toBe(now);
    expect(begin).toBe(now - 60_000 - 13 * 3_600_000);
    expect(uniqKeyWindow('nonsense', now)).toEqual({ begin: 0, end: now });
  });

  it('reads epoch milliseconds, -1 and yyyyMMddHHmmss', () => {
    expect(parseUserTimestamp('1700000000000')).toBe(1_700_000_000_000);
    expect(parseUserTimestamp('-1')).toBe(-1);
    expect(parseUserTimestamp('20240102030405')).toBe(new Date(2024, 0, 2, 3, 4, 5).getTime());
    expect(() => parseUserTimestamp('20241302030405')).toThrow(/not a valid date/);
    expect(() => parseUserTimestamp('yesterday')).toThrow(/neither/);
    expect(() => parseUserTimestamp('-5')).toThrow();
  });

  it('re-sends a dead letter to its original topic with its user properties only', () => {
    const dead = rec('%DLQ%G', 'order-1', 1, {
      RETRY_TOPIC: 'Orders',
      ORIGIN_MESSAGE_ID: 'ORIG',
      UNIQ_KEY: 'U',
      DELAY: '3',
      CLUSTER: 'c',
      KEYS: 'order-1',
      TAGS: 'paid',
      color: 'red',
    });
    dead.tags = 'paid';
    expect(originalTopic(dead)).toBe('Orders');
    expect(resendableCopy(dead)).toEqual({
      topic: 'Orders',
      body: dead.body,
      tags: 'paid',
      keys: 'order-1',
      flag: 0,
      properties: { color: 'red', BOLIDE_RESENT_FROM: 'ORIG' },
    });
  });
});
