import { describe, expect, it } from 'vitest';
import { allObjects, clusterConfigHash, desiredBrokerCluster, groupObjects } from './broker-cluster.js';
import type { Service, StatefulSet } from './k8s-types.js';
import { ANNOTATION_CONFIG_HASH, ANNOTATION_SPEC_HASH } from './metadata.js';
import { BROKER_START_SCRIPT } from './statefulsets.js';
import { sampleCluster } from './test-fixtures.js';

const options = { defaultImage: 'bolide/broker:test' };

describe('desiredBrokerCluster', () => {
  it('builds every child, named <cr>-<suffix>, in apply order (ConfigMaps before their StatefulSets)', () => {
    const desired = desiredBrokerCluster(sampleCluster({ brokers: { groups: 2 } }), options);
    expect(desired.problems).toEqual([]);
    expect(allObjects(desired).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
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
  });

  it('puts the namespace, standard labels and a controller owner reference on every child', () => {
    const desired = desiredBrokerCluster(sampleCluster(), options);
    for (const obj of allObjects(desired)) {
      expect(obj.metadata.namespace).toBe('shop');
      expect(obj.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'bolide.dev/v1alpha1',
          kind: 'BrokerCluster',
          name: 'orders',
          uid: 'uid-orders',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(obj.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'bolide',
        'app.kubernetes.io/instance': 'orders',
        'app.kubernetes.io/part-of': 'bolide',
        'app.kubernetes.io/managed-by': 'bolide-operator',
      });
      expect(['name-server', 'broker', 'client']).toContain(
        obj.metadata.labels?.['app.kubernetes.io/component'],
      );
    }
  });

  it('every pod meets Pod Security "restricted" (non-root, no privilege escalation, RuntimeDefault seccomp)', () => {
    const desired = desiredBrokerCluster(sampleCluster({ brokers: { groups: 2 } }), options);
    const statefulSets = allObjects(desired).filter((o): o is StatefulSet => o.kind === 'StatefulSet');
    expect(statefulSets).toHaveLength(3);
    for (const sts of statefulSets) {
      const pod = sts.spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('name servers: a StatefulSet with the requested replicas behind a headless Service', () => {
    const desired = desiredBrokerCluster(sampleCluster({ nameServers: { replicas: 3 } }), options);
    const sts = desired.nameServer;
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.serviceName).toBe('orders-namesrv');
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    const container = sts.spec.template.spec.containers[0];
    expect(container.image).toBe('bolide/broker:test');
    expect([...(container.command ?? []), ...(container.args ?? [])].slice(0, 2)).toEqual([
      'bolide',
      'namesrv',
    ]);
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const headless = desired.shared.find(
      (o) => o.metadata.name === 'orders-namesrv' && o.kind === 'Service',
    ) as Service;
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(headless.spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(sts.spec.template.metadata.labels).toMatchObject(sts.spec.selector.matchLabels);
    expect(desired.nameServerAddresses).toEqual([
      'orders-namesrv-0.orders-namesrv.shop.svc:9876',
      'orders-namesrv-1.orders-namesrv.shop.svc:9876',
      'orders-namesrv-2.orders-namesrv.shop.svc:9876',
    ]);
  });

  it('client Service selects the name servers on 9876', () => {
    const desired = desiredBrokerCluster(sampleCluster(), options);
    const svc = desired.shared.find((o) => o.metadata.name === 'orders-client') as Service;
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.selector).toEqual(desired.nameServer.spec.selector.matchLabels);
    expect(svc.spec.ports).toEqual([
      { name: 'remoting', port: 9876, targetPort: 'remoting', protocol: 'TCP' },
    ]);
  });

  it('broker group: replicas, volumeClaimTemplates, conf mount, per-pod env and /healthz readiness', () => {
    const desired = desiredBrokerCluster(
      sampleCluster({
        image: 'registry.local/bolide:1',
        brokers: { groups: 1, replicasPerGroup: 2, storage: { size: '50Gi', storageClassName: 'fast' } },
      }),
      options,
    );
    const [group] = desired.groups;
    const sts: StatefulSet = group.statefulSet;
    expect(sts.metadata.name).toBe('orders-broker-0');
    expect(sts.spec.replicas).toBe(2);
    expect(sts.spec.serviceName).toBe('orders-broker');
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate' });
    expect(sts.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'bolide',
      'app.kubernetes.io/instance': 'orders',
      'app.kubernetes.io/component': 'broker',
      'bolide.dev/broker-group': '0',
    });
    expect(sts.spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'data', labels: expect.objectContaining({ 'bolide.dev/broker-group': '0' }) },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '50Gi' } },
          storageClassName: 'fast',
        },
      },
    ]);
    const pod = sts.spec.template;
    const container = pod.spec.containers[0];
    expect(container.image).toBe('registry.local/bolide:1');
    expect(container.command).toEqual(['/bin/sh', '-c', BROKER_START_SCRIPT]);
    expect(BROKER_START_SCRIPT).toContain('exec bolide broker -c /etc/bolide/broker.conf');
    expect(container.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'BOLIDE_brokerIP1', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'BOLIDE_brokerName', value: 'orders-broker-0' },
    ]);
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.ports?.find((p) => p.name === 'http')?.containerPort).toBe(10913);
    expect(container.volumeMounts).toEqual([
      { name: 'config', mountPath: '/etc/bolide', readOnly: true },
      { name: 'data', mountPath: '/var/lib/bolide' },
    ]);
    expect(pod.spec.volumes).toEqual([{ name: 'config', configMap: { name: 'orders-broker-0-config' } }]);
    expect(pod.metadata.annotations?.[ANNOTATION_CONFIG_HASH]).toBe(group.configHash);
    expect(sts.metadata.annotations?.[ANNOTATION_SPEC_HASH]).toBe(group.specHash);
  });

  it('a flush-mode change changes broker.conf, its hash on the pod template and the spec hash', () => {
    const a = desiredBrokerCluster(sampleCluster({ flushMode: 'Async' }), options).groups[0];
    const b = desiredBrokerCluster(sampleCluster({ flushMode: 'Sync' }), options).groups[0];
    expect(a.configMap.data['broker.conf']).toContain('flushDiskType=ASYNC_FLUSH');
    expect(b.configMap.data['broker.conf']).toContain('flushDiskType=SYNC_FLUSH');
    expect(a.configHash).not.toBe(b.configHash);
    expect(b.statefulSet.spec.template.metadata.annotations?.[ANNOTATION_CONFIG_HASH]).toBe(b.configHash);
    expect(a.specHash).not.toBe(b.specHash);
  });

  it('is deterministic: the same CR gives identical objects and hashes', () => {
    const cr = sampleCluster({ brokers: { groups: 3 }, brokerConfig: { b: '1', a: '2' } });
    const one = desiredBrokerCluster(cr, options);
    const two = desiredBrokerCluster(structuredClone(cr), options);
    expect(allObjects(two)).toEqual(allObjects(one));
    expect(clusterConfigHash(two)).toBe(clusterConfigHash(one));
  });

  it('PodDisruptionBudgets allow one pod down per group and among the name servers', () => {
    const desired = desiredBrokerCluster(sampleCluster({ brokers: { groups: 2 } }), options);
    const pdb = groupObjects(desired.groups[1]).find((o) => o.kind === 'PodDisruptionBudget');
    expect(pdb).toMatchObject({
      metadata: { name: 'orders-broker-1' },
      spec: {
        maxUnavailable: 1,
        selector: { matchLabels: desired.groups[1].statefulSet.spec.selector.matchLabels },
      },
    });
    const nsPdb = desired.shared.find((o) => o.kind === 'PodDisruptionBudget');
    expect(nsPdb).toMatchObject({
      metadata: { name: 'orders-namesrv' },
      spec: { maxUnavailable: 1, selector: { matchLabels: desired.nameServer.spec.selector.matchLabels } },
    });
  });

  it('reports what the schema should have refused instead of building a half-valid cluster', () => {
    const cr = sampleCluster({ brokerConfig: { namesrvAddr: 'x:1' } });
    const desired = desiredBrokerCluster(cr, { defaultImage: '' });
    expect(desired.problems).toEqual([
      {
        field: 'spec.brokerConfig.namesrvAddr',
        message: 'is managed by the operator and cannot be set here',
      },
      { field: 'spec.image', message: 'is empty and the operator has no default image' },
    ]);
    const noUid = desiredBrokerCluster(
      { ...cr, metadata: { name: 'Bad_Name', namespace: 'x' }, spec: {} },
      options,
    );
    expect(noUid.problems.map((p) => p.field)).toEqual(['metadata.name', 'metadata.uid']);
  });
});
