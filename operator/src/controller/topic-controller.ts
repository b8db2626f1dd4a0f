// Topic: UPDATE_AND_CREATE_TOPIC on every master; DELETE_TOPIC_IN_BROKER on each, then the route on
// the name servers.
import {
  defaultTopic,
  effectiveQueues,
  isRocketMqName,
  RESERVED_TOPIC_NAMES,
  type Topic,
  type TopicBrokerResult,
  type TopicStatus,
} from '../api/index.js';
import { topicConfig } from '../desired/index.js';
import type { SyncStatus } from '../status/index.js';
import {
  type BrokerResourceDeps,
  type BrokerResourceKind,
  createBrokerResourceReconciler,
} from './broker-resource.js';
import type { Reconcile } from './ports.js';

const RESERVED: ReadonlySet<string> = new Set(RESERVED_TOPIC_NAMES);

export const topicKind: BrokerResourceKind<Topic> = {
  describe: (topic) => `topic ${defaultTopic(topic).spec.topicName}`,
  validate: (topic) => {
    const name = defaultTopic(topic).spec.topicName;
    if (!isRocketMqName(name)) {
      return `spec.topicName ${JSON.stringify(name)} is not a RocketMQ topic name (1-127 of letters, digits, %, |, _ and -)`;
    }
    if (RESERVED.has(name) || name.startsWith('rmq_sys_'))
      return `spec.topicName ${name} is a RocketMQ system topic`;
    return undefined;
  },
  declare: (admin, broker, topic) => admin.createOrUpdateTopic(broker, topicConfig(topic)),
  remove: (admin, broker, topic) => admin.deleteTopic(broker, defaultTopic(topic).spec.topicName),
  afterRemove: (admin, cluster, topic) => admin.deleteTopicRoute(cluster, defaultTopic(topic).spec.topicName),
  status: (topic, sync: SyncStatus): TopicStatus & Record<string, unknown> => {
    const t = defaultTopic(topic);
    const queues = effectiveQueues(t);
    const brokers: TopicBrokerResult[] = sync.brokers.map((b) =>
      b.state === 'Synced' ? { ...b, readQueues: queues, writeQueues: queues } : b,
    );
    const status: TopicStatus & Record<string, unknown> = {
      conditions: sync.conditions,
      topicName: t.spec.topicName,
      effectiveQueues: queues,
      brokers,
    };
    if (sync.observedGeneration !== undefined) status.observedGeneration = sync.observedGeneration;
    return status;
  },
};

export function createTopicReconciler(deps: BrokerResourceDeps<Topic>): Reconcile {
  return createBrokerResourceReconciler(topicKind, deps);
}
