// Clustering consumption against a real standalone broker over loopback: three consumers share
// 8 queues and see each of 10 000 messages exactly once; membership changes rebalance without loss.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient, Message, Producer } from '../../broker-image/src/client/index.js';
import type { LocalRocketMQ } from '../harness/local-rocketmq.js';
import {
  createRoutedTopic,
  type Delivery,
  fastConsumerOptions,
  RecordingConsumer,
  startBrokerWithClients,
  stopBrokerWithClients,
  tally,
  uniqueName,
  waitFor,
} from './support.js';

let rmq: LocalRocketMQ;
let admin: AdminClient;
let producer: Producer;

function createTopic(queues: number): Promise<string> {
  return createRoutedTopic(admin, rmq.brokerAddr, 'GroupT', queues);
}

async function sendAll(topic: string, bodies: string[], concurrency = 32): Promise<void> {
  for (let i = 0; i < bodies.length; i += concurrency) {
    await Promise.all(
      bodies.slice(i, i + concurrency).map((body) => {
        const msg: Message = { topic, body: Buffer.from(body), tags: 'T' };
        return producer.send(msg);
      }),
    );
  }
}

/** Waits until the consumers' assignments of `topic` are disjoint and cover all `queues`. */
async function waitForBalanced(consumers: RecordingConsumer[], topic: string, queues: number): Promise<void> {
  const describe = () =>
    consumers
      .map(
        (c) =>
          `${c.name}:[${c.consumer
            .assignedQueues()
            .filter((q) => q.topic === topic)
            .map((q) => q.queueId)}]`,
      )
      .join(' ');
  await waitFor(
    () => {
      const ids = consumers.flatMap((c) =>
        c.consumer
          .assignedQueues()
          .filter((q) => q.topic === topic)
          .map((q) => q.queueId),
      );
      return ids.length === queues && new Set(ids).size === queues;
    },
    30_000,
    () => `balanced assignment, have ${describe()}`,
  );
}

beforeAll(async () => {
  ({ rmq, admin, producer } = await startBrokerWithClients());
});

afterAll(async () => {
  await stopBrokerWithClients({ rmq, admin, producer });
});

describe('clustering consumers in one group', () => {
  it('deliver each of 10 000 messages across 8 queues exactly once to 3 consumers', async () => {
    const topic = await createTopic(8);
    const group = uniqueName('CG');
    const log: Delivery[] = [];
    const consumers = ['c1', 'c2', 'c3'].map(
      (name) => new RecordingConsumer(name, fastConsumerOptions(rmq.namesrvAddr, group), topic, '*', log),
    );
    for (const c of consumers) await c.start();
    try {
      await waitForBalanced(consumers, topic, 8);
      const assigned = consumers.map(
        (c) => c.consumer.assignedQueues().filter((q) => q.topic === topic).length,
      );
      expect(assigned.sort()).toEqual([2, 3, 3]);

      const bodies = Array.from({ length: 10_000 }, (_, i) => `m-${i}`);
      await sendAll(topic, bodies);
      await waitFor(
        () => tally(log, bodies).distinct === bodies.length,
        120_000,
        () => {
          const t = tally(log, bodies);
          return `all messages, have ${t.distinct} distinct, ${t.missing.length} missing`;
        },
      );
      // Give late duplicates a chance to show up before counting.
      await new Promise((r) => setTimeout(r, 1_500));
      const t = tally(log, bodies);
      expect(t.missing).toEqual([]);
      expect(t.unexpected).toEqual([]);
      expect(t.duplicates).toBe(0);
      expect(log.length).toBe(10_000);

      // Each consumer only saw queues it owned, and every queue was used.
      for (const c of consumers) {
        const owned = new Set(c.consumer.assignedQueues().map((q) => `${q.topic}/${q.queueId}`));
        for (const d of log.filter((x) => x.consumer === c.name)) {
          expect(owned.has(`${d.msg.topic}/${d.msg.queueId}`)).toBe(true);
        }
      }
      expect(new Set(log.map((d) => d.msg.queueId)).size).toBe(8);
      console.log(
        JSON.stringify({
          test: 'exactly-once-3-consumers',
          perConsumer: consumers.map((c) => log.filter((d) => d.consumer === c.name).length),
        }),
      );
    } finally {
      for (const c of consumers) await c.shutdown();
    }
    const stats = await admin.getConsumeStats(group, topic);
    expect(stats.queues.filter((q) => q.messageQueue.topic === topic)).toHaveLength(8);
    expect(stats.queues.filter((q) => q.messageQueue.topic === topic).reduce((s, q) => s + q.lag, 0)).toBe(0);
  });

  it('rebalances without losing messages when a consumer joins and another leaves', async () => {
    const topic = await createTopic(8);
    const group = uniqueName('CG');
    const log: Delivery[] = [];
    const make = (name: string) =>
      new RecordingConsumer(name, fastConsumerOptions(rmq.namesrvAddr, group), topic, '*', log);
    const a = make('a');
    const b = make('b');
    await a.start();
    await b.start();
    let c: RecordingConsumer | undefined;
    try {
      await waitForBalanced([a, b], topic, 8);
      const phase = (n: number) => Array.from({ length: 1_000 }, (_, i) => `p${n}-${i}`);
      const all = [...phase(1), ...phase(2), ...phase(3)];

      await sendAll(topic, phase(1), 8);
      // Join while messages flow.
      c = make('c');
      const sending2 = sendAll(topic, phase(2), 4);
      await c.start();
      await sending2;
      await waitForBalanced([a, b, c], topic, 8);

      // Leave while messages flow.
      const sending3 = sendAll(topic, phase(3), 4);
      await a.shutdown();
      await sending3;
      await waitForBalanced([b, c], topic, 8);

      await waitFor(
        () => tally(log, all).distinct === all.length,
        120_000,
        () => {
          const t = tally(log, all);
          return `all 3000 messages, missing ${t.missing.length} (e.g. ${t.missing.slice(0, 5)})`;
        },
      );
      const t = tally(log, all);
      expect(t.missing).toEqual([]);
      expect(t.unexpected).toEqual([]);
      // RocketMQ allows duplicates around a rebalance; measure them.
      console.log(
        JSON.stringify({ test: 'rebalance-join-leave', messages: all.length, duplicates: t.duplicates }),
      );
      expect(c.consumer.assignedQueues().filter((q) => q.topic === topic).length).toBe(4);
    } finally {
      await a.shutdown();
      await b.shutdown();
      await c?.shutdown();
    }
  });
});
