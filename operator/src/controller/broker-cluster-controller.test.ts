import { beforeEach, describe, expect, it } from 'vitest';
import type { BrokerCluster, BrokerClusterStatus } from '../api/index.js';
import { ANNOTATION_CONFIG_HASH, type StatefulSet } from '../desired/index.js';
import { findCondition } from '../status/index.js';
import { createBrokerClusterReconciler, PAUSE_LABEL } from './broker-cluster-controller.js';
import type { KubeObjectLike } from './ports.js';
import { FakeCache, FakeEvents, FakeKube, sampleCluster } from './test-fakes.js';

type Sts = StatefulSet & KubeObjectLike;

function setup(spec: BrokerCluster['spec'] = {}) {
  const clusters = new FakeCache<BrokerCluster>();
  const statefulSets = new FakeCache<Sts>();
  const kube = new FakeKube({
    BrokerCluster: clusters as FakeCache<KubeObjectLike>,
    StatefulSet: statefulSets as FakeCache<KubeObjectLike>,
  });
  const events = new FakeEvents();
  let clock = Date.parse('2026-03-01T10:00:00Z');
  const reconcile = createBrokerClusterReconciler({
    clusters,
    statefulSets,
    kube,
    events,
    build: { defaultImage: 'bolide/broker:test' },
    now: () => clock,
  });
  clusters.put(sampleCluster(spec));
  const cr = () => clusters.get('orders', 'shop')!;
  const edit = (next: BrokerCluster['spec']) =>
    clusters.put({
      ...cr(),
      metadata: { ...cr().metadata, generation: (cr().metadata.generation ?? 0) + 1 },
      spec: next,
    });
  /** What the StatefulSet controller and kubelet would report once every pod runs the current template. */
  const markRolledOut = (name: string) => {
    const sts = statefulSets.get(name, 'shop')!;
    const generation = sts.metadata.generation;
    statefulSets.put({
      ...sts,
      status: {
        observedGeneration: generation,
        replicas: sts.spec.replicas,
        readyReplicas: sts.spec.replicas,
        updatedReplicas: sts.spec.replicas,
        currentRevision: 'r',
        updateRevision: 'r',
      },
    });
  };
  const tick = (ms: number) => {
    clock += ms;
  };
  return { clusters, statefulSets, kube, events, reconcile, cr, edit, markRolledOut, tick };
}

const names = (objs: KubeObjectLike[]) => objs.map((o) => `${o.kind}/${o.metadata?.name}`);

describe('BrokerCluster reconcile', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup({ brokers: { groups: 2 } });
  });

  it('applies every child in order and reports Progressing while nothing is ready', async () => {
    expect(await t.reconcile('shop/orders')).toBeUndefined();
    expect(names(t.kube.applied)).toEqual([
      'Service/orders-namesrv',
      'Service/orders-broker',
      'Service/orders-client',
      'StatefulSet/orders-namesrv',
      'PodDisruptionBudget/orders-namesrv',
      'ConfigMap/orders-broker-0-config',
      'StatefulSet/orders-broker-0',
      'PodDisruptionBudget/orders-broker-0',
      'ConfigMap/orders-broker-1-config',
      'StatefulSet/orders-broker-1',
      'PodDisruptionBudget/orders-broker-1',
    ]);
    expect(t.kube.statusPatches).toHaveLength(1);
    const status = t.cr().status!;
    expect(findCondition(status.conditions, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'WaitingForReadiness',
    });
    expect(findCondition(status.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodsNotReady',
    });
    expect(findCondition(status.conditions, 'Degraded')?.status).toBe('False');
    expect(status.observedGeneration).toBe(3);
    expect(status.brokersReady).toBe('0/2');
    expect(status.nameServerAddresses).toEqual(['orders-namesrv-0.orders-namesrv.shop.svc:9876']);
    expect(t.events.recorded.map((e) => e.reason)).toEqual(['Created', 'Created']);
  });

  it('a second pass with nothing changed writes no status', async () => {
    await t.reconcile('shop/orders');
    t.tick(60_000);
    await t.reconcile('shop/orders');
    expect(t.kube.statusPatches).toHaveLength(1);
  });

  it('becomes Ready once every StatefulSet reports its pods ready', async () => {
    await t.reconcile('shop/orders');
    for (const n of ['orders-namesrv', 'orders-broker-0', 'orders-broker-1']) t.markRolledOut(n);
    await t.reconcile('shop/orders');
    const status = t.cr().status as BrokerClusterStatus;
    expect(findCondition(status.conditions, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'AllPodsReady',
    });
    expect(findCondition(status.conditions, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'Complete',
    });
    expect(status.flushMode).toBe('Async');
  });

  it('a flush-mode change updates group 0 first and holds group 1 until group 0 is rolled and ready', async () => {
    await t.reconcile('shop/orders');
    for (const n of ['orders-namesrv', 'orders-broker-0', 'orders-broker-1']) t.markRolledOut(n);
    await t.reconcile('shop/orders');
    const hashBefore = t.statefulSets.get('orders-broker-1', 'shop')!.spec.template.metadata.annotations?.[
      ANNOTATION_CONFIG_HASH
    ];

    t.edit({ brokers: { groups: 2 }, flushMode: 'Sync' });
    t.kube.applied.length = 0;
    await t.reconcile('shop/orders');
    expect(names(t.kube.applied)).toContain('ConfigMap/orders-broker-0-config');
    expect(names(t.kube.applied)).not.toContain('ConfigMap/orders-broker-1-config');
    expect(names(t.kube.applied)).not.toContain('StatefulSet/orders-broker-1');
    const g0 = t.kube.applied.find((o) => o.metadata?.name === 'orders-broker-0-config') as {
      data: Record<string, string>;
    };
    expect(g0.data['broker.conf']).toContain('flushDiskType=SYNC_FLUSH');
    const status = t.cr().status!;
    expect(findCondition(status.conditions, 'Progressing')).toMatchObject({ reason: 'RollingUpdate' });
    expect(findCondition(status.conditions, 'Progressing')?.message).toContain(
      'orders-broker-1 waits for the previous group',
    );
    expect(status.flushMode).toBe('Async');
    expect(t.events.recorded.at(-1)).toMatchObject({ type: 'Normal', reason: 'RollingUpdate' });

    // Still rolling: group 1 keeps its old template.
    await t.reconcile('shop/orders');
    expect(
      t.statefulSets.get('orders-broker-1', 'shop')!.spec.template.metadata.annotations?.[
        ANNOTATION_CONFIG_HASH
      ],
    ).toBe(hashBefore);

    t.markRolledOut('orders-broker-0');
    await t.reconcile('shop/orders');
    const g1 = t.statefulSets.get('orders-broker-1', 'shop')!;
    expect(g1.spec.template.metadata.annotations?.[ANNOTATION_CONFIG_HASH]).not.toBe(hashBefore);
    t.markRolledOut('orders-broker-1');
    await t.reconcile('shop/orders');
    expect(t.cr().status?.flushMode).toBe('Sync');
  });

  it('an invalid spec applies nothing, names the field in Degraded and warns once', async () => {
    t = setup({ brokerConfig: { brokerId: '3' } });
    await t.reconcile('shop/orders');
    await t.reconcile('shop/orders');
    expect(t.kube.applied).toEqual([]);
    const degraded = findCondition(t.cr().status?.conditions, 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(degraded?.message).toContain('spec.brokerConfig.brokerId');
    expect(t.events.recorded.filter((e) => e.type === 'Warning')).toHaveLength(1);
    expect(t.cr().status?.observedGeneration).toBeUndefined();
  });

  it('a failed apply is reported as Degraded and thrown for a retry with backoff', async () => {
    t.kube.failApply.set(
      'orders-broker-0',
      Object.assign(new Error('admission webhook said no'), { code: 400 }),
    );
    await expect(t.reconcile('shop/orders')).rejects.toThrow(/applying StatefulSet orders-broker-0 failed/);
    const degraded = findCondition(t.cr().status?.conditions, 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(names(t.kube.applied)).not.toContain('StatefulSet/orders-broker-1');
  });

  it('recreates a StatefulSet (orphaning pods) when an immutable field changes', async () => {
    await t.reconcile('shop/orders');
    t.kube.failApply.set(
      'orders-broker-0',
      Object.assign(
        new Error(
          'StatefulSet.apps "orders-broker-0" is invalid: spec: Forbidden: updates to statefulset spec for fields other than ...',
        ),
        { code: 422 },
      ),
    );
    t.edit({ brokers: { groups: 2, storage: { size: '20Gi' } } });
    await t.reconcile('shop/orders');
    expect(t.kube.deleted).toEqual([{ name: 'orders-broker-0', propagationPolicy: 'Orphan' }]);
    expect(
      t.statefulSets.get('orders-broker-0', 'shop')!.spec.volumeClaimTemplates?.[0].spec.resources.requests
        .storage,
    ).toBe('20Gi');
    expect(t.events.recorded.some((e) => e.reason === 'Recreated')).toBe(true);
  });

  it('keeps StatefulSets of groups beyond spec.brokers.groups and says so', async () => {
    await t.reconcile('shop/orders');
    t.edit({ brokers: { groups: 1 } });
    await t.reconcile('shop/orders');
    expect(t.kube.deleted).toEqual([]);
    const degraded = findCondition(t.cr().status?.conditions, 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ScaleDownRefused' });
    expect(degraded?.message).toContain('orders-broker-1 is kept running');
  });

  it('the pause label stops all changes', async () => {
    const cr = t.cr();
    t.clusters.put({ ...cr, metadata: { ...cr.metadata, labels: { [PAUSE_LABEL]: 'true' } } });
    await t.reconcile('shop/orders');
    expect(t.kube.applied).toEqual([]);
    expect(findCondition(t.cr().status?.conditions, 'Progressing')).toMatchObject({
      reason: 'ReconciliationPaused',
    });
  });

  it('an absent or deleting cluster is done', async () => {
    expect(await t.reconcile('shop/other')).toBeUndefined();
    const cr = t.cr();
    t.clusters.put({ ...cr, metadata: { ...cr.metadata, deletionTimestamp: '2026-03-01T10:00:00Z' } });
    await t.reconcile('shop/orders');
    expect(t.kube.applied).toEqual([]);
  });
});
