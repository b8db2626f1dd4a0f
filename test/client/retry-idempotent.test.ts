// Retries through the broker and idempotent consumption, against a real standalone broker with
// short delay levels: a failing listener sees reconsumeTimes 0, 1, 2 behind the configured delays;
// the idempotent wrapper over a real SQLite file skips duplicates (a producer-side duplicate and a
// whole redelivery after an offset reset) and lets a failed message run again; the broker can ask
// a live consumer for its running info.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdminClient,
  idempotent,
  type MessageExt,
  type Producer,
  PushConsumer,
  SqliteIdempotencyStore,
} from '../../broker-image/src/client/index.js';
import type { LocalRocketMQ } from '../harness/local-rocketmq.js';
import {
  createRoutedTopic,
  fastConsumerOptions,
  recordAttemptsFailingUntil,
  startBrokerWithClients,
  stopBrokerWithClients,
  uniqueName,
  waitFor,
} from './support.js';

// Delay levels 3 and 4 (the first two retries) wait 1 s and 2 s.
const LEVELS = '1s 1s 1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s';

let rmq: LocalRocketMQ;
let admin: AdminClient;
let producer: Producer;
let dir: string;

beforeAll(async () => {
  ({ rmq, admin, producer } = await startBrokerWithClients({ brokerConf: { messageDelayLevel: LEVELS } }));
  dir = await mkdtemp(join(tmpdir(), 'bolide-idem-int-'));
});

afterAll(async () => {
  await stopBrokerWithClients({ rmq, admin, producer });
  if (dir) await rm(dir, { recursive: true, force: true });
});

function createTopic(queues: number): Promise<string> {
  return createRoutedTopic(admin, rmq.brokerAddr, 'RetryT', queues);
}

describe('retries through the broker', () => {
  it('redelivers a message failed twice with reconsumeTimes 0, 1, 2, no sooner than the delay levels', async () => {
    const topic = await createTopic(2);
    const consumer = new PushConsumer(fastConsumerOptions(rmq.namesrvAddr, uniqueName('RetryCG')));
    const attempts = recordAttemptsFailingUntil(consumer, topic, 2);
    await consumer.start();
    try {
      const sent = await producer.send({ topic, body: Buffer.from('flaky'), keys: 'k1' });
      await waitFor(
        () => attempts.length >= 3,
        60_000,
        () => `3 attempts, have ${JSON.stringify(attempts)}`,
      );
      await new Promise((r) => setTimeout(r, 2_500));
      expect(attempts.map((a) => a.reconsumeTimes)).toEqual([0, 1, 2]);
      for (const a of attempts) {
        expect(a.topic).toBe(topic);
        expect(a.msgId).toBe(sent.msgId);
        expect(a.body).toBe('flaky');
      }
      // Lower bounds only: a retry never comes before its level's delay (1 s, then 2 s).
      expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(900);
      expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(1_900);
    } finally {
      await consumer.shutdown();
    }
  });
});

describe('idempotent consumption with SQLite', () => {
  it('skips redelivered duplicates and lets a failed message run again', async () => {
    const topic = await createTopic(2);
    const group = uniqueName('IdemCG');
    const store = await SqliteIdempotencyStore.open({ path: join(dir, 'consumed.db'), scope: group });
    const handled: { key: string; reconsumeTimes: number }[] = [];
    const attempts: { key: string; reconsumeTimes: number }[] = [];
    const duplicates: string[] = [];
    let failNext = true;
    const consumer = new PushConsumer(fastConsumerOptions(rmq.namesrvAddr, group));
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener(
      idempotent(
        (m: MessageExt) => {
          const key = m.keys ?? '';
          attempts.push({ key, reconsumeTimes: m.reconsumeTimes });
          if (key === 'payment-2' && failNext) {
            failNext = false;
            throw new Error('payment gateway timed out');
          }
          handled.push({ key, reconsumeTimes: m.reconsumeTimes });
        },
        { store, onDuplicate: (_m, key) => duplicates.push(key) },
      ),
    );
    await consumer.start();
    try {
      await producer.send({ topic, body: Buffer.from('pay 1'), keys: 'payment-1' });
      // The producer retried after a timeout it could not tell from a loss: the same business key twice.
      await producer.send({ topic, body: Buffer.from('pay 1 again'), keys: 'payment-1' });
      await producer.send({ topic, body: Buffer.from('pay 2'), keys: 'payment-2' });
      await waitFor(
        () => handled.length >= 2 && duplicates.length >= 1,
        60_000,
        () => `two payments and a duplicate, have ${JSON.stringify({ handled, duplicates, attempts })}`,
      );
      expect(handled.map((h) => h.key).sort()).toEqual(['payment-1', 'payment-2']);
      expect(duplicates).toEqual(['payment-1']);
      // payment-2 failed once, was released, came back through the retry topic and ran again.
      expect(attempts.filter((a) => a.key === 'payment-2')).toEqual([
        { key: 'payment-2', reconsumeTimes: 0 },
        { key: 'payment-2', reconsumeTimes: 1 },
      ]);
      expect(store.isConsumed('payment-1')).toBe(true);
      expect(store.isConsumed('payment-2')).toBe(true);

      // Rewind the group to the start: the live consumer is told (RESET_CONSUMER_CLIENT_OFFSET),
      // gets everything again, and the wrapper acknowledges it all without running the handler.
      await waitFor(
        async () => (await admin.getConsumeStats(group, topic)).queues.every((q) => q.lag === 0),
        20_000,
        () => 'offsets committed',
      );
      const reset = await admin.resetOffsetByTimestamp(group, topic, 0);
      expect(reset.map((r) => r.offset)).toEqual([0, 0]);
      expect(reset.every((r) => r.viaBroker)).toBe(true);
      await waitFor(
        () => duplicates.length >= 4,
        30_000,
        () => `three more duplicates after the reset, have ${duplicates}`,
      );
      await new Promise((r) => setTimeout(r, 1_000));
      expect(duplicates.sort()).toEqual(['payment-1', 'payment-1', 'payment-1', 'payment-2']);
      expect(handled).toHaveLength(2);

      // The broker relays GET_CONSUMER_RUNNING_INFO to the consumer and back.
      const info = (await admin.getConsumerRunningInfo(group, consumer.clientId)) as {
        properties: Record<string, string>;
        mqTable: Record<string, { commitOffset: number }>;
        subscriptionSet: { topic: string }[];
      };
      expect(info.properties.consumerGroup).toBe(group);
      expect(info.properties.PROP_CONSUMEORDERLY).toBe('false');
      expect(info.subscriptionSet.map((s) => s.topic).sort()).toEqual([`%RETRY%${group}`, topic].sort());
      expect(Object.keys(info.mqTable).length).toBeGreaterThanOrEqual(2);
    } finally {
      await consumer.shutdown();
      store.close();
    }
  });
});
