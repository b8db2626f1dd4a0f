// Tier 4 (design.md §7): the examples applied to a local cluster whose pods are local processes.
// kubectl-style apply → operator → StatefulSets → name servers and brokers in their own network
// namespaces → the bolide CLI (TS client) producing and consuming through the cluster DNS names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  type V1Pod,
} from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCluster, startLocalCluster } from '../harness/local-cluster.js';
import { REPO_ROOT } from '../harness/node-agent/images.js';
import { eventually } from '../harness/polling.js';

const NS = 'shop';
const GROUP = 'bolide.dev';
const VERSION = 'v1alpha1';
const NAMESRV = `demo-namesrv-0.demo-namesrv.${NS}.svc:9876;demo-namesrv-1.demo-namesrv.${NS}.svc:9876`;

type Obj = KubernetesObject & { spec?: Record<string, unknown> };

function example(file: string): Obj {
  return yaml.load(readFileSync(join(REPO_ROOT, 'examples', file), 'utf8')) as Obj;
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const msgIds = (out: string) => [...out.matchAll(/SEND_OK msgId=(\w+)/g)].map((m) => m[1] ?? '');

describe('local cluster: examples end to end', () => {
  let lc: LocalCluster;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;
  const acked: string[] = [];

  const produce = async (count: number) => {
    // The CLI sends one message at a time, and under SYNC_FLUSH each waits for its fdatasync, which
    // ran at ~20 ms a send in CI (2951 of 3000 within a flat 60 s); so the time allowed grows with count.
    const r = await lc.run(
      ['bolide', 'produce', '--namesrv-addr', NAMESRV, '--topic', 'orders', '--count', String(count)],
      60_000 + 60 * count,
    );
    const ids = msgIds(r.stdout);
    // Failed sends are reported by the CLI on stderr; keep them in the log so a short count says why.
    if (ids.length < count || process.env.BOLIDE_AGENT_DEBUG)
      console.error(
        `[produce] exit ${r.code}, ${ids.length}/${count} acknowledged\n${r.stderr.slice(-4000)}`,
      );
    acked.push(...ids);
    return { ...r, ids };
  };
  /** Every message of `orders` as a new consumer group reads it from the first offset. */
  const consumeAll = async (group: string, count: number) => {
    const r = await lc.run(
      [
        'bolide',
        'consume',
        '--namesrv-addr',
        NAMESRV,
        '--topic',
        'orders',
        '--group',
        group,
        '--from',
        'first',
        '--count',
        String(count),
      ],
      120_000,
    );
    return r.stdout;
  };
  const clusterReady = async () => {
    const bc = (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'brokerclusters',
      name: 'demo',
    })) as {
      metadata: { generation: number };
      status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] };
    };
    const ready = bc.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' && ready.observedGeneration === bc.metadata.generation ? bc : undefined;
  };

  beforeAll(async () => {
    lc = await startLocalCluster({
      log: process.env.BOLIDE_AGENT_DEBUG ? (m) => console.error(`[agent] ${m}`) : undefined,
    });
    core = lc.cp.kubeConfig.makeApiClient(CoreV1Api);
    apps = lc.cp.kubeConfig.makeApiClient(AppsV1Api);
    custom = lc.cp.kubeConfig.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const cluster = example('brokercluster.yaml');
    const spec = cluster.spec as { nameServers: { replicas: number }; brokers: { groups: number } };
    spec.nameServers.replicas = 2;
    spec.brokers.groups = 2;
    const group = example('consumergroup.yaml');
    const autoscaling = (group.spec as { autoscaling: Record<string, number> }).autoscaling;
    autoscaling.pollIntervalSeconds = 2;
    const objects = [cluster, example('topic.yaml'), group, example('consumer-deployment.yaml')];
    const api = KubernetesObjectApi.makeApiClient(lc.cp.kubeConfig);
    for (const obj of objects) {
      obj.metadata = { ...obj.metadata, namespace: NS };
      await api.create(obj);
    }
  }, 240_000);

  afterAll(async () => {
    await lc?.stop();
  }, 120_000);

  it('brings the BrokerCluster up: 2 name servers and 2 broker groups Ready, in their own network namespaces', async () => {
    await eventually('BrokerCluster Ready', clusterReady, 240_000);
    const pods = (
      await core.listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/instance=demo' })
    ).items;
    const names = pods.map((p) => p.metadata?.name).sort();
    expect(names).toEqual(['demo-broker-0-0', 'demo-broker-1-0', 'demo-namesrv-0', 'demo-namesrv-1']);
    expect(pods.every(isReady)).toBe(true);
    expect(new Set(pods.map((p) => p.status?.podIP)).size).toBe(4);
    expect(lc.agent.resolve(`demo-namesrv-1.demo-namesrv.${NS}.svc.cluster.local`)).toEqual([
      pods.find((p) => p.metadata?.name === 'demo-namesrv-1')?.status?.podIP,
    ]);
  }, 300_000);

  it('produces through the name-server DNS names and consumes everything', async () => {
    await eventually('topic orders on both masters', async () => {
      const r = await produce(4);
      return r.ids.length === 4 ? r : undefined;
    });
    const r = await produce(40);
    expect(r.ids).toHaveLength(40);
    const brokers = new Set([...r.stdout.matchAll(/queue=([\w-]+):/g)].map((m) => m[1]));
    expect([...brokers].sort()).toEqual(['demo-broker-0', 'demo-broker-1']);
    const out = await consumeAll('e2e-check-1', acked.length);
    for (const id of acked) expect(out).toContain(id);
  }, 240_000);

  it('a deleted broker pod comes back on the same data', async () => {
    expect(acked.length).toBeGreaterThanOrEqual(44);
    const before = await core.readNamespacedPod({ namespace: NS, name: 'demo-broker-0-0' });
    await core.deleteNamespacedPod({ namespace: NS, name: 'demo-broker-0-0' });
    await eventually(
      'demo-broker-0-0 replaced and Ready',
      async () => {
        const pod = await core.readNamespacedPod({ namespace: NS, name: 'demo-broker-0-0' });
        return pod.metadata?.uid !== before.metadata?.uid && isReady(pod) ? pod : undefined;
      },
      180_000,
    );
    // And a broker process killed outright: the container restarts in the same pod, on the same data.
    const pid = lc.agent.podInfo(NS, 'demo-broker-1-0')?.pid('broker');
    expect(pid).toBeGreaterThan(0);
    process.kill(pid ?? 0, 'SIGKILL');
    await eventually(
      'demo-broker-1-0 restarted and Ready',
      async () => {
        const pod = await core.readNamespacedPod({ namespace: NS, name: 'demo-broker-1-0' });
        return (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && isReady(pod) ? pod : undefined;
      },
      180_000,
    );
    const out = await consumeAll('e2e-check-2', acked.length);
    for (const id of acked) expect(out).toContain(id);
  }, 300_000);

  it('switching flushMode rolls every broker with no acknowledged message lost', async () => {
    const hashes = async () =>
      Object.fromEntries(
        (await apps.listNamespacedStatefulSet({ namespace: NS })).items.map((s) => [
          s.metadata?.name,
          JSON.stringify(s.spec?.template.metadata?.annotations),
        ]),
      );
    const before = await hashes();
    const brokerUids = async () =>
      (
        await core.listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/component=broker' })
      ).items.map((p) => p.metadata?.uid);
    const uidsBefore = await brokerUids();
    expect(uidsBefore).toHaveLength(2);
    const ackedBefore = acked.length;
    await custom.patchNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'brokerclusters',
      name: 'demo',
      body: [{ op: 'replace', path: '/spec/flushMode', value: 'Sync' }],
    });
    // Keep producing while the pods roll; only acknowledged sends count.
    let rolled = false;
    const producing = (async () => {
      while (!rolled) await produce(10);
    })();
    await eventually('broker StatefulSets updated', async () => {
      const now = await hashes();
      return now['demo-broker-0'] !== before['demo-broker-0'] &&
        now['demo-broker-1'] !== before['demo-broker-1']
        ? now
        : undefined;
    });
    await eventually(
      'roll complete',
      async () => {
        const sets = (await apps.listNamespacedStatefulSet({ namespace: NS })).items.filter((s) =>
          s.metadata?.name?.startsWith('demo-broker-'),
        );
        const done = sets.every(
          (s) =>
            s.status?.updateRevision === s.status?.currentRevision &&
            s.status?.readyReplicas === s.spec?.replicas,
        );
        return done && (await clusterReady()) ? true : undefined;
      },
      300_000,
    );
    rolled = true;
    await producing;
    // Both broker pods were replaced, and sends went on being acknowledged while they were.
    const uidsAfter = await brokerUids();
    expect(uidsAfter.filter((uid) => uidsBefore.includes(uid))).toEqual([]);
    expect(acked.length).toBeGreaterThan(ackedBefore);
    const conf = await core.readNamespacedConfigMap({ namespace: NS, name: 'demo-broker-0-config' });
    expect(conf.data?.['broker.conf']).toMatch(/flushDiskType\s*=\s*SYNC_FLUSH/);
    const out = await consumeAll('e2e-check-3', acked.length);
    const missing = acked.filter((id) => !out.includes(id));
    expect(missing).toEqual([]);
  }, 600_000);

  it('a backlog scales the consumer Deployment up and the consumers drain it', async () => {
    // Start from no consumers at all (minReplicas 0, after the 60 s stabilization window): a
    // consumer left running by the tests above drains a burst faster than the 10 s poll sees it,
    // so the backlog is only certain to be there when nobody consumes it yet.
    await eventually(
      'order-processor idle at 0 replicas',
      async () => {
        const d = await apps.readNamespacedDeployment({ namespace: NS, name: 'order-processor' });
        return d.spec?.replicas === 0 ? d : undefined;
      },
      180_000,
    );
    const startedAt = Date.now();
    const burst = await produce(3000);
    console.log(
      JSON.stringify({ test: 'backlog-burst', sent: burst.ids.length, ms: Date.now() - startedAt }),
    );
    expect(burst.ids.length).toBe(3000);
    // ceil(3000 / lagPerReplica 500) = 6, capped by maxReplicas 4 (and the topic's 8 queues).
    const scaled = await eventually(
      'order-processor scaled to ≥ 2',
      async () => {
        const d = await apps.readNamespacedDeployment({ namespace: NS, name: 'order-processor' });
        return (d.spec?.replicas ?? 0) >= 2 ? d : undefined;
      },
      60_000,
    );
    expect(scaled.spec?.replicas).toBeLessThanOrEqual(4);
    await eventually('consumer pods running', async () => {
      const pods = (
        await core.listNamespacedPod({
          namespace: NS,
          labelSelector: 'app.kubernetes.io/name=order-processor',
        })
      ).items;
      return pods.filter(isReady).length >= 2 ? pods : undefined;
    });
    // The consumers (the `bolide consume` CLI in pods, reaching the name server through the
    // demo-client Service name) work the backlog off: the lag the operator reports drops to zero.
    await eventually(
      'order-processor lag back to 0',
      async () => {
        const cg = (await custom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: 'consumergroups',
          name: 'order-processor',
        })) as { status?: { lag?: number } };
        return cg.status?.lag === 0 ? cg : undefined;
      },
      180_000,
    );
  }, 720_000);
});
