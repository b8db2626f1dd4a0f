// Topic (crds/topic.yaml): a RocketMQ topic on every master of a BrokerCluster.
import type {
  API_VERSION,
  BrokerSyncState,
  ClusterRef,
  Condition,
  DeletionPolicy,
  ObjectMeta,
} from './common.js';

export const TOPIC_KIND = 'Topic';
export const TOPIC_PLURAL = 'topics';

export const TOPIC_PERMS = ['ReadWrite', 'ReadOnly', 'WriteOnly'] as const;
export type TopicPerm = (typeof TOPIC_PERMS)[number];

/** RocketMQ perm bits: 4 = read, 2 = write. */
export const TOPIC_PERM_BITS: Readonly<Record<TopicPerm, number>> = {
  ReadWrite: 6,
  ReadOnly: 4,
  WriteOnly: 2,
};

export const MESSAGE_TYPES = ['Normal', 'FIFO', 'Delay', 'Transaction'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Topics RocketMQ reserves; the CRD refuses them as spec.topicName. */
export const RESERVED_TOPIC_NAMES = [
  'TBW102',
  'SCHEDULE_TOPIC_XXXX',
  'BenchmarkTest',
  'RMQ_SYS_TRANS_HALF_TOPIC',
  'RMQ_SYS_TRACE_TOPIC',
  'RMQ_SYS_TRANS_OP_HALF_TOPIC',
  'TRANS_CHECK_MAX_TIME_TOPIC',
  'SELF_TEST_TOPIC',
  'OFFSET_MOVED_EVENT',
] as const;

export const MIN_QUEUES = 1;
export const MAX_QUEUES = 1024;

export interface TopicSpec {
  clusterRef: ClusterRef;
  /** Name on the brokers; defaults to metadata.name. Immutable. */
  topicName?: string;
  /** Read and write queues per master, 1-1024. */
  queues?: number;
  perm?: TopicPerm;
  messageType?: MessageType;
  deletionPolicy?: DeletionPolicy;
}

export interface TopicBrokerResult {
  brokerName: string;
  address?: string;
  state: BrokerSyncState;
  readQueues?: number;
  writeQueues?: number;
  message?: string;
  lastAttemptTime?: string;
}

/**
 * A queue shrink in progress (RocketMQ's safe order): the write queues are already at `toQueues` on
 * every master, the read queues stay at `fromQueues` until the removed queues are consumed.
 */
export interface TopicQueueShrink {
  /** Read queues per master still served (the highest any master had). */
  fromQueues: number;
  /** The new queue count; write queues are at it. */
  toQueues: number;
  /** Since when no master takes writes into the removed queues; the route-refresh grace counts from here. */
  writeLoweredTime: string;
}

export interface TopicStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  topicName?: string;
  /** max(spec.queues, autoscaledQueues). */
  effectiveQueues?: number;
  /** Set by the autoscaler's queue expansion; the spec stays the user's. */
  autoscaledQueues?: number;
  autoscaledTime?: string;
  /** Set while the removed queues of a shrink are drained; absent otherwise. */
  queueShrink?: TopicQueueShrink;
  brokers?: TopicBrokerResult[];
}

export interface Topic {
  apiVersion: typeof API_VERSION;
  kind: typeof TOPIC_KIND;
  metadata: ObjectMeta;
  spec: TopicSpec;
  status?: TopicStatus;
}

export interface DefaultedTopicSpec {
  clusterRef: ClusterRef;
  topicName: string;
  queues: number;
  perm: TopicPerm;
  messageType: MessageType;
  deletionPolicy: DeletionPolicy;
}

export type DefaultedTopic = Omit<Topic, 'spec'> & { spec: DefaultedTopicSpec };

export const TOPIC_DEFAULTS = {
  queues: 8,
  perm: 'ReadWrite',
  messageType: 'Normal',
  deletionPolicy: 'Delete',
} as const satisfies Partial<DefaultedTopicSpec>;

/**
 * Fills the schema defaults, and topicName from metadata.name (which the schema cannot default:
 * the CRD instead refuses a Topic whose metadata.name is not a valid topic name and has no topicName).
 */
export function defaultTopic(topic: Topic): DefaultedTopic {
  const { spec } = topic;
  return {
    ...topic,
    spec: {
      ...spec,
      topicName: spec.topicName ?? topic.metadata.name ?? '',
      queues: spec.queues ?? TOPIC_DEFAULTS.queues,
      perm: spec.perm ?? TOPIC_DEFAULTS.perm,
      messageType: spec.messageType ?? TOPIC_DEFAULTS.messageType,
      deletionPolicy: spec.deletionPolicy ?? TOPIC_DEFAULTS.deletionPolicy,
    },
  };
}

/** Queues per master in effect: the spec, unless the autoscaler grew the topic beyond it. */
export function effectiveQueues(topic: DefaultedTopic): number {
  return Math.max(topic.spec.queues, topic.status?.autoscaledQueues ?? 0);
}
