// What a push consumer calls: the concurrent listener (any order, failures retried through the
// broker) and the orderly listener (one queue at a time, in queue order, failures retried locally),
// with their verdicts and contexts (RocketMQ's MessageListenerConcurrently / MessageListenerOrderly).

import type { MessageExt, MessageQueue } from './message.js';

/** Concurrent verdicts. In async listeners return `ConsumeStatus.CONSUME_SUCCESS` (TypeScript widens bare string literals there). */
export const ConsumeStatus = {
  CONSUME_SUCCESS: 'CONSUME_SUCCESS',
  RECONSUME_LATER: 'RECONSUME_LATER',
} as const;
export type ConsumeStatus = (typeof ConsumeStatus)[keyof typeof ConsumeStatus];

export interface ConsumeContext {
  readonly messageQueue: MessageQueue;
  /** Delay level for the retry when returning RECONSUME_LATER; 0 lets the broker choose (3 + reconsumeTimes). */
  delayLevelWhenNextConsume: number;
}

/**
 * Handles a batch (size ≤ consumeMessageBatchMaxSize). Return (or resolve) CONSUME_SUCCESS or
 * RECONSUME_LATER; returning nothing counts as success, throwing as RECONSUME_LATER.
 */
export type MessageListener = (
  msgs: MessageExt[],
  context: ConsumeContext,
) => ConsumeStatus | undefined | Promise<ConsumeStatus | undefined>;

/** Orderly verdicts. */
export const ConsumeOrderlyStatus = {
  SUCCESS: 'SUCCESS',
  /** Stop this queue for `suspendCurrentQueueTimeMillis`, then deliver the same messages again. */
  SUSPEND_CURRENT_QUEUE_A_MOMENT: 'SUSPEND_CURRENT_QUEUE_A_MOMENT',
} as const;
export type ConsumeOrderlyStatus = (typeof ConsumeOrderlyStatus)[keyof typeof ConsumeOrderlyStatus];

export interface ConsumeOrderlyContext {
  readonly messageQueue: MessageQueue;
  /** Pause before the retry when suspending, ms; starts at the consumer's suspendCurrentQueueTimeMillis. */
  suspendCurrentQueueTimeMillis: number;
}

/**
 * Handles a batch of one queue, in queue order; no other batch of that queue runs meanwhile.
 * Returning nothing counts as SUCCESS, throwing as SUSPEND_CURRENT_QUEUE_A_MOMENT.
 */
export type MessageListenerOrderly = (
  msgs: MessageExt[],
  context: ConsumeOrderlyContext,
) => ConsumeOrderlyStatus | undefined | Promise<ConsumeOrderlyStatus | undefined>;
