// The BrokerCluster controller against a real kube-apiserver. There is no kubelet and no
// kube-controller-manager at this tier, so pods never run: StatefulSets stay unready (the test plays
// the StatefulSet controller by writing their status where a roll must proceed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerCluster, Condition } from '../../operator/src/api/index.js';
import type {
  ConfigMap,
  PodDisruptionBudget,
  Service,
  StatefulSet,
} from '../../operator/src/desired/index.js';
import type { KubeObject } from '../../operator/src/kube/index.js';
import {
  BolideResources,
  BuiltinResources,
  eventually,
  type OperatorTestEnv,
  startOperatorTestEnv,
} from './operator-support.js';

const ns = 'bc-test';
const CONFIG_HASH = 'bolide.dev/config-hash';

const cond = (cr: BrokerCluster | undefined, type: string): Condition | undefined =>
  cr?.status?.conditions?.find((c) => c.type === type);

describe('BrokerCluster controller against a real API server', () => {
  let env: OperatorTestEnv;
  const get = <T extends KubeObject>(kind: keyof typeof BuiltinResources, name: string) =>
    env.client.get<T>(BuiltinResources[kind], name, ns);
  const getCluster = (name: string) =>
    env.client.get<BrokerCluster & KubeObject>(BolideResources.BrokerCluster, name, ns);

  /** Writes what the StatefulSet controller would once every pod runs the current template and is ready. */
  async function markRolledOut(name: string): Promise<void> {
    const sts = (await get<StatefulSet & KubeObject>('StatefulSet', name))!;
    const replicas = sts.spec.replicas;
    await env.client.patchStatus(sts, {
      observedGeneration: sts.metadata.generation,
      replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      currentReplicas: replicas,
      updatedReplicas: replicas,
      currentRevision: `${name}-rev${sts.metadata.generation}`,
      updateRevision: `${name}-rev${sts.metadata.generation}`,
    });
  }

  beforeAll(async () => {
    env = await startOperatorTestEnv(ns);
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('creates ConfigMaps, StatefulSets, Services and PDBs with owner references, and reports Progressing', async () => {
    const created = await env.client.create<BrokerCluster & KubeObject>({
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'BrokerCluster',
      metadata: { name: 'orders', namespace: ns },
      spec: {
        nameServers: { replicas: 3 },
        brokers: { groups: 2, replicasPerGroup: 2, storage: { size: '5Gi' } },
        flushMode: 'Async',
        retention: { fileReservedTimeHours: 24, deleteWhen: '03' },
        brokerConfig: { maxMessageSize: '1048576' },
      },
    });
    const uid = created.metadata?.uid;

    const cm = await eventually('ConfigMap orders-broker-0-config', () =>
      get<ConfigMap & KubeObject>('ConfigMap', 'orders-broker-0-config'),
    );
    const conf = cm.data['broker.conf'];
    expect(conf).toContain('brokerClusterName=orders\n');
    expect(conf).toContain('brokerName=orders-broker-0\n');
    expect(conf).toContain('brokerId=0\n');
    expect(conf).toContain('flushDiskType=ASYNC_FLUSH\n');
    expect(conf).toContain(
      'namesrvAddr=orders-namesrv-0.orders-namesrv.bc-test.svc:9876;orders-namesrv-1.orders-namesrv.bc-test.svc:9876;orders-namesrv-2.orders-namesrv.bc-test.svc:9876\n',
    );
    expect(conf).toContain('fileReservedTime=24\n');
    expect(conf).toContain('deleteWhen=03\n');
    expect(conf).toContain('maxMessageSize=1048576\n');

    const names: [keyof typeof BuiltinResources, string][] = [
      ['Service', 'orders-namesrv'],
      ['Service', 'orders-broker'],
      ['Service', 'orders-client'],
      ['StatefulSet', 'orders-namesrv'],
      ['PodDisruptionBudget', 'orders-namesrv'],
      ['ConfigMap', 'orders-broker-0-config'],
      ['StatefulSet', 'orders-broker-0'],
      ['PodDisruptionBudget', 'orders-broker-0'],
      ['ConfigMap', 'orders-broker-1-config'],
      ['StatefulSet', 'orders-broker-1'],
      ['PodDisruptionBudget', 'orders-broker-1'],
    ];
    for (const [kind, name] of names) {
      const obj = await eventually(`${kind} ${name}`, () => get(kind, name));
      expect(obj.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'bolide.dev/v1alpha1',
          kind: 'BrokerCluster',
          name: 'orders',
          uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(obj.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('bolide-operator');
      expect(obj.metadata?.labels?.['app.kubernetes.io/instance']).toBe('orders');
      const managers = ((obj.metadata?.managedFields ?? []) as { manager: string; operation: string }[]).map(
        (m) => `${m.manager}/${m.operation}`,
      );
      expect(managers).toContain('bolide-operator/Apply');
    }

    const sts = (await get<StatefulSet & KubeObject>('StatefulSet', 'orders-broker-1'))!;
    expect(sts.spec.replicas).toBe(2);
    expect(sts.spec.serviceName).toBe('orders-broker');
    expect(sts.spec.updateStrategy.type).toBe('RollingUpdate');
    expect(sts.spec.volumeClaimTemplates?.[0].metadata.name).toBe('data');
    expect(sts.spec.volumeClaimTemplates?.[0].spec.resources.requests.storage).toBe('5Gi');
    expect(sts.spec.template.spec.containers[0].readinessProbe?.httpGet?.path).toBe('/healthz');
    expect(sts.spec.template.spec.volumes?.[0].configMap?.name).toBe('orders-broker-1-config');
    expect(sts.spec.template.metadata.annotations?.[CONFIG_HASH]).toMatch(/^[0-9a-f]{16}$/);
    const headless = (await get<Service & KubeObject>('Service', 'orders-namesrv'))!;
    expect(headless.spec.clusterIP).toBe('None');
    const pdb = (await get<PodDisruptionBudget & KubeObject>('PodDisruptionBudget', 'orders-broker-0'))!;
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels['bolide.dev/broker-group']).toBe('0');

    const cr = await eventually('status conditions', async () => {
      const c = await getCluster('orders');
      return cond(c, 'Progressing') ? c : undefined;
    });
    expect(cond(cr, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'WaitingForReadiness',
      observedGeneration: 1,
    });
    expect(cond(cr, 'Ready')).toMatchObject({ status: 'False', reason: 'PodsNotReady' });
    expect(cond(cr, 'Degraded')).toMatchObject({ status: 'False' });
    expect(cr.status?.observedGeneration).toBe(1);
    expect(cr.status?.brokersReady).toBe('0/4');
    expect(cr.status?.nameServerAddresses).toHaveLength(3);
    expect(cr.status?.brokers?.map((b) => `${b.pod}:${b.role}`)).toEqual([
      'orders-broker-0-0:Master',
      'orders-broker-0-1:Replica',
      'orders-broker-1-0:Master',
      'orders-broker-1-1:Replica',
    ]);
  });

  it('becomes Ready when the StatefulSets report ready pods', async () => {
    for (const name of ['orders-namesrv', 'orders-broker-0', 'orders-broker-1']) await markRolledOut(name);
    const cr = await eventually('Ready', async () => {
      const c = await getCluster('orders');
      return cond(c, 'Ready')?.status === 'True' ? c : undefined;
    });
    expect(cond(cr, 'Progressing')).toMatchObject({ status: 'False', reason: 'Complete' });
    expect(cr.status?.brokersReady).toBe('4/4');
    expect(cr.status?.flushMode).toBe('Async');
  });

  it('a flush-mode change rewrites broker.conf and rolls one group at a time', async () => {
    const hash = async (name: string) =>
      (await get<StatefulSet & KubeObject>('StatefulSet', name))?.spec.template.metadata.annotations?.[
        CONFIG_HASH
      ];
    const before0 = await hash('orders-broker-0');
    const before1 = await hash('orders-broker-1');
    const cr = (await getCluster('orders'))!;
    await env.client.patch(cr, { spec: { flushMode: 'Sync' } });

    await eventually('group 0 conf updated', async () =>
      (await get<ConfigMap & KubeObject>('ConfigMap', 'orders-broker-0-config'))?.data[
        'broker.conf'
      ].includes('flushDiskType=SYNC_FLUSH'),
    );
    await eventually(
      'group 0 template hash changed',
      async () => (await hash('orders-broker-0')) !== before0,
    );
    const rolling = await eventually('RollingUpdate', async () => {
      const c = await getCluster('orders');
      return cond(c, 'Progressing')?.reason === 'RollingUpdate' && c?.status?.observedGeneration === 2
        ? c
        : undefined;
    });
    expect(cond(rolling, 'Progressing')?.message).toContain('orders-broker-1 waits for the previous group');
    expect(rolling.status?.flushMode).toBe('Async');
    // Group 1 keeps its old conf and template while group 0 rolls.
    expect(
      (await get<ConfigMap & KubeObject>('ConfigMap', 'orders-broker-1-config'))?.data['broker.conf'],
    ).toContain('flushDiskType=ASYNC_FLUSH');
    expect(await hash('orders-broker-1')).toBe(before1);

    await markRolledOut('orders-broker-0');
    await eventually('group 1 conf updated', async () =>
      (await get<ConfigMap & KubeObject>('ConfigMap', 'orders-broker-1-config'))?.data[
        'broker.conf'
      ].includes('flushDiskType=SYNC_FLUSH'),
    );
    await eventually(
      'group 1 template hash changed',
      async () => (await hash('orders-broker-1')) !== before1,
    );
    await markRolledOut('orders-broker-1');
    const done = await eventually('rolled', async () => {
      const c = await getCluster('orders');
      return c?.status?.flushMode === 'Sync' && cond(c, 'Ready')?.status === 'True' ? c : undefined;
    });
    expect(cond(done, 'Progressing')).toMatchObject({ status: 'False', reason: 'Complete' });

    const events = await env.client.list<
      KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }
    >(BuiltinResources.Event, { namespace: ns });
    const rolls = events.items.filter((e) => e.reason === 'RollingUpdate').map((e) => e.message ?? '');
    expect(rolls.some((m) => m.startsWith('updated orders-broker-0'))).toBe(true);
    expect(rolls.some((m) => m.startsWith('updated orders-broker-1'))).toBe(true);
  });

  it('repairs drift: a deleted ConfigMap and an edited Service come back', async () => {
    const cm = (await get('ConfigMap', 'orders-broker-0-config'))!;
    await env.client.delete(BuiltinResources.ConfigMap, 'orders-broker-0-config', ns);
    const back = await eventually('ConfigMap recreated', async () => {
      const c = await get('ConfigMap', 'orders-broker-0-config');
      return c && c.metadata?.uid !== cm.metadata?.uid ? (c as ConfigMap & KubeObject) : undefined;
    });
    expect(back.data['broker.conf']).toContain('flushDiskType=SYNC_FLUSH');

    // Someone else takes over a field the operator applies; the next pass takes it back (forced apply).
    const svc = (await get<Service & KubeObject>('Service', 'orders-namesrv'))!;
    await env.client.patch(svc, { spec: { publishNotReadyAddresses: false } }, { type: 'merge' });
    await eventually(
      'publishNotReadyAddresses restored',
      async () =>
        (await get<Service & KubeObject>('Service', 'orders-namesrv'))?.spec.publishNotReadyAddresses ===
        true,
    );
    const cr = await getCluster('orders');
    expect(cond(cr, 'Degraded')?.status).toBe('False');
  });

  it('an operator restart converges without duplicate objects or status churn', async () => {
    const listAll = async () => {
      const out: string[] = [];
      for (const kind of ['ConfigMap', 'Service', 'StatefulSet', 'PodDisruptionBudget'] as const) {
        const list = await env.client.list(BuiltinResources[kind], {
          namespace: ns,
          labelSelector: 'app.kubernetes.io/instance=orders',
        });
        for (const o of list.items) out.push(`${kind}/${o.metadata?.name}`);
      }
      return out.sort();
    };
    const before = await listAll();
    const statusBefore = (await getCluster('orders'))!.status;
    await env.operator.stop();
    const second = await env.startOperator();
    await second.whenLeading();
    // Let the new operator do its first passes.
    await eventually('reconciled after restart', async () => {
      const text = await second.metrics.render();
      return /bolide_operator_reconciles_total\{controller="BrokerCluster",result="success"\} [1-9]/.test(
        text,
      );
    });
    expect(await listAll()).toEqual(before);
    expect(before).toHaveLength(11);
    expect((await getCluster('orders'))!.status).toEqual(statusBefore);
    env.operator = second;
  });
});
