// A topic's producer queue list with RocketMQ's selection rules: round robin, and on a retry the
// next queue on a different broker than the one that just failed (protocol.md §8.2).

import type { Message, MessageQueue } from './message.js';
import { javaStringHash } from './subscription.js';

export class TopicPublishInfo {
  private index: number;

  constructor(
    readonly queues: readonly MessageQueue[],
    start = Math.floor(Math.random() * 1024),
  ) {
    this.index = start;
  }

  /** Round robin; when `lastBrokerName` is given, prefers a queue on another broker. */
  select(lastBrokerName?: string): MessageQueue {
    const n = this.queues.length;
    if (n === 0) throw new Error('no queue to select from');
    if (lastBrokerName !== undefined) {
      for (let i = 0; i < n; i++) {
        const mq = this.queues[Math.abs(this.index++) % n];
        if (mq.brokerName !== lastBrokerName) return mq;
      }
    }
    return this.queues[Math.abs(this.index++) % n];
  }
}

/** Picks the queue for an ordered send: `(queues, message, arg) → queue`. */
export type MessageQueueSelector = (mqs: readonly MessageQueue[], msg: Message, arg: unknown) => MessageQueue;

/** Java's hashCode for the argument kinds a selector usually gets. */
function argHash(arg: unknown): number {
  if (typeof arg === 'number' && Number.isInteger(arg) && arg >= -(2 ** 31) && arg < 2 ** 31) return arg;
  if (typeof arg === 'bigint') {
    const v = BigInt.asUintN(64, arg);
    return Number(BigInt.asIntN(32, v ^ (v >> 32n)));
  }
  return javaStringHash(String(arg));
}

/** RocketMQ's SelectMessageQueueByHash: |hash(arg) mod n|. Same key → same queue → per-key order. */
export const selectMessageQueueByHash: MessageQueueSelector = (mqs, _msg, arg) => {
  let value = argHash(arg) % mqs.length;
  if (value < 0) value = Math.abs(value);
  return mqs[value];
};

/** Uniform random queue (SelectMessageQueueByRandom). */
export const selectMessageQueueByRandom: MessageQueueSelector = (mqs) =>
  mqs[Math.floor(Math.random() * mqs.length)];
