// Setup shared by the autoscaler tests and `npm run bench:autoscale`: a real kube-apiserver with the
// CRDs, two real Bolide brokers (two masters of cluster `local`, reached through the operator's
// endpoint-overrides seam), the operator in this process, and helpers to build a backlog, let
// consumers catch up (committing offsets like a consumer does), read a Deployment's /scale and post
// Alertmanager webhooks.

import { BrokerRequestCode, ResponseCode } from '../../broker-image/src/protocol/index.js';
import type { Autoscaling, Condition, ConsumerGroup, Topic } from '../../operator/src/api/index.js';
import { parseEndpointOverrides } from '../../operator/src/controller/index.js';
import type { KubeObject } from '../../operator/src/kube/index.js';
import type { OperatorOptions } from '../../operator/src/main.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import { RawRocketMQ } from '../harness/raw-rocketmq.js';
import {
  BolideResources,
  BuiltinResources,
  eventually,
  type OperatorTestEnv,
  startOperatorTestEnv,
} from './operator-support.js';

export { eventually };

export type TopicObj = Topic & KubeObject;
export type GroupObj = ConsumerGroup & KubeObject;

export const CLUSTER = 'local';

export interface AutoscaleEnv {
  env: OperatorTestEnv;
  namespace: string;
  brokers: LocalRocketMQ[];
  /** Masters as the operator sees them. */
  masters: { brokerName: string; address: string }[];
  raw: RawRocketMQ;
  createTopic(name: string, queues: number): Promise<TopicObj>;
  createDeployment(name: string, replicas: number): Promise<void>;
  createGroup(name: string, topic: string, autoscaling: Autoscaling): Promise<GroupObj>;
  replicas(deployment: string): Promise<number>;
  group(name: string): Promise<GroupObj | undefined>;
  topic(name: string): Promise<TopicObj | undefined>;
  /** Sends `count` messages round-robin over every queue of every master. */
  produce(topic: string, count: number): Promise<void>;
  /** Commits the group's offset of every queue of `topic` to the queue's end: consumers caught up. */
  catchUp(group: string, topic: string): Promise<void>;
  /** POST /alerts with one firing alert per group (to the first operator unless `port` says otherwise). */
  alert(groups: string[], opts?: { token?: string; body?: string; port?: number }): Promise<Response>;
  stop(): Promise<void>;
}

const ready = (obj: { status?: { conditions?: Condition[] } } | undefined) =>
  obj?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

export async function startAutoscaleEnv(
  namespace: string,
  extra: Partial<OperatorOptions> = {},
): Promise<AutoscaleEnv> {
  const brokers: LocalRocketMQ[] = [];
  const raw = new RawRocketMQ();
  let env: OperatorTestEnv | undefined;
  try {
    for (const brokerName of ['broker-a', 'broker-b']) {
      brokers.push(
        await startStandalone({ httpPort: 'off', brokerConf: { brokerClusterName: CLUSTER, brokerName } }),
      );
    }
    const masters = brokers.map((b, i) => ({ brokerName: `broker-${'ab'[i]}`, address: b.brokerAddr }));
    const endpointOverrides = parseEndpointOverrides(
      JSON.stringify({
        [`${namespace}/${CLUSTER}`]: { nameServers: brokers.map((b) => b.namesrvAddr), masters },
      }),
    );
    env = await startOperatorTestEnv(namespace, { endpointOverrides, adminTimeoutMs: 2000, ...extra });
    const e = env;
    const client = e.client;
    const sent = new Map<string, number>();

    const topic = (name: string) => client.get<TopicObj>(BolideResources.Topic, name, namespace);
    const group = (name: string) => client.get<GroupObj>(BolideResources.ConsumerGroup, name, namespace);

    const maxOffset = async (address: string, topicName: string, queueId: number) => {
      const res = await raw.invoke(address, BrokerRequestCode.GET_MAX_OFFSET, {
        topic: topicName,
        queueId: String(queueId),
      });
      if (res.code !== ResponseCode.SUCCESS) throw new Error(`GET_MAX_OFFSET: ${res.code} ${res.remark}`);
      return Number(res.extFields?.offset ?? 0);
    };

    return {
      env: e,
      namespace,
      brokers,
      masters,
      raw,
      async createTopic(name, queues) {
        await client.create<TopicObj>({
          apiVersion: 'bolide.dev/v1alpha1',
          kind: 'Topic',
          metadata: { name, namespace },
          spec: { clusterRef: { name: CLUSTER }, queues },
        });
        return eventually(`Topic ${name} Ready`, async () => {
          const t = await topic(name);
          return ready(t) ? t : undefined;
        });
      },
      async createDeployment(name, replicas) {
        await client.create({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, namespace },
          spec: {
            replicas,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              spec: { containers: [{ name: 'consumer', image: 'example/consumer:1' }] },
            },
          },
        } as KubeObject);
      },
      async createGroup(name, topicName, autoscaling) {
        return client.create<GroupObj>({
          apiVersion: 'bolide.dev/v1alpha1',
          kind: 'ConsumerGroup',
          metadata: { name, namespace },
          spec: { clusterRef: { name: CLUSTER }, subscriptions: [{ topic: topicName }], autoscaling },
        });
      },
      async replicas(deployment) {
        const scale = await client.getScale(BuiltinResources.Deployment, deployment, namespace);
        return scale.spec?.replicas ?? 0;
      },
      group,
      topic,
      async produce(topicName, count) {
        const t = await topic(topicName);
        const perMaster = Math.max(t?.spec.queues ?? 1, t?.status?.autoscaledQueues ?? 0);
        const slots = masters.flatMap((m) =>
          Array.from({ length: perMaster }, (_, queueId) => ({ m, queueId })),
        );
        for (let i = 0; i < count; i++) {
          const n = sent.get(topicName) ?? 0;
          sent.set(topicName, n + 1);
          const slot = slots[n % slots.length];
          if (!slot) throw new Error(`topic ${topicName} has no queues`);
          const res = await raw.send(slot.m.address, topicName, `backlog ${n}`, { queueId: slot.queueId });
          if (res.code !== ResponseCode.SUCCESS) throw new Error(`send: ${res.code} ${res.remark}`);
        }
      },
      async catchUp(groupName, topicName) {
        const t = await topic(topicName);
        const perMaster = Math.max(t?.spec.queues ?? 1, t?.status?.autoscaledQueues ?? 0);
        for (const m of masters) {
          for (let queueId = 0; queueId < perMaster; queueId++) {
            const offset = await maxOffset(m.address, topicName, queueId);
            const res = await raw.invoke(m.address, BrokerRequestCode.UPDATE_CONSUMER_OFFSET, {
              consumerGroup: groupName,
              topic: topicName,
              queueId: String(queueId),
              commitOffset: String(offset),
            });
            if (res.code !== ResponseCode.SUCCESS) throw new Error(`commit: ${res.code} ${res.remark}`);
          }
        }
      },
      async alert(groups, opts = {}) {
        const body =
          opts.body ??
          JSON.stringify({
            version: '4',
            status: 'firing',
            receiver: 'bolide-operator',
            groupLabels: {},
            commonLabels: { alertname: 'BolideConsumerGroupLagHigh', namespace },
            alerts: groups.map((g) => ({
              status: 'firing',
              labels: { alertname: 'BolideConsumerGroupLagHigh', namespace, consumergroup: g },
              annotations: {},
              startsAt: new Date().toISOString(),
              endsAt: '0001-01-01T00:00:00Z',
            })),
          });
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (opts.token) headers.authorization = `Bearer ${opts.token}`;
        const port = opts.port ?? e.operator.httpPort;
        return fetch(`http://127.0.0.1:${port}/alerts`, { method: 'POST', headers, body });
      },
      async stop() {
        await e.stop();
        await raw.close();
        for (const b of brokers) await b.stop();
      },
    };
  } catch (err) {
    await env?.stop().catch(() => {});
    await raw.close().catch(() => {});
    for (const b of brokers) await b.stop().catch(() => {});
    throw err;
  }
}
