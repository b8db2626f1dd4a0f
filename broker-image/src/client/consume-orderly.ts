// Orderly consumption (RocketMQ's ConsumeMessageOrderlyService, protocol.md §3.7, §8.6): one run
// per queue takes the oldest cached messages, so a queue is consumed in offset order and never by
// two listener calls at once; in clustering mode only while we hold the queue's broker lock. A
// failed batch suspends the queue for a moment and is delivered again with reconsumeTimes + 1;
// a message that has used up maxReconsumeTimes goes to the DLQ (send-back with delay level −1),
// and consumption continues behind it.

import { sleep } from './concurrency.js';
import type { ConsumeHost, ConsumeService, QueueTask } from './consume-service.js';
import { type ConsumeOrderlyContext, ConsumeOrderlyStatus, type MessageListenerOrderly } from './listener.js';
import { type MessageExt, MessageProperty } from './message.js';
import { LOCK_MAX_LIVE_MS } from './queue-locks.js';

/** Wait before trying to take a lost lock again, and between failed attempts (Java: 100 ms, 3 s). */
const RELOCK_FIRST_DELAY_MS = 100;
const RELOCK_RETRY_DELAY_MS = 3_000;
/** Send-back delay level that makes the broker dead-letter the message at once (§3.6 step 5). */
export const DEAD_LETTER_DELAY_LEVEL = -1;

export interface OrderlyHost extends ConsumeHost {
  /** Tries to (re)take the broker lock of the task's queue; true when held. */
  relock(task: QueueTask): Promise<boolean>;
}

/**
 * After a failed batch: which messages are retried (their reconsumeTimes already incremented) and
 * which have used up their retries. Java's checkReconsumeTimes.
 */
export function splitFailedBatch(
  msgs: readonly MessageExt[],
  maxReconsumeTimes: number,
): { retry: MessageExt[]; exhausted: MessageExt[] } {
  const retry: MessageExt[] = [];
  const exhausted: MessageExt[] = [];
  for (const m of msgs) {
    if (m.reconsumeTimes >= maxReconsumeTimes) exhausted.push(m);
    else retry.push(m);
  }
  return { retry, exhausted };
}

export class OrderlyConsumeService implements ConsumeService {
  constructor(
    private readonly host: OrderlyHost,
    private readonly listener: MessageListenerOrderly,
    private readonly suspendMs: number,
  ) {}

  submit(task: QueueTask, _msgs: MessageExt[]): void {
    if (task.pq.consuming || task.pq.dropped) return;
    task.pq.consuming = true;
    this.host.track(this.run(task));
  }

  private lockUsable(task: QueueTask): boolean {
    if (this.host.broadcasting) return true;
    return task.pq.locked && !task.pq.isLockExpired(Date.now(), LOCK_MAX_LIVE_MS);
  }

  /** Consumes the queue until its cache is empty, it is dropped, or the consumer stops. */
  private async run(task: QueueTask): Promise<void> {
    const { pq } = task;
    const host = this.host;
    try {
      while (!pq.dropped && host.isRunning()) {
        if (!this.lockUsable(task)) {
          await sleep(RELOCK_FIRST_DELAY_MS, host.signal);
          if (pq.dropped || !host.isRunning()) return;
          if (!(await host.relock(task))) await sleep(RELOCK_RETRY_DELAY_MS, host.signal);
          continue;
        }
        const msgs = pq.takeMessages(host.batchMax);
        // Nothing cached: the run ends here, synchronously, so the next submit starts a new one.
        if (msgs.length === 0) return;
        const pause = await this.consumeBatch(task, msgs);
        if (pause > 0) await sleep(pause, host.signal);
      }
    } finally {
      pq.consuming = false;
    }
  }

  /** Runs the listener on one batch and settles it; returns how long to suspend the queue (0: go on). */
  private async consumeBatch(task: QueueTask, msgs: MessageExt[]): Promise<number> {
    const host = this.host;
    const { pq, mq } = task;
    const context: ConsumeOrderlyContext = {
      messageQueue: mq,
      suspendCurrentQueueTimeMillis: this.suspendMs,
    };
    let status: ConsumeOrderlyStatus = ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
    await host.slots.acquire();
    try {
      // Dropped while waiting for a slot: the messages belong to the next owner.
      if (pq.dropped || !this.lockUsable(task)) {
        pq.makeMessagesToConsumeAgain(msgs);
        return 0;
      }
      task.inFlight++;
      const now = String(Date.now());
      for (const m of msgs) m.properties[MessageProperty.CONSUME_START_TIME] = now;
      try {
        status = (await this.listener(msgs, context)) ?? ConsumeOrderlyStatus.SUCCESS;
        if (status !== ConsumeOrderlyStatus.SUCCESS)
          status = ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
      } catch (err) {
        host.logger.warn('orderly listener threw; suspending the queue', {
          group: host.group,
          mq,
          error: (err as Error).message,
        });
      }
    } finally {
      host.slots.release();
    }
    try {
      if (status === ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT) {
        const { retry, exhausted } = splitFailedBatch(msgs, host.maxReconsumeTimes);
        for (const m of exhausted) {
          if (!(await this.deadLetter(m))) retry.push(m);
        }
        if (retry.length > 0) {
          for (const m of retry) m.reconsumeTimes++;
          // Keep queue order: the failed messages go back in front of anything pulled since.
          pq.makeMessagesToConsumeAgain(retry);
          return Math.max(0, context.suspendCurrentQueueTimeMillis);
        }
      }
      const offset = pq.commit();
      if (offset >= 0) host.offsetStore.update(mq, offset, false);
      return 0;
    } finally {
      task.inFlight--;
    }
  }

  /** Moves a message that used up its retries to the DLQ; false when that failed (retry locally). */
  private async deadLetter(msg: MessageExt): Promise<boolean> {
    const host = this.host;
    if (host.broadcasting) {
      host.logger.warn('broadcast message used up its retries; dropped', {
        group: host.group,
        msgId: msg.msgId,
        reconsumeTimes: msg.reconsumeTimes,
      });
      return true;
    }
    try {
      await host.sendBack(msg, DEAD_LETTER_DELAY_LEVEL, host.maxReconsumeTimes);
      host.logger.warn('message used up its retries; moved to the DLQ', {
        group: host.group,
        msgId: msg.msgId,
        reconsumeTimes: msg.reconsumeTimes,
      });
      return true;
    } catch (err) {
      host.logger.warn('moving a message to the DLQ failed; retrying it locally', {
        group: host.group,
        msgId: msg.msgId,
        error: (err as Error).message,
      });
      return false;
    }
  }
}
