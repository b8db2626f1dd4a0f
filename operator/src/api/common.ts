// Shapes shared by the three bolide.dev/v1alpha1 kinds. Mirrors crds/*.yaml by hand; the unit test
// api.test.ts checks every field against the CRD schemas.

export const GROUP = 'bolide.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Finalizer on Topic and ConsumerGroup: broker-side cleanup before the object goes away. */
export const FINALIZER = `${GROUP}/finalizer`;

/** The object metadata the operator reads; the API server fills the rest. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

/** metav1.Condition. `type` is a string so other condition types stay readable. */
export interface Condition {
  type: ConditionType | (string & {});
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339 */
  lastTransitionTime: string;
  /** CamelCase, e.g. BrokerUnreachable */
  reason: string;
  message: string;
}

/** Reference to a BrokerCluster in the same namespace. */
export interface ClusterRef {
  name: string;
}

export const DELETION_POLICIES = ['Delete', 'Retain'] as const;
export type DeletionPolicy = (typeof DELETION_POLICIES)[number];

export const BROKER_SYNC_STATES = ['Pending', 'Synced', 'Failed', 'Deleted'] as const;
export type BrokerSyncState = (typeof BROKER_SYNC_STATES)[number];

/** A quantity as Kubernetes accepts it in resources: 500m, 1Gi, or a plain number. */
export type Quantity = string | number;

export interface ResourceRequirements {
  requests?: Record<string, Quantity>;
  limits?: Record<string, Quantity>;
}

/** RocketMQ topic and group names (TopicValidator / Validators in the Java code base). */
export const ROCKETMQ_NAME_PATTERN = /^[%|a-zA-Z0-9_-]+$/;
export const ROCKETMQ_NAME_MAX_LENGTH = 127;

export function isRocketMqName(name: string): boolean {
  return name.length <= ROCKETMQ_NAME_MAX_LENGTH && ROCKETMQ_NAME_PATTERN.test(name);
}

/** Recursively required, for "every field" fixtures in tests. */
export type DeepRequired<T> = T extends (infer U)[]
  ? DeepRequired<U>[]
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<T[K]> }
    : T;
