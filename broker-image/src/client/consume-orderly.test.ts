import { describe, expect, it } from 'vitest';
import { Semaphore } from './concurrency.js';
import {
  DEAD_LETTER_DELAY_LEVEL,
  OrderlyConsumeService,
  type OrderlyHost,
  splitFailedBatch,
} from './consume-orderly.js';
import type { QueueTask } from './consume-service.js';
import { ConsumeOrderlyStatus, type MessageListenerOrderly } from './listener.js';
import type { MessageExt, MessageQueue } from './message.js';
import type { OffsetStore } from './offset-store.js';
import { ProcessQueue } from './process-queue.js';

const mq: MessageQueue = { topic: 'T', brokerName: 'b', queueId: 0 };

function msg(queueOffset: number): MessageExt {
  return {
    queueOffset,
    body: Buffer.from(`m${queueOffset}`),
    properties: {},
    reconsumeTimes: 0,
  } as MessageExt;
}

class MemoryOffsets implements OffsetStore {
  readonly offsets = new Map<number, number>();
  update(q: MessageQueue, offset: number) {
    this.offsets.set(q.queueId, offset);
  }
  readMemory(q: MessageQueue) {
    return this.offsets.get(q.queueId);
  }
  async readStore() {
    return undefined;
  }
  async persistAll() {
    return [];
  }
  async persist() {}
  remove() {}
}

function harness(
  options: { max?: number; broadcasting?: boolean; locked?: boolean; sendBackFails?: number } = {},
) {
  const work = new Set<Promise<void>>();
  const offsets = new MemoryOffsets();
  const sentBack: { offset: number; delayLevel: number }[] = [];
  const relocks: number[] = [];
  let sendBackFailures = options.sendBackFails ?? 0;
  let lockGranted = true;
  const host: OrderlyHost = {
    group: 'G',
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    offsetStore: offsets,
    broadcasting: options.broadcasting ?? false,
    maxReconsumeTimes: options.max ?? 2_147_483_647,
    batchMax: 1,
    signal: new AbortController().signal,
    slots: new Semaphore(4),
    isRunning: () => true,
    track: (p) => {
      work.add(p);
      p.finally(() => work.delete(p));
    },
    relock: async (task) => {
      relocks.push(Date.now());
      if (!lockGranted) return false;
      task.pq.locked = true;
      task.pq.lastLockTimestamp = Date.now();
      return true;
    },
    sendBack: async (m, delayLevel) => {
      if (sendBackFailures > 0) {
        sendBackFailures--;
        throw new Error('broker down');
      }
      sentBack.push({ offset: m.queueOffset, delayLevel });
    },
  };
  const pq = new ProcessQueue();
  pq.locked = options.locked ?? true;
  pq.lastLockTimestamp = Date.now();
  const task: QueueTask = { mq, pq, nextOffset: 0, inFlight: 0 };
  const settle = async () => {
    while (work.size > 0) await Promise.all([...work]);
  };
  return {
    host,
    task,
    offsets,
    sentBack,
    relocks,
    settle,
    setLockGranted: (v: boolean) => {
      lockGranted = v;
    },
  };
}

function deliver(service: OrderlyConsumeService, task: QueueTask, offsets: number[]) {
  const msgs = offsets.map(msg);
  task.pq.putMessages(msgs);
  service.submit(task, msgs);
}

describe('splitFailedBatch', () => {
  it('retries messages below the limit and gives up on the others', () => {
    const a = { ...msg(0), reconsumeTimes: 1 };
    const b = { ...msg(1), reconsumeTimes: 2 };
    expect(splitFailedBatch([a, b], 2)).toEqual({ retry: [a], exhausted: [b] });
  });
});

describe('OrderlyConsumeService', () => {
  it('consumes one message at a time in offset order and redelivers a failure in place', async () => {
    const h = harness();
    const seen: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const listener: MessageListenerOrderly = async (msgs) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      const m = msgs[0];
      seen.push(`${m.queueOffset}/${m.reconsumeTimes}`);
      if (m.queueOffset === 2 && m.reconsumeTimes < 2)
        return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
      return ConsumeOrderlyStatus.SUCCESS;
    };
    const service = new OrderlyConsumeService(h.host, listener, 5);
    deliver(service, h.task, [0, 1, 2]);
    deliver(service, h.task, [3, 4]);
    await h.settle();
    expect(seen).toEqual(['0/0', '1/0', '2/0', '2/1', '2/2', '3/0', '4/0']);
    expect(maxRunning).toBe(1);
    expect(h.offsets.offsets.get(0)).toBe(5);
    expect(h.task.pq.cachedCount).toBe(0);
    expect(h.sentBack).toEqual([]);
  });

  it('treats a thrown error as a suspend', async () => {
    const h = harness();
    let calls = 0;
    const service = new OrderlyConsumeService(
      h.host,
      () => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return undefined;
      },
      1,
    );
    deliver(service, h.task, [7]);
    await h.settle();
    expect(calls).toBe(2);
    expect(h.offsets.offsets.get(0)).toBe(8);
  });

  it('sends a message that used up its retries to the DLQ and goes on', async () => {
    const h = harness({ max: 2 });
    const seen: string[] = [];
    const service = new OrderlyConsumeService(
      h.host,
      (msgs) => {
        seen.push(`${msgs[0].queueOffset}/${msgs[0].reconsumeTimes}`);
        return msgs[0].queueOffset === 0 ? ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT : undefined;
      },
      1,
    );
    deliver(service, h.task, [0, 1]);
    await h.settle();
    expect(seen).toEqual(['0/0', '0/1', '0/2', '1/0']);
    expect(h.sentBack).toEqual([{ offset: 0, delayLevel: DEAD_LETTER_DELAY_LEVEL }]);
    expect(h.offsets.offsets.get(0)).toBe(2);
  });

  it('retries locally when the DLQ send-back fails, then dead-letters', async () => {
    const h = harness({ max: 0, sendBackFails: 1 });
    const seen: number[] = [];
    const service = new OrderlyConsumeService(
      h.host,
      (msgs) => {
        seen.push(msgs[0].reconsumeTimes);
        return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
      },
      1,
    );
    deliver(service, h.task, [0]);
    await h.settle();
    expect(seen).toEqual([0, 1]);
    expect(h.sentBack).toHaveLength(1);
    expect(h.offsets.offsets.get(0)).toBe(1);
  });

  it('in broadcasting mode drops an exhausted message without a broker call', async () => {
    const h = harness({ max: 0, broadcasting: true, locked: false });
    const service = new OrderlyConsumeService(
      h.host,
      () => ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT,
      1,
    );
    deliver(service, h.task, [0]);
    await h.settle();
    expect(h.sentBack).toEqual([]);
    expect(h.relocks).toEqual([]);
    expect(h.offsets.offsets.get(0)).toBe(1);
  });

  it('waits for the queue lock before consuming', async () => {
    const h = harness({ locked: false });
    h.setLockGranted(true);
    const seen: number[] = [];
    const service = new OrderlyConsumeService(
      h.host,
      (msgs) => {
        expect(h.task.pq.locked).toBe(true);
        seen.push(msgs[0].queueOffset);
        return undefined;
      },
      1,
    );
    deliver(service, h.task, [0, 1]);
    await h.settle();
    expect(h.relocks.length).toBe(1);
    expect(seen).toEqual([0, 1]);
  });

  it('stops at once when the queue is dropped and leaves its messages uncommitted', async () => {
    const h = harness();
    const seen: number[] = [];
    const service = new OrderlyConsumeService(
      h.host,
      (msgs) => {
        seen.push(msgs[0].queueOffset);
        h.task.pq.dropped = true;
        return undefined;
      },
      1,
    );
    deliver(service, h.task, [0, 1, 2]);
    await h.settle();
    expect(seen).toEqual([0]);
    expect(h.offsets.offsets.get(0)).toBe(1);
  });
});
