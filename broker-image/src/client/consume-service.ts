// What a push consumer's consume services share: the per-queue task, the consumer state they may
// touch (the host), and CONSUMER_SEND_MSG_BACK. The concurrent service lives here too: batches run
// in parallel; a failure is sent back to the broker (clustering) or only logged (broadcasting)
// (protocol.md §8.6).

import type { RemotingLogger } from '../remoting/index.js';
import type { ClientInstance } from './client-instance.js';
import { type Semaphore, sleep } from './concurrency.js';
import { type ConsumeContext, ConsumeStatus, type MessageListener } from './listener.js';
import { type MessageExt, MessageProperty, type MessageQueue } from './message.js';
import type { OffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';

/** One assigned queue: its cache, where the next pull starts, and listener calls in progress. */
export interface QueueTask {
  mq: MessageQueue;
  pq: ProcessQueue;
  nextOffset: number;
  /** Listener calls (and their offset bookkeeping) in progress for this queue. */
  inFlight: number;
  loop?: Promise<void>;
}

/** The consumer state a consume service works with. */
export interface ConsumeHost {
  readonly group: string;
  readonly logger: RemotingLogger;
  readonly offsetStore: OffsetStore;
  readonly broadcasting: boolean;
  readonly maxReconsumeTimes: number;
  readonly batchMax: number;
  /** Aborted on shutdown (wakes sleeps). */
  readonly signal: AbortSignal;
  /** Listener calls in flight across all queues. */
  readonly slots: Semaphore;
  isRunning(): boolean;
  /** Registers work that shutdown waits for. */
  track(p: Promise<void>): void;
  /** CONSUMER_SEND_MSG_BACK for one message; throws when the broker did not take it. */
  sendBack(msg: MessageExt, delayLevel: number, maxReconsumeTimes: number): Promise<void>;
}

export interface ConsumeService {
  /** Newly pulled messages were cached in `task.pq`. */
  submit(task: QueueTask, msgs: MessageExt[]): void;
}

/** CONSUMER_SEND_MSG_BACK for one message to the broker it came from (master preferred). */
export async function sendMessageBack(
  instance: ClientInstance,
  group: string,
  msg: MessageExt,
  delayLevel: number,
  maxReconsumeTimes: number,
): Promise<void> {
  const addr = instance.masterAddress(msg.brokerName) ?? instance.anyAddress(msg.brokerName);
  await instance.api.consumerSendMessageBack(
    addr ?? msg.storeHost,
    {
      offset: msg.commitLogOffset,
      group,
      delayLevel,
      originMsgId: msg.msgId,
      originTopic: msg.topic,
      maxReconsumeTimes,
    },
    5_000,
  );
}

const LOCAL_RETRY_DELAY_MS = 5_000;

export class ConcurrentConsumeService implements ConsumeService {
  constructor(
    private readonly host: ConsumeHost,
    private readonly listener: MessageListener,
  ) {}

  submit(task: QueueTask, msgs: MessageExt[]): void {
    const batchMax = this.host.batchMax;
    for (let i = 0; i < msgs.length; i += batchMax) {
      this.host.track(this.consume(task, msgs.slice(i, i + batchMax)));
    }
  }

  private async consume(task: QueueTask, msgs: MessageExt[]): Promise<void> {
    const host = this.host;
    await host.slots.acquire();
    let status: ConsumeStatus = ConsumeStatus.RECONSUME_LATER;
    const context: ConsumeContext = { messageQueue: task.mq, delayLevelWhenNextConsume: 0 };
    try {
      // A queue given away, or a consumer shutting down, leaves unstarted messages to the next owner.
      if (task.pq.dropped) return;
      task.inFlight++;
      const now = String(Date.now());
      for (const m of msgs) m.properties[MessageProperty.CONSUME_START_TIME] = now;
      try {
        status = (await this.listener(msgs, context)) ?? ConsumeStatus.CONSUME_SUCCESS;
        if (status !== ConsumeStatus.CONSUME_SUCCESS && status !== ConsumeStatus.RECONSUME_LATER)
          status = ConsumeStatus.RECONSUME_LATER;
      } catch (err) {
        host.logger.warn('message listener threw; will retry', {
          group: host.group,
          error: (err as Error).message,
        });
        status = ConsumeStatus.RECONSUME_LATER;
      }
    } finally {
      host.slots.release();
    }
    try {
      let localRetry: MessageExt[] = [];
      if (status === ConsumeStatus.RECONSUME_LATER) {
        if (host.broadcasting) {
          // Broadcasting has no retry topic: the failure is reported and the message dropped.
          for (const m of msgs)
            host.logger.warn('broadcast message failed; dropped', {
              group: host.group,
              msgId: m.msgId,
            });
        } else {
          localRetry = await this.sendBack(msgs, context.delayLevelWhenNextConsume);
        }
      }
      const done = msgs.filter((m) => !localRetry.includes(m));
      const offset = task.pq.removeMessages(done);
      if (offset >= 0) host.offsetStore.update(task.mq, offset, true);
      if (localRetry.length > 0 && host.isRunning()) {
        for (const m of localRetry) m.reconsumeTimes++;
        host.track(
          sleep(LOCAL_RETRY_DELAY_MS, host.signal).then(() => {
            if (host.isRunning() && !task.pq.dropped) return this.consume(task, localRetry);
          }),
        );
      }
    } finally {
      task.inFlight--;
    }
  }

  /** Sends failed messages back to the broker; returns those that must be retried locally. */
  private async sendBack(msgs: MessageExt[], delayLevel: number): Promise<MessageExt[]> {
    const failed: MessageExt[] = [];
    for (const msg of msgs) {
      try {
        await this.host.sendBack(msg, delayLevel, this.host.maxReconsumeTimes);
      } catch (err) {
        this.host.logger.warn('send-back failed; retrying locally', {
          msgId: msg.msgId,
          error: (err as Error).message,
        });
        failed.push(msg);
      }
    }
    return failed;
  }
}
