// Committed consumer offsets per (group, topic, queueId) — the next offset to consume
// (protocol.md §3.4). Persisted as Java's consumerOffset.json, bare integer keys included.

import { parseBodyJson, writeBodyJson } from '../protocol/index.js';
import type { ConfigFiles } from './config-files.js';

export const CONSUMER_OFFSET_FILE = 'consumerOffset.json';
const SEP = '@';

function keyOf(topic: string, group: string): string {
  return topic + SEP + group;
}

function splitKey(key: string): [topic: string, group: string] {
  const at = key.indexOf(SEP);
  return [key.slice(0, at), key.slice(at + 1)];
}

export class ConsumerOffsetManager {
  private readonly table = new Map<string, Map<number, bigint>>();
  /** Commits so far, and per queue the number of its latest commit: orders commits by arrival. */
  private commitCount = 0;
  private readonly lastCommit = new Map<string, Map<number, number>>();
  private readonly files: ConfigFiles;
  private dirty = false;

  constructor(files: ConfigFiles) {
    this.files = files;
  }

  async load(): Promise<void> {
    const text = await this.files.read(CONSUMER_OFFSET_FILE);
    if (text === null || text.trim() === '') return;
    const parsed = parseBodyJson(text) as { offsetTable?: Record<string, Record<string, number | bigint>> };
    for (const [key, queues] of Object.entries(parsed.offsetTable ?? {})) {
      if (!key.includes(SEP)) continue;
      const map = new Map<number, bigint>();
      for (const [queueId, offset] of Object.entries(queues ?? {})) map.set(Number(queueId), BigInt(offset));
      this.table.set(key, map);
    }
  }

  /** A mark to pass to a later `commit`, taken when the request carrying that commit arrived. */
  mark(): number {
    return this.commitCount;
  }

  /**
   * Stores a committed offset. With `arrivedAt` (a `mark()`), the commit is dropped when another one
   * for the same queue landed since: a pull's piggy-backed offset is applied after the pull's store
   * read, and must not undo an UPDATE_CONSUMER_OFFSET that arrived behind it (a consumer's final
   * commit at shutdown). Returns whether it was stored.
   */
  commit(group: string, topic: string, queueId: number, offset: bigint, arrivedAt?: number): boolean {
    const key = keyOf(topic, group);
    let seqs = this.lastCommit.get(key);
    if (arrivedAt !== undefined && (seqs?.get(queueId) ?? -1) > arrivedAt) return false;
    let queues = this.table.get(key);
    if (!queues) {
      queues = new Map();
      this.table.set(key, queues);
    }
    if (!seqs) {
      seqs = new Map();
      this.lastCommit.set(key, seqs);
    }
    seqs.set(queueId, ++this.commitCount);
    if (queues.get(queueId) !== offset) {
      queues.set(queueId, offset);
      this.dirty = true;
    }
    return true;
  }

  /** The stored offset, or undefined when the group never committed for this queue. */
  query(group: string, topic: string, queueId: number): bigint | undefined {
    return this.table.get(keyOf(topic, group))?.get(queueId);
  }

  /** Queue id → offset for one group and topic. */
  queueOffsets(group: string, topic: string): ReadonlyMap<number, bigint> | undefined {
    return this.table.get(keyOf(topic, group));
  }

  topicsOfGroup(group: string): string[] {
    const out: string[] = [];
    for (const key of this.table.keys()) {
      const [topic, g] = splitKey(key);
      if (g === group) out.push(topic);
    }
    return out;
  }

  groupsOfTopic(topic: string): string[] {
    const out: string[] = [];
    for (const key of this.table.keys()) {
      const [t, group] = splitKey(key);
      if (t === topic) out.push(group);
    }
    return out;
  }

  /** Every (topic, group) pair with stored offsets. */
  entries(): [topic: string, group: string][] {
    return [...this.table.keys()].map(splitKey);
  }

  removeGroup(group: string): void {
    for (const key of [...this.table.keys()]) {
      if (splitKey(key)[1] === group) {
        this.table.delete(key);
        this.lastCommit.delete(key);
        this.dirty = true;
      }
    }
  }

  removeTopic(topic: string): void {
    for (const key of [...this.table.keys()]) {
      if (splitKey(key)[0] === topic) {
        this.table.delete(key);
        this.lastCommit.delete(key);
        this.dirty = true;
      }
    }
  }

  /** CLONE_GROUP_OFFSET: copies one group's offsets (optionally only one topic) to another. */
  clone(srcGroup: string, destGroup: string, topic?: string): void {
    for (const [t, g] of this.entries()) {
      if (g !== srcGroup || (topic !== undefined && t !== topic)) continue;
      const source = this.table.get(keyOf(t, g))!;
      this.table.set(keyOf(t, destGroup), new Map(source));
      this.lastCommit.set(
        keyOf(t, destGroup),
        new Map([...source.keys()].map((q) => [q, ++this.commitCount])),
      );
      this.dirty = true;
    }
  }

  /** consumerOffset.json text, in Java's shape (`{0:12}` keys). */
  encode(): string {
    const offsetTable = new Map<string, Map<number, bigint>>();
    for (const [key, queues] of this.table) offsetTable.set(key, new Map(queues));
    return writeBodyJson({ offsetTable });
  }

  /** Writes the file when something changed since the last write. */
  async persist(force = false): Promise<void> {
    if (!this.dirty && !force) return;
    this.dirty = false;
    try {
      await this.files.write(CONSUMER_OFFSET_FILE, this.encode());
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}
