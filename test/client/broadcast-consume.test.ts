// Broadcasting consumption against a real standalone broker: every consumer of the group receives
// every message; progress lives in a local file per client and group (never on the broker), and a
// consumer restarted with the same identity resumes from that file.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientApi } from '../../broker-image/src/client/client-api.js';
import {
  type AdminClient,
  decodeOffsetTable,
  type MessageExt,
  type Producer,
  PushConsumer,
} from '../../broker-image/src/client/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';
import type { LocalRocketMQ } from '../harness/local-rocketmq.js';
import {
  createTopicAndWaitForRoute,
  fastConsumerOptions,
  startBrokerWithClients,
  stopBrokerWithClients,
  tally,
  uniqueName,
  waitFor,
} from './support.js';

let rmq: LocalRocketMQ;
let admin: AdminClient;
let producer: Producer;
let offsetDir: string;

beforeAll(async () => {
  ({ rmq, admin, producer } = await startBrokerWithClients());
  offsetDir = await mkdtemp(join(tmpdir(), 'bolide-offsets-'));
});

afterAll(async () => {
  await stopBrokerWithClients({ rmq, admin, producer });
  if (offsetDir) await rm(offsetDir, { recursive: true, force: true });
});

function broadcaster(group: string, topic: string, name: string, seen: MessageExt[]): PushConsumer {
  const consumer = new PushConsumer({
    ...fastConsumerOptions(rmq.namesrvAddr, group),
    messageModel: 'BROADCASTING',
    instanceName: name,
    localOffsetStoreDir: offsetDir,
  });
  consumer.subscribe(topic, '*');
  consumer.registerMessageListener((msgs) => {
    seen.push(...msgs);
    // A failure is not retried in broadcasting mode: it must not block or repeat anything.
    return msgs.some((m) => m.body.toString() === 'fails') ? 'RECONSUME_LATER' : 'CONSUME_SUCCESS';
  });
  return consumer;
}

describe('broadcasting push consumer', () => {
  it('delivers every message to every consumer and keeps offsets in a local file per client', async () => {
    const topic = uniqueName('BcastT');
    await createTopicAndWaitForRoute(admin, rmq.brokerAddr, {
      topicName: topic,
      readQueueNums: 4,
      writeQueueNums: 4,
    });
    const group = uniqueName('BcastCG');
    const seenA: MessageExt[] = [];
    const seenB: MessageExt[] = [];
    const a = broadcaster(group, topic, `a-${process.pid}`, seenA);
    const b = broadcaster(group, topic, `b-${process.pid}`, seenB);
    await a.start();
    await b.start();
    const bodies = Array.from({ length: 40 }, (_, i) => `m${i}`);
    bodies.push('fails');
    try {
      await waitFor(
        () => a.assignedQueues().length === 4 && b.assignedQueues().length === 4,
        20_000,
        () => 'both consumers own all 4 queues',
      );
      for (const body of bodies) await producer.send({ topic, body: Buffer.from(body) });
      const log = (seen: MessageExt[]) =>
        seen.map((m) => ({ consumer: '', body: m.body.toString(), msg: m }));
      await waitFor(
        () =>
          tally(log(seenA), bodies).missing.length === 0 && tally(log(seenB), bodies).missing.length === 0,
        30_000,
        () => `all to both, A ${seenA.length} B ${seenB.length}`,
      );
      await new Promise((r) => setTimeout(r, 1_000));
      for (const seen of [seenA, seenB]) {
        const t = tally(log(seen), bodies);
        expect(t.duplicates).toBe(0);
        expect(t.unexpected).toEqual([]);
      }
      // Nothing was committed to the broker for the group, though every queue was read to its end.
      const api = new ClientApi(new RemotingClient({ name: 'probe' }), {
        namesrvAddrs: [rmq.namesrvAddr],
        namesrvTimeoutMs: 3_000,
      });
      try {
        for (let q = 0; q < 4; q++) {
          const stored = await api.queryConsumerOffset(
            rmq.brokerAddr,
            group,
            { topic, brokerName: 'broker-a', queueId: q },
            3_000,
          );
          // Java brokers answer 0 for a group with no stored offset on an unpurged queue.
          expect(stored ?? 0).toBe(0);
        }
      } finally {
        await api.remoting.close();
      }
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
    // Each client has its own file, holding the end of every queue.
    const stats = await admin.getTopicStats(topic);
    const maxByQueue = new Map(stats.map((s) => [s.messageQueue.queueId, s.maxOffset]));
    for (const consumer of [a, b]) {
      const file = consumer.localOffsetFile!;
      expect(file.startsWith(join(offsetDir, consumer.clientId, group))).toBe(true);
      const entries = decodeOffsetTable(await readFile(file, 'utf8'));
      expect(entries).toHaveLength(4);
      for (const e of entries) expect(e.offset).toBe(maxByQueue.get(e.mq.queueId));
    }
    expect(a.localOffsetFile).not.toBe(b.localOffsetFile);

    // A restart with the same identity resumes from its file: only the new message arrives.
    const again: MessageExt[] = [];
    const a2 = broadcaster(group, topic, `a-${process.pid}`, again);
    expect(a2.localOffsetFile).toBe(a.localOffsetFile);
    await a2.start();
    try {
      await waitFor(
        () => a2.assignedQueues().length === 4,
        20_000,
        () => 'restarted consumer owns the queues',
      );
      await producer.send({ topic, body: Buffer.from('after restart') });
      await waitFor(
        () => again.length >= 1,
        20_000,
        () => 'the new message',
      );
      await new Promise((r) => setTimeout(r, 1_000));
      expect(again.map((m) => m.body.toString())).toEqual(['after restart']);
    } finally {
      await a2.shutdown();
    }
  });

  it('starts afresh, with a warning, when the offset file is damaged', async () => {
    const topic = uniqueName('BcastT');
    await createTopicAndWaitForRoute(admin, rmq.brokerAddr, {
      topicName: topic,
      readQueueNums: 1,
      writeQueueNums: 1,
    });
    await producer.send({ topic, body: Buffer.from('old') });
    const group = uniqueName('BcastCG');
    const seen: MessageExt[] = [];
    const warnings: string[] = [];
    const consumer = new PushConsumer({
      ...fastConsumerOptions(rmq.namesrvAddr, group),
      messageModel: 'BROADCASTING',
      instanceName: `damaged-${process.pid}`,
      localOffsetStoreDir: offsetDir,
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    const file = consumer.localOffsetFile!;
    await rm(join(file, '..'), { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(file, '..'), { recursive: true }));
    await writeFile(file, '{"offsetTable":{{"brokerName"');
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener((msgs) => {
      seen.push(...msgs);
      return 'CONSUME_SUCCESS';
    });
    await consumer.start();
    try {
      // CONSUME_FROM_FIRST_OFFSET applies, as with no file at all.
      await waitFor(
        () => seen.length >= 1,
        20_000,
        () => 'the old message',
      );
      expect(seen[0].body.toString()).toBe('old');
      expect(warnings.some((w) => /damaged/.test(w))).toBe(true);
    } finally {
      await consumer.shutdown();
    }
    expect(decodeOffsetTable(await readFile(file, 'utf8'))).toEqual([
      { mq: { topic, brokerName: 'broker-a', queueId: 0 }, offset: 1 },
    ]);
  });
});
