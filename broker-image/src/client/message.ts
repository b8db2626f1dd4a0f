// Messages as the application sees them, and the queue identity the client routes by.

/** One queue of a topic on one broker, RocketMQ's MessageQueue. */
export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

export { MessageProperty } from '../message/index.js';

/** A message to send. `properties` holds user properties and the well-known ones above. */
export interface Message {
  topic: string;
  body: Buffer;
  /** The tag used for broker-side filtering (TAGS property). */
  tags?: string;
  /** Business keys, indexed by the broker for QUERY_MESSAGE (KEYS property, space-joined). */
  keys?: string | string[];
  /** User flag, stored as-is. */
  flag?: number;
  /** Delay level 1–18 (protocol.md §6); 0 or absent means immediate. */
  delayTimeLevel?: number;
  /** Wait for the store before answering (WAIT property); default true. */
  waitStoreMsgOK?: boolean;
  properties?: Record<string, string>;
}

/** A message as received by a consumer (RocketMQ's MessageExt). */
export interface MessageExt {
  topic: string;
  body: Buffer;
  tags: string | undefined;
  keys: string | undefined;
  flag: number;
  properties: Record<string, string>;
  /** UNIQ_KEY when the producer set one, else the offset message id. */
  msgId: string;
  /** The broker's id: store host + physical offset (protocol.md §5.1). */
  offsetMsgId: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  sysFlag: number;
  bodyCRC: number;
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  /** Filled by the consumer from the queue it pulled. */
  brokerName: string;
}

export function messageQueueKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

/** RocketMQ's MessageQueue.compareTo: topic, then broker name, then queue id. */
export function compareMessageQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

export function sameMessageQueue(a: MessageQueue, b: MessageQueue): boolean {
  return a.topic === b.topic && a.brokerName === b.brokerName && a.queueId === b.queueId;
}

/** Keys as the KEYS property stores them: space-separated words. */
export function joinKeys(keys: string | string[] | undefined): string | undefined {
  if (keys === undefined) return undefined;
  const joined = Array.isArray(keys) ? keys.join(' ') : keys;
  return joined.length > 0 ? joined : undefined;
}

export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';
export const DLQ_GROUP_TOPIC_PREFIX = '%DLQ%';
/** The template topic a producer falls back to when a topic has no route yet (auto-create). */
export const AUTO_CREATE_TOPIC_KEY = 'TBW102';
export const CLIENT_INNER_PRODUCER_GROUP = 'CLIENT_INNER_PRODUCER';

export function retryTopic(group: string): string {
  return RETRY_GROUP_TOPIC_PREFIX + group;
}
