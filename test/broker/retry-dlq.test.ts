// Retry and dead letters over real sockets (protocol.md §3.6, §6): CONSUMER_SEND_MSG_BACK stores
// the message in %RETRY%<group> behind delay level 3 + reconsumeTimes, the schedule service puts
// it back when due, and after maxReconsumeTimes it lands in %DLQ%<group> with its original
// topic, keys and ids. Short delay levels are configured so the gaps are seconds.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../broker-image/src/broker/index.js';
import { Producer, PushConsumer } from '../../broker-image/src/client/index.js';
import { loadBrokerConfig, silentLogger } from '../../broker-image/src/common/index.js';
import { parseOffsetMessageId } from '../../broker-image/src/message/index.js';
import { createResponse, parseBodyJson, ResponseCode } from '../../broker-image/src/protocol/index.js';
import { RemotingServer } from '../../broker-image/src/remoting/index.js';
import type { StoredRecord } from '../../broker-image/src/store/record-codec.js';
import { recordAttemptsFailingUntil } from '../client/support.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import { RawRocketMQ, recordsOf } from '../harness/raw-rocketmq.js';
import { createTopic, pullNext, uniqueName, waitFor } from './support.js';

// Levels 3, 4, 5 (the first three retries) wait 1 s, 2 s and 3 s.
const LEVELS = '1s 1s 1s 2s 3s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s';
const RETRY_DELAYS = [1000, 2000, 3000];

let mq: LocalRocketMQ;
let raw: RawRocketMQ;
let broker: string;

beforeAll(async () => {
  mq = await startStandalone({ brokerConf: { messageDelayLevel: LEVELS } });
  raw = new RawRocketMQ();
  broker = mq.brokerAddr;
});

afterAll(async () => {
  await raw?.close();
  await mq?.stop();
});

function sendBack(offset: bigint | string, group: string, extra: Record<string, string> = {}) {
  return raw.invoke(broker, 36, { offset: String(offset), group, delayLevel: '0', ...extra });
}

describe('send-back with the TypeScript push consumer', () => {
  it('redelivers with reconsume times 0, 1, 2 and gaps that follow the delay levels', async () => {
    const topic = uniqueName('RetryT');
    const group = uniqueName('RetryG');
    await createTopic(raw, broker, topic, 1);
    const producer = new Producer({ namesrvAddr: mq.namesrvAddr, producerGroup: uniqueName('PG') });
    const consumer = new PushConsumer({
      namesrvAddr: mq.namesrvAddr,
      consumerGroup: group,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      heartbeatBrokerIntervalMs: 2_000,
      rebalanceIntervalMs: 2_000,
      pollNameServerIntervalMs: 2_000,
    });
    const attempts = recordAttemptsFailingUntil(consumer, topic, 2);
    try {
      await producer.start();
      await consumer.start();
      const sent = await producer.send({ topic, body: Buffer.from('flaky'), keys: 'order-1' });
      await waitFor(
        () => attempts.length >= 3,
        60_000,
        () => `three deliveries, have ${JSON.stringify(attempts)}`,
      );
      // Let a wrong fourth delivery show up if there were one.
      await new Promise((r) => setTimeout(r, 1500));
      expect(attempts.map((a) => a.reconsumeTimes)).toEqual([0, 1, 2]);
      for (const a of attempts) {
        expect(a.topic).toBe(topic);
        expect(a.body).toBe('flaky');
        expect(a.msgId).toBe(sent.msgId);
      }
      const gaps = [attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at];
      console.log('retry gaps (ms) for levels of 1000, 2000:', gaps.join(' '));
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(RETRY_DELAYS[i] - 20);
        // Generous: the schedule re-puts within 1 s; the rest is the consumer's pull and dispatch.
        expect(gap).toBeLessThan(RETRY_DELAYS[i] + 5000);
      });
    } finally {
      await consumer.shutdown();
      await producer.shutdown();
    }
  });
});

describe('retry topics', () => {
  it("are created by a group's first heartbeat, which is answered once the name server has them", async () => {
    // A name server that takes 500 ms to answer REGISTER_BROKER and records what it was told.
    const namesrv = new RemotingServer({ name: 'slow-namesrv' });
    const registered: string[][] = [];
    namesrv.registerProcessor(103, async (req) => {
      await new Promise((r) => setTimeout(r, 500));
      const body = parseBodyJson(req.body!) as {
        topicConfigSerializeWrapper: { topicConfigTable: Record<string, unknown> };
      };
      registered.push(Object.keys(body.topicConfigSerializeWrapper.topicConfigTable));
      return createResponse(req);
    });
    const port = await namesrv.listen(0, '127.0.0.1');
    const dir = await mkdtemp(join(tmpdir(), 'bolide-hb-'));
    const { config } = loadBrokerConfig({
      file: {
        name: 'test',
        text: [
          'listenPort=0',
          'httpPort=-1',
          'brokerIP1=127.0.0.1',
          `namesrvAddr=127.0.0.1:${port}`,
          `storePathRootDir=${dir}`,
          'mappedFileSizeCommitLog=8388608',
        ].join('\n'),
      },
    });
    const embedded = new Broker({ config, logger: silentLogger(), host: '127.0.0.1' });
    try {
      await embedded.start();
      const group = uniqueName('HbG');
      const hb = await raw.heartbeat(embedded.brokerAddr, '127.0.0.1@hb', {
        group,
        subscriptions: [{ topic: 'AnyTopic', expression: '*' }],
      });
      expect(hb.code).toBe(ResponseCode.SUCCESS);
      expect(registered.some((topics) => topics.includes(`%RETRY%${group}`))).toBe(true);
      // Later heartbeats of the group do not wait.
      const before = registered.length;
      await raw.heartbeat(embedded.brokerAddr, '127.0.0.1@hb', {
        group,
        subscriptions: [{ topic: 'AnyTopic', expression: '*' }],
      });
      expect(registered.length).toBe(before);
    } finally {
      await embedded.stop();
      await namesrv.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('send-back at the protocol level', () => {
  it('walks a message through retries into the DLQ, keeping its topic, keys and ids', async () => {
    const topic = uniqueName('DlqT');
    const group = uniqueName('DlqG');
    await createTopic(raw, broker, topic, 1);
    const sent = await raw.send(broker, topic, 'poison', {
      keys: 'k-1 k-2',
      tag: 'T1',
      queueId: 0,
      properties: { UNIQ_KEY: 'AAAABBBBCCCCDDDDEEEEFFFF00001111' },
    });
    expect(sent.code).toBe(ResponseCode.SUCCESS);
    const originalOffsetId = sent.extFields.msgId;
    const first = await pullNext(raw, broker, group, topic, 0, 0n);
    expect(first.records).toHaveLength(1);

    // Up to 2 reconsumes (header limit, request version ≥ 121): two retries, then the DLQ.
    const retryTopic = `%RETRY%${group}`;
    let record: StoredRecord = first.records[0];
    let retryOffset = 0n;
    const seen: StoredRecord[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const backAt = Date.now();
      const back = await sendBack(record.physicalOffset, group, { maxReconsumeTimes: '2', originMsgId: 'x' });
      expect(back.code, back.remark).toBe(ResponseCode.SUCCESS);
      const next = await pullNext(raw, broker, group, retryTopic, 0, retryOffset);
      expect(next.records, `retry ${attempt + 1}`).toHaveLength(1);
      record = next.records[0];
      seen.push(record);
      expect(next.at - backAt).toBeGreaterThanOrEqual(RETRY_DELAYS[attempt] - 20);
      retryOffset = record.queueOffset + 1n;
    }
    expect(seen.map((r) => r.reconsumeTimes)).toEqual([1, 2]);
    for (const r of seen) {
      expect(r.topic).toBe(retryTopic);
      expect(r.properties.get('RETRY_TOPIC')).toBe(topic);
      expect(r.properties.get('ORIGIN_MESSAGE_ID')).toBe(originalOffsetId);
      expect(r.properties.get('KEYS')).toBe('k-1 k-2');
      expect(r.properties.get('UNIQ_KEY')).toBe('AAAABBBBCCCCDDDDEEEEFFFF00001111');
      expect(r.body.toString()).toBe('poison');
    }

    // reconsumeTimes 2 ≥ limit 2: straight to the DLQ, no delay.
    const last = await sendBack(record.physicalOffset, group, { maxReconsumeTimes: '2' });
    expect(last.code, last.remark).toBe(ResponseCode.SUCCESS);
    const dlqTopic = `%DLQ%${group}`;
    const dead = await pullNext(raw, broker, 'DlqReader', dlqTopic, 0, 0n);
    expect(dead.records).toHaveLength(1);
    const d = dead.records[0];
    expect(d).toMatchObject({ topic: dlqTopic, queueId: 0, reconsumeTimes: 3 });
    expect(d.body.toString()).toBe('poison');
    expect(Object.fromEntries(d.properties)).toMatchObject({
      RETRY_TOPIC: topic,
      ORIGIN_MESSAGE_ID: originalOffsetId,
      KEYS: 'k-1 k-2',
      TAGS: 'T1',
      UNIQ_KEY: 'AAAABBBBCCCCDDDDEEEEFFFF00001111',
    });
    expect(d.properties.has('DELAY')).toBe(false);
    // Nothing more in the retry topic.
    const none = await raw.pull(broker, {
      group,
      topic: retryTopic,
      queueId: 0,
      offset: retryOffset,
      subscription: '*',
      suspendTimeoutMillis: 1500,
    });
    expect(none.code).toBe(ResponseCode.PULL_NOT_FOUND);

    // The DLQ is routable (one readable queue) so tools can read and re-send from it.
    await waitFor(async () => (await raw.invoke(mq.namesrvAddr, 105, { topic: dlqTopic })).code === 0, 5000);
    const route = JSON.parse((await raw.invoke(mq.namesrvAddr, 105, { topic: dlqTopic })).body!.toString());
    expect(route.queueDatas).toEqual([
      { brokerName: 'broker-a', readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
    ]);

    // Dead letters show in the broker's metrics under the DLQ topic (the chart's DLQ alert reads this).
    const metrics = await (await fetch(`http://127.0.0.1:${mq.httpPort}/metrics`)).text();
    expect(metrics).toContain(`bolide_messages_in_total{topic="${dlqTopic}"} 1`);
    expect(metrics).toContain(`bolide_messages_in_total{topic="${retryTopic}"} 2`);
    expect(metrics).toContain(`bolide_messages_sent_back_total{group="${group}",target="dlq"} 1`);
    expect(metrics).toContain(`bolide_messages_sent_back_total{group="${group}",target="retry"} 2`);
    expect(metrics).toMatch(/bolide_scheduled_messages_delivered_total\{level="3"\} \d+/);

    // Consume stats of the group include its retry and DLQ topics.
    const stats = (await raw.invoke(broker, 208, { consumerGroup: group })).body!.toString();
    expect(stats).toContain(`"topic":"${retryTopic}"}:{"brokerOffset":2,`);
    expect(stats).toContain(`"topic":"${dlqTopic}"}:{"brokerOffset":1,"consumerOffset":0,`);
  });

  it("uses the group's retryMaxTimes when the request has no limit, and level < 0 means the DLQ", async () => {
    const topic = uniqueName('GroupLimitT');
    const group = uniqueName('GroupLimitG');
    await createTopic(raw, broker, topic, 1);
    const body = Buffer.from(JSON.stringify({ groupName: group, retryMaxTimes: 0, retryQueueNums: 1 }));
    expect((await raw.invoke(broker, 200, {}, body)).code).toBe(ResponseCode.SUCCESS);
    await raw.send(broker, topic, 'a', { queueId: 0 });
    await raw.send(broker, topic, 'b', { queueId: 0 });
    const got = await pullNext(raw, broker, group, topic, 0, 0n);
    expect(got.records).toHaveLength(2);
    expect((await sendBack(got.records[0].physicalOffset, group)).code).toBe(ResponseCode.SUCCESS);
    const other = uniqueName('OtherG');
    expect((await sendBack(got.records[1].physicalOffset, other, { delayLevel: '-1' })).code).toBe(
      ResponseCode.SUCCESS,
    );
    const dead = await pullNext(raw, broker, 'DlqReader', `%DLQ%${group}`, 0, 0n);
    expect(dead.records.map((r) => r.body.toString())).toEqual(['a']);
    const dead2 = await pullNext(raw, broker, 'DlqReader', `%DLQ%${other}`, 0, 0n);
    expect(dead2.records.map((r) => [r.body.toString(), r.reconsumeTimes])).toEqual([['b', 1]]);
  });

  it('honours an explicit delay level', async () => {
    const topic = uniqueName('LevelT');
    const group = uniqueName('LevelG');
    await createTopic(raw, broker, topic, 1);
    await raw.send(broker, topic, 'x', { queueId: 0 });
    const got = await pullNext(raw, broker, group, topic, 0, 0n);
    const backAt = Date.now();
    // Level 5 = 3 s instead of the default level 3 = 1 s.
    expect((await sendBack(got.records[0].physicalOffset, group, { delayLevel: '5' })).code).toBe(
      ResponseCode.SUCCESS,
    );
    const retry = await pullNext(raw, broker, group, `%RETRY%${group}`, 0, 0n);
    expect(retry.records).toHaveLength(1);
    expect(retry.at - backAt).toBeGreaterThanOrEqual(3000 - 20);
    expect(retry.records[0].properties.has('DELAY')).toBe(false);
  });

  it('answers bad send-backs and bad delay levels clearly and loses nothing', async () => {
    const topic = uniqueName('BadT');
    const group = uniqueName('BadG');
    await createTopic(raw, broker, topic, 1);
    const ok = await raw.send(broker, topic, 'keep-me', { queueId: 0 });
    const { physicalOffset } = parseOffsetMessageId(ok.extFields.msgId);

    const unknownOffset = await sendBack(10n ** 12n, group);
    expect(unknownOffset.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(unknownOffset.remark).toContain('look message by offset failed');
    const midRecord = await sendBack(physicalOffset + 3n, group);
    expect(midRecord.code).toBe(ResponseCode.SYSTEM_ERROR);
    const badLevel = await sendBack(physicalOffset, group, { delayLevel: '19' });
    expect(badLevel.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    expect(badLevel.remark).toMatch(/19 is out of range.*1-18/);
    const badGroup = await sendBack(physicalOffset, 'bad group');
    expect(badGroup.code).toBe(ResponseCode.SYSTEM_ERROR);
    const missing = await raw.invoke(broker, 36, { offset: String(physicalOffset) });
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missing.remark).toMatch(/custom field <\w+> is null/);

    // With auto-creation off, an unknown group is refused with SUBSCRIPTION_GROUP_NOT_EXIST.
    expect((await raw.invoke(broker, 25, {}, Buffer.from('autoCreateSubscriptionGroup=false\n'))).code).toBe(
      0,
    );
    try {
      const unknownGroup = await sendBack(physicalOffset, uniqueName('NoSuchG'));
      expect(unknownGroup.code).toBe(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
    } finally {
      await raw.invoke(broker, 25, {}, Buffer.from('autoCreateSubscriptionGroup=true\n'));
    }

    // A delayed send: a level the table lacks or a non-number is refused; the message is not stored.
    const tooFar = await raw.send(broker, topic, 'late', { queueId: 0, properties: { DELAY: '19' } });
    expect(tooFar.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    expect(tooFar.remark).toMatch(/delay level 19 is out of range/);
    const notANumber = await raw.send(broker, topic, 'late', { queueId: 0, properties: { DELAY: 'soon' } });
    expect(notANumber.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    // Sending to the schedule topic itself is forbidden.
    const direct = await raw.send(broker, 'SCHEDULE_TOPIC_XXXX', 'x', { queueId: 0 });
    expect(direct.code).toBe(ResponseCode.NO_PERMISSION);

    // Nothing lost, nothing extra: the queue holds exactly the one good message; no retry was written.
    const all = await raw.pull(broker, {
      group,
      topic,
      queueId: 0,
      offset: 0,
      subscription: '*',
      suspend: false,
    });
    expect(recordsOf(all).map((r) => r.body.toString())).toEqual(['keep-me']);
    const retry = await raw.invoke(broker, 30, { topic: `%RETRY%${group}`, queueId: '0' });
    expect(retry.extFields.offset).toBe('0');
  });

  it('exposes the schedule progress (GET_ALL_DELAY_OFFSET, runtime info)', async () => {
    const r = await raw.invoke(broker, 45);
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(r.body!.toString()).toMatch(/^\{"offsetTable":\{/);
    const info = parseBodyJson((await raw.invoke(broker, 28)).body!) as { table: Record<string, string> };
    expect(info.table.scheduleMessageOffset_3).toMatch(/^\d+,\d+$/);
  });
});
