import { describe, expect, it } from 'vitest';
import { syncStatus } from './broker-sync.js';
import { findCondition } from './conditions.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';
const a = { brokerName: 'orders-broker-0', address: '10.0.0.1:10911' };
const b = { brokerName: 'orders-broker-1', address: '10.0.0.2:10911' };

describe('syncStatus', () => {
  it('all masters synced: Ready, not Degraded, generation observed', () => {
    const s = syncStatus({
      what: 'topic Payments',
      generation: 2,
      now: T0,
      outcomes: [
        { ...a, state: 'Synced' },
        { ...b, state: 'Synced' },
      ],
    });
    expect(findCondition(s.conditions, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Synced',
      message: 'topic Payments is in place on 2/2 masters',
    });
    expect(findCondition(s.conditions, 'Degraded')?.status).toBe('False');
    expect(s.observedGeneration).toBe(2);
    expect(s.brokers).toEqual([
      { ...a, state: 'Synced', lastAttemptTime: T0 },
      { ...b, state: 'Synced', lastAttemptTime: T0 },
    ]);
  });

  it('an unreachable master is named in Degraded; observedGeneration is not advanced', () => {
    const s = syncStatus({
      what: 'topic Payments',
      generation: 3,
      oldObservedGeneration: 2,
      now: T0,
      outcomes: [
        { ...a, state: 'Synced' },
        { ...b, state: 'Failed', unreachable: true, message: 'connect ECONNREFUSED 10.0.0.2:10911' },
      ],
    });
    const degraded = findCondition(s.conditions, 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'BrokerUnreachable' });
    expect(degraded?.message).toBe(
      'unreachable: orders-broker-1 (10.0.0.2:10911): connect ECONNREFUSED 10.0.0.2:10911',
    );
    expect(findCondition(s.conditions, 'Ready')).toMatchObject({
      status: 'False',
      message: 'topic Payments is in place on 1/2 masters',
    });
    expect(findCondition(s.conditions, 'Progressing')).toMatchObject({ status: 'True', reason: 'Retrying' });
    expect(s.observedGeneration).toBe(2);
    expect(s.brokers[1]).not.toHaveProperty('unreachable');
  });

  it('a broker that answered with an error is BrokerError', () => {
    const s = syncStatus({
      what: 'topic X',
      now: T0,
      outcomes: [{ ...a, state: 'Failed', message: 'code 1: conflict with system topic' }],
    });
    expect(findCondition(s.conditions, 'Degraded')).toMatchObject({
      reason: 'BrokerError',
      message: 'refused: orders-broker-0 (10.0.0.1:10911): code 1: conflict with system topic',
    });
  });

  it('blocked (cluster missing): all three conditions say why', () => {
    const s = syncStatus({
      what: 'topic X',
      now: T0,
      blocked: { reason: 'ClusterNotFound', message: 'BrokerCluster shop/orders does not exist' },
      outcomes: [],
    });
    expect(findCondition(s.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ClusterNotFound',
    });
    expect(findCondition(s.conditions, 'Degraded')).toMatchObject({
      status: 'True',
      message: 'BrokerCluster shop/orders does not exist',
    });
    expect(s.observedGeneration).toBeUndefined();
  });

  it('keeps lastAttemptTime of an unchanged outcome, so a quiet resync writes nothing new', () => {
    const first = syncStatus({ what: 't', generation: 1, now: T0, outcomes: [{ ...a, state: 'Synced' }] });
    const again = syncStatus({
      what: 't',
      generation: 1,
      now: T1,
      oldConditions: first.conditions,
      oldObservedGeneration: first.observedGeneration,
      oldBrokers: first.brokers,
      outcomes: [{ ...a, state: 'Synced' }],
    });
    expect(again).toEqual(first);
    const changed = syncStatus({
      what: 't',
      now: T1,
      oldBrokers: first.brokers,
      outcomes: [{ ...a, state: 'Failed', unreachable: true, message: 'timeout' }],
    });
    expect(changed.brokers[0].lastAttemptTime).toBe(T1);
  });
});
