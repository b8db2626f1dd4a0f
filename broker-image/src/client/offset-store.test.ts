import { describe, expect, it } from 'vitest';
import { type MessageQueue, messageQueueKey } from './message.js';
import { type OffsetBackend, RemoteOffsetStore } from './offset-store.js';

class MemoryBackend implements OffsetBackend {
  stored = new Map<string, number>();
  writes: { key: string; offset: number; oneway: boolean }[] = [];
  failOn?: string;
  async query(mq: MessageQueue) {
    return this.stored.get(messageQueueKey(mq));
  }
  async update(mq: MessageQueue, offset: number, oneway: boolean) {
    if (this.failOn === messageQueueKey(mq)) throw new Error('broker down');
    this.writes.push({ key: messageQueueKey(mq), offset, oneway });
    this.stored.set(messageQueueKey(mq), offset);
  }
}

const q0: MessageQueue = { topic: 'T', brokerName: 'b', queueId: 0 };
const q1: MessageQueue = { topic: 'T', brokerName: 'b', queueId: 1 };

describe('RemoteOffsetStore', () => {
  it('only moves forward with increaseOnly, and persists what it holds', async () => {
    const backend = new MemoryBackend();
    const store = new RemoteOffsetStore(backend);
    store.update(q0, 10, true);
    store.update(q0, 5, true);
    expect(store.readMemory(q0)).toBe(10);
    store.update(q0, 5, false);
    expect(store.readMemory(q0)).toBe(5);
    await store.persistAll([q0, q1], true);
    expect(backend.writes).toEqual([{ key: messageQueueKey(q0), offset: 5, oneway: true }]);
  });

  it('reads the broker offset into memory and reports failures per queue', async () => {
    const backend = new MemoryBackend();
    backend.stored.set(messageQueueKey(q1), 42);
    const store = new RemoteOffsetStore(backend);
    expect(await store.readStore(q0)).toBeUndefined();
    expect(await store.readStore(q1)).toBe(42);
    expect(store.readMemory(q1)).toBe(42);
    store.update(q0, 1, false);
    backend.failOn = messageQueueKey(q0);
    const errors = await store.persistAll([q0, q1], false);
    expect(errors.map((e) => e.message)).toEqual(['broker down']);
    store.remove(q1);
    expect(store.readMemory(q1)).toBeUndefined();
  });
});
