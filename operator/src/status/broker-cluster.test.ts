import { describe, expect, it } from 'vitest';
import {
  type BrokerClusterObservation,
  type BrokerGroupObservation,
  brokerClusterStatus,
} from './broker-cluster.js';
import { findCondition } from './conditions.js';
import type { WorkloadState } from './workload.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';

function state(name: string, replicas: number, over: Partial<WorkloadState> = {}): WorkloadState {
  return {
    name,
    desiredReplicas: replicas,
    exists: true,
    specApplied: true,
    rolledOut: true,
    readyReplicas: replicas,
    updatedReplicas: replicas,
    revisionPending: false,
    ready: true,
    ...over,
  };
}

function group(index: number, over: Partial<WorkloadState> = {}, held = false): BrokerGroupObservation {
  const name = `orders-broker-${index}`;
  return {
    index,
    brokerName: name,
    pods: [0, 1].map((i) => ({ name: `${name}-${i}`, address: `${name}-${i}.orders-broker.shop.svc:10911` })),
    state: state(name, 2, over),
    held,
  };
}

function observation(over: Partial<BrokerClusterObservation> = {}): BrokerClusterObservation {
  return {
    generation: 7,
    now: T0,
    problems: [],
    nameServer: state('orders-namesrv', 1),
    groups: [group(0), group(1)],
    extraGroups: [],
    nameServerAddresses: ['orders-namesrv-0.orders-namesrv.shop.svc:9876'],
    configHash: 'c1',
    flushMode: 'Sync',
    ...over,
  };
}

describe('brokerClusterStatus', () => {
  it('everything rolled out and ready: Ready, not Progressing, not Degraded, generation observed', () => {
    const s = brokerClusterStatus(observation());
    expect(findCondition(s.conditions, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'AllPodsReady',
      observedGeneration: 7,
    });
    expect(findCondition(s.conditions, 'Progressing')).toMatchObject({ status: 'False', reason: 'Complete' });
    expect(findCondition(s.conditions, 'Degraded')).toMatchObject({ status: 'False' });
    expect(s.observedGeneration).toBe(7);
    expect(s.brokersReady).toBe('4/4');
    expect(s.flushMode).toBe('Sync');
    expect(s.configHash).toBe('c1');
    expect(s.nameServerAddresses).toEqual(['orders-namesrv-0.orders-namesrv.shop.svc:9876']);
    expect(s.brokers?.[1]).toEqual({
      pod: 'orders-broker-0-1',
      brokerName: 'orders-broker-0',
      brokerId: 1,
      role: 'Replica',
      address: 'orders-broker-0-1.orders-broker.shop.svc:10911',
      ready: true,
    });
  });

  it('StatefulSets created but no pod ready: Progressing (waiting for readiness), Ready False naming pods', () => {
    const notReady = { rolledOut: false, ready: false, readyReplicas: 0, updatedReplicas: 0 };
    const s = brokerClusterStatus(
      observation({ nameServer: state('orders-namesrv', 1, notReady), groups: [group(0, notReady)] }),
    );
    expect(findCondition(s.conditions, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'WaitingForReadiness',
    });
    const ready = findCondition(s.conditions, 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'PodsNotReady' });
    expect(ready?.message).toContain('0/2 brokers and 0/1 name servers ready');
    expect(ready?.message).toContain('orders-namesrv, orders-broker-0-0, orders-broker-0-1');
    expect(s.brokersReady).toBe('0/2');
    expect(s.flushMode).toBeUndefined();
  });

  it('a missing StatefulSet is Creating', () => {
    const s = brokerClusterStatus(observation({ groups: [group(0, { exists: false, specApplied: false })] }));
    expect(findCondition(s.conditions, 'Progressing')).toMatchObject({
      reason: 'Creating',
      message: 'creating orders-broker-0',
    });
  });

  it('a roll in group 0 holds group 1; the flush mode stays the old one until every group rolled', () => {
    const old = brokerClusterStatus(observation({ flushMode: 'Async' }));
    const s = brokerClusterStatus(
      observation({
        old,
        now: T1,
        flushMode: 'Sync',
        groups: [
          group(0, {
            revisionPending: true,
            rolledOut: false,
            updatedReplicas: 1,
            readyReplicas: 1,
            ready: false,
          }),
          group(1, { specApplied: false, rolledOut: false }, true),
        ],
      }),
    );
    const progressing = findCondition(s.conditions, 'Progressing');
    expect(progressing).toMatchObject({ status: 'True', reason: 'RollingUpdate', lastTransitionTime: T1 });
    expect(progressing?.message).toBe(
      'rolling orders-broker-0 one pod at a time (1/2 updated); orders-broker-1 waits for the previous group to be rolled and ready',
    );
    expect(s.flushMode).toBe('Async');
    expect(findCondition(s.conditions, 'Ready')?.lastTransitionTime).toBe(T1);
    expect(findCondition(s.conditions, 'Degraded')?.lastTransitionTime).toBe(T0);
  });

  it('invalid spec: Degraded names the field, observedGeneration stays the last good one', () => {
    const old = brokerClusterStatus(observation({ generation: 6 }));
    const s = brokerClusterStatus(
      observation({
        old,
        problems: [{ field: 'spec.brokerConfig.brokerId', message: 'is managed by the operator' }],
      }),
    );
    expect(findCondition(s.conditions, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
      message: 'nothing was applied: spec.brokerConfig.brokerId is managed by the operator',
    });
    expect(s.observedGeneration).toBe(6);
  });

  it('apply failure and refused scale-down are Degraded', () => {
    const failed = brokerClusterStatus(
      observation({ applyError: 'StatefulSet orders-broker-1: 422 Invalid' }),
    );
    expect(findCondition(failed.conditions, 'Degraded')).toMatchObject({
      reason: 'ApplyFailed',
      message: 'StatefulSet orders-broker-1: 422 Invalid',
    });
    expect(failed.observedGeneration).toBeUndefined();
    const extra = brokerClusterStatus(observation({ extraGroups: ['orders-broker-2'] }));
    const degraded = findCondition(extra.conditions, 'Degraded');
    expect(degraded?.reason).toBe('ScaleDownRefused');
    expect(degraded?.message).toContain('orders-broker-2 is kept running');
  });

  it('recomputing from the same inputs gives an equal status (so no write is needed)', () => {
    const first = brokerClusterStatus(observation());
    const again = brokerClusterStatus(observation({ old: first, now: T1 }));
    expect(again).toEqual(first);
  });
});
