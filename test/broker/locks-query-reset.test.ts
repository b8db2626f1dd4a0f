// Over real sockets: queue locks for orderly consumers (LOCK_BATCH_MQ 41 / UNLOCK_BATCH_MQ 42,
// protocol.md §3.7) with two contending clients; message query by key and unique key and view by
// id (12 / 33, §3.9); and resetting a group's offsets to a timestamp with the consumers told
// through RESET_CONSUMER_CLIENT_OFFSET (222 → 220, §3.8).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOffsetMessageId } from '../../broker-image/src/message/index.js';
import {
  createRequest,
  encodeBodyJson,
  markOneway,
  type RemotingCommand,
  ResponseCode,
} from '../../broker-image/src/protocol/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';
import { decodeRecord } from '../../broker-image/src/store/record-codec.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import { RawRocketMQ, recordsOf } from '../harness/raw-rocketmq.js';
import { createTopic, uniqueName, waitFor } from './support.js';

let mq: LocalRocketMQ;
let raw: RawRocketMQ;
let broker: string;

beforeAll(async () => {
  mq = await startStandalone();
  raw = new RawRocketMQ();
  broker = mq.brokerAddr;
});

afterAll(async () => {
  await raw?.close();
  await mq?.stop();
});

describe('queue locks', () => {
  const q = (queueId: number, topic: string, brokerName = 'broker-a') => ({ brokerName, queueId, topic });

  function lockBody(clientId: string, group: string, mqs: object[]) {
    return encodeBodyJson({ clientId, consumerGroup: group, mqSet: mqs, onlyThisBroker: false });
  }

  async function lock(client: RawRocketMQ, clientId: string, group: string, mqs: object[]) {
    const r = await client.invoke(broker, 41, {}, lockBody(clientId, group, mqs));
    expect(r.code, r.remark).toBe(ResponseCode.SUCCESS);
    const set = JSON.parse(r.body!.toString()).lockOKMQSet as { queueId: number }[];
    return set.map((m) => m.queueId).sort();
  }

  it('lets one of two contending clients hold each queue, renewing and releasing', async () => {
    const topic = uniqueName('LockT');
    const group = uniqueName('LockG');
    const a = new RawRocketMQ(new RemotingClient({ name: 'lock-a' }));
    const b = new RawRocketMQ(new RemotingClient({ name: 'lock-b' }));
    try {
      expect(await lock(a, 'A@1', group, [q(0, topic), q(1, topic)])).toEqual([0, 1]);
      expect(await lock(b, 'B@1', group, [q(1, topic), q(2, topic)])).toEqual([2]);
      // Renewal by the holder succeeds; another group is independent.
      expect(await lock(a, 'A@1', group, [q(0, topic), q(1, topic)])).toEqual([0, 1]);
      expect(await lock(b, 'B@1', uniqueName('OtherG'), [q(0, topic)])).toEqual([0]);

      // Unlocking someone else's queue does nothing.
      const foreignUnlock = await b.invoke(broker, 42, {}, lockBody('B@1', group, [q(1, topic)]));
      expect(foreignUnlock.code).toBe(ResponseCode.SUCCESS);
      expect(await lock(b, 'B@1', group, [q(1, topic)])).toEqual([]);

      // The holder releases (oneway, as Java clients do); then the other client gets it.
      const channel = await a.client.getChannel(broker);
      channel.invokeOneway(markOneway(createRequest(42, { body: lockBody('A@1', group, [q(1, topic)]) })));
      await waitFor(
        async () => (await lock(b, 'B@1', group, [q(1, topic)])).length === 1,
        5000,
        () => 'q1 for B',
      );

      // Locks outlive the connection (they expire after 60 s, as in Java).
      await a.close();
      expect(await lock(b, 'B@1', group, [q(0, topic)])).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses malformed lock requests and queues of another broker', async () => {
    const topic = uniqueName('LockBadT');
    const foreign = await raw.invoke(broker, 41, {}, lockBody('A@1', 'G', [q(0, topic, 'broker-z')]));
    expect(foreign.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(foreign.remark).toContain('belongs to broker broker-z');
    const empty = await raw.invoke(broker, 41);
    expect(empty.code).toBe(ResponseCode.SYSTEM_ERROR);
    const noClient = await raw.invoke(broker, 41, {}, encodeBodyJson({ consumerGroup: 'G', mqSet: [] }));
    expect(noClient.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(noClient.remark).toContain('clientId');
    const garbage = await raw.invoke(broker, 42, {}, Buffer.from('not json'));
    expect(garbage.code).toBe(ResponseCode.SYSTEM_ERROR);
    // The broker still serves locks.
    expect((await raw.invoke(broker, 41, {}, lockBody('A@1', 'G', [q(0, topic)]))).code).toBe(
      ResponseCode.SUCCESS,
    );
  });
});

describe('query and view', () => {
  it('finds records by key and by unique key within the time range, and views one by offset', async () => {
    const topic = uniqueName('QueryT');
    await createTopic(raw, broker, topic, 2);
    const begin = Date.now() - 1000;
    const wanted = await raw.send(broker, topic, 'wanted', {
      keys: 'order-7 user-3',
      properties: { UNIQ_KEY: '7F0000010001AAAABBBB000000000001' },
    });
    await raw.send(broker, topic, 'other', {
      keys: 'order-8',
      properties: { UNIQ_KEY: '7F0000010001AAAABBBB000000000002' },
    });
    const end = Date.now() + 1000;
    const { physicalOffset } = parseOffsetMessageId(wanted.extFields.msgId);

    const query = (key: string, extra: Record<string, string> = {}, b = begin, e = end) =>
      raw.invoke(broker, 12, {
        topic,
        key,
        maxNum: '32',
        beginTimestamp: String(b),
        endTimestamp: String(e),
        ...extra,
      });
    for (const key of ['order-7', 'user-3']) {
      const r = await query(key);
      expect(r.code, key).toBe(ResponseCode.SUCCESS);
      expect(recordsOf(r).map((m) => m.body.toString())).toEqual(['wanted']);
      expect(Number(r.extFields.indexLastUpdateTimestamp)).toBeGreaterThanOrEqual(begin);
      expect(BigInt(r.extFields.indexLastUpdatePhyoffset)).toBeGreaterThanOrEqual(physicalOffset);
    }
    const byUnique = await query('7F0000010001AAAABBBB000000000001', {
      _UNIQUE_KEY_QUERY: 'true',
      maxNum: '1',
    });
    expect(byUnique.code).toBe(ResponseCode.SUCCESS);
    expect(recordsOf(byUnique).map((m) => m.properties.get('UNIQ_KEY'))).toEqual([
      '7F0000010001AAAABBBB000000000001',
    ]);

    const outOfRange = await query('order-7', {}, end + 60_000, end + 120_000);
    expect(outOfRange.code).toBe(ResponseCode.QUERY_NOT_FOUND);
    expect(outOfRange.remark).toContain('maybe time range not correct');
    expect(outOfRange.extFields.indexLastUpdateTimestamp).toBeDefined();
    expect((await query('no-such-key')).code).toBe(ResponseCode.QUERY_NOT_FOUND);
    expect(
      (
        await raw.invoke(broker, 12, {
          topic,
          key: 'order-7',
          maxNum: '32',
          beginTimestamp: '0',
          endTimestamp: 'x',
        })
      ).code,
    ).toBe(ResponseCode.SYSTEM_ERROR);

    const view = await raw.invoke(broker, 33, { offset: String(physicalOffset) });
    expect(view.code).toBe(ResponseCode.SUCCESS);
    const viewed = decodeRecord(view.body!);
    expect(viewed.body.toString()).toBe('wanted');
    expect(viewed.physicalOffset).toBe(physicalOffset);
    for (const bad of [physicalOffset + 5n, -1n, 10n ** 15n]) {
      const r = await raw.invoke(broker, 33, { offset: String(bad) });
      expect(r.code, String(bad)).toBe(ResponseCode.SYSTEM_ERROR);
      expect(r.remark).toContain('can not find message by the offset');
    }
  });

  it('caps a key query at 64 records', async () => {
    const topic = uniqueName('QueryManyT');
    await createTopic(raw, broker, topic, 1);
    for (let i = 0; i < 70; i++) await raw.send(broker, topic, `m${i}`, { keys: 'bulk', queueId: 0 });
    const r = await raw.invoke(broker, 12, {
      topic,
      key: 'bulk',
      maxNum: '1000',
      beginTimestamp: '0',
      endTimestamp: String(Date.now() + 1000),
    });
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(recordsOf(r)).toHaveLength(64);
  });
});

describe('reset offsets to a timestamp', () => {
  it('computes per-queue offsets for the time and tells the live consumers', async () => {
    const topic = uniqueName('ResetT');
    const group = uniqueName('ResetG');
    await createTopic(raw, broker, topic, 2);
    for (let i = 0; i < 6; i++) await raw.send(broker, topic, `old-${i}`, { queueId: i % 2 });
    await new Promise((r) => setTimeout(r, 30));
    const middle = Date.now();
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 0; i < 4; i++) await raw.send(broker, topic, `new-${i}`, { queueId: i % 2 });

    const reset = (timestamp: number | bigint, isForce: boolean) =>
      raw.invoke(broker, 222, { topic, group, timestamp: String(timestamp), isForce: String(isForce) });

    // A group without stored offsets cannot be reset.
    const noOffsets = await reset(middle, true);
    expect(noOffsets.code).toBe(ResponseCode.SYSTEM_ERROR);
    for (const queueId of [0, 1]) {
      const r = await raw.invoke(broker, 15, {
        consumerGroup: group,
        topic,
        queueId: String(queueId),
        commitOffset: '4',
      });
      expect(r.code).toBe(ResponseCode.SUCCESS);
    }
    // Offsets but no live consumer: CONSUMER_NOT_ONLINE (tools then update the offsets themselves).
    expect((await reset(middle, true)).code).toBe(ResponseCode.CONSUMER_NOT_ONLINE);

    const consumerClient = new RemotingClient({ name: 'reset-consumer' });
    const notices: RemotingCommand[] = [];
    consumerClient.registerProcessor(220, async (req) => {
      notices.push(req);
      return null;
    });
    const consumer = new RawRocketMQ(consumerClient);
    try {
      const hb = await consumer.heartbeat(broker, '127.0.0.1@reset', {
        group,
        subscriptions: [{ topic, expression: '*' }],
      });
      expect(hb.code).toBe(ResponseCode.SUCCESS);
      const r = await reset(middle, true);
      expect(r.code, r.remark).toBe(ResponseCode.SUCCESS);
      const text = r.body!.toString();
      expect(text).toContain(`{"brokerName":"broker-a","queueId":0,"topic":"${topic}"}:3`);
      expect(text).toContain(`{"brokerName":"broker-a","queueId":1,"topic":"${topic}"}:3`);
      await waitFor(
        () => notices.length === 1,
        5000,
        () => 'RESET_CONSUMER_CLIENT_OFFSET',
      );
      expect(notices[0].extFields).toMatchObject({ topic, group, timestamp: String(middle) });
      expect(notices[0].body!.toString()).toBe(text);

      // Not forced: a later target than the current offset (4) keeps the current one.
      const toEnd = await reset(-1, false);
      expect(toEnd.body!.toString()).toContain(`"queueId":0,"topic":"${topic}"}:4`);
      const forced = await reset(-1, true);
      expect(forced.body!.toString()).toContain(`"queueId":0,"topic":"${topic}"}:5`);
      const toStart = await reset(0, false);
      expect(toStart.body!.toString()).toContain(`"queueId":1,"topic":"${topic}"}:0`);
    } finally {
      await consumer.close();
    }
  });
});
