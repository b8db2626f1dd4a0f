// Delivers delayed messages (protocol.md §6): one pump per delay level reads its queue of
// SCHEDULE_TOPIC_XXXX in order and re-puts each record to its real topic once due. Progress per
// level is kept in delayOffset.json (Java's file and shape), written soon after each advance and
// on stop, so a clean restart delivers each message once and a crash at worst repeats the few
// delivered since the last write (at-least-once).

import type { Logger } from '../common/index.js';
import { parseBodyJson, writeBodyJson } from '../protocol/index.js';
import { decodeRecord, type MessageStore, type StoredRecord } from '../store/index.js';
import type { ConfigFiles } from './config-files.js';
import { SCHEDULE_TOPIC, TRANS_HALF_TOPIC } from './constants.js';
import { type DelayLevelTable, fromScheduled, scheduledTarget } from './delay-levels.js';

export const DELAY_OFFSET_FILE = 'delayOffset.json';

/** Records read per step; a level's queue is strictly time-ordered, so small batches suffice. */
const BATCH = 32;
/** Wait before retrying a re-put the store refused for a passing reason (full disk, busy). */
const RETRY_AFTER_MS = 1000;
/** Safety net next to arrival notifications: idle levels are looked at this often. */
const IDLE_POLL_MS = 5000;
/** Longest single timer (Node timers overflow past 2^31 ms; long levels just wake up once more). */
const MAX_SLEEP_MS = 3_600_000;

export interface ScheduleDeps {
  store: MessageStore;
  files: ConfigFiles;
  logger: Logger;
  now(): number;
  /** Called for each message re-put to its real topic (metrics). */
  onDelivered?(topic: string, level: number): void;
}

export class ScheduleMessageService {
  private readonly deps: ScheduleDeps;
  private readonly table: DelayLevelTable;
  /** Level → next offset to look at in queue level−1. */
  private readonly offsets = new Map<number, bigint>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly running = new Map<number, Promise<void>>();
  private readonly again = new Set<number>();
  private pollTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = true;
  private dirty = false;
  private writing: Promise<void> | null = null;
  /** Messages re-put to their real topics since start. */
  delivered = 0;

  constructor(deps: ScheduleDeps, table: DelayLevelTable) {
    this.deps = deps;
    this.table = table;
  }

  async load(): Promise<void> {
    const text = await this.deps.files.read(DELAY_OFFSET_FILE);
    if (text === null || text.trim() === '') return;
    const parsed = parseBodyJson(text) as { offsetTable?: Record<string, number | bigint> } | null;
    for (const [key, value] of Object.entries(parsed?.offsetTable ?? {})) {
      const level = Number(key);
      if (!Number.isInteger(level) || level < 1) continue;
      const offset = BigInt(value);
      if (offset >= 0n) this.offsets.set(level, offset);
    }
  }

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.deps.store.onArrival((topic, queueId) => {
      if (topic === SCHEDULE_TOPIC) this.kick(queueId + 1);
    });
    this.pollTimer = setInterval(() => {
      for (let level = 1; level <= this.table.maxLevel; level++) {
        if (!this.timers.has(level)) this.kick(level);
      }
    }, IDLE_POLL_MS);
    this.pollTimer.unref();
    for (let level = 1; level <= this.table.maxLevel; level++) this.kick(level);
  }

  /** Stops the pumps (waiting for a re-put in flight) and writes the progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.running.values());
    await this.writing;
    await this.persist(true);
  }

  /** delayOffset.json content: `{"offsetTable":{1:5,3:17}}`. */
  encode(): string {
    const offsetTable = new Map<number, bigint>([...this.offsets].sort((a, b) => a[0] - b[0]));
    return writeBodyJson({ offsetTable });
  }

  /** Per level: next offset to deliver and the queue's max offset (runtime info `scheduleMessageOffset_<level>`). */
  progress(): { level: number; delivered: bigint; max: bigint }[] {
    const out = [];
    for (let level = 1; level <= this.table.maxLevel; level++) {
      const max = this.deps.store.getMaxOffsetInQueue(SCHEDULE_TOPIC, level - 1);
      out.push({ level, delivered: this.offsets.get(level) ?? 0n, max });
    }
    return out;
  }

  /** Writes delayOffset.json if something was delivered since the last write. */
  async persist(force = false): Promise<void> {
    if (!this.dirty && !force) return;
    this.dirty = false;
    try {
      await this.deps.files.write(DELAY_OFFSET_FILE, this.encode());
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  // One write at a time; advances during a write are picked up by the next one.
  private requestPersist(): void {
    if (this.writing || !this.dirty) return;
    this.writing = this.persist()
      .catch((err) => this.deps.logger.error('writing delayOffset.json failed', { error: err }))
      .finally(() => {
        this.writing = null;
        if (this.dirty && !this.stopped) this.requestPersist();
      });
  }

  private kick(level: number): void {
    if (this.stopped || level < 1 || level > this.table.maxLevel) return;
    if (this.running.has(level)) {
      this.again.add(level);
      return;
    }
    const timer = this.timers.get(level);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(level);
    }
    const run = this.pump(level).finally(() => this.running.delete(level));
    this.running.set(level, run);
  }

  private async pump(level: number): Promise<void> {
    let wakeAt: number | undefined;
    do {
      this.again.delete(level);
      try {
        wakeAt = await this.deliverDue(level);
      } catch (err) {
        this.deps.logger.error('delivering scheduled messages failed; retrying', { level, error: err });
        wakeAt = this.deps.now() + RETRY_AFTER_MS;
      }
    } while (this.again.has(level) && !this.stopped);
    if (this.dirty) this.requestPersist();
    if (wakeAt !== undefined && !this.stopped) {
      const timer = setTimeout(
        () => {
          this.timers.delete(level);
          this.kick(level);
        },
        Math.min(MAX_SLEEP_MS, Math.max(0, wakeAt - this.deps.now())),
      );
      timer.unref();
      this.timers.set(level, timer);
    }
  }

  /** Re-puts every due record of one level; returns when to look again (undefined: on arrival). */
  private async deliverDue(level: number): Promise<number | undefined> {
    const { store, logger } = this.deps;
    const delay = this.table.delayOf(level);
    for (;;) {
      if (this.stopped) return undefined;
      const offset = this.offsets.get(level) ?? 0n;
      const got = await store.getMessage(SCHEDULE_TOPIC, level - 1, offset, BATCH);
      if (got.records.length === 0) {
        if (got.nextBeginOffset === offset) return undefined;
        // Retention removed entries, or the file is ahead of a store that lost its tail.
        if (got.status !== 'NO_MATCHED_MESSAGE' && got.status !== 'OFFSET_FOUND_NULL') {
          logger.warn('schedule queue progress corrected', {
            level,
            from: offset.toString(),
            to: got.nextBeginOffset.toString(),
            status: got.status,
          });
        }
        this.advance(level, got.nextBeginOffset);
        continue;
      }
      for (const raw of got.records) {
        let record: StoredRecord;
        try {
          record = decodeRecord(raw);
        } catch (err) {
          logger.error('unreadable scheduled record skipped', { level, error: err });
          continue;
        }
        const dueAt = record.storeTimestamp + delay;
        const now = this.deps.now();
        if (dueAt > now) {
          this.advance(level, record.queueOffset);
          return dueAt;
        }
        if (this.stopped) {
          this.advance(level, record.queueOffset);
          return undefined;
        }
        const outcome = await this.deliver(record, level);
        if (outcome === 'retry') {
          this.advance(level, record.queueOffset);
          return this.deps.now() + RETRY_AFTER_MS;
        }
        this.advance(level, record.queueOffset + 1n);
      }
      // Records the store left out (failed verification) are behind us too.
      this.advance(level, got.nextBeginOffset);
    }
  }

  private advance(level: number, offset: bigint): void {
    if (this.offsets.get(level) === offset) return;
    this.offsets.set(level, offset);
    this.dirty = true;
  }

  private async deliver(record: StoredRecord, level: number): Promise<'done' | 'retry'> {
    const { logger } = this.deps;
    const target = scheduledTarget(record);
    if (!target) {
      logger.error('scheduled record without a usable REAL_TOPIC/REAL_QID dropped', {
        level,
        physicalOffset: record.physicalOffset.toString(),
      });
      return 'done';
    }
    if (target.topic === TRANS_HALF_TOPIC) return 'done';
    const result = await this.deps.store.putMessage(fromScheduled(record, target));
    switch (result.status) {
      case 'PUT_OK':
      case 'FLUSH_DISK_TIMEOUT':
        this.delivered++;
        this.deps.onDelivered?.(target.topic, level);
        return 'done';
      case 'MESSAGE_ILLEGAL':
      case 'PROPERTIES_SIZE_EXCEEDED':
        logger.error('scheduled message cannot be stored in its real topic; dropped', {
          level,
          topic: target.topic,
          status: result.status,
          remark: result.remark,
        });
        return 'done';
      default:
        logger.warn('re-putting a scheduled message failed; will retry', {
          level,
          status: result.status,
          remark: result.remark,
        });
        return 'retry';
    }
  }
}
