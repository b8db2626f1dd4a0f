import { describe, expect, it } from 'vitest';
import type { TopicStatus } from '../api/index.js';
import {
  type MasterQueueObservation,
  needsQueueObservation,
  planTopicQueues,
  type QueueConsumeProgress,
  type QueuePlanInput,
  queueRange,
  settleQueuePlan,
} from './topic-queues.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const GRACE = 30_000;
const MASTERS = ['broker-a', 'broker-b'];

const present = (
  readQueues: number,
  writeQueues: number,
  progress?: QueueConsumeProgress[],
): MasterQueueObservation => ({ state: 'present', counts: { readQueues, writeQueues }, progress });

/** Rows of one group over queues 0..n-1, each with `left(q)` messages unconsumed of 10. */
const rows = (group: string, n: number, left: (q: number) => number = () => 0): QueueConsumeProgress[] =>
  Array.from({ length: n }, (_, queueId) => ({
    group,
    queueId,
    brokerOffset: 10,
    consumerOffset: 10 - left(queueId),
  }));

function plan(over: Partial<QueuePlanInput> & Pick<QueuePlanInput, 'target'>) {
  return planTopicQueues({ masters: MASTERS, now: T0, graceMs: GRACE, ...over });
}

const observed = (a: MasterQueueObservation, b: MasterQueueObservation = a) =>
  new Map([
    ['broker-a', a],
    ['broker-b', b],
  ]);

describe('planTopicQueues', () => {
  it('without observation (nothing suggests a shrink): read = write = target everywhere', () => {
    const p = plan({ target: 8 });
    expect(p.transition).toBe('none');
    expect(p.shrink).toBeUndefined();
    expect([...p.counts]).toEqual([
      ['broker-a', { readQueues: 8, writeQueues: 8 }],
      ['broker-b', { readQueues: 8, writeQueues: 8 }],
    ]);
  });

  it('growth applies read and write together', () => {
    const p = plan({ target: 12, observed: observed(present(8, 8), { state: 'absent' }) });
    expect(p.transition).toBe('none');
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 12, writeQueues: 12 });
    expect(p.counts.get('broker-b')).toEqual({ readQueues: 12, writeQueues: 12 });
  });

  it('a lower count starts a shrink: write queues drop, read queues stay, even with nothing to drain', () => {
    const p = plan({
      target: 4,
      observed: observed(present(8, 8, rows('g', 8)), present(8, 8, [])),
    });
    expect(p.transition).toBe('started');
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 8, writeQueues: 4 });
    expect(p.counts.get('broker-b')).toEqual({ readQueues: 8, writeQueues: 4 });
    expect(p.shrink).toEqual({ fromQueues: 8, toQueues: 4, writeLoweredTime: '2026-03-01T10:00:00Z' });
    expect(p.wait?.reason).toBe('WaitingForRouteRefresh');
    expect(p.wait?.message).toContain('until queues 4-7 are drained');
    expect(p.wait?.message).toContain('2026-03-01T10:00:30Z');
    expect(p.graceEndsAt).toBe(T0 + GRACE);
  });

  it('the recorded time is rounded up, so the grace is never shortened', () => {
    const p = plan({ target: 4, now: T0 + 200, observed: observed(present(8, 8)) });
    expect(p.shrink?.writeLoweredTime).toBe('2026-03-01T10:00:01Z');
  });

  const recorded = { fromQueues: 8, toQueues: 4, writeLoweredTime: '2026-03-01T10:00:00Z' };

  it('inside the grace period the read queues stay, though every group caught up', () => {
    const p = plan({
      target: 4,
      recorded,
      now: T0 + GRACE - 1,
      observed: observed(present(8, 4, rows('g', 8))),
    });
    expect(p.transition).toBe('pending');
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 8, writeQueues: 4 });
    expect(p.wait?.reason).toBe('WaitingForRouteRefresh');
    expect(p.shrink).toEqual(recorded);
  });

  it('after the grace, a group with messages left in a removed queue holds the read queues', () => {
    const p = plan({
      target: 4,
      recorded,
      now: T0 + GRACE,
      observed: observed(
        present(8, 4, [...rows('GID_a', 8, (q) => (q === 5 || q === 6 ? 3 : 0)), ...rows('GID_b', 8)]),
        present(
          8,
          4,
          rows('GID_a', 8, (q) => (q === 1 ? 9 : 0)),
        ),
      ),
    });
    expect(p.transition).toBe('pending');
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 8, writeQueues: 4 });
    expect(p.counts.get('broker-b')).toEqual({ readQueues: 8, writeQueues: 4 });
    expect(p.wait).toEqual({
      reason: 'WaitingForConsumers',
      message:
        'write queues lowered from 8 to 4; read queues stay at 8 until queues 4-7 are drained: GID_a has 6 unconsumed in broker-a queues 5,6',
    });
  });

  it('lag in a queue that stays (below the target) does not hold the shrink', () => {
    const p = plan({
      target: 4,
      recorded,
      now: T0 + GRACE,
      observed: observed(
        present(
          8,
          4,
          rows('g', 8, (q) => (q < 4 ? 5 : 0)),
        ),
      ),
    });
    expect(p.transition).toBe('completed');
  });

  it('after the grace with every removed queue consumed (or empty), read queues drop and the record goes', () => {
    const empty = [{ group: 'g', queueId: 7, brokerOffset: 0, consumerOffset: 0 }];
    const p = plan({
      target: 4,
      recorded,
      now: T0 + GRACE,
      observed: observed(present(8, 4, rows('g', 7)), present(8, 4, empty)),
    });
    expect(p.transition).toBe('completed');
    expect(p.shrink).toBeUndefined();
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 4, writeQueues: 4 });
    expect(p.counts.get('broker-b')).toEqual({ readQueues: 4, writeQueues: 4 });
    expect(p.summary).toBe('read queues lowered from 8 to 4: every consumer group consumed queues 4-7');
  });

  it('a master still taking writes into the removed queues restarts the grace from now', () => {
    const p = plan({
      target: 4,
      recorded,
      now: T0 + 5 * GRACE,
      observed: observed(present(8, 4, rows('g', 8)), present(8, 8, rows('g', 8))),
    });
    expect(p.transition).toBe('pending');
    expect(p.counts.get('broker-b')).toEqual({ readQueues: 8, writeQueues: 4 });
    expect(p.shrink?.writeLoweredTime).toBe('2026-03-01T10:02:30Z');
    expect(p.wait?.reason).toBe('WaitingForRouteRefresh');
  });

  it('unknown consume progress on a master is not drained', () => {
    const p = plan({
      target: 4,
      recorded,
      now: T0 + GRACE,
      observed: observed(present(8, 4, rows('g', 8)), {
        state: 'present',
        counts: { readQueues: 8, writeQueues: 4 },
        progressError: 'timeout',
      }),
    });
    expect(p.transition).toBe('pending');
    expect(p.wait?.message).toContain('broker-b: consume progress unknown (timeout)');
  });

  it('a master that cannot be observed gets no counts and holds the shrink', () => {
    const p = plan({
      target: 4,
      recorded,
      now: T0 + GRACE,
      observed: observed(present(8, 4, rows('g', 8)), { state: 'failed', message: 'ECONNREFUSED' }),
    });
    expect(p.transition).toBe('pending');
    expect(p.counts.has('broker-b')).toBe(false);
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 8, writeQueues: 4 });
    expect(p.wait).toMatchObject({ reason: 'BrokersUnobserved' });
    expect(p.wait?.message).toContain('broker-b (ECONNREFUSED)');
  });

  it('the count raised back during a shrink abandons it: read = write = new count', () => {
    const p = plan({
      target: 8,
      recorded,
      observed: observed(
        present(
          8,
          4,
          rows('g', 8, () => 2),
        ),
      ),
    });
    expect(p.transition).toBe('abandoned');
    expect(p.shrink).toBeUndefined();
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 8, writeQueues: 8 });
  });

  it('raised above the old count during a shrink: growth, abandoned', () => {
    const p = plan({ target: 10, recorded, observed: observed(present(8, 4)) });
    expect(p.transition).toBe('abandoned');
    expect(p.counts.get('broker-b')).toEqual({ readQueues: 10, writeQueues: 10 });
  });

  it('raised but still below the served read queues: the shrink narrows and keeps its time', () => {
    const p = plan({
      target: 6,
      recorded,
      now: T0 + 1000,
      observed: observed(
        present(
          8,
          4,
          rows('g', 8, () => 1),
        ),
      ),
    });
    expect(p.transition).toBe('pending');
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 8, writeQueues: 6 });
    expect(p.shrink).toEqual({ fromQueues: 8, toQueues: 6, writeLoweredTime: recorded.writeLoweredTime });
  });

  it('lowered further during a shrink: a new start, the grace counts again', () => {
    const p = plan({
      target: 2,
      recorded,
      now: T0 + GRACE * 2,
      observed: observed(present(8, 4, rows('g', 8))),
    });
    expect(p.transition).toBe('started');
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 8, writeQueues: 2 });
    expect(p.shrink).toEqual({ fromQueues: 8, toQueues: 2, writeLoweredTime: '2026-03-01T10:01:00Z' });
  });

  it('a record the brokers no longer show (a stale status after completion) is cleared', () => {
    const p = plan({ target: 4, recorded, observed: observed(present(4, 4)) });
    expect(p.transition).toBe('cleared');
    expect(p.shrink).toBeUndefined();
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 4, writeQueues: 4 });
  });

  it('masters with different read counts: each keeps its own until all are drained', () => {
    const p = plan({ target: 4, observed: observed(present(8, 8), present(6, 6)) });
    expect(p.counts.get('broker-a')).toEqual({ readQueues: 8, writeQueues: 4 });
    expect(p.counts.get('broker-b')).toEqual({ readQueues: 6, writeQueues: 4 });
    expect(p.shrink?.fromQueues).toBe(8);
  });

  it('a new master without the topic gets the target at once', () => {
    const p = plan({ target: 4, observed: observed(present(8, 8), { state: 'absent' }) });
    expect(p.counts.get('broker-b')).toEqual({ readQueues: 4, writeQueues: 4 });
  });
});

describe('needsQueueObservation', () => {
  const synced = (read: number, write = read) =>
    ({
      observedGeneration: 1,
      brokers: [{ brokerName: 'a', state: 'Synced', readQueues: read, writeQueues: write }],
    }) satisfies TopicStatus;

  it('not for a new topic or a steady one', () => {
    expect(needsQueueObservation(undefined, 1, 8)).toBe(false);
    expect(needsQueueObservation({}, 1, 8)).toBe(false);
    expect(needsQueueObservation(synced(8), 1, 8)).toBe(false);
    expect(needsQueueObservation(synced(8), 1, 12)).toBe(false);
  });

  it('when a master serves more than the target, the spec changed, a master failed or a shrink is recorded', () => {
    expect(needsQueueObservation(synced(8), 1, 4)).toBe(true);
    expect(needsQueueObservation(synced(8, 4), 1, 4)).toBe(true);
    expect(needsQueueObservation(synced(8), 2, 8)).toBe(true);
    expect(
      needsQueueObservation({ observedGeneration: 1, brokers: [{ brokerName: 'a', state: 'Failed' }] }, 1, 8),
    ).toBe(true);
    expect(
      needsQueueObservation(
        { ...synced(4), queueShrink: { fromQueues: 8, toQueues: 4, writeLoweredTime: 'x' } },
        1,
        4,
      ),
    ).toBe(true);
  });
});

describe('settleQueuePlan', () => {
  const recorded = { fromQueues: 8, toQueues: 4, writeLoweredTime: '2026-03-01T10:00:00Z' };
  const completed = plan({
    target: 4,
    recorded,
    now: T0 + GRACE,
    observed: observed(present(8, 4, rows('g', 8))),
  });

  it('a completion that every master took stands', () => {
    expect(completed.transition).toBe('completed');
    expect(settleQueuePlan(completed, recorded, [])).toBe(completed);
  });

  it('a completion refused by a master stays pending under the old record', () => {
    const p = settleQueuePlan(completed, recorded, ['broker-b']);
    expect(p.transition).toBe('pending');
    expect(p.shrink).toEqual(recorded);
    expect(p.wait).toEqual({
      reason: 'BrokersUnobserved',
      message: 'read queues could not be lowered from 8 to 4 on broker-b; retrying',
    });
  });

  it('other transitions are left alone', () => {
    const started = plan({ target: 4, observed: observed(present(8, 8)) });
    expect(settleQueuePlan(started, undefined, ['broker-a'])).toBe(started);
  });
});

describe('queueRange', () => {
  it('names one queue or a range', () => {
    expect(queueRange(4, 5)).toBe('4');
    expect(queueRange(4, 8)).toBe('4-7');
  });
});
