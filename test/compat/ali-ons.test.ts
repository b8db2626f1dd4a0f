// Third-party client compatibility: the npm package ali-ons (pure JS, RocketMQ remoting, JSON
// headers with raw JS values, version 121, no UNIQ_KEY) produces and consumes against a real
// Bolide standalone over loopback, with tags and keys, and interoperates with the TS client.

import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, type MessageExt, Producer, PushConsumer } from '../../broker-image/src/client/index.js';
import { createRoutedTopic, uniqueName, waitFor } from '../client/support.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';

// ali-ons is CommonJS without types; only the few members used here are described.
interface OnsMessage {
  topic: string;
  tags: string | undefined;
  keys: string | undefined;
  body: Buffer;
  msgId: string;
  queueId: number;
  queueOffset: number;
  reconsumeTimes: number;
  properties: Record<string, string>;
}
interface OnsSendResult {
  sendStatus: string;
  msgId: string;
  messageQueue: { topic: string; brokerName: string; queueId: number };
  queueOffset: number;
}
interface OnsProducer {
  ready(): Promise<void>;
  send(msg: unknown): Promise<OnsSendResult>;
  close(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}
interface OnsConsumer {
  ready(): Promise<void>;
  subscribe(topic: string, expression: string, handler: (msg: OnsMessage) => Promise<unknown>): void;
  close(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
  processQueueTable: Map<string, unknown>;
}
interface AliOns {
  Producer: new (options: Record<string, unknown>) => OnsProducer;
  Consumer: (new (options: Record<string, unknown>) => OnsConsumer) & { ACTION_RETRY: symbol };
  Message: new (topic: string, tags: string | undefined, body: string | Buffer) => { keys: string[] };
}

const ons = createRequire(import.meta.url)('ali-ons') as AliOns;

const quietLogger = { info() {}, debug() {}, warn() {}, error() {} };
// ali-ons asserts an HTTP client exists; it is only used without `nameSrv` (Aliyun address lookup).
const httpclient = {
  async request() {
    throw new Error('ali-ons must not look up name servers over HTTP in this test');
  },
};

let rmq: LocalRocketMQ;
let admin: AdminClient;
const onsErrors: Error[] = [];
/** ali-ons clients share one connection pool per process; errors while one of them closes are expected. */
let closing = 0;
function recordError(err: Error): void {
  if (closing === 0) onsErrors.push(err);
}
async function closeQuietly(client: { close(): Promise<void> }): Promise<void> {
  closing++;
  try {
    await client.close();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    closing--;
  }
}

function onsOptions(extra: Record<string, unknown>) {
  return { nameSrv: rmq.namesrvAddr, httpclient, logger: quietLogger, ...extra };
}

function createTopic(queues: number): Promise<string> {
  return createRoutedTopic(admin, rmq.brokerAddr, 'OnsT', queues);
}

beforeAll(async () => {
  // Short delay levels: a retried message comes back after 1 s instead of 10 s.
  rmq = await startStandalone({ brokerConf: { messageDelayLevel: Array(18).fill('1s').join(' ') } });
  admin = new AdminClient({ namesrvAddr: rmq.namesrvAddr });
});

afterAll(async () => {
  await admin?.close();
  await rmq?.stop();
});

describe('ali-ons 3.12.0 against Bolide', () => {
  it('produces with tags and keys and consumes a tag subscription', async () => {
    const topic = await createTopic(4);
    const producer = new ons.Producer(onsOptions({ producerGroup: uniqueName('OnsPG') }));
    producer.on('error', recordError);
    await producer.ready();
    const sent: { body: string; tag: string; result: OnsSendResult }[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const tag = i % 2 === 0 ? 'TagA' : 'TagB';
        const msg = new ons.Message(topic, tag, `ons-${i}`);
        msg.keys = [`key-${i}`, 'common'];
        const result = await producer.send(msg);
        expect(result.sendStatus).toBe('SEND_OK');
        expect(result.msgId).toMatch(/^[0-9A-F]{32}$/);
        sent.push({ body: `ons-${i}`, tag, result });
      }
    } finally {
      await closeQuietly(producer);
    }

    const consumer = new ons.Consumer(
      onsOptions({ consumerGroup: uniqueName('OnsCG'), consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }),
    );
    consumer.on('error', recordError);
    const received: OnsMessage[] = [];
    consumer.subscribe(topic, 'TagA', async (msg) => {
      received.push(msg);
    });
    await consumer.ready();
    try {
      const wanted = sent.filter((s) => s.tag === 'TagA');
      await waitFor(
        () => received.length >= wanted.length,
        60_000,
        () => `${wanted.length} TagA messages, have ${received.length}`,
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(received.map((m) => m.body.toString()).sort()).toEqual(wanted.map((w) => w.body).sort());
      for (const m of received) {
        const i = Number(m.body.toString().slice(4));
        expect(m.tags).toBe('TagA');
        expect(m.keys).toBe(`key-${i} common`);
        expect(m.topic).toBe(topic);
        // ali-ons ids are offset message ids, the same the broker returned on send.
        expect(m.msgId).toBe(sent[i].result.msgId);
        expect(m.queueOffset).toBe(Number(sent[i].result.queueOffset));
      }
    } finally {
      await closeQuietly(consumer);
    }
  });

  it('interoperates with the TypeScript client in both directions', async () => {
    const topic = await createTopic(2);
    // ali-ons → TS consumer
    const onsProducer = new ons.Producer(onsOptions({ producerGroup: uniqueName('OnsPG') }));
    onsProducer.on('error', recordError);
    await onsProducer.ready();
    try {
      const msg = new ons.Message(topic, 'FromOns', 'hello from ali-ons');
      msg.keys = ['ons-key'];
      await onsProducer.send(msg);
    } finally {
      await closeQuietly(onsProducer);
    }
    const tsReceived: MessageExt[] = [];
    const tsConsumer = new PushConsumer({
      namesrvAddr: rmq.namesrvAddr,
      consumerGroup: uniqueName('TsCG'),
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    });
    tsConsumer.subscribe(topic, 'FromOns');
    tsConsumer.registerMessageListener((msgs) => {
      tsReceived.push(...msgs);
      return 'CONSUME_SUCCESS';
    });
    await tsConsumer.start();
    try {
      await waitFor(
        () => tsReceived.length >= 1,
        30_000,
        () => 'the ali-ons message at the TS consumer',
      );
      const [m] = tsReceived;
      expect(m.body.toString()).toBe('hello from ali-ons');
      expect(m.keys).toBe('ons-key');
      expect(m.tags).toBe('FromOns');
      expect(m.msgId).toBe(m.offsetMsgId);
    } finally {
      await tsConsumer.shutdown();
    }

    // TS producer → ali-ons consumer
    const tsProducer = new Producer({ namesrvAddr: rmq.namesrvAddr, producerGroup: uniqueName('TsPG') });
    await tsProducer.start();
    let sent: Awaited<ReturnType<Producer['send']>>;
    try {
      sent = await tsProducer.send({
        topic,
        body: Buffer.from('hello from TS'),
        tags: 'FromTs',
        keys: ['a', 'b'],
      });
    } finally {
      await tsProducer.shutdown();
    }
    const onsConsumer = new ons.Consumer(
      onsOptions({ consumerGroup: uniqueName('OnsCG'), consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }),
    );
    onsConsumer.on('error', recordError);
    const onsReceived: OnsMessage[] = [];
    onsConsumer.subscribe(topic, 'FromTs', async (msg) => {
      onsReceived.push(msg);
    });
    await onsConsumer.ready();
    try {
      await waitFor(
        () => onsReceived.length >= 1,
        60_000,
        () => 'the TS message at the ali-ons consumer',
      );
      const [m] = onsReceived;
      expect(m.body.toString()).toBe('hello from TS');
      expect(m.tags).toBe('FromTs');
      expect(m.keys).toBe('a b');
      expect(m.properties.UNIQ_KEY).toBe(sent.msgId);
      expect(m.msgId).toBe(sent.offsetMsgId);
    } finally {
      await closeQuietly(onsConsumer);
    }
  });

  it('retries a message the ali-ons handler asks to retry', async () => {
    const topic = await createTopic(1);
    const producer = new Producer({ namesrvAddr: rmq.namesrvAddr, producerGroup: uniqueName('TsPG') });
    await producer.start();
    try {
      await producer.send({ topic, body: Buffer.from('again'), tags: 'R' });
    } finally {
      await producer.shutdown();
    }
    const consumer = new ons.Consumer(
      onsOptions({ consumerGroup: uniqueName('OnsCG'), consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }),
    );
    consumer.on('error', recordError);
    const attempts: OnsMessage[] = [];
    consumer.subscribe(topic, '*', async (msg) => {
      attempts.push(msg);
      return attempts.length === 1 ? ons.Consumer.ACTION_RETRY : undefined;
    });
    await consumer.ready();
    try {
      await waitFor(
        () => attempts.length >= 2,
        90_000,
        () => `a redelivery, have ${attempts.length}`,
      );
      expect(attempts[1].body.toString()).toBe('again');
      expect(attempts[1].topic).toBe(topic);
      expect(attempts[1].reconsumeTimes).toBe(1);
    } finally {
      await closeQuietly(consumer);
    }
  });

  it('shares one consumer group with the TypeScript client: same allocation, each message once', async () => {
    const topic = await createTopic(8);
    const group = uniqueName('MixedCG');
    const tsBodies: string[] = [];
    const onsBodies: string[] = [];
    const tsConsumer = new PushConsumer({
      namesrvAddr: rmq.namesrvAddr,
      consumerGroup: group,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      rebalanceIntervalMs: 2_000,
      heartbeatBrokerIntervalMs: 2_000,
    });
    tsConsumer.subscribe(topic, '*');
    tsConsumer.registerMessageListener((msgs) => {
      for (const m of msgs) tsBodies.push(m.body.toString());
      return 'CONSUME_SUCCESS';
    });
    const onsConsumer = new ons.Consumer(
      onsOptions({
        consumerGroup: group,
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        rebalanceInterval: 2_000,
      }),
    );
    onsConsumer.on('error', recordError);
    onsConsumer.subscribe(topic, '*', async (msg) => {
      onsBodies.push(msg.body.toString());
    });
    await tsConsumer.start();
    await onsConsumer.ready();
    const producer = new Producer({ namesrvAddr: rmq.namesrvAddr, producerGroup: uniqueName('TsPG') });
    await producer.start();
    try {
      const onsQueues = () =>
        [...onsConsumer.processQueueTable.keys()]
          .filter((k) => k.includes(`topic="${topic}"`))
          .map((k) => Number(/queueId="(\d+)"/.exec(k)![1]));
      const tsQueues = () =>
        tsConsumer
          .assignedQueues()
          .filter((q) => q.topic === topic)
          .map((q) => q.queueId);
      await waitFor(
        () => {
          const all = [...onsQueues(), ...tsQueues()];
          return onsQueues().length === 4 && tsQueues().length === 4 && new Set(all).size === 8;
        },
        60_000,
        () => `a 4 + 4 split, have ali-ons [${onsQueues()}] and TS [${tsQueues()}]`,
      );
      // Both clients sort "ip@pid" ids the same way; ali-ons' id sorts first, so it takes queues 0–3.
      expect(onsQueues().sort()).toEqual([0, 1, 2, 3]);
      expect(tsQueues().sort()).toEqual([4, 5, 6, 7]);

      const bodies = Array.from({ length: 400 }, (_, i) => `mixed-${i}`);
      for (const body of bodies) await producer.send({ topic, body: Buffer.from(body) });
      await waitFor(
        () => new Set([...tsBodies, ...onsBodies]).size === bodies.length,
        60_000,
        () => `400 messages, have ${tsBodies.length} + ${onsBodies.length}`,
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(tsBodies.length + onsBodies.length).toBe(400);
      expect(tsBodies.length).toBe(200);
      expect(onsBodies.length).toBe(200);
    } finally {
      await producer.shutdown();
      await tsConsumer.shutdown();
      await closeQuietly(onsConsumer);
    }
  });

  it('reported no client errors', () => {
    // Expected error events: QUERY_NOT_FOUND for a fresh group's offset. Send-back (36) is answered now,
    // so ali-ons' retry goes through the broker's retry topic (the retry test above).
    const expected = /code: 22|QUERY_NOT_FOUND|not found/i;
    const unexpected = onsErrors.filter((e) => !expected.test(e.message));
    expect(unexpected.map((e) => e.message)).toEqual([]);
  });
});
