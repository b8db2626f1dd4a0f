// A group's lag from per-queue consume progress (GET_CONSUME_STATS on each master): summed per
// subscribed topic and over the group's retry topic, with the queue counts that bound replicas.

/** Where redeliveries of a group wait; consumers subscribe to it implicitly. */
export const RETRY_TOPIC_PREFIX = '%RETRY%';

export function retryTopicOf(group: string): string {
  return `${RETRY_TOPIC_PREFIX}${group}`;
}

/** One queue's progress as a broker reported it. */
export interface QueueProgress {
  topic: string;
  brokerName: string;
  queueId: number;
  /** Next offset to be written (max offset in the queue). */
  brokerOffset: number;
  /** Committed offset of the group (0 when it never committed). */
  consumerOffset: number;
}

export interface TopicLag {
  topic: string;
  lag: number;
  /** Readable queues across all masters. */
  queues: number;
  /** Most queues on one master. */
  queuesPerMaster: number;
  /** The group's retry topic: adds lag, not useful consumers. */
  retry: boolean;
}

export interface LagSummary {
  /** Σ lag over the subscribed topics and the retry topic. */
  lag: number;
  /** Subscribed topics in the given order, then the retry topic. */
  topics: TopicLag[];
}

/** The topics whose consume stats make up the group's lag: the subscriptions plus the retry topic. */
export function lagTopics(group: string, subscribed: readonly string[]): string[] {
  const retry = retryTopicOf(group);
  return [...new Set([...subscribed.filter((t) => t !== retry), retry])];
}

/**
 * Sums lag per topic. A queue whose consumer is ahead of the broker (the queue was truncated or
 * recreated) counts as no lag rather than negative lag; rows of other topics are ignored, and a
 * queue reported twice counts once.
 */
export function summarizeLag(
  group: string,
  subscribed: readonly string[],
  rows: readonly QueueProgress[],
): LagSummary {
  const retry = retryTopicOf(group);
  const topics = lagTopics(group, subscribed);
  const byTopic = new Map<string, { lag: number; perBroker: Map<string, Set<number>> }>();
  for (const t of topics) byTopic.set(t, { lag: 0, perBroker: new Map() });
  for (const row of rows) {
    const entry = byTopic.get(row.topic);
    if (!entry) continue;
    let queues = entry.perBroker.get(row.brokerName);
    if (!queues) {
      queues = new Set();
      entry.perBroker.set(row.brokerName, queues);
    }
    if (queues.has(row.queueId)) continue;
    queues.add(row.queueId);
    entry.lag += Math.max(0, row.brokerOffset - row.consumerOffset);
  }
  const out: TopicLag[] = topics.map((topic) => {
    const { lag, perBroker } = byTopic.get(topic) ?? { lag: 0, perBroker: new Map() };
    const sizes = [...perBroker.values()].map((s) => s.size);
    return {
      topic,
      lag,
      queues: sizes.reduce((a, b) => a + b, 0),
      queuesPerMaster: sizes.reduce((a, b) => Math.max(a, b), 0),
      retry: topic === retry,
    };
  });
  return { lag: out.reduce((sum, t) => sum + t.lag, 0), topics: out };
}
