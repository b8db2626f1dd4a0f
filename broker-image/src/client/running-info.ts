// The answer to GET_CONSUMER_RUNNING_INFO (307, protocol.md §3.8): Java's ConsumerRunningInfo
// as fastjson writes it — properties, subscriptions, and per queue (MessageQueue object keys) the
// process-queue state that the dashboard and `mqadmin consumerStatus` show.

import { encodeBodyJson } from '../protocol/index.js';
import { compareMessageQueues, type MessageQueue } from './message.js';
import type { SubscriptionData } from './subscription.js';

export interface QueueRunningState {
  mq: MessageQueue;
  commitOffset: number;
  cachedMsgMinOffset: number;
  cachedMsgMaxOffset: number;
  cachedMsgCount: number;
  cachedMsgSizeInMiB: number;
  locked: boolean;
  lastLockTimestamp: number;
  dropped: boolean;
  lastPullTimestamp: number;
  lastConsumeTimestamp: number;
}

export interface RunningInfoInput {
  properties: Record<string, string | number | boolean>;
  subscriptions: readonly SubscriptionData[];
  queues: readonly QueueRunningState[];
}

/** Encodes the ConsumerRunningInfo body. */
export function encodeConsumerRunningInfo(input: RunningInfoInput): Buffer {
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.properties)) properties[k] = String(v);
  const mqTable = new Map<object, object>();
  for (const q of [...input.queues].sort((a, b) => compareMessageQueues(a.mq, b.mq))) {
    mqTable.set(
      { brokerName: q.mq.brokerName, queueId: q.mq.queueId, topic: q.mq.topic },
      {
        cachedMsgCount: q.cachedMsgCount,
        cachedMsgMaxOffset: q.cachedMsgMaxOffset,
        cachedMsgMinOffset: q.cachedMsgMinOffset,
        cachedMsgSizeInMiB: q.cachedMsgSizeInMiB,
        commitOffset: q.commitOffset,
        droped: q.dropped,
        lastConsumeTimestamp: q.lastConsumeTimestamp,
        lastLockTimestamp: q.lastLockTimestamp,
        lastPullTimestamp: q.lastPullTimestamp,
        locked: q.locked,
        transactionMsgCount: 0,
        transactionMsgMaxOffset: 0,
        transactionMsgMinOffset: 0,
        tryUnlockTimes: 0,
      },
    );
  }
  const subscriptionSet = [...input.subscriptions].sort((a, b) => (a.topic < b.topic ? -1 : 1));
  return encodeBodyJson({ jstack: '', mqTable, properties, statusTable: {}, subscriptionSet });
}
