// BrokerCluster reconcile, one level-triggered pass: desired children → server-side apply (broker
// groups gated by the rollout plan) → observe StatefulSets → status, written once and only if changed.
import type { BrokerCluster, BrokerClusterStatus } from '../api/index.js';
import {
  ANNOTATION_SPEC_HASH,
  type BuildOptions,
  brokerGroupName,
  brokerPodAddress,
  type ChildObject,
  clusterConfigHash,
  type DesiredBrokerCluster,
  desiredBrokerCluster,
  groupObjects,
  LABEL_BROKER_GROUP,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
  podName,
} from '../desired/index.js';
import {
  type BrokerGroupObservation,
  brokerClusterStatus,
  findCondition,
  type ObservedStatefulSet,
  type WorkloadState,
  workloadState,
} from '../status/index.js';
import type { Applier, Cache, Deleter, Events, KubeObjectLike, Reconcile, StatusWriter } from './ports.js';
import { parseKey } from './ports.js';
import { planGroupRollout } from './rollout.js';
import { errorMessage, rfc3339, statusChanged } from './status-diff.js';

/** Label that stops reconciliation of a BrokerCluster (an operational escape hatch). */
export const PAUSE_LABEL = 'bolide.dev/pause-reconciliation';

export interface BrokerClusterControllerDeps {
  clusters: Cache<BrokerCluster>;
  statefulSets: Cache<ObservedStatefulSet & KubeObjectLike>;
  kube: Applier & StatusWriter & Deleter;
  events: Events;
  build: BuildOptions;
  /** Wall clock in ms (status timestamps). */
  now: () => number;
}

/** The StatefulSet API refuses changes to these fields; SSA then fails with 422 and this text. */
function isImmutableStatefulSetChange(err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return e?.code === 422 && /updates to statefulset spec for fields other than/i.test(e.message ?? '');
}

function describeObject(obj: ChildObject): string {
  return `${obj.kind} ${obj.metadata.name}`;
}

export function createBrokerClusterReconciler(deps: BrokerClusterControllerDeps): Reconcile {
  const applyOne = async (obj: ChildObject): Promise<KubeObjectLike> => {
    try {
      return await deps.kube.apply(obj);
    } catch (err) {
      if (obj.kind !== 'StatefulSet' || !isImmutableStatefulSetChange(err)) throw err;
      // e.g. a larger volumeClaimTemplate: recreate the StatefulSet, leaving pods and claims in place;
      // the new one adopts them (same selector) and rolls them as usual.
      await deps.kube.deleteObject(obj, { propagationPolicy: 'Orphan' });
      await deps.events.record(
        obj,
        'Normal',
        'Recreated',
        `${describeObject(obj)} recreated (orphaning its pods) to change an immutable field`,
      );
      return deps.kube.apply(obj);
    }
  };

  return async (key) => {
    const { namespace, name } = parseKey(key);
    const cr = deps.clusters.get(name, namespace);
    if (!cr || cr.metadata.deletionTimestamp) return undefined; // children go with it (owner references)
    const now = rfc3339(deps.now());

    if (cr.metadata.labels?.[PAUSE_LABEL] === 'true') {
      await writeStatusIfChanged(cr, pausedStatus(cr, now));
      return undefined;
    }

    const desired = desiredBrokerCluster(cr, deps.build);
    const observe = (stsName: string) => deps.statefulSets.get(stsName, namespace);
    const groupStates = desired.groups.map((g) => ({
      index: g.index,
      state: workloadState(
        observe(g.name),
        { name: g.name, replicas: g.replicas, specHash: g.specHash },
        ANNOTATION_SPEC_HASH,
      ),
    }));
    const extraGroups = extraGroupNames(deps.statefulSets, namespace, name, desired.groups.length);

    let applyError: string | undefined;
    const applied = new Map<string, KubeObjectLike>();
    let held: number[] = [];
    if (desired.problems.length === 0) {
      const plan = planGroupRollout(groupStates);
      held = plan.held;
      const objects = [
        ...desired.shared,
        ...desired.groups.filter((g) => plan.apply.includes(g.index)).flatMap(groupObjects),
      ];
      for (const obj of objects) {
        try {
          applied.set(`${obj.kind}/${obj.metadata.name}`, await applyOne(obj));
        } catch (err) {
          applyError = `applying ${describeObject(obj)} failed: ${errorMessage(err)}`;
          break;
        }
      }
      await recordRollouts(desired, groupStates, plan.apply);
    }

    // Observe: what the apply returned is newer than the cache.
    const current = (stsName: string) =>
      (applied.get(`StatefulSet/${stsName}`) as ObservedStatefulSet | undefined) ?? observe(stsName);
    const status = brokerClusterStatus({
      generation: cr.metadata.generation,
      old: cr.status,
      now,
      problems: desired.problems,
      applyError,
      nameServer: workloadState(
        current(desired.nameServer.metadata.name ?? ''),
        {
          name: desired.nameServer.metadata.name ?? '',
          replicas: desired.nameServer.spec.replicas,
          specHash: desired.nameServer.metadata.annotations?.[ANNOTATION_SPEC_HASH] ?? '',
        },
        ANNOTATION_SPEC_HASH,
      ),
      groups: desired.groups.map(
        (g): BrokerGroupObservation => ({
          index: g.index,
          brokerName: g.name,
          pods: Array.from({ length: g.replicas }, (_, i) => ({
            name: podName(g.name, i),
            address: brokerPodAddress(name, namespace, g.index, i),
          })),
          state: workloadState(
            current(g.name),
            { name: g.name, replicas: g.replicas, specHash: g.specHash },
            ANNOTATION_SPEC_HASH,
          ),
          held: held.includes(g.index),
        }),
      ),
      extraGroups,
      nameServerAddresses: desired.nameServerAddresses,
      configHash: clusterConfigHash(desired),
      flushMode: desired.cluster.spec.flushMode,
    });
    await recordDegradation(cr, status);
    await writeStatusIfChanged(cr, status);
    if (applyError) throw new Error(applyError); // retried with backoff
    return undefined;
  };

  async function writeStatusIfChanged(cr: BrokerCluster, status: BrokerClusterStatus): Promise<void> {
    if (statusChanged(cr.status, status)) await deps.kube.patchStatus(cr, status);
  }

  /** Warning events when the Degraded condition turns True or changes its reason. */
  async function recordDegradation(cr: BrokerCluster, status: BrokerClusterStatus): Promise<void> {
    const before = findCondition(cr.status?.conditions, 'Degraded');
    const after = findCondition(status.conditions, 'Degraded');
    if (after?.status === 'True' && (before?.status !== 'True' || before.reason !== after.reason)) {
      await deps.events.record(cr, 'Warning', after.reason, after.message);
    }
  }

  /** A Normal event per group whose new spec is applied now, saying what will happen to its pods. */
  async function recordRollouts(
    desired: DesiredBrokerCluster,
    states: { index: number; state: WorkloadState }[],
    applied: number[],
  ): Promise<void> {
    for (const { index, state } of states) {
      if (!applied.includes(index)) continue;
      const group = desired.groups[index];
      if (!state.exists) {
        await deps.events.record(
          desired.cluster,
          'Normal',
          'Created',
          `created broker group ${group.name} (${group.replicas} pod${group.replicas === 1 ? '' : 's'})`,
        );
      } else if (!state.specApplied) {
        await deps.events.record(
          desired.cluster,
          'Normal',
          'RollingUpdate',
          `updated ${group.name} (broker.conf hash ${group.configHash}); its pods restart one at a time, each after the previous one is ready`,
        );
      }
    }
  }
}

function pausedStatus(cr: BrokerCluster, now: string): BrokerClusterStatus {
  const old = cr.status ?? {};
  const others = (old.conditions ?? []).filter((c) => c.type !== 'Progressing');
  const prev = findCondition(old.conditions, 'Progressing');
  return {
    ...old,
    conditions: [
      ...others,
      {
        type: 'Progressing',
        status: 'False',
        reason: 'ReconciliationPaused',
        message: `label ${PAUSE_LABEL}=true: the operator leaves this cluster alone`,
        lastTransitionTime: prev?.status === 'False' ? prev.lastTransitionTime : now,
        observedGeneration: cr.metadata.generation,
      },
    ],
  };
}

/** Broker StatefulSets of this cluster with a group index ≥ spec.brokers.groups (scale-down is refused). */
function extraGroupNames(
  statefulSets: Cache<ObservedStatefulSet & KubeObjectLike>,
  namespace: string,
  cluster: string,
  groups: number,
): string[] {
  return statefulSets
    .list({ namespace })
    .filter((s) => {
      const labels = s.metadata?.labels ?? {};
      if (labels[LABEL_INSTANCE] !== cluster || labels[LABEL_COMPONENT] !== 'broker') return false;
      const index = Number(labels[LABEL_BROKER_GROUP]);
      return (
        Number.isInteger(index) && index >= groups && s.metadata?.name === brokerGroupName(cluster, index)
      );
    })
    .map((s) => s.metadata?.name ?? '')
    .sort();
}
