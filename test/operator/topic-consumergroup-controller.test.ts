// Topic and ConsumerGroup controllers against a real kube-apiserver AND real Bolide brokers
// (startStandalone(), outside Kubernetes: no kubelet here). The operator reaches the brokers through its
// endpoint-overrides seam: "cluster tcg-test/local is broker-a and broker-b at these addresses".
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../broker-image/src/client/index.js';
import { type Condition, type ConsumerGroup, FINALIZER, type Topic } from '../../operator/src/api/index.js';
import { parseEndpointOverrides } from '../../operator/src/controller/index.js';
import type { KubeObject } from '../../operator/src/kube/index.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import {
  BolideResources,
  BuiltinResources,
  eventually,
  type OperatorTestEnv,
  startOperatorTestEnv,
} from './operator-support.js';

const ns = 'tcg-test';
type TopicObj = Topic & KubeObject;
type GroupObj = ConsumerGroup & KubeObject;
const cond = (obj: { status?: { conditions?: Condition[] } } | undefined, type: string) =>
  obj?.status?.conditions?.find((c) => c.type === type);

function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

describe('Topic and ConsumerGroup controllers with real brokers', () => {
  let env: OperatorTestEnv;
  let a: LocalRocketMQ;
  let b: LocalRocketMQ;
  let bDir: string;
  let bPorts: { namesrvPort: number; brokerPort: number };
  let admin: AdminClient;

  const startB = () =>
    startStandalone({
      dataDir: bDir,
      keepData: true,
      httpPort: 'off',
      ...bPorts,
      brokerConf: { brokerClusterName: 'local', brokerName: 'broker-b' },
    });
  const topicsOn = (mq: LocalRocketMQ) => admin.listTopicConfigs(mq.brokerAddr);
  const groupsOn = (mq: LocalRocketMQ) => admin.listSubscriptionGroups(mq.brokerAddr);
  const getTopic = (name: string) => env.client.get<TopicObj>(BolideResources.Topic, name, ns);
  const getGroup = (name: string) => env.client.get<GroupObj>(BolideResources.ConsumerGroup, name, ns);
  const createTopic = (name: string, spec: Topic['spec']) =>
    env.client.create<TopicObj>({
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'Topic',
      metadata: { name, namespace: ns },
      spec,
    });
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000) =>
    eventually(what, fn, ms);

  beforeAll(async () => {
    a = await startStandalone({
      httpPort: 'off',
      brokerConf: { brokerClusterName: 'local', brokerName: 'broker-a' },
    });
    bDir = await mkdtemp(join(tmpdir(), 'bolide-op-b-'));
    const first = await startStandalone({
      dataDir: bDir,
      keepData: true,
      httpPort: 'off',
      brokerConf: { brokerClusterName: 'local', brokerName: 'broker-b' },
    });
    bPorts = { namesrvPort: portOf(first.namesrvAddr), brokerPort: portOf(first.brokerAddr) };
    b = first;
    admin = new AdminClient({ namesrvAddr: a.namesrvAddr });
    const overrides = parseEndpointOverrides(
      JSON.stringify({
        [`${ns}/local`]: {
          nameServers: [a.namesrvAddr, b.namesrvAddr],
          masters: [
            { brokerName: 'broker-a', address: a.brokerAddr },
            { brokerName: 'broker-b', address: b.brokerAddr },
          ],
        },
      }),
    );
    env = await startOperatorTestEnv(ns, { endpointOverrides: overrides, adminTimeoutMs: 1500 });
  });

  afterAll(async () => {
    await env?.stop();
    await admin?.close();
    await a?.stop();
    await b?.stop();
    if (bDir) await rm(bDir, { recursive: true, force: true });
  });

  it('creates the topic on every master with the right queue count, and updates it', async () => {
    await createTopic('order-events', { clusterRef: { name: 'local' }, topicName: 'OrderEvents', queues: 6 });
    const ready = await waitFor('Topic Ready', async () => {
      const t = await getTopic('order-events');
      return cond(t, 'Ready')?.status === 'True' ? t : undefined;
    });
    expect(ready.metadata?.finalizers).toEqual([FINALIZER]);
    expect(ready.status?.observedGeneration).toBe(1);
    expect(ready.status?.topicName).toBe('OrderEvents');
    expect(ready.status?.brokers?.map((x) => `${x.brokerName}:${x.state}:${x.writeQueues}`)).toEqual([
      'broker-a:Synced:6',
      'broker-b:Synced:6',
    ]);
    for (const mq of [a, b]) {
      expect((await topicsOn(mq)).OrderEvents).toMatchObject({
        readQueueNums: 6,
        writeQueueNums: 6,
        perm: 6,
      });
    }

    await env.client.patch(ready, { spec: { queues: 10 } });
    await waitFor('10 queues on both brokers', async () => {
      const [ta, tb] = await Promise.all([topicsOn(a), topicsOn(b)]);
      return ta.OrderEvents?.writeQueueNums === 10 && tb.OrderEvents?.readQueueNums === 10;
    });
    const updated = await waitFor('observedGeneration 2', async () => {
      const t = await getTopic('order-events');
      return t?.status?.observedGeneration === 2 ? t : undefined;
    });
    expect(updated.status?.effectiveQueues).toBe(10);
  });

  it('deletionPolicy Delete removes the topic from the brokers and its route, then the finalizer', async () => {
    expect(await admin.getTopicRoute('OrderEvents')).toBeDefined();
    await env.client.delete(BolideResources.Topic, 'order-events', ns);
    await waitFor('Topic gone', async () => (await getTopic('order-events')) === undefined);
    expect((await topicsOn(a)).OrderEvents).toBeUndefined();
    expect((await topicsOn(b)).OrderEvents).toBeUndefined();
    expect(await admin.getTopicRoute('OrderEvents').catch(() => undefined)).toBeUndefined();
  });

  it('deletionPolicy Retain keeps the topic on the brokers', async () => {
    await createTopic('audit', {
      clusterRef: { name: 'local' },
      topicName: 'Audit',
      queues: 2,
      deletionPolicy: 'Retain',
    });
    await waitFor('Audit Ready', async () => cond(await getTopic('audit'), 'Ready')?.status === 'True');
    await env.client.delete(BolideResources.Topic, 'audit', ns);
    await waitFor('Topic gone', async () => (await getTopic('audit')) === undefined);
    expect((await topicsOn(a)).Audit).toMatchObject({ writeQueueNums: 2 });
    expect((await topicsOn(b)).Audit).toMatchObject({ writeQueueNums: 2 });
  });

  it('a ConsumerGroup becomes a subscription group on every master and goes away on delete', async () => {
    await env.client.create<GroupObj>({
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'ConsumerGroup',
      metadata: { name: 'billing', namespace: ns },
      spec: {
        clusterRef: { name: 'local' },
        groupName: 'GID_billing',
        consumeMode: 'Broadcasting',
        retryMaxTimes: 3,
      },
    });
    const ready = await waitFor('group Ready', async () => {
      const g = await getGroup('billing');
      return cond(g, 'Ready')?.status === 'True' ? g : undefined;
    });
    expect(ready.status?.groupName).toBe('GID_billing');
    for (const mq of [a, b]) {
      expect((await groupsOn(mq)).GID_billing).toMatchObject({
        retryMaxTimes: 3,
        consumeBroadcastEnable: true,
      });
    }
    await env.client.delete(BolideResources.ConsumerGroup, 'billing', ns);
    await waitFor('group gone', async () => (await getGroup('billing')) === undefined);
    expect((await groupsOn(a)).GID_billing).toBeUndefined();
    expect((await groupsOn(b)).GID_billing).toBeUndefined();
  });

  it('a Topic of a cluster that does not exist says so, and can still be deleted', async () => {
    await createTopic('orphan', { clusterRef: { name: 'nope' } });
    const t = await waitFor('ClusterNotFound', async () => {
      const x = await getTopic('orphan');
      return cond(x, 'Ready')?.reason === 'ClusterNotFound' ? x : undefined;
    });
    expect(cond(t, 'Degraded')).toMatchObject({
      status: 'True',
      message: `BrokerCluster ${ns}/nope does not exist; waiting for it`,
    });
    await env.client.delete(BolideResources.Topic, 'orphan', ns);
    await waitFor('orphan gone', async () => (await getTopic('orphan')) === undefined);
  });

  it('an unreachable broker is named in Degraded, retried with backoff, and recovers when it is back', async () => {
    await b.stop();
    await createTopic('payments', { clusterRef: { name: 'local' }, topicName: 'Payments', queues: 4 });
    const degraded = await waitFor('Degraded naming broker-b', async () => {
      const t = await getTopic('payments');
      return cond(t, 'Degraded')?.status === 'True' ? t : undefined;
    });
    const message = cond(degraded, 'Degraded')?.message ?? '';
    expect(cond(degraded, 'Degraded')?.reason).toBe('BrokerUnreachable');
    expect(message).toContain(`broker-b (127.0.0.1:${bPorts.brokerPort})`);
    expect(message).not.toContain('broker-a');
    expect(cond(degraded, 'Ready')).toMatchObject({
      status: 'False',
      message: 'topic Payments is in place on 1/2 masters',
    });
    expect(degraded.status?.brokers?.map((x) => `${x.brokerName}:${x.state}`)).toEqual([
      'broker-a:Synced',
      'broker-b:Failed',
    ]);
    expect((await topicsOn(a)).Payments).toMatchObject({ writeQueueNums: 4 });

    const events = await env.client.list<
      KubeObject & { reason?: string; type?: string; involvedObject?: { name?: string } }
    >(BuiltinResources.Event, { namespace: ns });
    expect(
      events.items.some(
        (e) =>
          e.involvedObject?.name === 'payments' && e.type === 'Warning' && e.reason === 'BrokerUnreachable',
      ),
    ).toBe(true);

    // Let a few retries fail, then bring broker-b back on the same address and data.
    await new Promise((r) => setTimeout(r, 1500));
    b = await startB();
    const recovered = await waitFor(
      'Ready after broker-b is back',
      async () => {
        const t = await getTopic('payments');
        return cond(t, 'Ready')?.status === 'True' ? t : undefined;
      },
      60_000,
    );
    expect(cond(recovered, 'Degraded')?.status).toBe('False');
    expect(recovered.status?.observedGeneration).toBe(1);
    expect((await topicsOn(b)).Payments).toMatchObject({ writeQueueNums: 4 });
    // What broker-b stored before it stopped survived the restart (Audit was retained there).
    expect((await topicsOn(b)).Audit).toBeDefined();
  });

  it('without an override, admin calls go to the BrokerCluster master pods by DNS name (unreachable here: no pods)', async () => {
    await env.client.create({
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'BrokerCluster',
      metadata: { name: 'incluster', namespace: ns },
      spec: {},
    });
    await createTopic('in-cluster-topic', { clusterRef: { name: 'incluster' }, topicName: 'InCluster' });
    const t = await waitFor('Degraded naming the master pod', async () => {
      const x = await getTopic('in-cluster-topic');
      return cond(x, 'Degraded')?.status === 'True' ? x : undefined;
    });
    expect(cond(t, 'Degraded')?.reason).toBe('BrokerUnreachable');
    expect(cond(t, 'Degraded')?.message).toContain(
      `incluster-broker-0 (incluster-broker-0-0.incluster-broker.${ns}.svc:10911)`,
    );
  });
});
