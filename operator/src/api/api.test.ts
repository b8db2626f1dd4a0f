// Keeps operator/src/api and crds/*.yaml in step: the TS types, enums, required fields and defaulting
// are checked against each CRD's openAPIV3Schema, so a change on one side alone fails here.
// CEL rules (x-kubernetes-validations) need the API server; test/operator/crds.test.ts covers them.
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  API_VERSION,
  type Autoscaling,
  BROKER_CLUSTER_KIND,
  BROKER_CLUSTER_PLURAL,
  BROKER_ROLES,
  BROKER_SYNC_STATES,
  type BrokerCluster,
  type BrokerClusterSpec,
  type BrokerClusterStatus,
  type BrokerStatus,
  CONDITION_STATUSES,
  CONSUME_MODES,
  CONSUMER_GROUP_KIND,
  CONSUMER_GROUP_PLURAL,
  type Condition,
  type ConsumerGroup,
  type ConsumerGroupSpec,
  type ConsumerGroupStatus,
  DELETION_POLICIES,
  type DeepRequired,
  defaultBrokerCluster,
  defaultConsumerGroup,
  defaultTopic,
  EXPRESSION_TYPES,
  effectiveQueues,
  FLUSH_MODES,
  GROUP,
  type GroupBrokerResult,
  isRocketMqName,
  MESSAGE_TYPES,
  OPERATOR_MANAGED_BROKER_KEYS,
  REPLICATION_MODES,
  RESERVED_TOPIC_NAMES,
  type ScaleTargetRef,
  type Subscription,
  TOPIC_KIND,
  TOPIC_PERMS,
  TOPIC_PLURAL,
  type Topic,
  type TopicBrokerResult,
  type TopicLag,
  type TopicQueueShrink,
  type TopicSpec,
  type TopicStatus,
  VERSION,
} from './index.js';

// ---------------------------------------------------------------------------------------------
// Schema loading and checking

type Schema = Record<string, unknown> & {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
};

interface Crd {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; jsonPath: string }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

const repoFile = (path: string) => new URL(`../../../${path}`, import.meta.url);
const loadYaml = (path: string) => yaml.load(readFileSync(repoFile(path), 'utf8'));

const crds = {
  BrokerCluster: loadYaml('crds/brokercluster.yaml') as Crd,
  Topic: loadYaml('crds/topic.yaml') as Crd,
  ConsumerGroup: loadYaml('crds/consumergroup.yaml') as Crd,
};
type Kind = keyof typeof crds;

const schemaOf = (kind: Kind) => crds[kind].spec.versions[0].schema.openAPIV3Schema;

/**
 * The structural schema as plain JSON Schema for ajv. Kubernetes silently prunes fields the schema
 * does not name; here they are errors instead, so a TS field missing from the CRD shows up.
 */
function toJsonSchema(node: Schema, path: string): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([name, child]) => [
          name,
          toJsonSchema(child, `${path}.${name}`),
        ]),
      );
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = toJsonSchema(value as Schema, `${path}[]`);
    } else if (key === 'anyOf') {
      out.anyOf = (value as Schema[]).map((child) => toJsonSchema(child, path));
    } else {
      out[key] = value;
    }
  }
  if (node.type === 'object' && node.properties && node.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

function compile(kind: Kind, useDefaults: boolean): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, useDefaults, strictTypes: false });
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  return ajv.compile(toJsonSchema(schemaOf(kind), ''));
}

const validators = {
  BrokerCluster: compile('BrokerCluster', false),
  Topic: compile('Topic', false),
  ConsumerGroup: compile('ConsumerGroup', false),
};

function schemaErrors(kind: Kind, object: unknown): string[] {
  const validate = validators[kind];
  return validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** What the API server stores for `object` after structural defaulting. */
function applySchemaDefaults<T>(kind: Kind, object: T): T {
  const copy = structuredClone(object);
  const validate = compile(kind, true);
  if (!validate(copy)) throw new Error(`sample invalid: ${JSON.stringify(validate.errors)}`);
  return copy;
}

/** Every property path the schema names (array items as `[]`, maps not descended into). */
function schemaPaths(node: Schema, prefix = ''): string[] {
  const paths: string[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    paths.push(path, ...schemaPaths(child, path));
    if (child.items) paths.push(...schemaPaths(child.items, `${path}[]`));
  }
  return paths;
}

function objectPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length ? objectPaths(value[0], `${prefix}[]`) : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([name, child]) => {
    const path = prefix ? `${prefix}.${name}` : name;
    return [path, ...objectPaths(child, path)];
  });
}

function findNodes(node: Schema, pick: (n: Schema) => boolean, prefix = ''): Map<string, Schema> {
  const found = new Map<string, Schema>();
  if (pick(node)) found.set(prefix, node);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    for (const [p, n] of findNodes(child, pick, prefix ? `${prefix}.${name}` : name)) found.set(p, n);
  }
  if (node.items) for (const [p, n] of findNodes(node.items, pick, `${prefix}[]`)) found.set(p, n);
  return found;
}

// Type-level equality, so the TS side of each table below cannot drift either.
type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
function requiredKeys<T>(): <K extends RequiredKeys<T>[]>(
  ...keys: K
) => Equal<K[number], RequiredKeys<T>> extends true ? string[] : never {
  return (...keys) => keys as never;
}

const sample = <T>(file: string) => loadYaml(`test/fixtures/crs/${file}`) as T;

// ---------------------------------------------------------------------------------------------
// Fully populated objects: DeepRequired makes the compiler demand every TS field, the schema check
// rejects any field the CRD lacks, and the path check demands every CRD field.

const condition: DeepRequired<Condition> = {
  type: 'Ready',
  status: 'True',
  observedGeneration: 3,
  lastTransitionTime: '2025-01-02T03:04:05Z',
  reason: 'AllBrokersReady',
  message: 'all 4 brokers are ready',
};

const fullBrokerCluster: DeepRequired<Omit<BrokerCluster, 'metadata'>> & { metadata: { name: string } } = {
  apiVersion: API_VERSION,
  kind: BROKER_CLUSTER_KIND,
  metadata: { name: 'orders' },
  spec: {
    image: 'bolide/broker:0.1.0',
    nameServers: { replicas: 3, resources: { requests: { cpu: '100m' }, limits: { memory: '256Mi' } } },
    brokers: {
      groups: 2,
      replicasPerGroup: 2,
      storage: { size: '50Gi', storageClassName: 'fast' },
      resources: { requests: { cpu: 1 }, limits: { cpu: '2' } },
    },
    flushMode: 'Sync',
    replicationMode: 'Async',
    brokerConfig: { maxMessageSize: '4194304' },
    retention: { fileReservedTimeHours: 48, deleteWhen: '03;15' },
  },
  status: {
    observedGeneration: 3,
    conditions: [condition],
    nameServerAddresses: ['orders-namesrv-0.orders-namesrv.default.svc:9876'],
    brokersReady: '4/4',
    brokers: [
      {
        pod: 'orders-broker-0-0',
        brokerName: 'orders-broker-0',
        brokerId: 0,
        role: 'Master',
        address: '10.0.0.7:10911',
        ready: true,
      },
    ],
    flushMode: 'Sync',
    configHash: 'abc123',
  },
};

const fullTopic: DeepRequired<Omit<Topic, 'metadata'>> & { metadata: { name: string } } = {
  apiVersion: API_VERSION,
  kind: TOPIC_KIND,
  metadata: { name: 'payments' },
  spec: {
    clusterRef: { name: 'orders' },
    topicName: 'Payments_v2',
    queues: 16,
    perm: 'ReadOnly',
    messageType: 'Transaction',
    deletionPolicy: 'Retain',
  },
  status: {
    observedGeneration: 1,
    conditions: [condition],
    topicName: 'Payments_v2',
    effectiveQueues: 24,
    autoscaledQueues: 24,
    autoscaledTime: '2025-01-02T03:04:05Z',
    queueShrink: { fromQueues: 32, toQueues: 24, writeLoweredTime: '2025-01-02T03:04:05Z' },
    brokers: [
      {
        brokerName: 'orders-broker-0',
        address: '10.0.0.7:10911',
        state: 'Synced',
        readQueues: 24,
        writeQueues: 24,
        message: 'created',
        lastAttemptTime: '2025-01-02T03:04:05Z',
      },
    ],
  },
};

const fullConsumerGroup: DeepRequired<Omit<ConsumerGroup, 'metadata'>> & { metadata: { name: string } } = {
  apiVersion: API_VERSION,
  kind: CONSUMER_GROUP_KIND,
  metadata: { name: 'shipping' },
  spec: {
    clusterRef: { name: 'orders' },
    groupName: 'CID_Shipping',
    subscriptions: [{ topic: 'orders', expression: 'a || b', expressionType: 'TAG' }],
    consumeMode: 'Clustering',
    orderly: true,
    retryMaxTimes: 3,
    deletionPolicy: 'Delete',
    autoscaling: {
      target: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'worker' },
      minReplicas: 0,
      maxReplicas: 10,
      lagPerReplica: 100,
      activationLag: 5,
      pollIntervalSeconds: 10,
      scaleDownStabilizationSeconds: 60,
      maxScaleUpStep: 2,
      queueExpansion: { enabled: true, maxQueues: 64, afterSeconds: 30 },
    },
  },
  status: {
    observedGeneration: 2,
    conditions: [condition],
    groupName: 'CID_Shipping',
    brokers: [
      {
        brokerName: 'orders-broker-0',
        address: '10.0.0.7:10911',
        state: 'Failed',
        message: 'connect ECONNREFUSED',
        lastAttemptTime: '2025-01-02T03:04:05Z',
      },
    ],
    lag: 1500,
    lagPerTopic: [{ topic: 'orders', lag: 1500, queues: 8 }],
    queues: 8,
    lagTime: '2025-01-02T03:04:05Z',
    currentReplicas: 2,
    desiredReplicas: 3,
    lastScaleTime: '2025-01-02T03:04:05Z',
    lastScaleReason: 'lag 1500 > 2 x 500',
    lowLagSince: '2025-01-02T03:04:05Z',
    saturatedSince: '2025-01-02T03:04:05Z',
  },
};

const fullObjects = { BrokerCluster: fullBrokerCluster, Topic: fullTopic, ConsumerGroup: fullConsumerGroup };
const kinds = Object.keys(crds) as Kind[];

// ---------------------------------------------------------------------------------------------

describe('CRD metadata', () => {
  const expected = {
    BrokerCluster: { plural: BROKER_CLUSTER_PLURAL, kind: BROKER_CLUSTER_KIND },
    Topic: { plural: TOPIC_PLURAL, kind: TOPIC_KIND },
    ConsumerGroup: { plural: CONSUMER_GROUP_PLURAL, kind: CONSUMER_GROUP_KIND },
  };

  it.each(kinds)('%s: group, version, names, scope, status subresource, category', (kind) => {
    const { spec } = crds[kind];
    expect(spec.group).toBe(GROUP);
    expect(spec.scope).toBe('Namespaced');
    expect(spec.names.kind).toBe(expected[kind].kind);
    expect(spec.names.plural).toBe(expected[kind].plural);
    expect(spec.names.categories).toEqual(['bolide']);
    expect(spec.names.shortNames?.length).toBeGreaterThan(0);
    expect(spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([[VERSION, true, true]]);
    expect(spec.versions[0].subresources?.status).toEqual({});
    const columns = spec.versions[0].additionalPrinterColumns?.map((c) => c.name);
    expect(columns?.[0]).toBe('Ready');
    expect(columns?.at(-1)).toBe('Age');
  });

  it('short names do not collide with each other or with built-in kinds', () => {
    const builtIn = [
      'bc',
      'cm',
      'cs',
      'ds',
      'ep',
      'ev',
      'hpa',
      'ing',
      'no',
      'ns',
      'pc',
      'pdb',
      'po',
      'pv',
      'pvc',
      'rs',
      'sa',
      'sc',
      'svc',
      'sts',
      'topic',
    ];
    const all = kinds.flatMap((kind) => crds[kind].spec.names.shortNames ?? []);
    expect(new Set(all).size).toBe(all.length);
    for (const name of all) expect(builtIn).not.toContain(name);
  });

  it('printer columns point at fields the schema has', () => {
    for (const kind of kinds) {
      const paths = new Set(schemaPaths(schemaOf(kind)));
      for (const column of crds[kind].spec.versions[0].additionalPrinterColumns ?? []) {
        if (column.jsonPath === '.metadata.creationTimestamp') continue;
        const path = column.jsonPath.replace(/^\./, '').replace(/\[\?\(@\.type=="\w+"\)\]/, '[]');
        expect(paths.has(path), `${kind} column ${column.name} -> ${column.jsonPath}`).toBe(true);
      }
    }
  });
});

describe('TS types match the schemas field for field', () => {
  it.each(kinds)('%s: a fully populated object is valid', (kind) => {
    expect(schemaErrors(kind, fullObjects[kind])).toEqual([]);
  });

  it.each(kinds)('%s: the fully populated object sets every schema field', (kind) => {
    const inObject = new Set(objectPaths(fullObjects[kind]));
    const missing = schemaPaths(schemaOf(kind)).filter((p) => !inObject.has(p));
    expect(missing).toEqual([]);
  });

  it('a field the CRD does not declare is reported, not silently pruned', () => {
    const extra = { ...fullTopic, spec: { ...fullTopic.spec, partitions: 4 } };
    expect(schemaErrors('Topic', extra)).toEqual(['/spec must NOT have additional properties']);
  });

  it('enums in the schemas equal the exported TS enum arrays', () => {
    const expected: Record<string, readonly unknown[]> = {
      'BrokerCluster spec.flushMode': FLUSH_MODES,
      'BrokerCluster spec.replicationMode': REPLICATION_MODES,
      'BrokerCluster status.flushMode': FLUSH_MODES,
      'BrokerCluster status.brokers[].role': BROKER_ROLES,
      'BrokerCluster status.conditions[].status': CONDITION_STATUSES,
      'Topic spec.perm': TOPIC_PERMS,
      'Topic spec.messageType': MESSAGE_TYPES,
      'Topic spec.deletionPolicy': DELETION_POLICIES,
      'Topic status.brokers[].state': BROKER_SYNC_STATES,
      'Topic status.conditions[].status': CONDITION_STATUSES,
      'ConsumerGroup spec.subscriptions[].expressionType': EXPRESSION_TYPES,
      'ConsumerGroup spec.consumeMode': CONSUME_MODES,
      'ConsumerGroup spec.deletionPolicy': DELETION_POLICIES,
      'ConsumerGroup status.brokers[].state': BROKER_SYNC_STATES,
      'ConsumerGroup status.conditions[].status': CONDITION_STATUSES,
    };
    const actual: Record<string, readonly unknown[]> = {};
    for (const kind of kinds) {
      for (const [path, node] of findNodes(schemaOf(kind), (n) => Array.isArray(n.enum))) {
        actual[`${kind} ${path}`] = node.enum ?? [];
      }
    }
    expect(actual).toEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, [...v]])));
  });

  it('required fields in the schemas are the non-optional TS fields', () => {
    const expected: Record<string, string[]> = {
      'BrokerCluster ': requiredKeys<{ spec: BrokerClusterSpec; status?: BrokerClusterStatus }>()('spec'),
      'BrokerCluster status.conditions[]': requiredKeys<Condition>()(
        'type',
        'status',
        'lastTransitionTime',
        'reason',
        'message',
      ),
      'BrokerCluster status.brokers[]': requiredKeys<BrokerStatus>()(
        'pod',
        'brokerName',
        'brokerId',
        'ready',
      ),
      'Topic ': requiredKeys<{ spec: TopicSpec; status?: TopicStatus }>()('spec'),
      'Topic spec': requiredKeys<TopicSpec>()('clusterRef'),
      'Topic spec.clusterRef': requiredKeys<TopicSpec['clusterRef']>()('name'),
      'Topic status.conditions[]': requiredKeys<Condition>()(
        'type',
        'status',
        'lastTransitionTime',
        'reason',
        'message',
      ),
      'Topic status.brokers[]': requiredKeys<TopicBrokerResult>()('brokerName', 'state'),
      'Topic status.queueShrink': requiredKeys<TopicQueueShrink>()(
        'fromQueues',
        'toQueues',
        'writeLoweredTime',
      ),
      'ConsumerGroup ': requiredKeys<{ spec: ConsumerGroupSpec; status?: ConsumerGroupStatus }>()('spec'),
      'ConsumerGroup spec': requiredKeys<ConsumerGroupSpec>()('clusterRef'),
      'ConsumerGroup spec.clusterRef': requiredKeys<ConsumerGroupSpec['clusterRef']>()('name'),
      'ConsumerGroup spec.subscriptions[]': requiredKeys<Subscription>()('topic'),
      'ConsumerGroup spec.autoscaling': requiredKeys<Autoscaling>()('target', 'maxReplicas'),
      'ConsumerGroup spec.autoscaling.target': requiredKeys<ScaleTargetRef>()('name'),
      'ConsumerGroup status.conditions[]': requiredKeys<Condition>()(
        'type',
        'status',
        'lastTransitionTime',
        'reason',
        'message',
      ),
      'ConsumerGroup status.brokers[]': requiredKeys<GroupBrokerResult>()('brokerName', 'state'),
      'ConsumerGroup status.lagPerTopic[]': requiredKeys<TopicLag>()('topic', 'lag'),
    };
    const actual: Record<string, string[]> = {};
    for (const kind of kinds) {
      for (const [path, node] of findNodes(schemaOf(kind), (n) => Array.isArray(n.required))) {
        actual[`${kind} ${path}`] = [...(node.required ?? [])].sort();
      }
    }
    expect(actual).toEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, [...v].sort()])));
  });

  it('a missing required field is refused', () => {
    const { clusterRef: _, ...spec } = fullTopic.spec;
    expect(schemaErrors('Topic', { ...fullTopic, spec })).toEqual([
      "/spec must have required property 'clusterRef'",
    ]);
  });
});

describe('samples in test/fixtures/crs', () => {
  const samples: [string, Kind][] = [
    ['brokercluster-minimal.yaml', 'BrokerCluster'],
    ['brokercluster-full.yaml', 'BrokerCluster'],
    ['topic-minimal.yaml', 'Topic'],
    ['topic-full.yaml', 'Topic'],
    ['consumergroup-minimal.yaml', 'ConsumerGroup'],
    ['consumergroup-autoscaling.yaml', 'ConsumerGroup'],
  ];

  it.each(samples)('%s is valid before and after defaulting', (file, kind) => {
    const object = sample<BrokerCluster | Topic | ConsumerGroup>(file);
    expect(object.kind).toBe(kind);
    expect(object.apiVersion).toBe(API_VERSION);
    expect(schemaErrors(kind, object)).toEqual([]);
    const defaulted =
      kind === 'BrokerCluster'
        ? defaultBrokerCluster(object as BrokerCluster)
        : kind === 'Topic'
          ? defaultTopic(object as Topic)
          : defaultConsumerGroup(object as ConsumerGroup);
    expect(schemaErrors(kind, defaulted)).toEqual([]);
  });
});

describe('defaulting equals the schema defaults', () => {
  it('BrokerCluster: empty spec', () => {
    const cluster = sample<BrokerCluster>('brokercluster-minimal.yaml');
    expect(defaultBrokerCluster(cluster)).toEqual(applySchemaDefaults('BrokerCluster', cluster));
    expect(defaultBrokerCluster(cluster).spec).toEqual({
      nameServers: { replicas: 1 },
      brokers: { groups: 1, replicasPerGroup: 1, storage: { size: '10Gi' } },
      flushMode: 'Async',
      replicationMode: 'Async',
      retention: { fileReservedTimeHours: 72, deleteWhen: '04' },
    });
  });

  it('BrokerCluster: partly filled nested objects keep what is set and gain the rest', () => {
    const cluster: BrokerCluster = {
      apiVersion: API_VERSION,
      kind: BROKER_CLUSTER_KIND,
      metadata: { name: 'x' },
      spec: { brokers: { storage: { storageClassName: 'slow' } }, retention: { deleteWhen: '01' } },
    };
    expect(defaultBrokerCluster(cluster)).toEqual(applySchemaDefaults('BrokerCluster', cluster));
  });

  it('BrokerCluster: a fully set spec is unchanged', () => {
    const cluster = sample<BrokerCluster>('brokercluster-full.yaml');
    expect(defaultBrokerCluster(cluster)).toEqual(cluster);
    expect(applySchemaDefaults('BrokerCluster', cluster)).toEqual(cluster);
  });

  it('Topic: schema defaults, and topicName from metadata.name', () => {
    const topic = sample<Topic>('topic-minimal.yaml');
    const fromSchema = applySchemaDefaults('Topic', topic);
    expect(defaultTopic(topic)).toEqual({
      ...fromSchema,
      spec: { ...fromSchema.spec, topicName: 'orders-created' },
    });
    expect(defaultTopic(topic).spec).toEqual({
      clusterRef: { name: 'orders' },
      topicName: 'orders-created',
      queues: 8,
      perm: 'ReadWrite',
      messageType: 'Normal',
      deletionPolicy: 'Delete',
    });
  });

  it('Topic: an explicit topicName wins; effective queues follow the autoscaler only upwards', () => {
    const topic = defaultTopic(sample<Topic>('topic-full.yaml'));
    expect(topic.spec.topicName).toBe('Payments_v2');
    expect(effectiveQueues(topic)).toBe(16);
    expect(effectiveQueues({ ...topic, status: { autoscaledQueues: 32 } })).toBe(32);
    expect(effectiveQueues({ ...topic, status: { autoscaledQueues: 4 } })).toBe(16);
  });

  it('ConsumerGroup: schema defaults for the group and its subscriptions, groupName from metadata.name', () => {
    const group = sample<ConsumerGroup>('consumergroup-minimal.yaml');
    const fromSchema = applySchemaDefaults('ConsumerGroup', group);
    expect(defaultConsumerGroup(group)).toEqual({
      ...fromSchema,
      spec: { ...fromSchema.spec, groupName: 'billing' },
    });
    expect(defaultConsumerGroup(group).spec.subscriptions).toEqual([
      { topic: 'orders-created', expression: '*', expressionType: 'TAG' },
    ]);
  });

  it('ConsumerGroup: no subscriptions at all defaults to an empty list', () => {
    const group: ConsumerGroup = {
      apiVersion: API_VERSION,
      kind: CONSUMER_GROUP_KIND,
      metadata: { name: 'idle' },
      spec: { clusterRef: { name: 'orders' } },
    };
    const fromSchema = applySchemaDefaults('ConsumerGroup', group);
    expect(defaultConsumerGroup(group)).toEqual({
      ...fromSchema,
      spec: { ...fromSchema.spec, groupName: 'idle' },
    });
  });

  it('ConsumerGroup: a minimal autoscaling block gains every default', () => {
    const group: ConsumerGroup = {
      apiVersion: API_VERSION,
      kind: CONSUMER_GROUP_KIND,
      metadata: { name: 'g' },
      spec: {
        clusterRef: { name: 'orders' },
        subscriptions: [{ topic: 't' }],
        autoscaling: { target: { name: 'worker' }, maxReplicas: 5 },
      },
    };
    const fromSchema = applySchemaDefaults('ConsumerGroup', group);
    const defaulted = defaultConsumerGroup(group);
    expect(defaulted).toEqual({ ...fromSchema, spec: { ...fromSchema.spec, groupName: 'g' } });
    expect(defaulted.spec.autoscaling).toEqual({
      target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker' },
      minReplicas: 1,
      maxReplicas: 5,
      lagPerReplica: 1000,
      activationLag: 0,
      pollIntervalSeconds: 15,
      scaleDownStabilizationSeconds: 300,
      queueExpansion: { enabled: false, afterSeconds: 300 },
    });
  });

  it('ConsumerGroup: a fully set spec is unchanged', () => {
    const group = sample<ConsumerGroup>('consumergroup-autoscaling.yaml');
    const withTargetDefaults = applySchemaDefaults('ConsumerGroup', group);
    expect(defaultConsumerGroup(group)).toEqual(withTargetDefaults);
  });

  it('defaulting does not mutate its input', () => {
    const group = sample<ConsumerGroup>('consumergroup-autoscaling.yaml');
    const before = structuredClone(group);
    defaultConsumerGroup(group);
    expect(group).toEqual(before);
  });
});

describe('name rules shared with the CEL rules', () => {
  it('RocketMQ names', () => {
    expect(isRocketMqName('Payments_v2')).toBe(true);
    expect(isRocketMqName('%RETRY%g|x-1')).toBe(true);
    expect(isRocketMqName('orders.created')).toBe(false);
    expect(isRocketMqName('')).toBe(false);
    expect(isRocketMqName('a'.repeat(127))).toBe(true);
    expect(isRocketMqName('a'.repeat(128))).toBe(false);
  });

  it('the CEL rules list the same reserved topics and operator-managed broker.conf keys as the TS constants', () => {
    const listIn = (rules: string) =>
      rules
        .match(/in \[([^\]]*)\]/)?.[1]
        .match(/'(\w+)'/g)
        ?.map((q) => q.slice(1, -1));
    const rulesAt = (node: Schema | undefined) =>
      ((node?.['x-kubernetes-validations'] ?? []) as { rule: string }[]).map((r) => r.rule).join('\n');
    const topicName = schemaOf('Topic').properties?.spec.properties?.topicName;
    expect(listIn(rulesAt(topicName))).toEqual([...RESERVED_TOPIC_NAMES]);
    const brokerConfig = schemaOf('BrokerCluster').properties?.spec.properties?.brokerConfig;
    const listed = listIn(rulesAt(brokerConfig)) ?? [];
    expect(listed).toEqual([...OPERATOR_MANAGED_BROKER_KEYS]);
  });
});
