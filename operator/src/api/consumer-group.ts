// ConsumerGroup (crds/consumergroup.yaml): a subscription group, optionally autoscaling a workload.
import type {
  API_VERSION,
  BrokerSyncState,
  ClusterRef,
  Condition,
  DeletionPolicy,
  ObjectMeta,
} from './common.js';

export const CONSUMER_GROUP_KIND = 'ConsumerGroup';
export const CONSUMER_GROUP_PLURAL = 'consumergroups';

export const CONSUME_MODES = ['Clustering', 'Broadcasting'] as const;
export type ConsumeMode = (typeof CONSUME_MODES)[number];

export const EXPRESSION_TYPES = ['TAG', 'SQL92'] as const;
export type ExpressionType = (typeof EXPRESSION_TYPES)[number];

export interface Subscription {
  topic: string;
  /** "*", "a || b", or an SQL92 filter. */
  expression?: string;
  expressionType?: ExpressionType;
}

export interface ScaleTargetRef {
  apiVersion?: string;
  kind?: string;
  name: string;
}

export interface QueueExpansion {
  enabled?: boolean;
  /** Required when enabled; queue count never exceeded. */
  maxQueues?: number;
  /** Lag must keep growing at full replicas this long before queues are added. */
  afterSeconds?: number;
}

export interface Autoscaling {
  target: ScaleTargetRef;
  /** 0 scales to zero. */
  minReplicas?: number;
  maxReplicas: number;
  lagPerReplica?: number;
  activationLag?: number;
  pollIntervalSeconds?: number;
  scaleDownStabilizationSeconds?: number;
  /** Absent: no limit. */
  maxScaleUpStep?: number;
  queueExpansion?: QueueExpansion;
}

export interface ConsumerGroupSpec {
  clusterRef: ClusterRef;
  /** Name on the brokers; defaults to metadata.name. Immutable. */
  groupName?: string;
  subscriptions?: Subscription[];
  consumeMode?: ConsumeMode;
  orderly?: boolean;
  retryMaxTimes?: number;
  deletionPolicy?: DeletionPolicy;
  autoscaling?: Autoscaling;
}

export interface GroupBrokerResult {
  brokerName: string;
  address?: string;
  state: BrokerSyncState;
  message?: string;
  lastAttemptTime?: string;
}

export interface TopicLag {
  topic: string;
  lag: number;
  queues?: number;
}

export interface ConsumerGroupStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  groupName?: string;
  brokers?: GroupBrokerResult[];
  lag?: number;
  lagPerTopic?: TopicLag[];
  queues?: number;
  lagTime?: string;
  currentReplicas?: number;
  desiredReplicas?: number;
  lastScaleTime?: string;
  lastScaleReason?: string;
  /** Since when desired < current (scale-down stabilization). */
  lowLagSince?: string;
  /** Since when replicas = queues with lag growing (queue expansion). */
  saturatedSince?: string;
}

export interface ConsumerGroup {
  apiVersion: typeof API_VERSION;
  kind: typeof CONSUMER_GROUP_KIND;
  metadata: ObjectMeta;
  spec: ConsumerGroupSpec;
  status?: ConsumerGroupStatus;
}

export type DefaultedSubscription = Required<Subscription>;

export interface DefaultedAutoscaling {
  target: Required<ScaleTargetRef>;
  minReplicas: number;
  maxReplicas: number;
  lagPerReplica: number;
  activationLag: number;
  pollIntervalSeconds: number;
  scaleDownStabilizationSeconds: number;
  maxScaleUpStep?: number;
  queueExpansion: { enabled: boolean; maxQueues?: number; afterSeconds: number };
}

export interface DefaultedConsumerGroupSpec {
  clusterRef: ClusterRef;
  groupName: string;
  subscriptions: DefaultedSubscription[];
  consumeMode: ConsumeMode;
  orderly: boolean;
  retryMaxTimes: number;
  deletionPolicy: DeletionPolicy;
  autoscaling?: DefaultedAutoscaling;
}

export type DefaultedConsumerGroup = Omit<ConsumerGroup, 'spec'> & { spec: DefaultedConsumerGroupSpec };

export const CONSUMER_GROUP_DEFAULTS = {
  expression: '*',
  expressionType: 'TAG',
  consumeMode: 'Clustering',
  orderly: false,
  retryMaxTimes: 16,
  deletionPolicy: 'Delete',
  targetApiVersion: 'apps/v1',
  targetKind: 'Deployment',
  minReplicas: 1,
  lagPerReplica: 1000,
  activationLag: 0,
  pollIntervalSeconds: 15,
  scaleDownStabilizationSeconds: 300,
  queueExpansionEnabled: false,
  queueExpansionAfterSeconds: 300,
} as const satisfies Record<string, string | number | boolean>;

export function defaultSubscription(subscription: Subscription): DefaultedSubscription {
  return {
    ...subscription,
    expression: subscription.expression ?? CONSUMER_GROUP_DEFAULTS.expression,
    expressionType: subscription.expressionType ?? CONSUMER_GROUP_DEFAULTS.expressionType,
  };
}

export function defaultAutoscaling(autoscaling: Autoscaling): DefaultedAutoscaling {
  const d = CONSUMER_GROUP_DEFAULTS;
  const { target, queueExpansion = {} } = autoscaling;
  return {
    ...autoscaling,
    target: {
      ...target,
      apiVersion: target.apiVersion ?? d.targetApiVersion,
      kind: target.kind ?? d.targetKind,
    },
    minReplicas: autoscaling.minReplicas ?? d.minReplicas,
    lagPerReplica: autoscaling.lagPerReplica ?? d.lagPerReplica,
    activationLag: autoscaling.activationLag ?? d.activationLag,
    pollIntervalSeconds: autoscaling.pollIntervalSeconds ?? d.pollIntervalSeconds,
    scaleDownStabilizationSeconds:
      autoscaling.scaleDownStabilizationSeconds ?? d.scaleDownStabilizationSeconds,
    queueExpansion: {
      ...queueExpansion,
      enabled: queueExpansion.enabled ?? d.queueExpansionEnabled,
      afterSeconds: queueExpansion.afterSeconds ?? d.queueExpansionAfterSeconds,
    },
  };
}

/** Fills the schema defaults, and groupName from metadata.name. */
export function defaultConsumerGroup(group: ConsumerGroup): DefaultedConsumerGroup {
  const d = CONSUMER_GROUP_DEFAULTS;
  const { spec } = group;
  const { autoscaling, ...rest } = spec;
  return {
    ...group,
    spec: {
      ...rest,
      groupName: spec.groupName ?? group.metadata.name ?? '',
      subscriptions: (spec.subscriptions ?? []).map(defaultSubscription),
      consumeMode: spec.consumeMode ?? d.consumeMode,
      orderly: spec.orderly ?? d.orderly,
      retryMaxTimes: spec.retryMaxTimes ?? d.retryMaxTimes,
      deletionPolicy: spec.deletionPolicy ?? d.deletionPolicy,
      ...(autoscaling ? { autoscaling: defaultAutoscaling(autoscaling) } : {}),
    },
  };
}
