// The CRDs against a real kube-apiserver: they install, valid samples are stored with the same
// defaults operator/src/api computes, invalid ones are refused with a message a user can act on
// (schema and CEL rules, including update-only rules), and the status subresource behaves.
import { readFileSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BROKER_CLUSTER_PLURAL,
  type BrokerCluster,
  CONSUMER_GROUP_PLURAL,
  type ConsumerGroup,
  defaultBrokerCluster,
  defaultConsumerGroup,
  defaultTopic,
  GROUP,
  TOPIC_PLURAL,
  type Topic,
  VERSION,
} from '../../operator/src/api/index.js';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.js';
import { installCrds } from '../harness/crds.js';

const namespace = 'crd-test';
type AnyCr = BrokerCluster | Topic | ConsumerGroup;
const plurals = {
  BrokerCluster: BROKER_CLUSTER_PLURAL,
  Topic: TOPIC_PLURAL,
  ConsumerGroup: CONSUMER_GROUP_PLURAL,
};

const fixture = <T extends AnyCr>(file: string): T =>
  yaml.load(readFileSync(new URL(`../fixtures/crs/${file}`, import.meta.url), 'utf8')) as T;

function named<T extends AnyCr>(object: T, name: string): T {
  return { ...structuredClone(object), metadata: { name } };
}

describe('bolide.dev CRDs on a real API server', () => {
  let cp: ControlPlane;
  let custom: CustomObjectsApi;
  let installed: V1CustomResourceDefinition[];

  const create = <T extends AnyCr>(object: T): Promise<T> =>
    custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: plurals[object.kind],
      body: object,
    }) as Promise<T>;

  const get = <T extends AnyCr>(kind: T['kind'], name: string): Promise<T> =>
    custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: plurals[kind],
      name,
    });

  const replace = <T extends AnyCr>(object: T): Promise<T> =>
    custom.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: plurals[object.kind],
      name: object.metadata.name ?? '',
      body: object,
    }) as Promise<T>;

  const replaceStatus = <T extends AnyCr>(object: T): Promise<T> =>
    custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: plurals[object.kind],
      name: object.metadata.name ?? '',
      body: object,
    }) as Promise<T>;

  /** The API server's refusal: HTTP code and the Status message. */
  async function refusal(request: Promise<unknown>): Promise<{ code: number; message: string }> {
    try {
      await request;
    } catch (error) {
      const { code, body } = error as { code?: number; body?: unknown };
      const parsed = typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : undefined;
      return { code: code ?? 0, message: parsed?.message ?? String(error) };
    }
    throw new Error('the API server accepted an object it should refuse');
  }

  beforeAll(async () => {
    cp = await startControlPlane();
    installed = await installCrds(cp.kubeConfig);
    custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await cp?.stop();
  });

  describe('installation', () => {
    it('all three CRDs are established with their names accepted', () => {
      expect(installed.map((crd) => crd.metadata?.name).sort()).toEqual([
        'brokerclusters.bolide.dev',
        'consumergroups.bolide.dev',
        'topics.bolide.dev',
      ]);
    });

    it('discovery serves the kinds with short names, the bolide category and the status subresource', async () => {
      const response = await cp.request(`/apis/${GROUP}/${VERSION}`);
      expect(response.status).toBe(200);
      const resources = (
        JSON.parse(response.body) as {
          resources: {
            name: string;
            kind: string;
            namespaced: boolean;
            shortNames?: string[];
            categories?: string[];
          }[];
        }
      ).resources;
      const byName = Object.fromEntries(resources.map((r) => [r.name, r]));
      expect(Object.keys(byName).sort()).toEqual([
        'brokerclusters',
        'brokerclusters/status',
        'consumergroups',
        'consumergroups/status',
        'topics',
        'topics/status',
      ]);
      expect(byName.brokerclusters).toMatchObject({
        kind: 'BrokerCluster',
        namespaced: true,
        shortNames: ['bcl'],
      });
      expect(byName.topics).toMatchObject({ kind: 'Topic', namespaced: true, shortNames: ['btopic'] });
      expect(byName.consumergroups).toMatchObject({
        kind: 'ConsumerGroup',
        namespaced: true,
        shortNames: ['bcg'],
      });
      for (const name of ['brokerclusters', 'topics', 'consumergroups']) {
        expect(byName[name].categories).toEqual(['bolide']);
      }
    });
  });

  describe('valid objects are stored with the defaults operator/src/api computes', () => {
    it.each([
      ['brokercluster-minimal.yaml', (o: AnyCr) => defaultBrokerCluster(o as BrokerCluster).spec],
      ['brokercluster-full.yaml', (o: AnyCr) => defaultBrokerCluster(o as BrokerCluster).spec],
      ['topic-minimal.yaml', (o: AnyCr) => withoutName(defaultTopic(o as Topic).spec, 'topicName', o)],
      ['topic-full.yaml', (o: AnyCr) => defaultTopic(o as Topic).spec],
      [
        'consumergroup-minimal.yaml',
        (o: AnyCr) => withoutName(defaultConsumerGroup(o as ConsumerGroup).spec, 'groupName', o),
      ],
      ['consumergroup-autoscaling.yaml', (o: AnyCr) => defaultConsumerGroup(o as ConsumerGroup).spec],
    ])('%s', async (file, expectedSpec) => {
      const sample = fixture<AnyCr>(file);
      const created = await create(sample);
      expect(created.metadata.generation).toBe(1);
      expect(created.spec).toEqual(expectedSpec(sample));
      const read = await get(sample.kind, sample.metadata.name ?? '');
      expect(read.spec).toEqual(created.spec);
    });
  });

  describe('invalid objects are refused with a helpful message', () => {
    const cluster = fixture<BrokerCluster>('brokercluster-full.yaml');
    const topic = fixture<Topic>('topic-minimal.yaml');
    const group = fixture<ConsumerGroup>('consumergroup-autoscaling.yaml');

    const cases: [string, AnyCr, RegExp][] = [
      [
        'flushMode outside {Sync, Async}',
        { ...named(cluster, 'bad-flush'), spec: { ...cluster.spec, flushMode: 'Fast' as 'Sync' } },
        /spec\.flushMode: Unsupported value: "Fast": supported values: "Sync", "Async"/,
      ],
      [
        'zero queues',
        { ...named(topic, 'zero-queues'), spec: { ...topic.spec, queues: 0 } },
        /spec\.queues: Invalid value: 0: spec\.queues in body should be greater than or equal to 1/,
      ],
      [
        'more than 1024 queues',
        { ...named(topic, 'many-queues'), spec: { ...topic.spec, queues: 1025 } },
        /spec\.queues in body should be less than or equal to 1024/,
      ],
      [
        'a topicName RocketMQ refuses',
        { ...named(topic, 'dotted'), spec: { ...topic.spec, topicName: 'orders.created' } },
        /spec\.topicName: Invalid value: "string": topicName may contain only letters, digits, '%', '\|', '_' and '-'/,
      ],
      [
        'a topicName longer than 127 characters',
        { ...named(topic, 'long-name'), spec: { ...topic.spec, topicName: 'T'.repeat(128) } },
        /spec\.topicName: Too long: may not be (longer|more) than 127/,
      ],
      [
        'a reserved system topic',
        { ...named(topic, 'system'), spec: { ...topic.spec, topicName: 'TBW102' } },
        /topicName is reserved for RocketMQ system, retry or dead-letter topics/,
      ],
      [
        'a metadata.name that is no topic name, without spec.topicName',
        named(topic, 'orders.created'),
        /metadata\.name is not a valid RocketMQ topic name .*set spec\.topicName/,
      ],
      [
        'a Topic without clusterRef',
        { ...named(topic, 'no-cluster'), spec: { queues: 4 } as Topic['spec'] },
        /spec\.clusterRef: Required value/,
      ],
      [
        'an unknown messageType',
        { ...named(topic, 'bad-type'), spec: { ...topic.spec, messageType: 'Batch' as 'Normal' } },
        /spec\.messageType: Unsupported value: "Batch": supported values: "Normal", "FIFO", "Delay", "Transaction"/,
      ],
      [
        'minReplicas greater than maxReplicas',
        {
          ...named(group, 'min-over-max'),
          spec: {
            ...group.spec,
            autoscaling: { ...group.spec.autoscaling, target: { name: 'w' }, minReplicas: 5, maxReplicas: 2 },
          },
        },
        /autoscaling\.minReplicas must be less than or equal to autoscaling\.maxReplicas/,
      ],
      [
        'queue expansion without a limit',
        {
          ...named(group, 'no-max-queues'),
          spec: {
            ...group.spec,
            autoscaling: { target: { name: 'w' }, maxReplicas: 3, queueExpansion: { enabled: true } },
          },
        },
        /queueExpansion\.maxQueues is required when queueExpansion\.enabled is true/,
      ],
      [
        'autoscaling a broadcasting group',
        { ...named(group, 'broadcast-scaled'), spec: { ...group.spec, consumeMode: 'Broadcasting' } },
        /autoscaling needs consumeMode Clustering/,
      ],
      [
        'a broker.conf key the operator manages',
        {
          ...named(cluster, 'managed-key'),
          spec: { ...cluster.spec, brokerConfig: { flushDiskType: 'SYNC_FLUSH' } },
        },
        /brokerConfig must not set keys the operator manages .*use spec\.flushMode/,
      ],
      [
        'a deleteWhen hour outside 00-23',
        { ...named(cluster, 'bad-hour'), spec: { ...cluster.spec, retention: { deleteWhen: '25' } } },
        /retention\.deleteWhen must be two-digit hours 00-23/,
      ],
      [
        'a storage size that is no quantity',
        {
          ...named(cluster, 'bad-size'),
          spec: { ...cluster.spec, brokers: { ...cluster.spec.brokers, storage: { size: 'lots' } } },
        },
        /storage\.size must be a positive quantity such as 10Gi/,
      ],
      [
        'a cluster name too long for its children',
        named(cluster, `c${'x'.repeat(40)}`),
        /metadata\.name must start with a letter, contain only lowercase letters, digits and '-', and be at most 40 characters/,
      ],
    ];

    it.each(cases)('%s', async (_title, object, message) => {
      const { code, message: text } = await refusal(create(object));
      expect(code).toBe(422);
      expect(text).toMatch(message);
    });
  });

  describe('rules on updates', () => {
    it('storage may grow (compared as quantities) but never shrink', async () => {
      const base = named(fixture<BrokerCluster>('brokercluster-full.yaml'), 'storage-rules');
      const stored = await create(base); // 50Gi
      const withSize = (object: BrokerCluster, size: string): BrokerCluster => ({
        ...object,
        spec: {
          ...object.spec,
          brokers: { ...object.spec.brokers, storage: { ...object.spec.brokers?.storage, size } },
        },
      });

      // 51200Mi is 50Gi written differently: not a shrink.
      const same = await replace(withSize(stored, '51200Mi'));
      const shrink = await refusal(replace(withSize(same, '40Gi')));
      expect(shrink.code).toBe(422);
      expect(shrink.message).toContain(
        'storage.size may grow but never shrink (was 51200Mi, asked for 40Gi)',
      );
      const shrinkBySuffix = await refusal(replace(withSize(same, '53687091199'))); // 50Gi - 1 byte
      expect(shrinkBySuffix.message).toContain('may grow but never shrink');

      const grown = await replace(withSize(same, '0.1Ti'));
      expect(grown.spec.brokers?.storage?.size).toBe('0.1Ti');
      expect(grown.metadata.generation).toBe(3);
    });

    it('storageClassName cannot change', async () => {
      const stored = await create(named(fixture<BrokerCluster>('brokercluster-full.yaml'), 'storage-class'));
      const changed = {
        ...stored,
        spec: {
          ...stored.spec,
          brokers: {
            ...stored.spec.brokers,
            storage: { ...stored.spec.brokers?.storage, storageClassName: 'other' },
          },
        },
      };
      expect((await refusal(replace(changed))).message).toContain('storage.storageClassName is immutable');
    });

    it('a Topic keeps its clusterRef and topicName; other fields may change', async () => {
      const stored = await create(named(fixture<Topic>('topic-full.yaml'), 'immutable-topic'));
      const moved = await refusal(
        replace({ ...stored, spec: { ...stored.spec, clusterRef: { name: 'elsewhere' } } }),
      );
      expect(moved.code).toBe(422);
      expect(moved.message).toMatch(/spec\.clusterRef: Invalid value: "object": clusterRef is immutable/);
      const renamed = await refusal(replace({ ...stored, spec: { ...stored.spec, topicName: 'Other' } }));
      expect(renamed.message).toContain('topicName is immutable');
      const grown = await replace({ ...stored, spec: { ...stored.spec, queues: 32 } });
      expect(grown.spec.queues).toBe(32);
    });

    it('a ConsumerGroup keeps its clusterRef', async () => {
      const stored = await create(
        named(fixture<ConsumerGroup>('consumergroup-minimal.yaml'), 'immutable-group'),
      );
      const moved = await refusal(
        replace({ ...stored, spec: { ...stored.spec, clusterRef: { name: 'elsewhere' } } }),
      );
      expect(moved.message).toContain('clusterRef is immutable; create a new ConsumerGroup');
    });
  });

  describe('status subresource', () => {
    it('status is written only through /status, and without bumping the generation', async () => {
      const stored = await create(named(fixture<Topic>('topic-minimal.yaml'), 'with-status'));
      const status: Topic['status'] = {
        observedGeneration: 1,
        topicName: 'with-status',
        effectiveQueues: 8,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            observedGeneration: 1,
            lastTransitionTime: '2025-01-02T03:04:05Z',
            reason: 'Synced',
            message: 'topic exists on 1/1 masters',
          },
        ],
        brokers: [{ brokerName: 'demo-broker-0', state: 'Synced', readQueues: 8, writeQueues: 8 }],
      };

      // Through the main resource the status is ignored.
      const viaMain = await replace({ ...stored, status });
      expect(viaMain.status).toBeUndefined();

      const viaStatus = await replaceStatus({ ...viaMain, status, spec: { ...viaMain.spec, queues: 99 } });
      expect(viaStatus.status).toEqual(status);
      expect(viaStatus.spec.queues).toBe(8); // spec changes through /status are ignored
      expect(viaStatus.metadata.generation).toBe(1);
    });

    it('status is validated too', async () => {
      const stored = await create(named(fixture<Topic>('topic-minimal.yaml'), 'bad-status'));
      const bad = {
        ...stored,
        status: {
          conditions: [
            { type: 'Ready', status: 'Maybe', lastTransitionTime: 'now', reason: 'x', message: '' },
          ],
        },
      } as unknown as Topic;
      const { code, message } = await refusal(replaceStatus(bad));
      expect(code).toBe(422);
      expect(message).toMatch(/status\.conditions\[0\]\.status: Unsupported value: "Maybe"/);
      expect(message).toMatch(/status\.conditions\[0\]\.lastTransitionTime: Invalid value: "now"/);
    });

    it('printer columns show the status and spec values (Table output)', async () => {
      const stored = await create(named(fixture<ConsumerGroup>('consumergroup-autoscaling.yaml'), 'columns'));
      await replaceStatus({
        ...stored,
        status: {
          groupName: 'CID_Shipping',
          lag: 4200,
          currentReplicas: 3,
          desiredReplicas: 5,
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              lastTransitionTime: '2025-01-02T03:04:05Z',
              reason: 'Scaling',
              message: 'scaling to 5',
            },
          ],
        },
      });
      const response = await cp.request(
        `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${CONSUMER_GROUP_PLURAL}/columns`,
        { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } },
      );
      expect(response.status).toBe(200);
      const table = JSON.parse(response.body) as {
        columnDefinitions: { name: string }[];
        rows: { cells: unknown[] }[];
      };
      const columns = table.columnDefinitions.map((c) => c.name);
      expect(columns).toEqual(['Name', 'Ready', 'Group', 'Cluster', 'Lag', 'Replicas', 'Desired', 'Age']);
      expect(table.rows[0].cells.slice(0, 7)).toEqual([
        'columns',
        'False',
        'CID_Shipping',
        'orders',
        4200,
        3,
        5,
      ]);
    });
  });
});

/** The API server cannot default topicName/groupName from metadata.name; the operator does. */
function withoutName<T extends object>(spec: T, key: keyof T, object: AnyCr): T {
  const copy = { ...spec };
  expect(copy[key]).toBe(object.metadata.name);
  delete copy[key];
  return copy;
}
