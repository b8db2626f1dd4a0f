// Queue allocation for clustering consumers. Every member of a group computes its own share from
// the same sorted inputs, so Java, ali-ons and this client must agree bit for bit (protocol.md §8.3).

import { compareMessageQueues, type MessageQueue } from './message.js';

/** A strategy sees inputs already sorted (queues by topic/broker/queue id, ids as strings). */
export type AllocateStrategy = (
  currentCid: string,
  mqAll: MessageQueue[],
  cidAll: string[],
) => MessageQueue[];

/** RocketMQ's AllocateMessageQueueAveragely: contiguous blocks, the first `N mod C` members get one extra. */
export const allocateAveragely: AllocateStrategy = (currentCid, mqAll, cidAll) => {
  const index = cidAll.indexOf(currentCid);
  if (index < 0 || mqAll.length === 0) return [];
  const n = mqAll.length;
  const c = cidAll.length;
  const mod = n % c;
  const getsExtra = mod > 0 && index < mod;
  const size = n <= c ? 1 : getsExtra ? Math.floor(n / c) + 1 : Math.floor(n / c);
  const start = getsExtra ? index * size : index * size + mod;
  const range = Math.min(size, n - start);
  const result: MessageQueue[] = [];
  for (let k = 0; k < range; k++) result.push(mqAll[(start + k) % n]);
  return result;
};

/** Java String.compareTo order (UTF-16 code units), which is also JS's default string order. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts copies of both lists the way RebalanceImpl does, then applies the strategy. */
export function allocateQueues(
  currentCid: string,
  mqAll: readonly MessageQueue[],
  cidAll: readonly string[],
  strategy: AllocateStrategy = allocateAveragely,
): MessageQueue[] {
  const queues = [...mqAll].sort(compareMessageQueues);
  const ids = [...cidAll].sort(compareStrings);
  return strategy(currentCid, queues, ids);
}
