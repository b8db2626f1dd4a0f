// Consume stats (GET_CONSUME_STATS 208, GET_TOPIC_STATS_INFO 202; protocol.md §3.8): which
// queues to report and the body shapes, with MessageQueue objects as map keys (fastjson form).

export interface MessageQueueKey {
  brokerName: string;
  queueId: number;
  topic: string;
}

export interface OffsetWrapper {
  brokerOffset: bigint;
  consumerOffset: bigint;
  lastTimestamp: number;
}

export interface QueueConsumeProgress extends OffsetWrapper {
  topic: string;
  queueId: number;
}

/**
 * Topics a consume-stats answer covers: the requested one, else every topic the group stored
 * offsets for, minus topics the group does not subscribe to now when it has live subscriptions,
 * plus the group's own retry and DLQ topics when they exist (`groupTopics`), so their depth shows
 * even before anyone consumed them. Rows of `%DLQ%` topics count dead letters, not lag to scale for.
 */
export function consumeStatsTopics(
  requestTopic: string | undefined,
  offsetTopics: readonly string[],
  liveSubscriptionTopics: ReadonlySet<string> | undefined,
  groupTopics: readonly string[] = [],
): string[] {
  if (requestTopic !== undefined && requestTopic !== '') return [requestTopic];
  const topics =
    !liveSubscriptionTopics || liveSubscriptionTopics.size === 0
      ? [...offsetTopics]
      : offsetTopics.filter((t) => liveSubscriptionTopics.has(t));
  for (const t of groupTopics) if (!topics.includes(t)) topics.push(t);
  return topics;
}

/** Σ(brokerOffset − consumerOffset) over the queues: the group's lag. */
export function totalDiff(progress: readonly OffsetWrapper[]): bigint {
  let sum = 0n;
  for (const p of progress) sum += p.brokerOffset - p.consumerOffset;
  return sum;
}

/** ConsumeStats body: `{"consumeTps":…,"offsetTable":{{mq}:{…}}}` — write with writeBodyJson. */
export function consumeStatsBody(
  brokerName: string,
  progress: readonly QueueConsumeProgress[],
  consumeTps: number,
) {
  const offsetTable = new Map<MessageQueueKey, OffsetWrapper>();
  for (const p of progress) {
    offsetTable.set(
      { brokerName, queueId: p.queueId, topic: p.topic },
      { brokerOffset: p.brokerOffset, consumerOffset: p.consumerOffset, lastTimestamp: p.lastTimestamp },
    );
  }
  return { consumeTps, offsetTable };
}

export interface TopicOffset {
  minOffset: bigint;
  maxOffset: bigint;
  lastUpdateTimestamp: number;
}

/** TopicStatsTable body: `{"offsetTable":{{mq}:{minOffset,maxOffset,lastUpdateTimestamp}}}`. */
export function topicStatsBody(brokerName: string, topic: string, queues: readonly TopicOffset[]) {
  const offsetTable = new Map<MessageQueueKey, TopicOffset>();
  queues.forEach((q, queueId) => {
    offsetTable.set({ brokerName, queueId, topic }, q);
  });
  return { offsetTable };
}
