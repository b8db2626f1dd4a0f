import { beforeEach, describe, expect, it } from 'vitest';
import { type BrokerCluster, type ConsumerGroup, FINALIZER, type Topic } from '../api/index.js';
import { findCondition } from '../status/index.js';
import { BrokersNotSyncedError } from './broker-resource.js';
import { createConsumerGroupReconciler } from './consumer-group-controller.js';
import { parseEndpointOverrides } from './endpoints.js';
import { BrokerCallError, type KubeObjectLike } from './ports.js';
import {
  FakeAdmin,
  FakeCache,
  FakeEvents,
  FakeKube,
  sampleCluster,
  sampleGroup,
  sampleTopic,
} from './test-fakes.js';
import { createTopicReconciler } from './topic-controller.js';

const A = 'orders-broker-0-0.orders-broker.shop.svc:10911';
const B = 'orders-broker-1-0.orders-broker.shop.svc:10911';

function setup(topic: Topic = sampleTopic({ queues: 4 }), overrides = new Map()) {
  const topics = new FakeCache<Topic>();
  const clusters = new FakeCache<BrokerCluster>();
  const kube = new FakeKube({ Topic: topics as FakeCache<KubeObjectLike> });
  const events = new FakeEvents();
  const admin = new FakeAdmin();
  let clock = Date.parse('2026-03-01T10:00:00Z');
  const reconcile = createTopicReconciler({
    objects: topics,
    clusters,
    kube,
    events,
    admin,
    overrides,
    now: () => clock,
    resyncMs: 60_000,
    queueShrink: { graceMs: 30_000, recheckMs: 5_000 },
  });
  clusters.put(sampleCluster({ brokers: { groups: 2 } }));
  topics.put(topic);
  const get = () => topics.get(topic.metadata.name!, 'shop')!;
  const del = () =>
    topics.put({ ...get(), metadata: { ...get().metadata, deletionTimestamp: '2026-03-01T11:00:00Z' } });
  return { topics, clusters, kube, events, admin, reconcile, get, del, tick: (ms: number) => (clock += ms) };
}

describe('Topic reconcile', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it('adds the finalizer, creates the topic on every master, reports Ready and resyncs later', async () => {
    expect(await t.reconcile('shop/payments')).toEqual({ requeueAfter: 60_000 });
    expect(t.get().metadata.finalizers).toEqual([FINALIZER]);
    expect(t.admin.topics.get(A)?.get('payments')).toMatchObject({
      readQueueNums: 4,
      writeQueueNums: 4,
      perm: 6,
    });
    expect(t.admin.topics.get(B)?.get('payments')).toMatchObject({ readQueueNums: 4 });
    const status = t.get().status!;
    expect(findCondition(status.conditions, 'Ready')).toMatchObject({
      status: 'True',
      message: 'topic payments is in place on 2/2 masters',
    });
    expect(status.observedGeneration).toBe(1);
    expect(status.topicName).toBe('payments');
    expect(status.effectiveQueues).toBe(4);
    expect(status.brokers).toEqual([
      {
        brokerName: 'orders-broker-0',
        address: A,
        state: 'Synced',
        readQueues: 4,
        writeQueues: 4,
        lastAttemptTime: '2026-03-01T10:00:00Z',
      },
      {
        brokerName: 'orders-broker-1',
        address: B,
        state: 'Synced',
        readQueues: 4,
        writeQueues: 4,
        lastAttemptTime: '2026-03-01T10:00:00Z',
      },
    ]);
    expect(t.events.recorded).toEqual([
      {
        name: 'payments',
        type: 'Normal',
        reason: 'Synced',
        message: 'topic payments is in place on 2/2 masters',
      },
    ]);
  });

  it('a quiet resync re-declares but writes no status and records no event', async () => {
    await t.reconcile('shop/payments');
    t.tick(60_000);
    await t.reconcile('shop/payments');
    expect(t.kube.statusPatches).toHaveLength(1);
    expect(t.events.recorded).toHaveLength(1);
    expect(t.admin.calls.filter((c) => c.startsWith('topic+'))).toHaveLength(4);
  });

  it('an unreachable master: Degraded names it, the other master is still synced, retry with backoff', async () => {
    t.admin.down.add(B);
    await expect(t.reconcile('shop/payments')).rejects.toBeInstanceOf(BrokersNotSyncedError);
    const status = t.get().status!;
    const degraded = findCondition(status.conditions, 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'BrokerUnreachable' });
    expect(degraded?.message).toContain(`orders-broker-1 (${B})`);
    expect(status.brokers?.map((b) => b.state)).toEqual(['Synced', 'Failed']);
    expect(status.observedGeneration).toBeUndefined();
    expect(t.events.recorded).toEqual([
      {
        name: 'payments',
        type: 'Warning',
        reason: 'BrokerUnreachable',
        message: `orders-broker-1 (${B}): connect ECONNREFUSED ${B}`,
      },
    ]);

    // The same failure again: no new event, no status write.
    t.tick(5_000);
    await expect(t.reconcile('shop/payments')).rejects.toThrow(/orders-broker-1/);
    expect(t.events.recorded).toHaveLength(1);
    expect(t.kube.statusPatches).toHaveLength(1);

    // It comes back: Ready, Degraded cleared, generation observed.
    t.admin.down.clear();
    await t.reconcile('shop/payments');
    const after = t.get().status!;
    expect(findCondition(after.conditions, 'Degraded')?.status).toBe('False');
    expect(findCondition(after.conditions, 'Ready')?.status).toBe('True');
    expect(after.observedGeneration).toBe(1);
    expect(t.admin.topics.get(B)?.has('payments')).toBe(true);
  });

  it('a missing BrokerCluster blocks without broker calls or retries', async () => {
    t.clusters.items.clear();
    expect(await t.reconcile('shop/payments')).toBeUndefined();
    expect(t.admin.calls).toEqual([]);
    expect(findCondition(t.get().status?.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ClusterNotFound',
    });
    expect(t.events.recorded.map((e) => e.reason)).toEqual(['ClusterNotFound']);
  });

  it('deletion with policy Delete removes the topic from every master and the route, then the finalizer', async () => {
    await t.reconcile('shop/payments');
    t.del();
    await t.reconcile('shop/payments');
    expect(t.admin.calls.slice(-3)).toEqual([
      'topic- orders-broker-0 payments',
      'topic- orders-broker-1 payments',
      'route- orders payments',
    ]);
    expect(t.admin.topics.get(A)?.has('payments')).toBe(false);
    expect(t.topics.get('payments', 'shop')).toBeUndefined();
    expect(t.events.recorded.at(-1)).toMatchObject({
      reason: 'Deleted',
      message: 'topic payments deleted from 2 masters',
    });
  });

  it('deletion keeps the finalizer while a master cannot be reached', async () => {
    await t.reconcile('shop/payments');
    t.del();
    t.admin.down.add(A);
    await expect(t.reconcile('shop/payments')).rejects.toThrow(
      /deleting topic payments failed on orders-broker-0/,
    );
    expect(t.get().metadata.finalizers).toEqual([FINALIZER]);
    expect(t.get().status?.brokers?.map((b) => b.state)).toEqual(['Failed', 'Deleted']);
    t.admin.down.clear();
    await t.reconcile('shop/payments');
    expect(t.topics.get('payments', 'shop')).toBeUndefined();
  });

  it('deletion with policy Retain leaves the topic on the brokers', async () => {
    t = setup(sampleTopic({ deletionPolicy: 'Retain' }));
    await t.reconcile('shop/payments');
    t.del();
    await t.reconcile('shop/payments');
    expect(t.admin.calls.filter((c) => !c.startsWith('topic+'))).toEqual([]);
    expect(t.admin.topics.get(A)?.has('payments')).toBe(true);
    expect(t.topics.get('payments', 'shop')).toBeUndefined();
    expect(t.events.recorded.at(-1)?.reason).toBe('Retained');
  });

  it('an invalid topic name (bypassing the schema) is InvalidSpec, with no broker call', async () => {
    t = setup(sampleTopic({ topicName: 'TBW102' }));
    await t.reconcile('shop/payments');
    expect(t.admin.calls).toEqual([]);
    expect(findCondition(t.get().status?.conditions, 'Degraded')).toMatchObject({
      reason: 'InvalidSpec',
      message: 'spec.topicName TBW102 is a RocketMQ system topic',
    });
  });

  it('endpoint overrides point the cluster at brokers outside Kubernetes', async () => {
    const overrides = parseEndpointOverrides(
      '{"shop/orders": {"nameServers": ["127.0.0.1:9876"], "masters": [{"brokerName": "broker-a", "address": "127.0.0.1:10911"}]}}',
    );
    t = setup(sampleTopic(), overrides);
    t.clusters.items.clear();
    await t.reconcile('shop/payments');
    expect(t.admin.calls).toEqual(['topic+ broker-a payments']);
  });
});

describe('Topic queue shrink', () => {
  let t: ReturnType<typeof setup>;
  const counts = (address: string) => {
    const c = t.admin.topics.get(address)?.get('payments');
    return `${c?.readQueueNums}r/${c?.writeQueueNums}w`;
  };
  const lower = (queues: number) => {
    const cur = t.get();
    t.topics.put({
      ...cur,
      spec: { ...cur.spec, queues },
      metadata: { ...cur.metadata, generation: (cur.metadata.generation ?? 0) + 1 },
    });
  };
  /** Group g has `left` messages unconsumed in queue `queueId` on A (all other queues consumed). */
  const backlog = (queueId: number, left: number) =>
    t.admin.progress.set(
      `${A} payments`,
      Array.from({ length: 8 }, (_, q) => ({
        group: 'g',
        queueId: q,
        brokerOffset: 20,
        consumerOffset: q === queueId ? 20 - left : 20,
      })),
    );
  const shrinkCondition = () => findCondition(t.get().status?.conditions, 'QueueShrinkPending');

  beforeEach(async () => {
    t = setup(sampleTopic({ queues: 8 }));
    await t.reconcile('shop/payments');
    expect(counts(A)).toBe('8r/8w');
  });

  it('write queues first, read queues only after the grace and once the removed queues are consumed', async () => {
    backlog(6, 3);
    lower(4);
    // 1: write queues drop on every master, read queues stay; the Topic says why; back soon.
    expect(await t.reconcile('shop/payments')).toEqual({ requeueAfter: 5_000 });
    expect([counts(A), counts(B)]).toEqual(['8r/4w', '8r/4w']);
    let status = t.get().status!;
    expect(status.queueShrink).toEqual({
      fromQueues: 8,
      toQueues: 4,
      writeLoweredTime: '2026-03-01T10:00:00Z',
    });
    expect(status.brokers?.map((b) => `${b.brokerName}:${b.readQueues}r/${b.writeQueues}w`)).toEqual([
      'orders-broker-0:8r/4w',
      'orders-broker-1:8r/4w',
    ]);
    expect(status.effectiveQueues).toBe(4);
    expect(shrinkCondition()).toMatchObject({ status: 'True', reason: 'WaitingForRouteRefresh' });
    expect(findCondition(status.conditions, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'QueueShrinkPending',
    });
    expect(findCondition(status.conditions, 'Ready')?.status).toBe('True');
    expect(t.events.recorded.at(-1)).toMatchObject({
      reason: 'QueueShrinkStarted',
      message:
        'topic payments: write queues lowered from 8 to 4 on every master; read queues stay at 8 until queues 4-7 are consumed',
    });

    // 2: the grace is over, but group g still has 3 messages in queue 6 of A.
    t.tick(30_000);
    expect(await t.reconcile('shop/payments')).toEqual({ requeueAfter: 5_000 });
    expect([counts(A), counts(B)]).toEqual(['8r/4w', '8r/4w']);
    expect(shrinkCondition()).toMatchObject({
      status: 'True',
      reason: 'WaitingForConsumers',
      message:
        'write queues lowered from 8 to 4; read queues stay at 8 until queues 4-7 are drained: g has 3 unconsumed in orders-broker-0 queue 6',
    });

    // 3: consumed: read queues drop, the record goes, the condition clears, the resync takes over.
    backlog(6, 0);
    t.tick(5_000);
    expect(await t.reconcile('shop/payments')).toEqual({ requeueAfter: 60_000 });
    expect([counts(A), counts(B)]).toEqual(['4r/4w', '4r/4w']);
    status = t.get().status!;
    expect(status.queueShrink).toBeNull();
    expect(shrinkCondition()).toMatchObject({ status: 'False', reason: 'Completed' });
    expect(findCondition(status.conditions, 'Progressing')?.status).toBe('False');
    expect(status.brokers?.map((b) => `${b.readQueues}r/${b.writeQueues}w`)).toEqual(['4r/4w', '4r/4w']);
    expect(t.events.recorded.at(-1)).toMatchObject({ reason: 'QueueShrinkCompleted' });

    // A later resync looks no further and changes nothing.
    const calls = t.admin.calls.length;
    t.tick(60_000);
    await t.reconcile('shop/payments');
    expect(t.admin.calls.slice(calls)).toEqual([
      'topic+ orders-broker-0 payments',
      'topic+ orders-broker-1 payments',
    ]);
  });

  it('the count raised again during a shrink abandons it: read = write = the new count', async () => {
    backlog(5, 2);
    lower(4);
    await t.reconcile('shop/payments');
    expect(counts(A)).toBe('8r/4w');
    lower(8);
    expect(await t.reconcile('shop/payments')).toEqual({ requeueAfter: 60_000 });
    expect([counts(A), counts(B)]).toEqual(['8r/8w', '8r/8w']);
    expect(t.get().status?.queueShrink).toBeNull();
    expect(shrinkCondition()).toMatchObject({ status: 'False', reason: 'Abandoned' });
    expect(t.events.recorded.at(-1)).toMatchObject({ reason: 'QueueShrinkAbandoned' });
  });

  it('a master that cannot be read holds the shrink and is reported failed; the other keeps its read queues', async () => {
    lower(4);
    await t.reconcile('shop/payments');
    t.tick(30_000);
    t.admin.down.add(B);
    await expect(t.reconcile('shop/payments')).rejects.toBeInstanceOf(BrokersNotSyncedError);
    expect(counts(A)).toBe('8r/4w');
    expect(shrinkCondition()).toMatchObject({ status: 'True', reason: 'BrokersUnobserved' });
    t.admin.down.clear();
    await t.reconcile('shop/payments');
    expect([counts(A), counts(B)]).toEqual(['4r/4w', '4r/4w']);
  });

  it('a master that refuses the read-queue change keeps the shrink pending; the next pass finishes it', async () => {
    lower(4);
    await t.reconcile('shop/payments');
    t.tick(30_000);
    // Observation works, but B refuses UPDATE_AND_CREATE_TOPIC this pass.
    const original = t.admin.createOrUpdateTopic.bind(t.admin);
    t.admin.createOrUpdateTopic = async (broker, config) => {
      if (broker.address === B) throw new BrokerCallError('refused: code 1', false);
      return original(broker, config);
    };
    await expect(t.reconcile('shop/payments')).rejects.toBeInstanceOf(BrokersNotSyncedError);
    expect([counts(A), counts(B)]).toEqual(['4r/4w', '8r/4w']);
    expect(t.get().status?.queueShrink).toMatchObject({ fromQueues: 8, toQueues: 4 });
    expect(shrinkCondition()).toMatchObject({ status: 'True', reason: 'BrokersUnobserved' });
    expect(t.events.recorded.map((e) => e.reason)).not.toContain('QueueShrinkCompleted');

    t.admin.createOrUpdateTopic = original;
    t.tick(1_000);
    await t.reconcile('shop/payments');
    expect([counts(A), counts(B)]).toEqual(['4r/4w', '4r/4w']);
    expect(shrinkCondition()).toMatchObject({ status: 'False', reason: 'Completed' });
    expect(t.events.recorded.at(-1)).toMatchObject({ reason: 'QueueShrinkCompleted' });
  });

  it('growth needs no look at the brokers and sets both counts at once', async () => {
    const calls = t.admin.calls.length;
    lower(12);
    await t.reconcile('shop/payments');
    expect([counts(A), counts(B)]).toEqual(['12r/12w', '12r/12w']);
    expect(t.admin.calls.slice(calls).filter((c) => c.startsWith('progress?'))).toEqual([]);
    expect(shrinkCondition()).toBeUndefined();
  });
});

describe('ConsumerGroup reconcile', () => {
  it('creates the subscription group on every master and deletes it (with offsets) on Delete', async () => {
    const groups = new FakeCache<ConsumerGroup>();
    const clusters = new FakeCache<BrokerCluster>();
    const kube = new FakeKube({ ConsumerGroup: groups as FakeCache<KubeObjectLike> });
    const admin = new FakeAdmin();
    const reconcile = createConsumerGroupReconciler({
      objects: groups,
      clusters,
      kube,
      events: new FakeEvents(),
      admin,
      now: () => 0,
    });
    clusters.put(sampleCluster());
    groups.put(sampleGroup({ consumeMode: 'Broadcasting', retryMaxTimes: 5 }));
    expect(await reconcile('shop/billing')).toEqual({ requeueAfter: 300_000 });
    expect(admin.groups.get(A)?.get('billing')).toMatchObject({
      consumeBroadcastEnable: true,
      retryMaxTimes: 5,
    });
    const status = groups.get('billing', 'shop')!.status!;
    expect(status.groupName).toBe('billing');
    expect(findCondition(status.conditions, 'Ready')?.message).toBe(
      'subscription group billing is in place on 1/1 masters',
    );
    const g = groups.get('billing', 'shop')!;
    groups.put({ ...g, metadata: { ...g.metadata, deletionTimestamp: '1970-01-01T00:00:01Z' } });
    await reconcile('shop/billing');
    expect(admin.calls.at(-1)).toBe('group- orders-broker-0 billing');
    expect(admin.groups.get(A)?.has('billing')).toBe(false);
    expect(groups.get('billing', 'shop')).toBeUndefined();
  });
});
