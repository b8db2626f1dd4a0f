// All ConsumeQueues of the store, by topic and queue id, plus the manifest that lets a restart
// notice a queue whose files were deleted (it is then rebuilt from the CommitLog).

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../common/index.js';
import { ConsumeQueue } from './consume-queue.js';
import { isNotFound } from './file-io.js';
import { readJsonFile, writeFileAtomic } from './json-file.js';

interface Manifest {
  version: 1;
  queues: Record<string, Record<string, number>>;
}

/** How long dispatched entries may wait in memory before being written to their files. */
const WRITE_DELAY_MS = 10;

export class ConsumeQueueTable {
  private readonly topics = new Map<string, Map<number, ConsumeQueue>>();
  private setChanged = false;
  private readonly dirty = new Set<ConsumeQueue>();
  private writeTimer: NodeJS.Timeout | undefined;
  private readonly requestWrite = (cq: ConsumeQueue): void => {
    this.dirty.add(cq);
    if (!this.writeTimer) {
      this.writeTimer = setTimeout(this.writeDirty, WRITE_DELAY_MS);
      this.writeTimer.unref();
    }
  };
  private readonly writeDirty = (): void => {
    this.writeTimer = undefined;
    const queues = [...this.dirty];
    this.dirty.clear();
    for (const cq of queues) cq.writePending();
  };

  constructor(
    readonly dir: string,
    private readonly manifestPath: string,
    readonly entriesPerFile: number,
    private readonly logger: Logger,
  ) {}

  /** Opens every queue found on disk. */
  async load(): Promise<void> {
    let topics: string[];
    try {
      topics = await readdir(this.dir);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const topic of topics) {
      let ids: string[];
      try {
        ids = await readdir(join(this.dir, topic));
      } catch {
        continue;
      }
      for (const id of ids) {
        if (!/^\d+$/.test(id)) continue;
        const cq = this.create(topic, Number(id));
        await cq.load();
      }
    }
    this.setChanged = false;
  }

  private create(topic: string, queueId: number): ConsumeQueue {
    let byId = this.topics.get(topic);
    if (!byId) {
      byId = new Map();
      this.topics.set(topic, byId);
    }
    const cq = new ConsumeQueue(
      topic,
      queueId,
      join(this.dir, topic, String(queueId)),
      this.entriesPerFile,
      this.logger,
      this.requestWrite,
    );
    byId.set(queueId, cq);
    this.setChanged = true;
    return cq;
  }

  get(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.topics.get(topic)?.get(queueId);
  }

  findOrCreate(topic: string, queueId: number): ConsumeQueue {
    return this.get(topic, queueId) ?? this.create(topic, queueId);
  }

  *all(): IterableIterator<ConsumeQueue> {
    for (const byId of this.topics.values()) yield* byId.values();
  }

  get size(): number {
    let n = 0;
    for (const byId of this.topics.values()) n += byId.size;
    return n;
  }

  /** Topic names that have at least one queue. */
  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  queuesOf(topic: string): ConsumeQueue[] {
    return [...(this.topics.get(topic)?.values() ?? [])];
  }

  async deleteTopic(topic: string): Promise<void> {
    const byId = this.topics.get(topic);
    this.topics.delete(topic);
    this.setChanged = true;
    if (byId) for (const cq of byId.values()) await cq.destroy();
    await rm(join(this.dir, topic), { recursive: true, force: true });
  }

  /**
   * Queues the last manifest lists with more entries than their files now hold (deleted or
   * truncated by hand): their entries must be rebuilt from the log.
   */
  async findDamaged(): Promise<string[]> {
    const manifest = await readJsonFile<Manifest>(this.manifestPath);
    if (!manifest?.queues) return [];
    const damaged: string[] = [];
    for (const [topic, ids] of Object.entries(manifest.queues)) {
      for (const [id, count] of Object.entries(ids)) {
        const cq = this.get(topic, Number(id));
        if (count > 0 && (!cq || cq.maxOffset < count)) damaged.push(`${topic}/${id}`);
      }
    }
    return damaged;
  }

  /** fdatasyncs every queue with unsynced entries (a few at a time). */
  async syncAll(concurrency = 4): Promise<void> {
    const dirty = [...this.all()].filter((cq) => cq.needsSync);
    let next = 0;
    const worker = async () => {
      while (next < dirty.length) await dirty[next++].sync();
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, dirty.length) }, worker));
  }

  /** Writes the manifest (queue → entry count) when queues were added or removed, or when forced. */
  async writeManifest(force = false): Promise<void> {
    if (!force && !this.setChanged) return;
    this.setChanged = false;
    const queues: Manifest['queues'] = {};
    for (const [topic, byId] of this.topics) {
      queues[topic] = {};
      for (const [id, cq] of byId) queues[topic][id] = cq.maxOffset - cq.pendingEntries;
    }
    await writeFileAtomic(this.manifestPath, JSON.stringify({ version: 1, queues } satisfies Manifest));
  }

  /** Closes every queue; with `flush` pending entries are written and synced first. */
  async close(flush = true): Promise<void> {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    this.dirty.clear();
    await Promise.all([...this.all()].map((cq) => cq.close(flush)));
  }
}
