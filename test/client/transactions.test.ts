// The TypeScript transactional producer against a real standalone broker: a committed half message
// reaches consumers, a rolled-back one never does, and an undecided one is checked back through
// checkLocalTransaction and then committed or rolled back by its answer.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminClient,
  LocalTransactionState,
  type MessageExt,
  PushConsumer,
  TransactionProducer,
} from '../../broker-image/src/client/index.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import { fastConsumerOptions, uniqueName, waitFor } from './support.js';

let rmq: LocalRocketMQ;
let admin: AdminClient;

beforeAll(async () => {
  // Check-backs after 1 s, scanned every 200 ms, at most 5 checks per half message.
  rmq = await startStandalone({
    brokerConf: { transactionTimeOut: 1000, transactionCheckInterval: 200, transactionCheckMax: 5 },
  });
  admin = new AdminClient({ namesrvAddr: rmq.namesrvAddr });
});

afterAll(async () => {
  await admin?.close();
  await rmq?.stop();
});

async function createTopic(): Promise<string> {
  const topic = uniqueName('TxT');
  await admin.createOrUpdateTopic(rmq.brokerAddr, { topicName: topic, readQueueNums: 2, writeQueueNums: 2 });
  await waitFor(
    async () => (await admin.getTopicRoute(topic)) !== undefined,
    10_000,
    () => 'route',
  );
  return topic;
}

async function startConsumer(topic: string, seen: MessageExt[]): Promise<PushConsumer> {
  const consumer = new PushConsumer(fastConsumerOptions(rmq.namesrvAddr, uniqueName('TxCG')));
  consumer.subscribe(topic, '*');
  consumer.registerMessageListener((msgs) => {
    seen.push(...msgs);
    return 'CONSUME_SUCCESS';
  });
  await consumer.start();
  return consumer;
}

describe('TransactionProducer', () => {
  it('commits, rolls back, and resolves undecided transactions through check-backs', async () => {
    const topic = await createTopic();
    const checks: { body: string; keys: string | undefined; transactionId: string }[] = [];
    const decisions = new Map<string, LocalTransactionState>([
      ['unknown-then-commit', LocalTransactionState.COMMIT_MESSAGE],
      ['throws-then-rollback', LocalTransactionState.ROLLBACK_MESSAGE],
    ]);
    const producer = new TransactionProducer({
      namesrvAddr: rmq.namesrvAddr,
      producerGroup: uniqueName('TxPG'),
      heartbeatBrokerIntervalMs: 1_000,
      checkLocalTransaction: (msg) => {
        const body = msg.body.toString();
        checks.push({ body, keys: msg.keys, transactionId: msg.properties.UNIQ_KEY });
        return decisions.get(body);
      },
    });
    const seen: MessageExt[] = [];
    const consumer = await startConsumer(topic, seen);
    await producer.start();
    try {
      const commit = await producer.sendMessageInTransaction(
        { topic, body: Buffer.from('commit'), keys: 'k-commit' },
        (msg, result) => {
          expect(msg.properties?.TRAN_MSG).toBe('true');
          expect(result.sendStatus).toBe('SEND_OK');
          return LocalTransactionState.COMMIT_MESSAGE;
        },
      );
      expect(commit.localTransactionState).toBe('COMMIT_MESSAGE');
      const rollback = await producer.sendMessageInTransaction(
        { topic, body: Buffer.from('rollback') },
        () => LocalTransactionState.ROLLBACK_MESSAGE,
      );
      expect(rollback.localTransactionState).toBe('ROLLBACK_MESSAGE');
      const unknown = await producer.sendMessageInTransaction(
        { topic, body: Buffer.from('unknown-then-commit'), keys: 'k-unknown' },
        () => LocalTransactionState.UNKNOW,
      );
      expect(unknown.localTransactionState).toBe('UNKNOW');
      const threw = await producer.sendMessageInTransaction(
        { topic, body: Buffer.from('throws-then-rollback') },
        () => {
          throw new Error('local database down');
        },
      );
      expect(threw.localTransactionState).toBe('UNKNOW');

      await waitFor(
        () => seen.some((m) => m.body.toString() === 'unknown-then-commit'),
        30_000,
        () =>
          `the checked-back commit, have ${seen.map((m) => m.body.toString())} checks ${JSON.stringify(checks)}`,
      );
      // Let the rolled-back ones show up if they wrongly were delivered, and let the checks settle.
      await waitFor(
        () => checks.some((c) => c.body === 'throws-then-rollback'),
        30_000,
        () => `a check of the failed local transaction, have ${JSON.stringify(checks)}`,
      );
      await new Promise((r) => setTimeout(r, 2_500));

      const bodies = seen.map((m) => m.body.toString()).sort();
      expect(bodies).toEqual(['commit', 'unknown-then-commit']);
      const committed = seen.find((m) => m.body.toString() === 'commit')!;
      expect(committed.msgId).toBe(commit.msgId);
      expect(committed.keys).toBe('k-commit');
      expect(committed.topic).toBe(topic);
      const checked = checks.filter((c) => c.body === 'unknown-then-commit');
      expect(checked.length).toBeGreaterThanOrEqual(1);
      expect(checked[0].keys).toBe('k-unknown');
      expect(checked[0].transactionId).toBe(unknown.msgId);
      // Decided transactions are never checked back.
      expect(checks.map((c) => c.body)).not.toContain('commit');
      expect(checks.map((c) => c.body)).not.toContain('rollback');
      // Once answered, a transaction is not asked about again.
      const before = checks.length;
      await new Promise((r) => setTimeout(r, 1_500));
      expect(checks.length).toBe(before);
    } finally {
      await consumer.shutdown();
      await producer.shutdown();
    }
  });

  it('refuses to start a transaction without a local-transaction function, and needs a check callback', async () => {
    expect(
      () =>
        new TransactionProducer({
          namesrvAddr: rmq.namesrvAddr,
          producerGroup: 'G',
          checkLocalTransaction: undefined as never,
        }),
    ).toThrow(/checkLocalTransaction/);
    const producer = new TransactionProducer({
      namesrvAddr: rmq.namesrvAddr,
      producerGroup: uniqueName('TxPG'),
      checkLocalTransaction: () => LocalTransactionState.ROLLBACK_MESSAGE,
    });
    await producer.start();
    try {
      await expect(
        producer.sendMessageInTransaction({ topic: 'T', body: Buffer.from('x') }, undefined as never),
      ).rejects.toThrow(/executeLocalTransaction/);
    } finally {
      await producer.shutdown();
    }
  });
});
