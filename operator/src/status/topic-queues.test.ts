import { describe, expect, it } from 'vitest';
import type { Condition } from '../api/index.js';
import type { QueuePlan } from '../desired/index.js';
import { findCondition } from './conditions.js';
import { QUEUE_SHRINK_CONDITION, topicQueueConditions } from './topic-queues.js';

const NOW = '2026-03-01T10:00:00Z';
const EARLIER = '2026-03-01T09:00:00Z';

const synced: Condition[] = [
  { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', lastTransitionTime: EARLIER },
  { type: 'Progressing', status: 'False', reason: 'Complete', message: 'done', lastTransitionTime: EARLIER },
];

const pending: QueuePlan = {
  target: 4,
  counts: new Map(),
  shrink: { fromQueues: 8, toQueues: 4, writeLoweredTime: NOW },
  transition: 'pending',
  wait: { reason: 'WaitingForConsumers', message: 'g has 3 unconsumed in a queue 6' },
  summary: 'write queues lowered from 8 to 4',
};

describe('topicQueueConditions', () => {
  it('a pending shrink: QueueShrinkPending=True with the wait, and Progressing=True', () => {
    const out = topicQueueConditions(synced, pending, 2, NOW);
    expect(findCondition(out, QUEUE_SHRINK_CONDITION)).toEqual({
      type: QUEUE_SHRINK_CONDITION,
      status: 'True',
      reason: 'WaitingForConsumers',
      message: 'g has 3 unconsumed in a queue 6',
      lastTransitionTime: NOW,
      observedGeneration: 2,
    });
    expect(findCondition(out, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'QueueShrinkPending',
      message: 'write queues lowered from 8 to 4',
    });
    expect(findCondition(out, 'Ready')).toEqual(synced[0]);
  });

  it('keeps a Progressing=True that reports retries of failed masters', () => {
    const retrying: Condition[] = [
      { type: 'Progressing', status: 'True', reason: 'Retrying', message: 'x', lastTransitionTime: EARLIER },
    ];
    expect(findCondition(topicQueueConditions(retrying, pending, 2, NOW), 'Progressing')?.reason).toBe(
      'Retrying',
    );
  });

  it('completion and abandonment set the condition False with the outcome', () => {
    const started = topicQueueConditions(synced, pending, 2, EARLIER);
    const done = topicQueueConditions(
      started,
      { ...pending, shrink: undefined, wait: undefined, transition: 'completed', summary: 'read lowered' },
      2,
      NOW,
    );
    expect(findCondition(done, QUEUE_SHRINK_CONDITION)).toMatchObject({
      status: 'False',
      reason: 'Completed',
      message: 'read lowered',
      lastTransitionTime: NOW,
    });
    const abandoned = topicQueueConditions(
      started,
      { ...pending, shrink: undefined, wait: undefined, transition: 'abandoned', summary: 'raised' },
      3,
      NOW,
    );
    expect(findCondition(abandoned, QUEUE_SHRINK_CONDITION)).toMatchObject({
      status: 'False',
      reason: 'Abandoned',
    });
  });

  it('a topic that never shrank gets no such condition', () => {
    const none: QueuePlan = { target: 8, counts: new Map(), transition: 'none', summary: '8 queues' };
    expect(topicQueueConditions(synced, none, 1, NOW)).toEqual(synced);
    const cleared: QueuePlan = { ...none, transition: 'cleared' };
    expect(topicQueueConditions(synced, cleared, 1, NOW)).toEqual(synced);
  });
});
