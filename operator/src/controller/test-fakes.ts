// In-memory stand-ins for the ports, for the controller unit tests only (API-server behaviour is
// tested against a real kube-apiserver under test/operator).
import type {
  BrokerEndpoint,
  BrokerGroupConfig,
  BrokerTopicConfig,
  QueueConsumeProgress,
  QueueCounts,
} from '../desired/index.js';
import {
  type BrokerAdmin,
  BrokerCallError,
  type Cache,
  type ClusterTarget,
  type Events,
  type KubeObjectLike,
} from './ports.js';

export class FakeCache<T extends KubeObjectLike> implements Cache<T> {
  readonly items = new Map<string, T>();
  put(obj: T): T {
    this.items.set(`${obj.metadata?.namespace}/${obj.metadata?.name}`, obj);
    return obj;
  }
  get(name: string, namespace?: string): T | undefined {
    return this.items.get(`${namespace}/${name}`);
  }
  list(opts: { namespace?: string } = {}): T[] {
    return [...this.items.values()].filter(
      (o) => !opts.namespace || o.metadata?.namespace === opts.namespace,
    );
  }
}

/** Applies into caches by kind, stores status patches back into the primary's cache, edits finalizers. */
export class FakeKube {
  readonly applied: KubeObjectLike[] = [];
  readonly statusPatches: { name: string; status: unknown }[] = [];
  readonly deleted: { name: string; propagationPolicy?: string }[] = [];
  readonly finalizerWrites: string[] = [];
  /** Throws for the next apply of an object with this name. */
  failApply = new Map<string, unknown>();
  private readonly caches: Record<string, FakeCache<KubeObjectLike>>;

  constructor(caches: Record<string, FakeCache<KubeObjectLike>>) {
    this.caches = caches;
  }

  async apply<T extends KubeObjectLike>(desired: T): Promise<T> {
    const name = desired.metadata?.name ?? '';
    const failure = this.failApply.get(name);
    if (failure !== undefined) {
      this.failApply.delete(name);
      throw failure;
    }
    this.applied.push(desired);
    const cache = this.caches[desired.kind ?? ''];
    const old = cache?.get(name, desired.metadata?.namespace) as
      | (T & { status?: unknown; spec?: unknown })
      | undefined;
    // Like the API server: metadata.generation counts spec changes.
    const specChanged = JSON.stringify(old?.spec) !== JSON.stringify((desired as { spec?: unknown }).spec);
    const generation = (old?.metadata?.generation ?? 0) + (old && !specChanged ? 0 : 1);
    const stored = structuredClone({
      ...desired,
      metadata: { ...desired.metadata, generation },
      status: old?.status,
    }) as T;
    cache?.put(stored);
    return stored;
  }

  async deleteObject(obj: KubeObjectLike, opts: { propagationPolicy?: 'Orphan' | 'Background' } = {}) {
    this.deleted.push({ name: obj.metadata?.name ?? '', propagationPolicy: opts.propagationPolicy });
    this.caches[obj.kind ?? '']?.items.delete(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
  }

  async patchStatus<T extends KubeObjectLike>(obj: KubeObjectLike, status: unknown): Promise<T> {
    this.statusPatches.push({ name: obj.metadata?.name ?? '', status: structuredClone(status) });
    const cache = this.caches[obj.kind ?? ''];
    const current = cache?.get(obj.metadata?.name ?? '', obj.metadata?.namespace) as
      | (KubeObjectLike & { status?: object })
      | undefined;
    const next = { ...(current ?? obj), status: { ...(current?.status ?? {}), ...(status as object) } };
    cache?.put(next);
    return next as unknown as T;
  }

  async addFinalizer<T extends KubeObjectLike>(obj: T, finalizer: string) {
    if (obj.metadata?.finalizers?.includes(finalizer)) return { changed: false, object: obj };
    this.finalizerWrites.push(`+${finalizer}`);
    const next = {
      ...obj,
      metadata: { ...obj.metadata, finalizers: [...(obj.metadata?.finalizers ?? []), finalizer] },
    };
    this.caches[obj.kind ?? '']?.put(next);
    return { changed: true, object: next };
  }

  async removeFinalizer<T extends KubeObjectLike>(obj: T, finalizer: string) {
    if (!obj.metadata?.finalizers?.includes(finalizer)) return { changed: false, object: obj };
    this.finalizerWrites.push(`-${finalizer}`);
    const next = {
      ...obj,
      metadata: { ...obj.metadata, finalizers: obj.metadata.finalizers.filter((f) => f !== finalizer) },
    };
    const cache = this.caches[obj.kind ?? ''];
    if (next.metadata.deletionTimestamp && next.metadata.finalizers.length === 0) {
      cache?.items.delete(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
    } else cache?.put(next);
    return { changed: true, object: next };
  }
}

export class FakeEvents implements Events {
  readonly recorded: { name: string; type: string; reason: string; message: string }[] = [];
  async record(obj: KubeObjectLike, type: 'Normal' | 'Warning', reason: string, message: string) {
    this.recorded.push({ name: obj.metadata?.name ?? '', type, reason, message });
  }
}

/** Brokers by address; `down` addresses fail as unreachable, `refuse` ones answer with an error. */
export class FakeAdmin implements BrokerAdmin {
  readonly topics = new Map<string, Map<string, BrokerTopicConfig>>();
  readonly groups = new Map<string, Map<string, BrokerGroupConfig>>();
  readonly routeDeletes: string[] = [];
  readonly calls: string[] = [];
  down = new Set<string>();
  refuse = new Map<string, string>();
  /** Consume progress rows per broker address and topic (`address topic`), as the broker would report. */
  progress = new Map<string, QueueConsumeProgress[]>();

  private check(address: string) {
    if (this.down.has(address)) throw new BrokerCallError(`connect ECONNREFUSED ${address}`, true);
    const refusal = this.refuse.get(address);
    if (refusal) throw new BrokerCallError(refusal, false);
  }

  private table<V>(tables: Map<string, Map<string, V>>, address: string): Map<string, V> {
    const t = tables.get(address) ?? new Map<string, V>();
    tables.set(address, t);
    return t;
  }

  async createOrUpdateTopic(broker: BrokerEndpoint, config: BrokerTopicConfig) {
    this.calls.push(`topic+ ${broker.brokerName} ${config.topicName}`);
    this.check(broker.address);
    this.table(this.topics, broker.address).set(config.topicName, config);
  }
  async topicQueues(broker: BrokerEndpoint, topic: string): Promise<QueueCounts | undefined> {
    this.calls.push(`topic? ${broker.brokerName} ${topic}`);
    this.check(broker.address);
    const config = this.table(this.topics, broker.address).get(topic);
    return config ? { readQueues: config.readQueueNums, writeQueues: config.writeQueueNums } : undefined;
  }
  async topicConsumeProgress(broker: BrokerEndpoint, topic: string): Promise<QueueConsumeProgress[]> {
    this.calls.push(`progress? ${broker.brokerName} ${topic}`);
    this.check(broker.address);
    return this.progress.get(`${broker.address} ${topic}`) ?? [];
  }
  async deleteTopic(broker: BrokerEndpoint, topic: string) {
    this.calls.push(`topic- ${broker.brokerName} ${topic}`);
    this.check(broker.address);
    this.table(this.topics, broker.address).delete(topic);
  }
  async deleteTopicRoute(cluster: ClusterTarget, topic: string) {
    this.calls.push(`route- ${cluster.clusterName} ${topic}`);
    for (const ns of cluster.nameServers) this.check(ns);
    this.routeDeletes.push(topic);
  }
  async createOrUpdateGroup(broker: BrokerEndpoint, config: BrokerGroupConfig) {
    this.calls.push(`group+ ${broker.brokerName} ${config.groupName}`);
    this.check(broker.address);
    this.table(this.groups, broker.address).set(config.groupName, config);
  }
  async deleteGroup(broker: BrokerEndpoint, groupName: string) {
    this.calls.push(`group- ${broker.brokerName} ${groupName}`);
    this.check(broker.address);
    this.table(this.groups, broker.address).delete(groupName);
  }
}

// Sample CRs shared with the other operator modules' unit tests.
export { sampleCluster, sampleGroup, sampleTopic } from '../api/test-fixtures.js';
