// Two brokers behind one name server: producers spread over both and retry on the other broker
// when one goes away; consumers allocate queues of both brokers; admin calls reach every master.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, Producer } from '../../broker-image/src/client/index.js';
import { silentLogger } from '../../broker-image/src/common/index.js';
import { type RunningRoles, startRoles } from '../../broker-image/src/main.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import {
  type Delivery,
  fastConsumerOptions,
  RecordingConsumer,
  tally,
  uniqueName,
  waitFor,
} from './support.js';

let rmq: LocalRocketMQ;
let brokerB: RunningRoles | undefined;
let dirB: string;
let admin: AdminClient;

/** A second broker (broker-b) registered with the standalone's name server. */
async function startBrokerB(): Promise<RunningRoles> {
  const conf = join(dirB, 'broker-b.conf');
  await writeFile(
    conf,
    ['brokerClusterName=DefaultCluster', 'brokerName=broker-b', 'brokerIP1=127.0.0.1'].join('\n'),
  );
  return startRoles(
    'broker',
    {
      config: conf,
      dataDir: join(dirB, 'data'),
      brokerPort: '0',
      namesrvAddr: rmq.namesrvAddr,
      httpPort: '-1',
    },
    {},
    silentLogger(),
  );
}

beforeAll(async () => {
  rmq = await startStandalone();
  dirB = await mkdtemp(join(tmpdir(), 'bolide-broker-b-'));
  brokerB = await startBrokerB();
  admin = new AdminClient({ namesrvAddr: rmq.namesrvAddr });
  await waitFor(
    async () => (await admin.masterAddresses('DefaultCluster')).length === 2,
    20_000,
    () => 'two masters',
  );
});

afterAll(async () => {
  await admin?.close();
  await brokerB?.stop();
  await rmq?.stop();
  if (dirB) await rm(dirB, { recursive: true, force: true });
});

async function createTopicOnBoth(queues: number): Promise<string> {
  const topic = uniqueName('TwoT');
  const masters = await admin.createOrUpdateTopicInCluster('DefaultCluster', {
    topicName: topic,
    readQueueNums: queues,
    writeQueueNums: queues,
  });
  expect(masters).toHaveLength(2);
  await waitFor(
    async () => (await admin.getTopicRoute(topic))?.queueDatas.length === 2,
    20_000,
    () => `route of ${topic} on both brokers`,
  );
  return topic;
}

describe('two brokers', () => {
  it('allocates queues of both brokers to a group and delivers everything once', async () => {
    const topic = await createTopicOnBoth(4);
    const producer = new Producer({ namesrvAddr: rmq.namesrvAddr, producerGroup: uniqueName('PG') });
    await producer.start();
    const group = uniqueName('CG');
    const log: Delivery[] = [];
    const consumers = ['x', 'y'].map(
      (n) => new RecordingConsumer(n, fastConsumerOptions(rmq.namesrvAddr, group), topic, '*', log),
    );
    try {
      for (const c of consumers) await c.start();
      await waitFor(
        () => {
          const ids = consumers.flatMap((c) =>
            c.consumer
              .assignedQueues()
              .filter((q) => q.topic === topic)
              .map((q) => `${q.brokerName}:${q.queueId}`),
          );
          return ids.length === 8 && new Set(ids).size === 8;
        },
        30_000,
        () => 'a balanced assignment over both brokers',
      );
      // Sorted by broker name, the first member takes broker-a's queues, the second broker-b's.
      const owned = consumers.map((c) => [
        ...new Set(
          c.consumer
            .assignedQueues()
            .filter((q) => q.topic === topic)
            .map((q) => q.brokerName),
        ),
      ]);
      expect(owned.flat().sort()).toEqual(['broker-a', 'broker-b']);

      const bodies = Array.from({ length: 400 }, (_, i) => `two-${i}`);
      const brokersUsed = new Set<string>();
      for (const body of bodies) {
        brokersUsed.add((await producer.send({ topic, body: Buffer.from(body) })).messageQueue.brokerName);
      }
      expect([...brokersUsed].sort()).toEqual(['broker-a', 'broker-b']);
      await waitFor(
        () => tally(log, bodies).distinct === bodies.length,
        60_000,
        () => 'all 400',
      );
      expect(tally(log, bodies).duplicates).toBe(0);
      const stats = await admin.getTopicStats(topic);
      expect(stats.map((s) => s.messageQueue.brokerName)).toEqual([
        ...Array(4).fill('broker-a'),
        ...Array(4).fill('broker-b'),
      ]);
    } finally {
      for (const c of consumers) await c.shutdown();
      await producer.shutdown();
    }
  });

  it('retries a send on the other broker when one broker is gone', async () => {
    const topic = await createTopicOnBoth(2);
    // A long route refresh keeps the stopped broker in the producer's route, as right after a crash.
    const producer = new Producer({
      namesrvAddr: rmq.namesrvAddr,
      producerGroup: uniqueName('PG'),
      pollNameServerIntervalMs: 600_000,
    });
    await producer.start();
    try {
      const queues = await producer.fetchPublishMessageQueues(topic);
      expect(new Set(queues.map((q) => q.brokerName))).toEqual(new Set(['broker-a', 'broker-b']));
      await brokerB!.stop();
      brokerB = undefined;
      for (let i = 0; i < 20; i++) {
        const sync = await producer.send({ topic, body: Buffer.from(`sync-${i}`) });
        expect(sync.sendStatus).toBe('SEND_OK');
        expect(sync.messageQueue.brokerName).toBe('broker-a');
        const async = await producer.sendAsync({ topic, body: Buffer.from(`async-${i}`) });
        expect(async.messageQueue.brokerName).toBe('broker-a');
      }
      // Ordered sends never move to another queue: the selected queue's broker is gone.
      await expect(
        producer.sendOrderly(
          { topic, body: Buffer.from('ordered') },
          (mqs) => mqs.find((q) => q.brokerName === 'broker-b')!,
          null,
        ),
      ).rejects.toThrow(/broker-b|connect|127\.0\.0\.1/);
    } finally {
      await producer.shutdown();
      brokerB = await startBrokerB();
    }
  });
});
