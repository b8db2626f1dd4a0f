// Consumer progress of a broadcasting consumer: every consumer reads every queue, so the offsets
// belong to the client, not the group, and live in a local file (RocketMQ's LocalFileOffsetStore):
// `<dir>/<clientId>/<group>/offsets.json`, in Java's format `{"offsetTable":{{MessageQueue}:offset}}`.
// Writes go to a temp file renamed over the old one; the previous version is kept as `.bak` and
// read when the main file is missing or damaged.

import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeBodyJson, parseBodyJson, parseObjectKey } from '../protocol/index.js';
import { type MessageQueue, messageQueueKey } from './message.js';
import type { OffsetStore } from './offset-store.js';

interface Entry {
  mq: MessageQueue;
  offset: number;
}

/** Java's default `rocketmq.client.localOffsetStoreDir`. */
export function defaultLocalOffsetStoreDir(): string {
  return process.env.ROCKETMQ_CLIENT_LOCAL_OFFSET_STORE_DIR ?? join(homedir(), '.rocketmq_offsets');
}

export function localOffsetFilePath(dir: string, clientId: string, group: string): string {
  return join(dir, clientId, group, 'offsets.json');
}

/** Encodes an offset table the way Java's OffsetSerializeWrapper is written. */
export function encodeOffsetTable(entries: Iterable<Entry>): Buffer {
  const table = new Map<object, number>();
  for (const { mq, offset } of entries) {
    // fastjson writes MessageQueue keys with sorted field names.
    table.set({ brokerName: mq.brokerName, queueId: mq.queueId, topic: mq.topic }, offset);
  }
  return encodeBodyJson({ offsetTable: table });
}

/** Decodes an offset file; throws on anything that is not one. */
export function decodeOffsetTable(text: string): Entry[] {
  const parsed = parseBodyJson(text, { largeIntegers: 'number' });
  const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(parsed)) throw new Error('not a JSON object');
  const table = (parsed as { offsetTable?: unknown }).offsetTable ?? {};
  if (!isObject(table)) throw new Error('offsetTable is not an object');
  const out: Entry[] = [];
  for (const [key, value] of Object.entries(table)) {
    const mq = parseObjectKey(key) as Partial<MessageQueue> | undefined;
    if (
      typeof mq?.topic !== 'string' ||
      typeof mq.brokerName !== 'string' ||
      !Number.isInteger(Number(mq.queueId)) ||
      !Number.isInteger(value)
    ) {
      throw new Error(`bad offset entry ${key}: ${String(value)}`);
    }
    out.push({
      mq: { topic: mq.topic, brokerName: mq.brokerName, queueId: Number(mq.queueId) },
      offset: value as number,
    });
  }
  return out;
}

export interface LocalOffsetStoreLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export class LocalFileOffsetStore implements OffsetStore {
  /** Offsets of the queues being consumed. */
  private readonly table = new Map<string, Entry>();
  /** What the file holds (queues not consumed right now keep their offsets there). */
  private readonly persisted = new Map<string, Entry>();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly filePath: string,
    private readonly logger?: LocalOffsetStoreLogger,
  ) {}

  /** Reads the file (or its backup). A missing file is an empty table; a damaged one is reported and skipped. */
  async load(): Promise<void> {
    for (const path of [this.filePath, `${this.filePath}.bak`]) {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      try {
        for (const entry of decodeOffsetTable(text)) this.persisted.set(messageQueueKey(entry.mq), entry);
        return;
      } catch (err) {
        this.logger?.warn('local offset file is damaged; trying its backup', {
          path,
          error: (err as Error).message,
        });
      }
    }
  }

  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void {
    const key = messageQueueKey(mq);
    const current = this.table.get(key);
    if (current && increaseOnly && offset <= current.offset) return;
    this.table.set(key, { mq, offset });
  }

  readMemory(mq: MessageQueue): number | undefined {
    return this.table.get(messageQueueKey(mq))?.offset;
  }

  async readStore(mq: MessageQueue): Promise<number | undefined> {
    const entry = this.persisted.get(messageQueueKey(mq));
    if (entry === undefined) return undefined;
    this.update(mq, entry.offset, false);
    return entry.offset;
  }

  async persistAll(mqs: readonly MessageQueue[], _oneway: boolean): Promise<Error[]> {
    let changed = false;
    for (const mq of mqs) changed = this.stage(mq) || changed;
    if (!changed) return [];
    try {
      await this.write();
      return [];
    } catch (err) {
      return [err as Error];
    }
  }

  async persist(mq: MessageQueue, _oneway: boolean): Promise<void> {
    if (this.stage(mq)) await this.write();
  }

  remove(mq: MessageQueue): void {
    this.table.delete(messageQueueKey(mq));
  }

  /** Copies a queue's in-memory offset into the file table; true when that changed it. */
  private stage(mq: MessageQueue): boolean {
    const key = messageQueueKey(mq);
    const entry = this.table.get(key);
    if (!entry || entry.offset < 0) return false;
    if (this.persisted.get(key)?.offset === entry.offset) return false;
    this.persisted.set(key, { ...entry });
    return true;
  }

  /** Writes the file table; writes are serialized so an older table never lands last. */
  private write(): Promise<void> {
    const next = this.writing.then(async () => {
      const bytes = encodeOffsetTable(this.persisted.values());
      await mkdir(dirname(this.filePath), { recursive: true });
      const tmp = `${this.filePath}.tmp`;
      await writeFile(tmp, bytes);
      await copyFile(this.filePath, `${this.filePath}.bak`).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await rename(tmp, this.filePath);
    });
    this.writing = next.catch(() => {});
    return next;
  }
}
