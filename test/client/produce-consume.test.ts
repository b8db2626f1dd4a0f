// The TypeScript client against a real standalone broker over loopback: every send mode, batches,
// ordered sends, tag filtering, retries, and the ROCKETMQ binary header encoding.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminClient,
  ConsumeStatus,
  type MessageExt,
  type MessageQueue,
  Producer,
  PushConsumer,
  type PushConsumerOptions,
  selectMessageQueueByHash,
} from '../../broker-image/src/client/index.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import {
  createRoutedTopic,
  type Delivery,
  fastConsumerOptions,
  RecordingConsumer,
  tally,
  uniqueName,
  waitFor,
} from './support.js';

let rmq: LocalRocketMQ;
let admin: AdminClient;

function createTopic(queues: number): Promise<string> {
  return createRoutedTopic(admin, rmq.brokerAddr, 'T', queues);
}

beforeAll(async () => {
  rmq = await startStandalone();
  admin = new AdminClient({ namesrvAddr: rmq.namesrvAddr });
});

afterAll(async () => {
  await admin?.close();
  await rmq?.stop();
});

for (const serializeType of ['JSON', 'ROCKETMQ'] as const) {
  describe(`producer and consumer with ${serializeType} headers`, () => {
    it('sends sync, async and oneway, and delivers tags, keys, properties and UNIQ_KEY ids', async () => {
      const topic = await createTopic(4);
      const producer = new Producer({
        namesrvAddr: rmq.namesrvAddr,
        producerGroup: uniqueName('PG'),
        serializeType,
      });
      await producer.start();
      const log: Delivery[] = [];
      const consumer = new RecordingConsumer(
        'c',
        { ...fastConsumerOptions(rmq.namesrvAddr, uniqueName('CG')), serializeType },
        topic,
        '*',
        log,
      );
      try {
        await consumer.start();
        const big = Buffer.alloc(64 * 1024, 'z'); // compressed on the wire (≥ 4 KiB)
        const sync = await producer.send({
          topic,
          body: Buffer.from('sync'),
          tags: 'TagA',
          keys: ['k1', 'k2'],
          properties: { color: 'blue' },
        });
        expect(sync.sendStatus).toBe('SEND_OK');
        expect(sync.msgId).toMatch(/^[0-9A-F]{32}$/);
        expect(sync.offsetMsgId).toMatch(/^[0-9A-F]{32}$/);
        expect(sync.messageQueue.topic).toBe(topic);
        const async = await producer.sendAsync({ topic, body: Buffer.from('async'), tags: 'TagB' });
        expect(async.sendStatus).toBe('SEND_OK');
        await producer.sendOneway({ topic, body: Buffer.from('oneway') });
        const bigResult = await producer.send({ topic, body: big, tags: 'Big' });

        const expected = ['sync', 'async', 'oneway', big.toString()];
        await waitFor(
          () => tally(log, expected).distinct === 4,
          30_000,
          () => `4 messages, have ${log.length}`,
        );
        const byBody = new Map(log.map((d) => [d.body, d.msg]));
        const s = byBody.get('sync')!;
        expect(s.tags).toBe('TagA');
        expect(s.keys).toBe('k1 k2');
        expect(s.properties.color).toBe('blue');
        expect(s.msgId).toBe(sync.msgId);
        expect(s.offsetMsgId).toBe(sync.offsetMsgId);
        expect(s.queueOffset).toBe(sync.queueOffset);
        expect(s.queueId).toBe(sync.messageQueue.queueId);
        expect(s.reconsumeTimes).toBe(0);
        expect(byBody.get('async')!.msgId).toBe(async.msgId);
        expect(byBody.get(big.toString())!.msgId).toBe(bigResult.msgId);
        expect(byBody.get(big.toString())!.body.equals(big)).toBe(true);
        expect(tally(log, expected).duplicates).toBe(0);
      } finally {
        await consumer.shutdown();
        await producer.shutdown();
      }
    });
  });
}

describe('topic routes', () => {
  it('auto-creates an unknown topic through the TBW102 route on first send', async () => {
    const topic = uniqueName('AutoT');
    const producer = new Producer({ namesrvAddr: rmq.namesrvAddr, producerGroup: uniqueName('PG') });
    await producer.start();
    try {
      expect(await admin.getTopicRoute(topic)).toBeUndefined();
      const first = await producer.send({ topic, body: Buffer.from('first') });
      expect(first.sendStatus).toBe('SEND_OK');
      expect(first.messageQueue.queueId).toBeLessThan(4);
      await waitFor(
        async () => (await admin.getTopicRoute(topic)) !== undefined,
        10_000,
        () => 'auto-created route',
      );
      const route = await admin.getTopicRoute(topic);
      expect(route!.queueDatas[0].writeQueueNums).toBe(4);
    } finally {
      await producer.shutdown();
    }
  });

  it('lets a consumer start before its topic exists and picks the topic up once created', async () => {
    const topic = uniqueName('LateT');
    const log: Delivery[] = [];
    const consumer = new RecordingConsumer(
      'c',
      fastConsumerOptions(rmq.namesrvAddr, uniqueName('CG')),
      topic,
      '*',
      log,
    );
    await consumer.start();
    const producer = new Producer({ namesrvAddr: rmq.namesrvAddr, producerGroup: uniqueName('PG') });
    await producer.start();
    try {
      await admin.createOrUpdateTopic(rmq.brokerAddr, {
        topicName: topic,
        readQueueNums: 2,
        writeQueueNums: 2,
      });
      await waitFor(
        () => consumer.consumer.assignedQueues().filter((q) => q.topic === topic).length === 2,
        30_000,
        () => 'the new topic assigned',
      );
      await producer.send({ topic, body: Buffer.from('late') });
      await waitFor(
        () => log.some((d) => d.body === 'late'),
        30_000,
        () => 'the message',
      );
    } finally {
      await producer.shutdown();
      await consumer.shutdown();
    }
  });

  it('fails a send with "No route info" when auto-creation is off', async () => {
    const strict = await startStandalone({ brokerConf: { autoCreateTopicEnable: false } });
    const producer = new Producer({ namesrvAddr: strict.namesrvAddr, producerGroup: uniqueName('PG') });
    await producer.start();
    try {
      await expect(producer.send({ topic: uniqueName('NoSuchT'), body: Buffer.from('x') })).rejects.toThrow(
        /No route info of this topic/,
      );
      await expect(producer.send({ topic: 'bad topic', body: Buffer.from('x') })).rejects.toThrow(
        /illegal characters/,
      );
      await expect(producer.send({ topic: 'T', body: Buffer.alloc(0) })).rejects.toThrow(/length is zero/);
    } finally {
      await producer.shutdown();
      await strict.stop();
    }
  });
});

describe('batches, ordered sends, filtering and retries', () => {
  let producer: Producer;

  beforeAll(async () => {
    producer = new Producer({ namesrvAddr: rmq.namesrvAddr, producerGroup: uniqueName('PG') });
    await producer.start();
  });

  afterAll(async () => {
    await producer?.shutdown();
  });

  it('stores a batch consecutively in one queue and delivers every item', async () => {
    const topic = await createTopic(4);
    const msgs = Array.from({ length: 50 }, (_, i) => ({
      topic,
      body: Buffer.from(`b-${i}`),
      tags: 'Batch',
      keys: `key-${i}`,
    }));
    const result = await producer.sendBatch(msgs);
    expect(result.sendStatus).toBe('SEND_OK');
    const ids = result.msgId.split(',');
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    expect(result.offsetMsgId.split(',')).toHaveLength(50);

    const log: Delivery[] = [];
    const consumer = new RecordingConsumer(
      'c',
      fastConsumerOptions(rmq.namesrvAddr, uniqueName('CG')),
      topic,
      '*',
      log,
    );
    await consumer.start();
    try {
      const bodies = msgs.map((m) => m.body.toString());
      await waitFor(
        () => tally(log, bodies).distinct === 50,
        30_000,
        () => `50 batch items, have ${log.length}`,
      );
      const sorted = [...log].sort((a, b) => a.msg.queueOffset - b.msg.queueOffset);
      expect(new Set(sorted.map((d) => d.msg.queueId))).toEqual(new Set([result.messageQueue.queueId]));
      sorted.forEach((d, i) => {
        expect(d.body).toBe(`b-${i}`);
        expect(d.msg.queueOffset).toBe(result.queueOffset + i);
        expect(d.msg.keys).toBe(`key-${i}`);
        expect(d.msg.msgId).toBe(ids[i]);
      });
    } finally {
      await consumer.shutdown();
    }
    await expect(producer.sendBatch([])).rejects.toThrow(/at least one/);
    await expect(producer.sendBatch([{ topic, body: Buffer.from('x'), delayTimeLevel: 2 }])).rejects.toThrow(
      /Delay/,
    );
  });

  it('keeps per-key order with a hash queue selector', async () => {
    const topic = await createTopic(4);
    const orders = ['order-1', 'order-2', 'order-3', 'order-4', 'order-5', 'order-6'];
    const queueOf = new Map<string, MessageQueue>();
    for (let seq = 0; seq < 40; seq++) {
      for (const order of orders) {
        const r = await producer.sendOrderly(
          { topic, body: Buffer.from(`${order}:${seq}`), keys: order },
          selectMessageQueueByHash,
          order,
        );
        const q = queueOf.get(order);
        if (q) expect(r.messageQueue).toEqual(q);
        else queueOf.set(order, r.messageQueue);
      }
    }
    const received: MessageExt[] = [];
    const options: PushConsumerOptions = {
      ...fastConsumerOptions(rmq.namesrvAddr, uniqueName('CG')),
      consumeConcurrency: 1,
    };
    const consumer = new PushConsumer(options);
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener((msgs) => {
      received.push(...msgs);
      return 'CONSUME_SUCCESS';
    });
    await consumer.start();
    try {
      await waitFor(
        () => received.length >= 240,
        30_000,
        () => `240 ordered messages, have ${received.length}`,
      );
      for (const order of orders) {
        const seqs = received
          .filter((m) => m.keys === order)
          .map((m) => {
            expect(m.queueId).toBe(queueOf.get(order)!.queueId);
            return Number(m.body.toString().split(':')[1]);
          });
        expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i));
      }
    } finally {
      await consumer.shutdown();
    }
  });

  it('filters by tag expression on the broker and the client', async () => {
    const topic = await createTopic(4);
    const tags = ['TagA', 'TagB', 'TagC', undefined];
    const sent: { body: string; tag?: string }[] = [];
    for (let i = 0; i < 200; i++) {
      const tag = tags[i % tags.length];
      sent.push({ body: `f-${i}`, tag });
      await producer.send({ topic, body: Buffer.from(`f-${i}`), tags: tag });
    }
    const logAC: Delivery[] = [];
    const logAll: Delivery[] = [];
    const ac = new RecordingConsumer(
      'ac',
      fastConsumerOptions(rmq.namesrvAddr, uniqueName('CG')),
      topic,
      'TagA || TagC',
      logAC,
    );
    const all = new RecordingConsumer(
      'all',
      fastConsumerOptions(rmq.namesrvAddr, uniqueName('CG')),
      topic,
      '*',
      logAll,
    );
    await ac.start();
    await all.start();
    try {
      const wantedAC = sent.filter((s) => s.tag === 'TagA' || s.tag === 'TagC').map((s) => s.body);
      await waitFor(
        () =>
          tally(
            logAll,
            sent.map((s) => s.body),
          ).distinct === 200,
        30_000,
        () => 'all 200',
      );
      await waitFor(
        () => tally(logAC, wantedAC).distinct === wantedAC.length,
        30_000,
        () => 'TagA/TagC messages',
      );
      // The filtered consumer must have committed past the skipped messages too.
      await waitFor(
        async () => {
          const stats = await admin.getConsumeStats(ac.consumer.group, topic);
          return stats.queues.filter((q) => q.messageQueue.topic === topic).every((q) => q.lag === 0);
        },
        30_000,
        () => 'filtered consumer lag 0',
      );
      const t = tally(logAC, wantedAC);
      expect(t.unexpected).toEqual([]);
      expect(t.duplicates).toBe(0);
      expect(logAC.every((d) => d.msg.tags === 'TagA' || d.msg.tags === 'TagC')).toBe(true);
    } finally {
      await ac.shutdown();
      await all.shutdown();
    }
  });

  it('stops pulling while a queue holds more than pullThresholdForQueue messages', async () => {
    const topic = await createTopic(1);
    const bodies = Array.from({ length: 600 }, (_, i) => `fc-${i}`);
    for (let i = 0; i < bodies.length; i += 50) {
      await producer.sendBatch(bodies.slice(i, i + 50).map((b) => ({ topic, body: Buffer.from(b) })));
    }
    const consumer = new PushConsumer({
      ...fastConsumerOptions(rmq.namesrvAddr, uniqueName('CG')),
      pullThresholdForQueue: 40,
      pullBatchSize: 16,
      consumeConcurrency: 2,
    });
    const seen = new Set<string>();
    let peakCached = 0;
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener(async (msgs) => {
      for (const s of consumer.queueStats()) peakCached = Math.max(peakCached, s.cachedCount);
      await new Promise((r) => setTimeout(r, 2));
      for (const m of msgs) seen.add(m.body.toString());
      return ConsumeStatus.CONSUME_SUCCESS;
    });
    await consumer.start();
    try {
      await waitFor(
        () => seen.size === bodies.length,
        60_000,
        () => `600 messages, have ${seen.size}`,
      );
      // Pulls pause once more than 40 are cached; one pull in flight can add at most 16 more.
      expect(peakCached).toBeGreaterThan(16);
      expect(peakCached).toBeLessThanOrEqual(40 + 16);
    } finally {
      await consumer.shutdown();
    }
  });

  it('redelivers a message whose listener asked to reconsume later, with the original topic', async () => {
    const topic = await createTopic(1);
    const attempts: MessageExt[] = [];
    const consumer = new PushConsumer(fastConsumerOptions(rmq.namesrvAddr, uniqueName('CG')));
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener((msgs) => {
      attempts.push(...msgs);
      return attempts.length === 1 ? 'RECONSUME_LATER' : 'CONSUME_SUCCESS';
    });
    await consumer.start();
    try {
      const sent = await producer.send({ topic, body: Buffer.from('retry-me'), tags: 'R' });
      // First retry is delay level 3 (10 s) on the broker, or 5 s locally without send-back support.
      await waitFor(
        () => attempts.length >= 2,
        60_000,
        () => `a redelivery, have ${attempts.length} attempts`,
      );
      const [first, second] = attempts;
      expect(first.body.toString()).toBe('retry-me');
      expect(second.body.toString()).toBe('retry-me');
      expect(second.topic).toBe(topic);
      expect(second.reconsumeTimes).toBe(1);
      expect(second.msgId).toBe(sent.msgId);
      expect(second.tags).toBe('R');
    } finally {
      await consumer.shutdown();
    }
  });
});
