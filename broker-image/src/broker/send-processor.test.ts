import { describe, expect, it } from 'vitest';
import { HeaderFieldError } from '../protocol/index.js';
import { decodeSendHeader } from './send-processor.js';

const V1 = {
  producerGroup: 'PG',
  topic: 'T',
  defaultTopic: 'TBW102',
  defaultTopicQueueNums: '4',
  queueId: '3',
  sysFlag: '0',
  bornTimestamp: '1732550000123',
  flag: '0',
  properties: 'TAGS\u0001A',
  reconsumeTimes: '2',
  unitMode: 'false',
};

describe('decodeSendHeader', () => {
  it('reads V1 names and V2 letters to the same header', () => {
    const v2 = {
      a: 'PG',
      b: 'T',
      c: 'TBW102',
      d: '4',
      e: '3',
      f: '0',
      g: '1732550000123',
      h: '0',
      i: 'TAGS\u0001A',
      j: '2',
      k: 'false',
    };
    const expected = {
      producerGroup: 'PG',
      topic: 'T',
      defaultTopic: 'TBW102',
      defaultTopicQueueNums: 4,
      queueId: 3,
      sysFlag: 0,
      bornTimestamp: 1732550000123,
      flag: 0,
      properties: 'TAGS\u0001A',
      reconsumeTimes: 2,
      unitMode: false,
      maxReconsumeTimes: undefined,
      batch: undefined,
    };
    expect(decodeSendHeader(V1, false)).toEqual(expected);
    expect(decodeSendHeader(v2, true)).toEqual(expected);
  });

  it('names the first missing field by its V1 name, in header order', () => {
    const { topic: _t, bornTimestamp: _b, ...missing } = V1;
    expect(() => decodeSendHeader(missing, false)).toThrow('the custom field <topic> is null');
    expect(() => decodeSendHeader({ a: 'PG' }, true)).toThrow('the custom field <topic> is null');
  });

  it('parses numbers as Java does: no spaces, no exponents, int range for ints', () => {
    expect(() => decodeSendHeader({ ...V1, queueId: '1e3' }, false)).toThrow(HeaderFieldError);
    expect(() => decodeSendHeader({ ...V1, bornTimestamp: '1e3' }, false)).toThrow(
      'the custom field <bornTimestamp> is not a long',
    );
    expect(() => decodeSendHeader({ ...V1, bornTimestamp: ' 12' }, false)).toThrow(HeaderFieldError);
    expect(() => decodeSendHeader({ ...V1, sysFlag: '2147483648' }, false)).toThrow('out of int range');
    expect(decodeSendHeader({ ...V1, bornTimestamp: '+7' }, false).bornTimestamp).toBe(7);
    // A long beyond 2^53 is still a Java long; the store refuses it later with its own remark.
    expect(
      Number.isSafeInteger(
        decodeSendHeader({ ...V1, bornTimestamp: '9007199254740993' }, false).bornTimestamp,
      ),
    ).toBe(false);
    expect(() => decodeSendHeader({ ...V1, bornTimestamp: '9223372036854775808' }, false)).toThrow(
      'out of long range',
    );
  });

  it('ignores inherited keys and reads booleans as Boolean.parseBoolean', () => {
    const ext = Object.create({ topic: 'inherited' }) as Record<string, string>;
    Object.assign(ext, { ...V1, unitMode: 'TRUE', batch: 'yes' });
    delete ext.topic;
    expect(() => decodeSendHeader(ext, false)).toThrow('<topic> is null');
    const h = decodeSendHeader({ ...V1, unitMode: 'TRUE', batch: 'yes' }, false);
    expect(h.unitMode).toBe(true);
    expect(h.batch).toBe(false);
  });
});
