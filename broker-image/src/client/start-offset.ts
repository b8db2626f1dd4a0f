// Where a newly assigned queue starts (protocol.md §8.4): the committed offset if the broker has
// one, else the group's consume-from-where policy. Retry queues start at 0 (LAST) or the end
// (TIMESTAMP), as the Java client does.

import { type MessageQueue, RETRY_GROUP_TOPIC_PREFIX } from './message.js';

export type ConsumeFromWhere =
  | 'CONSUME_FROM_LAST_OFFSET'
  | 'CONSUME_FROM_FIRST_OFFSET'
  | 'CONSUME_FROM_TIMESTAMP';

export interface StartOffsetSource {
  /** Committed offset, undefined when the broker has none; throws on transport errors. */
  committed(mq: MessageQueue): Promise<number | undefined>;
  maxOffset(mq: MessageQueue): Promise<number>;
  searchOffset(mq: MessageQueue, timestamp: number): Promise<number>;
}

export async function computeStartOffset(
  mq: MessageQueue,
  policy: ConsumeFromWhere,
  consumeTimestamp: number,
  source: StartOffsetSource,
): Promise<number> {
  const committed = await source.committed(mq);
  if (committed !== undefined && committed >= 0) return committed;
  const isRetry = mq.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);
  switch (policy) {
    case 'CONSUME_FROM_FIRST_OFFSET':
      return 0;
    case 'CONSUME_FROM_TIMESTAMP':
      return isRetry ? source.maxOffset(mq) : source.searchOffset(mq, consumeTimestamp);
    default:
      return isRetry ? 0 : source.maxOffset(mq);
  }
}
