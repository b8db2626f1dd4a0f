// Safe Topic queue shrink against a real kube-apiserver and two real Bolide brokers (two masters of
// cluster `local`; broker-b registers with broker-a's name server, so one route covers both). The
// operator reaches them through its endpoint-overrides seam, with a short route-refresh grace.
//
// Lowering spec.queues must first lower the write queues only (producers stop writing to the removed
// queues), keep the read queues while a consumer group still has messages there, and lower the read
// queues once the group consumed them — with no message lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, type MessageExt, Producer, PushConsumer } from '../../broker-image/src/client/index.js';
import { ResponseCode } from '../../broker-image/src/protocol/index.js';
import type { Condition, Topic } from '../../operator/src/api/index.js';
import { parseEndpointOverrides } from '../../operator/src/controller/index.js';
import type { KubeObject } from '../../operator/src/kube/index.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import { RawRocketMQ } from '../harness/raw-rocketmq.js';
import {
  BolideResources,
  BuiltinResources,
  eventually,
  type OperatorTestEnv,
  startOperatorTestEnv,
} from './operator-support.js';

const ns = 'shrink-test';
const TOPIC = 'ShrinkMe';
const GROUP = 'GID_shrink';
type TopicObj = Topic & KubeObject;
type EventObj = KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } };

const cond = (obj: { status?: { conditions?: Condition[] } } | undefined, type: string) =>
  obj?.status?.conditions?.find((c) => c.type === type);

describe('Topic queue shrink with real brokers', () => {
  let env: OperatorTestEnv;
  let a: LocalRocketMQ;
  let b: LocalRocketMQ;
  let admin: AdminClient;
  let raw: RawRocketMQ;
  const producers: Producer[] = [];
  const consumers: PushConsumer[] = [];
  /** Every body consumed by the group, in delivery order (duplicates allowed: at-least-once). */
  const consumed: string[] = [];
  const produced: string[] = [];

  const getTopic = () => env.client.get<TopicObj>(BolideResources.Topic, 'shrink-me', ns);
  const configs = async () =>
    Promise.all(
      [a, b].map(async (mq) => {
        const c = (await admin.listTopicConfigs(mq.brokerAddr))[TOPIC];
        return `${c?.readQueueNums}r/${c?.writeQueueNums}w`;
      }),
    );
  const route = async () => {
    const r = await admin.getTopicRoute(TOPIC);
    return (r?.queueDatas ?? [])
      .map((q) => `${q.brokerName}:${q.readQueueNums}r/${q.writeQueueNums}w`)
      .sort();
  };
  const startConsumer = async () => {
    const consumer = new PushConsumer({
      namesrvAddr: a.namesrvAddr,
      consumerGroup: GROUP,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      heartbeatBrokerIntervalMs: 1_000,
      rebalanceIntervalMs: 1_000,
      pollNameServerIntervalMs: 1_000,
      persistConsumerOffsetIntervalMs: 500,
    });
    consumer.subscribe(TOPIC, '*');
    consumer.registerMessageListener((msgs: MessageExt[]) => {
      for (const m of msgs) consumed.push(m.body.toString());
      return 'CONSUME_SUCCESS';
    });
    await consumer.start();
    consumers.push(consumer);
    return consumer;
  };
  const allConsumed = () => {
    const seen = new Set(consumed);
    return produced.every((body) => seen.has(body));
  };
  const groupLag = async () => {
    const stats = await admin.getConsumeStats(GROUP, TOPIC);
    return stats.queues.filter((q) => q.messageQueue.topic === TOPIC).reduce((s, q) => s + q.lag, 0);
  };

  beforeAll(async () => {
    a = await startStandalone({
      httpPort: 'off',
      brokerConf: { brokerClusterName: 'local', brokerName: 'broker-a' },
    });
    b = await startStandalone({
      httpPort: 'off',
      brokerConf: { brokerClusterName: 'local', brokerName: 'broker-b', namesrvAddr: a.namesrvAddr },
    });
    admin = new AdminClient({ namesrvAddr: a.namesrvAddr });
    raw = new RawRocketMQ();
    const overrides = parseEndpointOverrides(
      JSON.stringify({
        [`${ns}/local`]: {
          nameServers: [a.namesrvAddr],
          masters: [
            { brokerName: 'broker-a', address: a.brokerAddr },
            { brokerName: 'broker-b', address: b.brokerAddr },
          ],
        },
      }),
    );
    env = await startOperatorTestEnv(ns, {
      endpointOverrides: overrides,
      adminTimeoutMs: 2000,
      queueShrinkGraceMs: 1500,
      queueShrinkRecheckMs: 300,
    });
  });

  afterAll(async () => {
    for (const c of consumers) await c.shutdown().catch(() => {});
    for (const p of producers) await p.shutdown().catch(() => {});
    await env?.stop();
    await admin?.close();
    await raw?.close();
    await a?.stop();
    await b?.stop();
  });

  it('lowers write queues first, keeps read queues until the group consumed the removed ones, then lowers them', async () => {
    await env.client.create<TopicObj>({
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'Topic',
      metadata: { name: 'shrink-me', namespace: ns },
      spec: { clusterRef: { name: 'local' }, topicName: TOPIC, queues: 4 },
    });
    await eventually('Topic Ready', async () => cond(await getTopic(), 'Ready')?.status === 'True');
    await eventually('route of both masters', async () => {
      const r = await route();
      return r.join() === 'broker-a:4r/4w,broker-b:4r/4w' ? r : undefined;
    });

    // The group exists on the brokers (it consumed a first batch, offsets committed), then goes away.
    const first = await startConsumer();
    const producer = new Producer({ namesrvAddr: a.namesrvAddr, producerGroup: 'PG_shrink' });
    await producer.start();
    producers.push(producer);
    for (let i = 0; i < 16; i++) {
      const body = `first ${i}`;
      produced.push(body);
      await producer.send({ topic: TOPIC, body: Buffer.from(body) });
    }
    await eventually(
      'first batch consumed and committed',
      async () => allConsumed() && (await groupLag()) === 0,
    );
    await first.shutdown();

    // A backlog in every queue of both masters, the removed ones (2 and 3) included.
    for (const mq of [a, b]) {
      for (let queueId = 0; queueId < 4; queueId++) {
        for (let i = 0; i < 3; i++) {
          const body = `backlog ${mq === a ? 'a' : 'b'} q${queueId} ${i}`;
          const res = await raw.send(mq.brokerAddr, TOPIC, body, { queueId });
          expect(res.code).toBe(ResponseCode.SUCCESS);
          produced.push(body);
        }
      }
    }
    expect(await groupLag()).toBe(24);

    // Lower the count: write queues drop on both masters, read queues stay.
    await env.client.patch((await getTopic())!, { spec: { queues: 2 } });
    await eventually('write queues lowered, read queues kept', async () => {
      const c = await configs();
      return c.join() === '4r/2w,4r/2w' ? c : undefined;
    });
    await eventually('the route says so too', async () => {
      const r = await route();
      return r.join() === 'broker-a:4r/2w,broker-b:4r/2w' ? r : undefined;
    });
    const started = await eventually('QueueShrinkPending', async () => {
      const t = await getTopic();
      return cond(t, 'QueueShrinkPending')?.status === 'True' ? t : undefined;
    });
    expect(started.status?.queueShrink).toMatchObject({ fromQueues: 4, toQueues: 2 });
    expect(started.status?.effectiveQueues).toBe(2);

    // Past the grace, the group's backlog in queues 2 and 3 holds the read queues: the condition
    // names the group, and the brokers still serve 4 read queues.
    const waiting = await eventually('WaitingForConsumers', async () => {
      const t = await getTopic();
      return cond(t, 'QueueShrinkPending')?.reason === 'WaitingForConsumers' ? t : undefined;
    });
    const message = cond(waiting, 'QueueShrinkPending')?.message ?? '';
    expect(message).toContain('until queues 2-3 are drained');
    expect(message).toContain(`${GROUP} has 6 unconsumed in broker-a queues 2,3`);
    expect(message).toContain(`${GROUP} has 6 unconsumed in broker-b queues 2,3`);
    expect(waiting.status?.brokers?.map((x) => `${x.brokerName}:${x.readQueues}r/${x.writeQueues}w`)).toEqual(
      ['broker-a:4r/2w', 'broker-b:4r/2w'],
    );
    expect(await configs()).toEqual(['4r/2w', '4r/2w']);
    expect(cond(await getTopic(), 'QueueShrinkPending')?.status).toBe('True');

    // A producer with the new route writes only to the queues that stay.
    const late = new Producer({ namesrvAddr: a.namesrvAddr, producerGroup: 'PG_shrink_late' });
    await late.start();
    producers.push(late);
    for (let i = 0; i < 8; i++) {
      const body = `late ${i}`;
      const sent = await late.send({ topic: TOPIC, body: Buffer.from(body) });
      expect(sent.messageQueue.queueId).toBeLessThan(2);
      produced.push(body);
    }

    // The group comes back and drains everything; then the read queues follow.
    await startConsumer();
    await eventually('every message consumed', async () => allConsumed(), 60_000);
    await eventually(
      'read queues lowered',
      async () => {
        const c = await configs();
        return c.join() === '2r/2w,2r/2w' ? c : undefined;
      },
      60_000,
    );
    const done = await eventually('QueueShrinkPending cleared', async () => {
      const t = await getTopic();
      return cond(t, 'QueueShrinkPending')?.status === 'False' ? t : undefined;
    });
    expect(cond(done, 'QueueShrinkPending')?.reason).toBe('Completed');
    expect(done.status?.queueShrink).toBeUndefined();
    expect(done.status?.brokers?.map((x) => `${x.readQueues}r/${x.writeQueues}w`)).toEqual([
      '2r/2w',
      '2r/2w',
    ]);
    await eventually('route at 2 queues', async () => {
      const r = await route();
      return r.join() === 'broker-a:2r/2w,broker-b:2r/2w' ? r : undefined;
    });

    // No message lost: every produced body was delivered to the group.
    const seen = new Set(consumed);
    expect(produced.filter((body) => !seen.has(body))).toEqual([]);
    expect(produced).toHaveLength(16 + 24 + 8);

    const events = await env.client.list<EventObj>(BuiltinResources.Event, { namespace: ns });
    const reasons = events.items.filter((e) => e.involvedObject?.name === 'shrink-me').map((e) => e.reason);
    expect(reasons).toContain('QueueShrinkStarted');
    expect(reasons).toContain('QueueShrinkCompleted');
  });
});
