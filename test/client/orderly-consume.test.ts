// Orderly push consumption against a real standalone broker: per queue in order across local
// retries, a message past maxReconsumeTimes dead-lettered while the queue goes on, and two orderly
// consumers of one group that never consume the same queue at the same time (broker queue locks),
// also while queues move between them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientApi } from '../../broker-image/src/client/client-api.js';
import {
  type AdminClient,
  ConsumeOrderlyStatus,
  type MessageExt,
  type MessageQueueSelector,
  type Producer,
  PushConsumer,
} from '../../broker-image/src/client/index.js';
import { parseBodyJson } from '../../broker-image/src/protocol/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';
import type { LocalRocketMQ } from '../harness/local-rocketmq.js';
import {
  createRoutedTopic,
  fastConsumerOptions,
  startBrokerWithClients,
  stopBrokerWithClients,
  uniqueName,
  waitFor,
} from './support.js';

let rmq: LocalRocketMQ;
let admin: AdminClient;
let producer: Producer;

/** Order n goes to queue n mod queues, so every queue carries orders. */
const byOrderIndex: MessageQueueSelector = (mqs, _msg, arg) => mqs[(arg as number) % mqs.length];

beforeAll(async () => {
  ({ rmq, admin, producer } = await startBrokerWithClients());
});

afterAll(async () => {
  await stopBrokerWithClients({ rmq, admin, producer });
});

function createTopic(queues: number): Promise<string> {
  return createRoutedTopic(admin, rmq.brokerAddr, 'OrderT', queues, { order: true });
}

async function sendOrders(topic: string, orders: number, perOrder: number, pauseMs = 0): Promise<void> {
  for (let seq = 0; seq < perOrder; seq++) {
    await Promise.all(
      Array.from({ length: orders }, (_, o) =>
        producer.sendOrderly(
          { topic, body: Buffer.from(`${o}:${seq}`), keys: `order-${o}` },
          byOrderIndex,
          o,
        ),
      ),
    );
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

function parse(m: MessageExt): { order: number; seq: number } {
  const [order, seq] = m.body.toString().split(':').map(Number);
  return { order, seq };
}

interface Attempt {
  consumer: string;
  queueId: number;
  offset: number;
  order: number;
  seq: number;
  reconsumeTimes: number;
  ok: boolean;
  start: number;
  end: number;
}

function orderlyConsumer(
  name: string,
  topic: string,
  group: string,
  log: Attempt[],
  decide: (m: MessageExt) => boolean,
  extra: Partial<ConstructorParameters<typeof PushConsumer>[0]> = {},
): PushConsumer {
  const consumer = new PushConsumer({
    ...fastConsumerOptions(rmq.namesrvAddr, group),
    instanceName: `${name}-${process.pid}`,
    suspendCurrentQueueTimeMillis: 50,
    ...extra,
  });
  consumer.subscribe(topic, '*');
  consumer.registerMessageListenerOrderly(async (msgs) => {
    const start = Date.now();
    await new Promise((r) => setTimeout(r, 2));
    let ok = true;
    for (const m of msgs) ok = decide(m) && ok;
    const end = Date.now();
    for (const m of msgs) {
      log.push({
        consumer: name,
        queueId: m.queueId,
        offset: m.queueOffset,
        ...parse(m),
        reconsumeTimes: m.reconsumeTimes,
        ok,
        start,
        end,
      });
    }
    return ok ? ConsumeOrderlyStatus.SUCCESS : ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
  });
  return consumer;
}

/** First successful delivery of every (order, seq) in delivery order, per order. */
function successSequences(log: readonly Attempt[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const a of log) {
    if (!a.ok) continue;
    const list = out.get(a.order) ?? [];
    list.push(a.seq);
    out.set(a.order, list);
  }
  return out;
}

describe('orderly push consumer', () => {
  it('consumes each queue in order and redelivers a failed message in place with reconsumeTimes 0, 1, 2', async () => {
    const topic = await createTopic(4);
    const orders = 8;
    const perOrder = 25;
    await sendOrders(topic, orders, perOrder);
    const log: Attempt[] = [];
    // Every 10th message (seq 5, 15) fails twice before it succeeds.
    const consumer = orderlyConsumer('solo', topic, uniqueName('OrderCG'), log, (m) => {
      const { seq } = parse(m);
      return seq % 10 !== 5 || m.reconsumeTimes >= 2;
    });
    await consumer.start();
    try {
      await waitFor(
        () => log.filter((a) => a.ok).length >= orders * perOrder,
        60_000,
        () => `${orders * perOrder} successes, have ${log.filter((a) => a.ok).length}`,
      );
      const sequences = successSequences(log);
      for (let o = 0; o < orders; o++) {
        expect(sequences.get(o), `order ${o}`).toEqual(Array.from({ length: perOrder }, (_, i) => i));
      }
      for (let o = 0; o < orders; o++) {
        for (const seq of [5, 15]) {
          const attempts = log.filter((a) => a.order === o && a.seq === seq).map((a) => a.reconsumeTimes);
          expect(attempts, `order ${o} seq ${seq}`).toEqual([0, 1, 2]);
        }
      }
      // Within a queue the delivered offsets never go back, and no two calls of a queue overlap.
      for (let q = 0; q < 4; q++) {
        const ofQueue = log.filter((a) => a.queueId === q);
        for (let i = 1; i < ofQueue.length; i++) {
          expect(ofQueue[i].offset).toBeGreaterThanOrEqual(ofQueue[i - 1].offset);
          expect(ofQueue[i].start).toBeGreaterThanOrEqual(ofQueue[i - 1].end);
        }
      }
      // The committed offsets reach the end of every queue.
      await waitFor(
        async () => {
          const stats = await admin.getConsumeStats(consumer.group, topic);
          const mine = stats.queues.filter((s) => s.messageQueue.topic === topic);
          return mine.length === 4 && mine.every((s) => s.lag === 0 && s.brokerOffset > 0);
        },
        20_000,
        () => 'offsets committed to the end',
      );
      expect(consumer.lockedQueues().filter((q) => q.topic === topic)).toHaveLength(4);
    } finally {
      await consumer.shutdown();
    }
  });

  it('dead-letters a message that fails past maxReconsumeTimes and goes on with the queue', async () => {
    const topic = await createTopic(1);
    const group = uniqueName('OrderDlqCG');
    await producer.send({ topic, body: Buffer.from('0:0'), keys: 'before' });
    const poison = await producer.send({ topic, body: Buffer.from('0:1'), keys: 'poison', tags: 'P' });
    await producer.send({ topic, body: Buffer.from('0:2'), keys: 'after' });
    const log: Attempt[] = [];
    const consumer = orderlyConsumer('dlq', topic, group, log, (m) => m.keys !== 'poison', {
      maxReconsumeTimes: 2,
    });
    await consumer.start();
    try {
      await waitFor(
        () => log.some((a) => a.seq === 2 && a.ok),
        30_000,
        () => `the message after the poison one, have ${JSON.stringify(log)}`,
      );
      expect(log.map((a) => `${a.seq}/${a.reconsumeTimes}/${a.ok}`)).toEqual([
        '0/0/true',
        '1/0/false',
        '1/1/false',
        '1/2/false',
        '2/0/true',
      ]);
      const dlq = `%DLQ%${group}`;
      let dead: MessageExt[] = [];
      await waitFor(
        async () => {
          if (!(await admin.getTopicRoute(dlq))) return false;
          dead = (await admin.pullFromQueue({ topic: dlq, brokerName: 'broker-a', queueId: 0 }, 0, 32))
            .messages;
          return dead.length > 0;
        },
        20_000,
        () => 'a message in the DLQ',
      );
      expect(dead).toHaveLength(1);
      expect(dead[0].body.toString()).toBe('0:1');
      expect(dead[0].keys).toBe('poison');
      expect(dead[0].tags).toBe('P');
      expect(dead[0].properties.RETRY_TOPIC).toBe(topic);
      expect(dead[0].properties.UNIQ_KEY).toBe(poison.msgId);
      const byKey = await admin.queryMessagesByKey(dlq, 'poison');
      expect(byKey.map((m) => m.body.toString())).toEqual(['0:1']);
    } finally {
      await consumer.shutdown();
    }
  });

  it('never lets two consumers of a group consume the same queue at once, also while queues move', async () => {
    const topic = await createTopic(4);
    const group = uniqueName('OrderPairCG');
    const orders = 4;
    const perOrder = 150;
    const log: Attempt[] = [];
    const a = orderlyConsumer('A', topic, group, log, () => true);
    const b = orderlyConsumer('B', topic, group, log, () => true);
    const lockClashes: string[] = [];
    const sampler = setInterval(() => {
      const held = new Map<number, string>();
      for (const [name, c] of [
        ['A', a],
        ['B', b],
      ] as const) {
        for (const q of c.lockedQueues()) {
          if (q.topic !== topic) continue;
          const other = held.get(q.queueId);
          if (other) lockClashes.push(`queue ${q.queueId} held by ${other} and ${name}`);
          held.set(q.queueId, name);
        }
      }
    }, 20);
    await a.start();
    try {
      const sending = sendOrders(topic, orders, perOrder, 25);
      await waitFor(
        () => log.length >= 100,
        30_000,
        () => 'A consuming',
      );
      await b.start();
      await waitFor(
        () => log.some((x) => x.consumer === 'B'),
        30_000,
        () => 'B taking over some queues',
      );
      await waitFor(
        () => log.length >= 350,
        60_000,
        () => `350 deliveries, have ${log.length}`,
      );
      await a.shutdown();
      await sending;
      await waitFor(
        () => successSequences(log).get(0)?.length === perOrder || log.length >= orders * perOrder,
        60_000,
        () => `all deliveries, have ${log.length}`,
      );
      await waitFor(
        () => [...successSequences(log).values()].every((s) => new Set(s).size === perOrder),
        60_000,
        () => `every order complete, have ${[...successSequences(log).values()].map((s) => s.length)}`,
      );
      clearInterval(sampler);

      expect(lockClashes).toEqual([]);
      // No two listener calls on one queue overlap, whichever consumer made them.
      for (let q = 0; q < 4; q++) {
        const calls = log.filter((x) => x.queueId === q).sort((x, y) => x.start - y.start);
        for (let i = 1; i < calls.length; i++) {
          expect(
            calls[i].start,
            `queue ${q}: ${JSON.stringify([calls[i - 1], calls[i]])}`,
          ).toBeGreaterThanOrEqual(calls[i - 1].end);
        }
      }
      // Per order: every message, in order; the handover is clean (offsets committed before unlocking).
      let duplicates = 0;
      for (const [order, seqs] of successSequences(log)) {
        const firsts: number[] = [];
        const seen = new Set<number>();
        for (const s of seqs) {
          if (seen.has(s)) duplicates++;
          else firsts.push(s);
          seen.add(s);
        }
        expect(firsts, `order ${order}`).toEqual(Array.from({ length: perOrder }, (_, i) => i));
      }
      expect(duplicates).toBe(0);
      const consumers = new Set(log.map((x) => x.consumer));
      expect([...consumers].sort()).toEqual(['A', 'B']);
    } finally {
      clearInterval(sampler);
      await a.shutdown();
      await b.shutdown();
    }
  });

  it('holds its queue locks while running, renews them, and releases them on shutdown', async () => {
    const topic = await createTopic(2);
    const group = uniqueName('OrderLockCG');
    const log: Attempt[] = [];
    const consumer = orderlyConsumer('L', topic, group, log, () => true, { lockIntervalMs: 200 });
    const api = new ClientApi(new RemotingClient({ name: 'intruder' }), {
      namesrvAddrs: [rmq.namesrvAddr],
      namesrvTimeoutMs: 3_000,
    });
    const queues = [0, 1].map((queueId) => ({ topic, brokerName: 'broker-a', queueId }));
    const intruderLock = () => api.lockBatchMQ(rmq.brokerAddr, group, 'intruder@1', queues, 3_000);
    await consumer.start();
    try {
      await waitFor(
        () => consumer.lockedQueues().filter((q) => q.topic === topic).length === 2,
        20_000,
        () => 'both queues locked',
      );
      expect(await intruderLock()).toEqual([]);
      const lastLock = () => {
        const info = parseInfo(consumer.runningInfo(group)!);
        return Math.min(...Object.values(info.mqTable).map((q) => q.lastLockTimestamp));
      };
      const first = lastLock();
      await waitFor(
        () => lastLock() > first,
        10_000,
        () => 'a lock renewal',
      );
      expect(await intruderLock()).toEqual([]);
    } finally {
      await consumer.shutdown();
    }
    // Released at shutdown, not left to expire after 60 s.
    try {
      expect((await intruderLock()).map((q) => q.queueId).sort()).toEqual([0, 1]);
    } finally {
      await api.remoting.close();
    }
  });
});

function parseInfo(body: Buffer): {
  mqTable: Record<string, { lastLockTimestamp: number; locked: boolean }>;
} {
  return parseBodyJson(body, { largeIntegers: 'number' }) as {
    mqTable: Record<string, { lastLockTimestamp: number; locked: boolean }>;
  };
}
