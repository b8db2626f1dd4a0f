// Broker restart on the same data directory and ports: a running consumer reconnects and resumes
// from its committed offsets (nothing lost, nothing already committed delivered again), and a new
// member of the group starts from those offsets too.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminClient, Producer } from '../../broker-image/src/client/index.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import {
  createTopicAndWaitForRoute,
  type Delivery,
  fastConsumerOptions,
  RecordingConsumer,
  tally,
  uniqueName,
  waitFor,
} from './support.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let rmq: LocalRocketMQ | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  await rmq?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('broker restart', () => {
  it('resumes consumption from the committed offsets', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bolide-client-restart-'));
    const ports = { namesrvPort: await freePort(), brokerPort: await freePort() };
    rmq = await startStandalone({ dataDir, keepData: true, ...ports });
    const namesrvAddr = rmq.namesrvAddr;
    const admin = new AdminClient({ namesrvAddr });
    const producer = new Producer({
      namesrvAddr,
      producerGroup: uniqueName('PG'),
      pollNameServerIntervalMs: 2_000,
    });
    const topic = uniqueName('RestartT');
    const group = uniqueName('RestartG');
    const log: Delivery[] = [];
    const consumer = new RecordingConsumer('c1', fastConsumerOptions(namesrvAddr, group), topic, '*', log);
    let second: RecordingConsumer | undefined;
    try {
      await createTopicAndWaitForRoute(admin, rmq.brokerAddr, {
        topicName: topic,
        readQueueNums: 4,
        writeQueueNums: 4,
      });
      await producer.start();
      await consumer.start();

      const before = Array.from({ length: 500 }, (_, i) => `before-${i}`);
      for (const body of before) await producer.send({ topic, body: Buffer.from(body) });
      await waitFor(
        () => tally(log, before).distinct === before.length,
        60_000,
        () => `500 messages before the restart`,
      );
      // Let the 1 s offset commits land, then check the broker has them all.
      await waitFor(
        async () => (await admin.getConsumeStats(group, topic)).queues.every((q) => q.lag === 0),
        30_000,
        () => 'committed offsets before the restart',
      );
      const deliveredBefore = log.length;

      await rmq.stop();
      rmq = await startStandalone({ dataDir, keepData: true, ...ports });
      expect(rmq.namesrvAddr).toBe(namesrvAddr);

      const after = Array.from({ length: 500 }, (_, i) => `after-${i}`);
      await waitFor(
        async () => {
          try {
            await producer.send({ topic, body: Buffer.from(after[0]) });
            return true;
          } catch {
            return false;
          }
        },
        60_000,
        () => 'the producer reaching the restarted broker',
      );
      for (const body of after.slice(1)) await producer.send({ topic, body: Buffer.from(body) });
      await waitFor(
        () => tally(log, after).distinct === after.length,
        90_000,
        () => {
          const t = tally(log, after);
          return `500 messages after the restart, missing ${t.missing.length}`;
        },
      );
      // Nothing committed before the restart came back.
      expect(log.slice(deliveredBefore).filter((d) => d.body.startsWith('before-'))).toEqual([]);
      expect(tally(log, [...before, ...after]).duplicates).toBe(0);

      // A new member (alone in the group after c1 leaves) starts at the committed offsets, not at 0.
      await consumer.shutdown();
      await waitFor(
        async () => (await admin.getConsumeStats(group, topic)).queues.every((q) => q.lag === 0),
        30_000,
        async () =>
          `lag 0 after the restart: ${JSON.stringify((await admin.getConsumeStats(group, topic)).queues)}`,
      );
      const lateLog: Delivery[] = [];
      second = new RecordingConsumer('c2', fastConsumerOptions(namesrvAddr, group), topic, '*', lateLog);
      await second.start();
      await waitFor(
        () => second!.consumer.assignedQueues().filter((q) => q.topic === topic).length === 4,
        30_000,
        () => 'c2 owning all queues',
      );
      await producer.send({ topic, body: Buffer.from('marker') });
      await waitFor(
        () => lateLog.some((d) => d.body === 'marker'),
        30_000,
        () => 'the marker at c2',
      );
      expect(lateLog.map((d) => d.body)).toEqual(['marker']);
    } finally {
      await second?.shutdown();
      await consumer.shutdown();
      await producer.shutdown();
      await admin.close();
    }
  });
});
