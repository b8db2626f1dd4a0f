import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../store/index.js';
import {
  DelayLevelTable,
  fromScheduled,
  isDelayable,
  requestedDelay,
  scheduledTarget,
  toScheduled,
} from './delay-levels.js';

const table = new DelayLevelTable('1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h');
const host = { address: '10.0.0.9', port: 5555 };

describe('delay levels', () => {
  it('parses the table with its units', () => {
    expect(table.maxLevel).toBe(18);
    expect(table.delayOf(1)).toBe(1000);
    expect(table.delayOf(3)).toBe(10_000);
    expect(table.delayOf(5)).toBe(60_000);
    expect(table.delayOf(17)).toBe(3_600_000);
    expect(new DelayLevelTable('2d').delayOf(1)).toBe(2 * 86_400_000);
    expect(() => new DelayLevelTable('1x')).toThrow(/messageDelayLevel/);
    expect(() => new DelayLevelTable('')).toThrow(/messageDelayLevel/);
  });

  it('caps broker-chosen levels into the table', () => {
    expect(table.capped(3)).toBe(3);
    expect(table.capped(19)).toBe(18);
    expect(table.capped(0)).toBe(1);
  });

  it('reads a requested DELAY: none, a level, or a clear problem', () => {
    expect(requestedDelay(undefined, table)).toEqual({ level: 0 });
    expect(requestedDelay('0', table)).toEqual({ level: 0 });
    expect(requestedDelay('-2', table)).toEqual({ level: 0 });
    expect(requestedDelay(' 3 ', table)).toEqual({ level: 3 });
    expect(requestedDelay('18', table)).toEqual({ level: 18 });
    expect(requestedDelay('19', table)).toEqual({
      problem: expect.stringMatching(/19 is out of range.*1-18/),
    });
    expect(requestedDelay('abc', table)).toEqual({ problem: expect.stringMatching(/not an integer/) });
  });

  it('delays only plain and committed messages', () => {
    expect(isDelayable(0)).toBe(true);
    expect(isDelayable(0x1 | 0x8)).toBe(true);
    expect(isDelayable(0x4)).toBe(false);
    expect(isDelayable(0xc)).toBe(false);
  });

  it('parks a message in the schedule topic and restores it to the real one', () => {
    const msg = {
      topic: 'Orders',
      queueId: 2,
      flag: 7,
      body: Buffer.from('hello'),
      properties: new Map([
        ['TAGS', 'A'],
        ['UNIQ_KEY', 'U1'],
      ]),
      sysFlag: 0,
      bornTimestamp: 1_700_000_000_000,
      bornHost: host,
      reconsumeTimes: 2,
      preparedTransactionOffset: 0n,
    };
    const parked = toScheduled(msg, 4);
    expect(parked.topic).toBe('SCHEDULE_TOPIC_XXXX');
    expect(parked.queueId).toBe(3);
    expect(Object.fromEntries(parked.properties)).toEqual({
      TAGS: 'A',
      UNIQ_KEY: 'U1',
      REAL_TOPIC: 'Orders',
      REAL_QID: '2',
      DELAY: '4',
    });
    expect(msg.properties.has('REAL_TOPIC')).toBe(false);

    const storeHost = { address: '10.0.0.1', port: 10911 };
    const record = decodeRecord(
      encodeRecord({
        ...parked,
        queueOffset: 9n,
        physicalOffset: 1234n,
        storeTimestamp: 1_700_000_000_100,
        storeHost,
      }),
    );
    const target = scheduledTarget(record);
    expect(target).toEqual({ topic: 'Orders', queueId: 2 });
    const back = fromScheduled(record, target!);
    expect(back).toMatchObject({
      topic: 'Orders',
      queueId: 2,
      flag: 7,
      reconsumeTimes: 2,
      bornTimestamp: 1_700_000_000_000,
      bornHost: host,
      storeHost,
    });
    expect(back.body.toString()).toBe('hello');
    expect(back.properties.has('DELAY')).toBe(false);
    expect(back.properties.get('UNIQ_KEY')).toBe('U1');
  });

  it('refuses scheduled records without a usable real topic or queue', () => {
    const rec = (props: Record<string, string>) =>
      decodeRecord(
        encodeRecord({
          topic: 'SCHEDULE_TOPIC_XXXX',
          queueId: 0,
          flag: 0,
          queueOffset: 0n,
          physicalOffset: 0n,
          sysFlag: 0,
          bornTimestamp: 0,
          bornHost: host,
          storeTimestamp: 0,
          storeHost: host,
          reconsumeTimes: 0,
          preparedTransactionOffset: 0n,
          body: Buffer.alloc(0),
          properties: new Map(Object.entries(props)),
        }),
      );
    expect(scheduledTarget(rec({ REAL_TOPIC: 'T' }))).toBeUndefined();
    expect(scheduledTarget(rec({ REAL_TOPIC: 'T', REAL_QID: 'x' }))).toBeUndefined();
    expect(scheduledTarget(rec({ REAL_QID: '1' }))).toBeUndefined();
  });
});
