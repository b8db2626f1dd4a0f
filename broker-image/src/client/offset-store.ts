// Consumer progress kept in memory and written to the broker (clustering mode: the broker owns the
// offsets, protocol.md §3.4, §8.1). The backend is the broker API; tests plug in a fake.

import { type MessageQueue, messageQueueKey } from './message.js';

export interface OffsetBackend {
  /** The stored offset, `undefined` when the broker has none (any broker error code). Throws on transport errors. */
  query(mq: MessageQueue): Promise<number | undefined>;
  /** Writes the offset; `oneway` sends without waiting for an answer. */
  update(mq: MessageQueue, offset: number, oneway: boolean): Promise<void>;
}

/** Where a consumer keeps its progress: the broker (clustering) or a local file (broadcasting). */
export interface OffsetStore {
  /** Updates the in-memory offset; with `increaseOnly` a smaller value is ignored. */
  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void;
  /** In-memory offset, or undefined. */
  readMemory(mq: MessageQueue): number | undefined;
  /** Reads the persisted offset and caches it. `undefined` when there is none. */
  readStore(mq: MessageQueue): Promise<number | undefined>;
  /** Persists the in-memory offsets of the given queues; errors are collected, not thrown. */
  persistAll(mqs: readonly MessageQueue[], oneway: boolean): Promise<Error[]>;
  persist(mq: MessageQueue, oneway: boolean): Promise<void>;
  /** Forgets the in-memory offset (the queue was given away). */
  remove(mq: MessageQueue): void;
}

export class RemoteOffsetStore implements OffsetStore {
  private readonly table = new Map<string, { mq: MessageQueue; offset: number }>();

  constructor(private readonly backend: OffsetBackend) {}

  /** Updates the in-memory offset; with `increaseOnly` a smaller value is ignored. */
  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void {
    const key = messageQueueKey(mq);
    const current = this.table.get(key);
    if (current && increaseOnly && offset <= current.offset) return;
    this.table.set(key, { mq, offset });
  }

  /** In-memory offset, or undefined. */
  readMemory(mq: MessageQueue): number | undefined {
    return this.table.get(messageQueueKey(mq))?.offset;
  }

  /** Reads the broker's offset and caches it. `undefined` when the broker has none. */
  async readStore(mq: MessageQueue): Promise<number | undefined> {
    const offset = await this.backend.query(mq);
    if (offset !== undefined) this.update(mq, offset, false);
    return offset;
  }

  /** Writes the in-memory offsets of the given queues to the broker; errors are collected, not thrown. */
  async persistAll(mqs: readonly MessageQueue[], oneway: boolean): Promise<Error[]> {
    const errors: Error[] = [];
    await Promise.all(
      mqs.map(async (mq) => {
        try {
          await this.persist(mq, oneway);
        } catch (err) {
          errors.push(err as Error);
        }
      }),
    );
    return errors;
  }

  async persist(mq: MessageQueue, oneway: boolean): Promise<void> {
    const entry = this.table.get(messageQueueKey(mq));
    if (entry && entry.offset >= 0) await this.backend.update(mq, entry.offset, oneway);
  }

  remove(mq: MessageQueue): void {
    this.table.delete(messageQueueKey(mq));
  }
}
