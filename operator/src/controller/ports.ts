// The narrow interfaces controllers work through. `kube` implements the Kubernetes ones (main.ts wires
// them), the RocketMQ admin adapter implements BrokerAdmin; unit tests pass fakes.
import type { ObjectMeta } from '../api/index.js';
import type {
  BrokerEndpoint,
  BrokerGroupConfig,
  BrokerTopicConfig,
  ClusterEndpoints,
  QueueConsumeProgress,
  QueueCounts,
} from '../desired/index.js';

/** Any Kubernetes object, as plain JSON. */
export interface KubeObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** Read access to an informer's cache. Objects are shared: never change them. */
export interface Cache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(opts?: { namespace?: string }): T[];
}

/** Server-side apply with the operator's field manager (forced). Returns the object as stored. */
export interface Applier {
  apply<T extends KubeObjectLike>(desired: T): Promise<T>;
}

/** Deletes an object; `Orphan` leaves its dependents (pods, claims) in place. */
export interface Deleter {
  deleteObject(obj: KubeObjectLike, opts?: { propagationPolicy?: 'Orphan' | 'Background' }): Promise<void>;
}

/** Merge patch of `{ status }` on the status subresource. */
export interface StatusWriter {
  patchStatus<T extends KubeObjectLike>(obj: KubeObjectLike, status: unknown): Promise<T>;
}

/** Finalizer edits with optimistic concurrency (a stale object fails with a conflict, retried shortly). */
export interface Finalizers {
  addFinalizer<T extends KubeObjectLike>(obj: T, finalizer: string): Promise<{ changed: boolean; object: T }>;
  removeFinalizer<T extends KubeObjectLike>(
    obj: T,
    finalizer: string,
  ): Promise<{ changed: boolean; object: T }>;
}

/** Events users see in `kubectl describe`. Never throws. */
export interface Events {
  record(obj: KubeObjectLike, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/** What a reconcile returns: come back after this many ms (for things nothing watches). */
export interface ReconcileResult {
  requeueAfter?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | undefined>;

/** A broker admin call failed; `unreachable` when no answer came (connect refused, timeout, DNS). */
export class BrokerCallError extends Error {
  override name = 'BrokerCallError';
  constructor(
    message: string,
    readonly unreachable: boolean,
  ) {
    super(message);
  }
}

/** RocketMQ admin operations on one broker or name server. Implementations throw BrokerCallError. */
export interface BrokerAdmin {
  createOrUpdateTopic(broker: BrokerEndpoint, config: BrokerTopicConfig): Promise<void>;
  /** The topic's read and write queue counts on one broker; undefined when it does not have the topic. */
  topicQueues(broker: BrokerEndpoint, topic: string): Promise<QueueCounts | undefined>;
  /**
   * Committed and max offset per queue for every group the broker knows consumes `topic` (a live
   * subscription or stored offsets), over the topic's read queues.
   */
  topicConsumeProgress(broker: BrokerEndpoint, topic: string): Promise<QueueConsumeProgress[]>;
  deleteTopic(broker: BrokerEndpoint, topic: string): Promise<void>;
  /** Removes the topic's route from the name servers (brokers do not do it themselves). */
  deleteTopicRoute(cluster: ClusterTarget, topic: string): Promise<void>;
  createOrUpdateGroup(broker: BrokerEndpoint, config: BrokerGroupConfig): Promise<void>;
  deleteGroup(broker: BrokerEndpoint, groupName: string): Promise<void>;
}

/** A cluster as the admin sees it: its RocketMQ cluster name and endpoints. */
export interface ClusterTarget extends ClusterEndpoints {
  clusterName: string;
}

/** Splits a `namespace/name` queue key. */
export function parseKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1)
    throw new Error(`bad key ${JSON.stringify(key)}; want namespace/name`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function keyOf(obj: KubeObjectLike): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}
