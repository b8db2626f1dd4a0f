import { describe, expect, it } from 'vitest';
import type { ConsumerGroup, Topic } from '../api/index.js';
import type { EndpointOverride, KubeObjectLike } from '../controller/index.js';
import { FakeAdmin, FakeCache, FakeEvents, FakeKube } from '../controller/test-fakes.js';
import type { BrokerEndpoint } from '../desired/index.js';
import { sampleGroup, sampleTopic } from '../desired/test-fixtures.js';
import {
  type AutoscaleObserver,
  createAutoscaler,
  type LagReader,
  type ScaleTarget,
  type TargetRef,
} from './autoscaler.js';
import type { LagSummary, QueueProgress } from './lag.js';

const MASTERS: BrokerEndpoint[] = [
  { brokerName: 'broker-a', address: '10.0.0.1:10911' },
  { brokerName: 'broker-b', address: '10.0.0.2:10911' },
];
const OVERRIDES = new Map<string, EndpointOverride>([
  ['shop/orders', { nameServers: ['10.0.0.9:9876'], masters: MASTERS }],
]);

/** Per topic: lag on each queue, the same on every master. */
class FakeLag implements LagReader {
  queues = new Map<string, number[]>();
  failure: Error | undefined;
  readonly calls: string[][] = [];
  async read(masters: readonly BrokerEndpoint[], group: string, topics: readonly string[]) {
    this.calls.push([group, ...topics]);
    if (this.failure) throw this.failure;
    const rows: QueueProgress[] = [];
    for (const m of masters) {
      for (const topic of topics) {
        (this.queues.get(topic) ?? []).forEach((lag, queueId) => {
          rows.push({
            topic,
            brokerName: m.brokerName,
            queueId,
            brokerOffset: 1000 + lag,
            consumerOffset: 1000,
          });
        });
      }
    }
    return rows;
  }
  /** Spreads `total` evenly over `queues` queues per master (two masters). */
  set(topic: string, queues: number, total: number) {
    const per = total / (queues * MASTERS.length);
    this.queues.set(
      topic,
      Array.from({ length: queues }, () => per),
    );
  }
}

class FakeScale implements ScaleTarget {
  replicas = new Map<string, number>();
  failSet: Error | undefined;
  readonly sets: number[] = [];
  async getReplicas(namespace: string, target: TargetRef) {
    const r = this.replicas.get(`${namespace}/${target.kind}/${target.name}`);
    if (r === undefined) throw new Error(`${target.kind.toLowerCase()}s "${target.name}" not found`);
    return r;
  }
  async setReplicas(namespace: string, target: TargetRef, replicas: number) {
    if (this.failSet) throw this.failSet;
    this.sets.push(replicas);
    this.replicas.set(`${namespace}/${target.kind}/${target.name}`, replicas);
  }
}

class RecordingObserver implements AutoscaleObserver {
  readonly seen: string[] = [];
  lagMeasured(ns: string, g: string, s: LagSummary) {
    this.seen.push(`lag ${ns}/${g} ${s.lag}`);
  }
  replicas(ns: string, g: string, current: number, desired: number) {
    this.seen.push(`replicas ${ns}/${g} ${current}/${desired}`);
  }
  scaled(ns: string, g: string, direction: string) {
    this.seen.push(`scaled ${ns}/${g} ${direction}`);
  }
  queuesGrown(ns: string, g: string, topic: string, queues: number) {
    this.seen.push(`grown ${ns}/${g} ${topic} ${queues}`);
  }
  forget(ns: string, g: string) {
    this.seen.push(`forget ${ns}/${g}`);
  }
}

function setup(autoscaling: ConsumerGroup['spec']['autoscaling'] | undefined, topicQueues = 4) {
  const groups = new FakeCache<ConsumerGroup>();
  const topics = new FakeCache<Topic>();
  const clusters = new FakeCache<never>();
  const kube = new FakeKube({
    ConsumerGroup: groups as unknown as FakeCache<KubeObjectLike>,
    Topic: topics as unknown as FakeCache<KubeObjectLike>,
  });
  const events = new FakeEvents();
  const admin = new FakeAdmin();
  const lag = new FakeLag();
  const scale = new FakeScale();
  const observer = new RecordingObserver();
  let now = Date.parse('2025-03-01T10:00:00Z');
  groups.put(
    sampleGroup({
      subscriptions: [{ topic: 'payments' }],
      ...(autoscaling ? { autoscaling } : {}),
    }),
  );
  topics.put(sampleTopic({ queues: topicQueues }));
  scale.replicas.set('shop/Deployment/workers', 1);
  const autoscaler = createAutoscaler({
    groups,
    topics,
    clusters,
    overrides: OVERRIDES,
    lag,
    scale,
    admin,
    kube,
    events,
    observer,
    now: () => now,
    lagPollMs: 20_000,
  });
  return {
    groups,
    topics,
    kube,
    events,
    admin,
    lag,
    scale,
    observer,
    autoscaler,
    advance: (ms: number) => {
      now += ms;
    },
    evaluate: () => autoscaler.reconcile('shop/billing'),
    status: () => groups.get('billing', 'shop')?.status,
  };
}

const scaling = (over: Partial<NonNullable<ConsumerGroup['spec']['autoscaling']>> = {}) => ({
  target: { name: 'workers' },
  minReplicas: 1,
  maxReplicas: 20,
  lagPerReplica: 100,
  pollIntervalSeconds: 5,
  scaleDownStabilizationSeconds: 60,
  ...over,
});

describe('autoscaler reconcile', () => {
  it('reads lag from every master (subscriptions + retry topic), scales at once, reports it', async () => {
    const t = setup(scaling());
    t.lag.set('payments', 4, 500);
    t.lag.set('%RETRY%billing', 1, 20);
    expect(await t.evaluate()).toEqual({ requeueAfter: 5000 });
    expect(t.lag.calls).toEqual([['billing', 'payments', '%RETRY%billing']]);
    expect(t.scale.sets).toEqual([6]);
    expect(t.status()).toMatchObject({
      lag: 520,
      lagPerTopic: [
        { topic: 'payments', lag: 500, queues: 8 },
        { topic: '%RETRY%billing', lag: 20, queues: 2 },
      ],
      queues: 8,
      lagTime: '2025-03-01T10:00:00Z',
      currentReplicas: 6,
      desiredReplicas: 6,
      lastScaleTime: '2025-03-01T10:00:00Z',
      lastScaleReason: 'lag 520 needs 6 replicas at 100 per replica',
    });
    expect(t.events.recorded).toEqual([
      {
        name: 'billing',
        type: 'Normal',
        reason: 'ScaledUp',
        message: 'Deployment workers scaled from 1 to 6: lag 520 needs 6 replicas at 100 per replica',
      },
    ]);
    expect(t.observer.seen).toEqual([
      'lag shop/billing 520',
      'scaled shop/billing up',
      'replicas shop/billing 6/6',
    ]);
  });

  it('caps at the queues across masters; scales down only after the window', async () => {
    const t = setup(scaling());
    t.lag.set('payments', 4, 5000);
    await t.evaluate();
    expect(t.scale.sets).toEqual([8]);
    expect(t.status()?.lastScaleReason).toContain('capped by 8 queues');

    t.lag.set('payments', 4, 0);
    t.advance(5000);
    await t.evaluate();
    expect(t.scale.sets).toEqual([8]);
    expect(t.status()).toMatchObject({ lag: 0, desiredReplicas: 1, lowLagSince: '2025-03-01T10:00:05Z' });
    t.advance(30_000);
    await t.evaluate();
    expect(t.scale.sets).toEqual([8]);
    t.advance(30_000);
    await t.evaluate();
    expect(t.scale.sets).toEqual([8, 1]);
    expect(t.status()).toMatchObject({ currentReplicas: 1, lowLagSince: null });
    expect(t.events.recorded.map((e) => e.reason)).toEqual(['ScaledUp', 'ScaledDown']);
  });

  it('writes no status when a poll measures the same thing', async () => {
    const t = setup(scaling());
    t.lag.set('payments', 4, 80);
    await t.evaluate();
    const writes = t.kube.statusPatches.length;
    t.advance(5000);
    await t.evaluate();
    expect(t.kube.statusPatches.length).toBe(writes);
  });

  it('lag unavailable: a warning, no scaling, try again next poll', async () => {
    const t = setup(scaling());
    t.lag.failure = new Error('broker-a (10.0.0.1:10911): connect ECONNREFUSED');
    expect(await t.evaluate()).toEqual({ requeueAfter: 5000 });
    expect(t.scale.sets).toEqual([]);
    expect(t.events.recorded).toEqual([
      {
        name: 'billing',
        type: 'Warning',
        reason: 'LagUnavailable',
        message: 'reading the lag of billing: broker-a (10.0.0.1:10911): connect ECONNREFUSED',
      },
    ]);
    expect(t.kube.statusPatches).toEqual([]);
  });

  it('a missing target: a warning, lag still reported', async () => {
    const t = setup(scaling({ target: { name: 'nope' } }));
    t.lag.set('payments', 4, 300);
    await t.evaluate();
    expect(t.events.recorded[0]).toMatchObject({ type: 'Warning', reason: 'ScaleTargetUnavailable' });
    expect(t.status()).toMatchObject({ lag: 300 });
    expect(t.status()?.currentReplicas).toBeUndefined();
  });

  it('a failed scale: a warning, status keeps the old count, the next poll tries again', async () => {
    const t = setup(scaling());
    t.lag.set('payments', 4, 300);
    t.scale.failSet = new Error('deployments.apps "workers" is forbidden');
    await t.evaluate();
    expect(t.events.recorded[0]).toMatchObject({ type: 'Warning', reason: 'ScaleFailed' });
    expect(t.status()).toMatchObject({ currentReplicas: 1, desiredReplicas: 3 });
    t.scale.failSet = undefined;
    t.advance(5000);
    await t.evaluate();
    expect(t.scale.sets).toEqual([3]);
  });

  it('a failed scale-down stays due (the window is not restarted)', async () => {
    const t = setup(scaling({ scaleDownStabilizationSeconds: 10 }));
    t.scale.replicas.set('shop/Deployment/workers', 5);
    t.lag.set('payments', 4, 0);
    await t.evaluate();
    t.advance(10_000);
    t.scale.failSet = new Error('timeout');
    await t.evaluate();
    t.scale.failSet = undefined;
    t.advance(1000);
    await t.evaluate();
    expect(t.scale.sets).toEqual([1]);
  });

  it('without autoscaling only the lag is measured, at the lag poll interval', async () => {
    const t = setup(undefined);
    t.lag.set('payments', 4, 42);
    expect(await t.evaluate()).toEqual({ requeueAfter: 20_000 });
    expect(t.status()).toMatchObject({ lag: 42, queues: 8 });
    expect(t.kube.statusPatches[0]?.status).toMatchObject({ currentReplicas: null, desiredReplicas: null });
    expect(t.scale.sets).toEqual([]);
  });

  it('a deleted or unsubscribed group drops its series and is not requeued', async () => {
    const t = setup(scaling());
    t.groups.items.clear();
    expect(await t.evaluate()).toBeUndefined();
    expect(t.observer.seen).toEqual(['forget shop/billing']);
    t.groups.put(sampleGroup({ subscriptions: [] }));
    expect(await t.evaluate()).toBeUndefined();
    expect(t.lag.calls).toEqual([]);
  });

  it('an unknown cluster is left to the ConsumerGroup controller; polled again later', async () => {
    const t = setup(scaling());
    t.groups.put(
      sampleGroup({
        clusterRef: { name: 'elsewhere' },
        subscriptions: [{ topic: 'payments' }],
        autoscaling: scaling(),
      }),
    );
    expect(await t.evaluate()).toEqual({ requeueAfter: 5000 });
    expect(t.lag.calls).toEqual([]);
  });

  describe('queue expansion', () => {
    const expanding = scaling({
      maxReplicas: 32,
      lagPerReplica: 10,
      queueExpansion: { enabled: true, maxQueues: 8, afterSeconds: 10 },
    });

    it('records the count in the Topic status, grows every master, scales further', async () => {
      const t = setup(expanding, 2);
      t.scale.replicas.set('shop/Deployment/workers', 4);
      t.lag.set('payments', 2, 1000);
      await t.evaluate();
      expect(t.status()?.saturatedSince).toBe('2025-03-01T10:00:00Z');
      t.advance(10_000);
      t.lag.set('payments', 2, 1200);
      await t.evaluate();
      const topic = t.topics.get('payments', 'shop');
      expect(topic?.spec.queues).toBe(2);
      expect(topic?.status).toMatchObject({
        autoscaledQueues: 4,
        effectiveQueues: 4,
        autoscaledTime: '2025-03-01T10:00:10Z',
      });
      for (const m of MASTERS) {
        expect(t.admin.topics.get(m.address)?.get('payments')).toMatchObject({
          readQueueNums: 4,
          writeQueueNums: 4,
          perm: 6,
        });
      }
      expect(t.events.recorded.filter((e) => e.reason === 'QueuesExpanded').map((e) => e.name)).toEqual([
        'payments',
        'billing',
      ]);
      expect(t.observer.seen).toContain('grown shop/billing payments 4');
      expect(t.status()?.saturatedSince).toBeNull();

      // The brokers now report 4 queues per master: replicas follow.
      t.lag.set('payments', 4, 1300);
      t.advance(5000);
      await t.evaluate();
      expect(t.scale.replicas.get('shop/Deployment/workers')).toBe(8);
    });

    it('a topic without a Topic resource is not grown', async () => {
      const t = setup(expanding, 2);
      t.topics.items.clear();
      t.scale.replicas.set('shop/Deployment/workers', 4);
      t.lag.set('payments', 2, 1000);
      await t.evaluate();
      t.advance(20_000);
      t.lag.set('payments', 2, 2000);
      await t.evaluate();
      expect(t.admin.calls).toEqual([]);
      expect(t.status()?.saturatedSince).toBeNull();
    });

    it('a failed growth is retried at the next evaluation', async () => {
      const t = setup(expanding, 2);
      t.scale.replicas.set('shop/Deployment/workers', 4);
      t.admin.down.add(MASTERS[1]?.address ?? '');
      t.lag.set('payments', 2, 1000);
      await t.evaluate();
      t.advance(10_000);
      t.lag.set('payments', 2, 1100);
      await t.evaluate();
      expect(t.events.recorded.map((e) => e.reason)).toContain('QueueExpansionFailed');
      t.admin.down.clear();
      t.advance(5000);
      t.lag.set('payments', 2, 1200);
      await t.evaluate();
      expect(t.admin.topics.get(MASTERS[1]?.address ?? '')?.get('payments')?.writeQueueNums).toBe(4);
    });
  });

  it('carries its state between quick evaluations even when the cache has not seen its status yet', async () => {
    const t = setup(scaling({ scaleDownStabilizationSeconds: 30 }));
    t.scale.replicas.set('shop/Deployment/workers', 5);
    t.lag.set('payments', 4, 0);
    await t.evaluate();
    // A stale cache: the status write is lost from the informer's view.
    const g = t.groups.get('billing', 'shop');
    if (g) t.groups.put({ ...g, status: {} });
    t.advance(30_000);
    await t.evaluate();
    expect(t.scale.sets).toEqual([1]);
    expect(t.autoscaler.stateOf('shop/billing')).toMatchObject({ lastLag: 0 });
  });
});
