// One reconciler for every kind that lives on the brokers (Topic, ConsumerGroup): finalizer, cluster
// lookup, a declare or delete call on every master, per-broker status, events, retry with backoff.
// Each kind only says what to send (the messaging-topology-operator pattern).
import {
  type BrokerCluster,
  type BrokerSyncState,
  type Condition,
  type DeletionPolicy,
  FINALIZER,
  type ObjectMeta,
} from '../api/index.js';
import type { BrokerEndpoint } from '../desired/index.js';
import {
  type Blocked,
  type BrokerOutcome,
  findCondition,
  type SyncStatus,
  syncStatus,
} from '../status/index.js';
import { type EndpointOverrides, resolveCluster } from './endpoints.js';
import {
  type BrokerAdmin,
  BrokerCallError,
  type Cache,
  type ClusterTarget,
  type Events,
  type Finalizers,
  parseKey,
  type Reconcile,
  type StatusWriter,
} from './ports.js';
import { errorMessage, rfc3339, statusChanged } from './status-diff.js';

/** The fields every broker-side kind shares. */
export interface BrokerResource {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: { clusterRef: { name: string }; deletionPolicy?: DeletionPolicy };
  status?: {
    conditions?: Condition[];
    observedGeneration?: number;
    brokers?: { brokerName: string; state: string; message?: string; lastAttemptTime?: string }[];
  };
}

/** What differs per kind. `P` is what a kind works out before declaring (see `plan`). */
export interface BrokerResourceKind<T extends BrokerResource, P = undefined> {
  /** e.g. `topic Payments` — used in messages. */
  describe(obj: T): string;
  /** What the schema should have refused; blocks every broker call. */
  validate(obj: T): string | undefined;
  /**
   * Looks at the masters before declaring and decides what to declare on each (e.g. the queue counts
   * of a Topic shrink). Runs once per pass that reaches the masters; broker failures belong in the plan.
   */
  plan?(admin: BrokerAdmin, cluster: ClusterTarget, obj: T, now: number): Promise<P>;
  declare(admin: BrokerAdmin, broker: BrokerEndpoint, obj: T, plan: P): Promise<void>;
  remove(admin: BrokerAdmin, broker: BrokerEndpoint, obj: T): Promise<void>;
  /** After every master removed it (e.g. the topic route on the name servers). */
  afterRemove?(admin: BrokerAdmin, cluster: ClusterTarget, obj: T): Promise<void>;
  /** The status fields this controller owns, from the computed sync status (and the plan, if one was made). */
  status(obj: T, sync: SyncStatus, plan: P | undefined, now: number): Record<string, unknown>;
  /**
   * After the status write of a pass that reached the masters: events about the plan, and how soon to
   * look again (default: the resync interval).
   */
  afterDeclare?(obj: T, plan: P, sync: SyncStatus, events: Events): Promise<{ requeueAfterMs?: number }>;
}

export interface BrokerResourceDeps<T extends BrokerResource> {
  objects: Cache<T>;
  clusters: Cache<BrokerCluster>;
  kube: StatusWriter & Finalizers;
  events: Events;
  admin: BrokerAdmin;
  overrides?: EndpointOverrides;
  now: () => number;
  /**
   * Re-declare on the brokers this often even when nothing changed, so a broker that lost its metadata
   * (new disk, restore) gets it back. Brokers are not watched; this is the one poll. Default 5 min.
   */
  resyncMs?: number;
}

/** Thrown after the status was written, so the work queue retries with exponential backoff. */
export class BrokersNotSyncedError extends Error {
  override name = 'BrokersNotSyncedError';
}

function outcomeOf(broker: BrokerEndpoint, state: BrokerSyncState, err?: unknown): BrokerOutcome {
  if (err === undefined) return { brokerName: broker.brokerName, address: broker.address, state };
  const unreachable = err instanceof BrokerCallError ? err.unreachable : false;
  return {
    brokerName: broker.brokerName,
    address: broker.address,
    state: 'Failed',
    unreachable,
    message: errorMessage(err),
  };
}

const failedOnly = (outcomes: BrokerOutcome[]) => outcomes.filter((o) => o.state === 'Failed');

export function createBrokerResourceReconciler<T extends BrokerResource, P = undefined>(
  kind: BrokerResourceKind<T, P>,
  deps: BrokerResourceDeps<T>,
): Reconcile {
  const overrides: EndpointOverrides = deps.overrides ?? new Map();
  const resyncMs = deps.resyncMs ?? 300_000;

  const callAll = async (
    masters: BrokerEndpoint[],
    call: (b: BrokerEndpoint) => Promise<void>,
    done: BrokerSyncState,
  ) =>
    Promise.all(
      masters.map((b) =>
        call(b).then(
          () => outcomeOf(b, done),
          (err: unknown) => outcomeOf(b, done, err),
        ),
      ),
    );

  const writeStatus = async (obj: T, sync: SyncStatus, plan?: P) => {
    const status = kind.status(obj, sync, plan, deps.now());
    if (statusChanged(obj.status, status)) await deps.kube.patchStatus(obj, status);
  };

  const sync = (obj: T, outcomes: BrokerOutcome[], blocked?: Blocked) =>
    syncStatus({
      what: kind.describe(obj),
      generation: obj.metadata.generation,
      oldConditions: obj.status?.conditions,
      oldObservedGeneration: obj.status?.observedGeneration,
      oldBrokers: obj.status?.brokers,
      now: rfc3339(deps.now()),
      blocked,
      outcomes,
    });

  /** Warning per master that newly failed (or failed differently); Normal when it becomes Ready. */
  const recordTransitions = async (obj: T, next: SyncStatus) => {
    for (const b of next.brokers) {
      if (b.state !== 'Failed') continue;
      const old = obj.status?.brokers?.find((o) => o.brokerName === b.brokerName);
      if (old?.state === 'Failed' && old.message === b.message) continue;
      const reason = findCondition(next.conditions, 'Degraded')?.reason ?? 'BrokerError';
      await deps.events.record(
        obj,
        'Warning',
        reason,
        `${b.brokerName} (${b.address}): ${b.message ?? 'failed'}`,
      );
    }
    const wasReady = findCondition(obj.status?.conditions, 'Ready')?.status === 'True';
    const ready = findCondition(next.conditions, 'Ready');
    if (ready?.status === 'True' && !wasReady)
      await deps.events.record(obj, 'Normal', 'Synced', ready.message);
  };

  const finalize = async (obj: T, namespace: string): Promise<undefined> => {
    if (!obj.metadata.finalizers?.includes(FINALIZER)) return undefined;
    const policy = obj.spec.deletionPolicy ?? 'Delete';
    const target = resolveCluster(
      namespace,
      obj.spec.clusterRef.name,
      deps.clusters.get(obj.spec.clusterRef.name, namespace),
      overrides,
    );
    if (policy === 'Retain') {
      await deps.events.record(
        obj,
        'Normal',
        'Retained',
        `${kind.describe(obj)} left on the brokers (deletionPolicy Retain)`,
      );
    } else if (!target) {
      await deps.events.record(
        obj,
        'Normal',
        'ClusterGone',
        `BrokerCluster ${obj.spec.clusterRef.name} no longer exists; nothing to delete on the brokers`,
      );
    } else {
      const outcomes = await callAll(target.masters, (b) => kind.remove(deps.admin, b, obj), 'Deleted');
      let failed = failedOnly(outcomes);
      if (failed.length === 0 && kind.afterRemove) {
        try {
          await kind.afterRemove(deps.admin, target, obj);
        } catch (err) {
          const ns = target.nameServers.join(';');
          const out = outcomeOf({ brokerName: 'name servers', address: ns }, 'Deleted', err);
          outcomes.push(out);
          failed = [out];
        }
      }
      if (failed.length > 0) {
        const next = sync(obj, outcomes);
        await recordTransitions(obj, next);
        await writeStatus(obj, next);
        throw new BrokersNotSyncedError(
          `deleting ${kind.describe(obj)} failed on ${failed.map((f) => f.brokerName).join(', ')}`,
        );
      }
      await deps.events.record(
        obj,
        'Normal',
        'Deleted',
        `${kind.describe(obj)} deleted from ${target.masters.length} master${target.masters.length === 1 ? '' : 's'}`,
      );
    }
    await deps.kube.removeFinalizer(obj, FINALIZER);
    return undefined;
  };

  return async (key) => {
    const { namespace, name } = parseKey(key);
    const cached = deps.objects.get(name, namespace);
    if (!cached) return undefined;
    if (cached.metadata.deletionTimestamp) return finalize(cached, namespace);

    const obj = (await deps.kube.addFinalizer(cached, FINALIZER)).object;
    const clusterName = obj.spec.clusterRef.name;
    const cluster = deps.clusters.get(clusterName, namespace);
    const target = resolveCluster(namespace, clusterName, cluster, overrides);
    const invalid = kind.validate(obj);
    let blocked: Blocked | undefined;
    if (invalid) blocked = { reason: 'InvalidSpec', message: invalid };
    else if (!target) {
      blocked = {
        reason: 'ClusterNotFound',
        message: `BrokerCluster ${namespace}/${clusterName} does not exist; waiting for it`,
      };
    } else if (target.masters.length === 0) {
      blocked = {
        reason: 'NoMasters',
        message: `BrokerCluster ${namespace}/${clusterName} has no broker groups`,
      };
    }
    if (blocked || !target) {
      const next = sync(obj, [], blocked);
      const before = findCondition(obj.status?.conditions, 'Degraded');
      if (before?.reason !== blocked?.reason || before?.message !== blocked?.message) {
        await deps.events.record(obj, 'Warning', blocked?.reason ?? 'Blocked', blocked?.message ?? '');
      }
      await writeStatus(obj, next);
      // Nothing to retry: a change of this object or of the cluster enqueues it again.
      return undefined;
    }

    const plan = kind.plan ? await kind.plan(deps.admin, target, obj, deps.now()) : (undefined as P);
    const outcomes = await callAll(target.masters, (b) => kind.declare(deps.admin, b, obj, plan), 'Synced');
    const next = sync(obj, outcomes);
    await recordTransitions(obj, next);
    await writeStatus(obj, next, plan);
    const after = kind.afterDeclare ? await kind.afterDeclare(obj, plan, next, deps.events) : {};
    const failed = failedOnly(outcomes);
    if (failed.length > 0) {
      throw new BrokersNotSyncedError(
        `${kind.describe(obj)}: ${failed.map((f) => `${f.brokerName} (${f.address}): ${f.message}`).join('; ')}`,
      );
    }
    return { requeueAfter: Math.min(resyncMs, after.requeueAfterMs ?? resyncMs) };
  };
}
