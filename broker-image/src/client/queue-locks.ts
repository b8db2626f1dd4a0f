// Broker-side queue locks of an orderly clustering consumer (protocol.md §3.7): LOCK_BATCH_MQ and
// UNLOCK_BATCH_MQ, one request per broker (always its master), for a set of queues.

import type { ClientInstance } from './client-instance.js';
import { type MessageQueue, messageQueueKey } from './message.js';

/** Client-side lock timings (Java 4.9): refresh every 20 s, our lock counts as lost after 30 s. */
export const LOCK_INTERVAL_MS = 20_000;
export const LOCK_MAX_LIVE_MS = 30_000;
/** LOCK_BATCH_MQ timeout (§8.1). */
export const LOCK_TIMEOUT_MS = 1_000;

export interface LockOutcome {
  /** Keys (messageQueueKey) of the queues the brokers granted. */
  granted: Set<string>;
  /** Keys of the queues whose broker answered (granted or not); the others are unknown. */
  answered: Set<string>;
}

/** Groups queues by broker name. */
export function byBroker(mqs: readonly MessageQueue[]): Map<string, MessageQueue[]> {
  const out = new Map<string, MessageQueue[]>();
  for (const mq of mqs) {
    const list = out.get(mq.brokerName);
    if (list) list.push(mq);
    else out.set(mq.brokerName, [mq]);
  }
  return out;
}

export class QueueLocker {
  constructor(
    private readonly instance: ClientInstance,
    private readonly group: string,
    private readonly timeoutMs = LOCK_TIMEOUT_MS,
  ) {}

  private async master(mq: MessageQueue): Promise<string | undefined> {
    let addr = this.instance.masterAddress(mq.brokerName);
    if (!addr) {
      await this.instance.updateRoute(mq.topic).catch(() => undefined);
      addr = this.instance.masterAddress(mq.brokerName);
    }
    return addr;
  }

  async lock(mqs: readonly MessageQueue[]): Promise<LockOutcome> {
    const outcome: LockOutcome = { granted: new Set(), answered: new Set() };
    await Promise.all(
      [...byBroker(mqs).values()].map(async (list) => {
        const addr = await this.master(list[0]);
        if (!addr) return;
        try {
          const granted = await this.instance.api.lockBatchMQ(
            addr,
            this.group,
            this.instance.clientId,
            list,
            this.timeoutMs,
          );
          for (const mq of list) outcome.answered.add(messageQueueKey(mq));
          for (const mq of granted) outcome.granted.add(messageQueueKey(mq));
        } catch (err) {
          this.instance.logger.warn('lock request failed', {
            group: this.group,
            broker: addr,
            error: (err as Error).message,
          });
        }
      }),
    );
    return outcome;
  }

  /** Releases our locks; errors are logged (the broker lets them expire anyway). */
  async unlock(mqs: readonly MessageQueue[], oneway: boolean): Promise<void> {
    await Promise.all(
      [...byBroker(mqs).values()].map(async (list) => {
        const addr = await this.master(list[0]);
        if (!addr) return;
        try {
          await this.instance.api.unlockBatchMQ(
            addr,
            this.group,
            this.instance.clientId,
            list,
            oneway,
            this.timeoutMs,
          );
        } catch (err) {
          this.instance.logger.warn('unlock request failed', {
            group: this.group,
            broker: addr,
            error: (err as Error).message,
          });
        }
      }),
    );
  }
}
