import { describe, expect, it } from 'vitest';
import { isSettled, type ObservedStatefulSet, workloadState } from './workload.js';

const A = 'bolide.dev/spec-hash';
const wanted = { name: 'orders-broker-0', replicas: 2, specHash: 'h2' };

function sts(
  status: ObservedStatefulSet['status'],
  hash = 'h2',
  generation = 5,
  replicas = 2,
): ObservedStatefulSet {
  return {
    metadata: { name: 'orders-broker-0', generation, annotations: { [A]: hash } },
    spec: { replicas },
    status,
  };
}

describe('workloadState', () => {
  it('missing StatefulSet: nothing exists, nothing ready', () => {
    const s = workloadState(undefined, wanted, A);
    expect(s).toMatchObject({
      exists: false,
      specApplied: false,
      rolledOut: false,
      ready: false,
      readyReplicas: 0,
    });
    expect(isSettled(s)).toBe(false);
  });

  it('created but never seen by the StatefulSet controller (no kubelet): applied, not rolled out, not ready', () => {
    const s = workloadState(sts(undefined), wanted, A);
    expect(s).toMatchObject({ exists: true, specApplied: true, rolledOut: false, ready: false });
  });

  it('fully rolled out and ready', () => {
    const s = workloadState(
      sts({
        observedGeneration: 5,
        replicas: 2,
        readyReplicas: 2,
        updatedReplicas: 2,
        currentRevision: 'r2',
        updateRevision: 'r2',
      }),
      wanted,
      A,
    );
    expect(s).toMatchObject({ rolledOut: true, ready: true, revisionPending: false });
    expect(isSettled(s)).toBe(true);
  });

  it('mid-roll: revisions differ, one pod updated', () => {
    const s = workloadState(
      sts({
        observedGeneration: 5,
        replicas: 2,
        readyReplicas: 1,
        updatedReplicas: 1,
        currentRevision: 'r1',
        updateRevision: 'r2',
      }),
      wanted,
      A,
    );
    expect(s).toMatchObject({ rolledOut: false, ready: false, revisionPending: true, updatedReplicas: 1 });
  });

  it('old spec hash: not applied even when all pods are ready', () => {
    const s = workloadState(
      sts({ observedGeneration: 5, replicas: 2, readyReplicas: 2, updatedReplicas: 2 }, 'h1'),
      wanted,
      A,
    );
    expect(s).toMatchObject({ specApplied: false, rolledOut: false, ready: true });
    expect(isSettled(s)).toBe(false);
  });

  it('controller has not observed the latest generation: not rolled out, not ready', () => {
    const s = workloadState(
      sts({ observedGeneration: 4, replicas: 2, readyReplicas: 2, updatedReplicas: 2 }),
      wanted,
      A,
    );
    expect(s).toMatchObject({ rolledOut: false, ready: false });
  });
});
