// Where a StatefulSet stands: exists, up to date with what the operator wants, how many pods are ready.

/** The part of an observed StatefulSet this module reads. */
export interface ObservedStatefulSet {
  metadata?: { name?: string; generation?: number; annotations?: Record<string, string> };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

export interface WorkloadState {
  name: string;
  desiredReplicas: number;
  exists: boolean;
  /** The object carries the wanted spec (by its spec-hash annotation). */
  specApplied: boolean;
  /** Every pod runs the current template and the StatefulSet controller has seen the latest spec. */
  rolledOut: boolean;
  readyReplicas: number;
  updatedReplicas: number;
  /** The StatefulSet controller is replacing pods with a new revision. */
  revisionPending: boolean;
  /** All desired pods ready. */
  ready: boolean;
}

export interface WantedWorkload {
  name: string;
  replicas: number;
  /** Spec hash the desired object carries. */
  specHash: string;
}

/**
 * Summarises `observed` against what is wanted. `specHashAnnotation` names the annotation the builders
 * put the spec hash in. A StatefulSet is rolled out when its controller has observed the latest
 * generation, every replica is updated and current and update revisions agree (what `kubectl rollout
 * status` checks).
 */
export function workloadState(
  observed: ObservedStatefulSet | undefined,
  wanted: WantedWorkload,
  specHashAnnotation: string,
): WorkloadState {
  if (!observed) {
    return {
      name: wanted.name,
      desiredReplicas: wanted.replicas,
      exists: false,
      specApplied: false,
      rolledOut: false,
      readyReplicas: 0,
      updatedReplicas: 0,
      revisionPending: false,
      ready: false,
    };
  }
  const st = observed.status ?? {};
  const generation = observed.metadata?.generation ?? 0;
  const specReplicas = observed.spec?.replicas ?? wanted.replicas;
  const specApplied = observed.metadata?.annotations?.[specHashAnnotation] === wanted.specHash;
  const controllerCaughtUp = (st.observedGeneration ?? -1) >= generation;
  const readyReplicas = controllerCaughtUp
    ? (st.readyReplicas ?? 0)
    : Math.min(st.readyReplicas ?? 0, specReplicas);
  const revisionsAgree =
    st.currentRevision === undefined ||
    st.updateRevision === undefined ||
    st.currentRevision === st.updateRevision;
  const rolledOut =
    specApplied &&
    controllerCaughtUp &&
    (st.updatedReplicas ?? 0) >= specReplicas &&
    (st.replicas ?? 0) === specReplicas &&
    revisionsAgree;
  return {
    name: wanted.name,
    desiredReplicas: wanted.replicas,
    exists: true,
    specApplied,
    rolledOut,
    readyReplicas,
    updatedReplicas: st.updatedReplicas ?? 0,
    revisionPending: !revisionsAgree,
    ready: controllerCaughtUp && readyReplicas >= wanted.replicas && specReplicas === wanted.replicas,
  };
}

/** Settled: nothing for a roll to wait on (applied, rolled out, all ready). */
export function isSettled(state: WorkloadState): boolean {
  return state.exists && state.specApplied && state.rolledOut && state.ready;
}
