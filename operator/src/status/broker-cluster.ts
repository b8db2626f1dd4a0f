// BrokerCluster status: conditions Ready / Progressing / Degraded, name-server addresses and the
// readiness of every broker pod, from the observed StatefulSets.
import type { BrokerClusterStatus, BrokerStatus, FlushMode } from '../api/index.js';
import { type ConditionUpdate, listForHumans, setConditions } from './conditions.js';
import { isSettled, type WorkloadState } from './workload.js';

export interface BrokerGroupObservation {
  index: number;
  brokerName: string;
  /** Pod names and their stable addresses, ordinal order (0 = master). */
  pods: { name: string; address: string }[];
  state: WorkloadState;
  /** Its change is waiting for an earlier group to finish rolling. */
  held: boolean;
}

export interface BrokerClusterObservation {
  generation?: number;
  old?: BrokerClusterStatus;
  /** RFC 3339. */
  now: string;
  /** Spec problems found by the builders; nothing was applied. */
  problems: { field: string; message: string }[];
  /** An apply that failed this pass (the message names the object). */
  applyError?: string;
  nameServer: WorkloadState;
  groups: BrokerGroupObservation[];
  /** StatefulSets of groups beyond spec.brokers.groups, kept because scale-down is refused. */
  extraGroups: string[];
  nameServerAddresses: string[];
  configHash: string;
  flushMode: FlushMode;
}

function degraded(o: BrokerClusterObservation): ConditionUpdate {
  if (o.problems.length > 0) {
    return {
      type: 'Degraded',
      status: 'True',
      reason: 'InvalidSpec',
      message: `nothing was applied: ${o.problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
    };
  }
  if (o.applyError) {
    return { type: 'Degraded', status: 'True', reason: 'ApplyFailed', message: o.applyError };
  }
  if (o.extraGroups.length > 0) {
    return {
      type: 'Degraded',
      status: 'True',
      reason: 'ScaleDownRefused',
      message:
        `spec.brokers.groups is lower than the number of broker groups; removing a group would lose its messages, ` +
        `so ${listForHumans(o.extraGroups)} ${o.extraGroups.length === 1 ? 'is' : 'are'} kept running. ` +
        'Raise spec.brokers.groups back, or drain and delete the StatefulSet yourself.',
    };
  }
  return { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems' };
}

function progressing(o: BrokerClusterObservation): ConditionUpdate {
  if (o.problems.length > 0) {
    return {
      type: 'Progressing',
      status: 'False',
      reason: 'InvalidSpec',
      message: 'waiting for a valid spec',
    };
  }
  const workloads = [o.nameServer, ...o.groups.map((g) => g.state)];
  const missing = workloads.filter((w) => !w.exists).map((w) => w.name);
  if (missing.length > 0) {
    return {
      type: 'Progressing',
      status: 'True',
      reason: 'Creating',
      message: `creating ${listForHumans(missing)}`,
    };
  }
  const held = o.groups.filter((g) => g.held).map((g) => g.state.name);
  const rolling = workloads.filter((w) => !held.includes(w.name) && (!w.specApplied || w.revisionPending));
  if (rolling.length > 0 || held.length > 0) {
    const parts = rolling.map(
      (w) => `rolling ${w.name} one pod at a time (${w.updatedReplicas}/${w.desiredReplicas} updated)`,
    );
    if (held.length > 0) {
      parts.push(
        `${listForHumans(held)} wait${held.length === 1 ? 's' : ''} for the previous group to be rolled and ready`,
      );
    }
    return { type: 'Progressing', status: 'True', reason: 'RollingUpdate', message: parts.join('; ') };
  }
  const waiting = workloads.filter((w) => !w.rolledOut || !w.ready);
  if (waiting.length > 0) {
    return {
      type: 'Progressing',
      status: 'True',
      reason: 'WaitingForReadiness',
      message: `waiting for pods to become ready: ${listForHumans(waiting.map((w) => `${w.name} ${Math.min(w.readyReplicas, w.desiredReplicas)}/${w.desiredReplicas}`))}`,
    };
  }
  return {
    type: 'Progressing',
    status: 'False',
    reason: 'Complete',
    message: 'every pod runs the current configuration and is ready',
  };
}

function brokers(o: BrokerClusterObservation): BrokerStatus[] {
  return o.groups.flatMap((g) =>
    g.pods.map((pod, ordinal) => ({
      pod: pod.name,
      brokerName: g.brokerName,
      brokerId: ordinal,
      role: ordinal === 0 ? ('Master' as const) : ('Replica' as const),
      address: pod.address,
      // OrderedReady starts pod i only after pods 0..i-1 are ready, so ready pods form a prefix.
      ready: ordinal < g.state.readyReplicas,
    })),
  );
}

function ready(o: BrokerClusterObservation, list: BrokerStatus[]): ConditionUpdate {
  const nsReady = Math.min(o.nameServer.readyReplicas, o.nameServer.desiredReplicas);
  const brokersReady = list.filter((b) => b.ready).length;
  const summary = `${brokersReady}/${list.length} brokers and ${nsReady}/${o.nameServer.desiredReplicas} name servers ready`;
  const allReady = o.nameServer.ready && o.groups.every((g) => g.state.ready) && o.groups.length > 0;
  if (allReady) return { type: 'Ready', status: 'True', reason: 'AllPodsReady', message: summary };
  const notReady = [
    ...(o.nameServer.ready ? [] : [o.nameServer.name]),
    ...list.filter((b) => !b.ready).map((b) => b.pod),
  ];
  return {
    type: 'Ready',
    status: 'False',
    reason: o.problems.length > 0 ? 'InvalidSpec' : 'PodsNotReady',
    message: `${summary}; not ready: ${listForHumans(notReady)}`,
  };
}

/** Pure: the whole status the controller writes (only if it differs from the old one). */
export function brokerClusterStatus(o: BrokerClusterObservation): BrokerClusterStatus {
  const list = brokers(o);
  const updates = [ready(o, list), progressing(o), degraded(o)];
  const conditions = setConditions(o.old?.conditions, updates, o.generation, o.now);
  const fullSuccess = o.problems.length === 0 && !o.applyError;
  const allRolled = o.groups.length > 0 && o.groups.every((g) => isSettled(g.state));
  const status: BrokerClusterStatus = {
    conditions,
    nameServerAddresses: o.nameServerAddresses,
    brokersReady: `${list.filter((b) => b.ready).length}/${list.length}`,
    brokers: list,
    configHash: o.configHash,
  };
  const observedGeneration = fullSuccess ? o.generation : o.old?.observedGeneration;
  if (observedGeneration !== undefined) status.observedGeneration = observedGeneration;
  // The flush mode the pods really run with: the spec's once every group has rolled, else the last known.
  const flushMode = allRolled ? o.flushMode : o.old?.flushMode;
  if (flushMode !== undefined) status.flushMode = flushMode;
  return status;
}
