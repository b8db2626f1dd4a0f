// The file-backed MessageStore: wires CommitLog, writer, dispatcher, consume queues, index,
// checkpoint, recovery and retention, and runs their periodic services.

import { constants as fsc } from 'node:fs';
import { access, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, type Logger } from '../common/index.js';
import { MessageProperty, splitKeys } from '../message/properties.js';
import { CheckpointFile } from './checkpoint.js';
import { CommitLog } from './commit-log.js';
import { CQ_ENTRY_SIZE, type CqEntry, entryAt } from './consume-queue.js';
import { ConsumeQueueTable } from './consume-queue-table.js';
import { Dispatcher } from './dispatcher.js';
import { closeFile, fsyncDir, openFile } from './file-io.js';
import { KeyIndex } from './key-index.js';
import type {
  ArrivalListener,
  GetResult,
  GetStatus,
  MessageStore,
  MessageToStore,
  PutResult,
  PutStatus,
  TagFilter,
} from './message-store.js';
import { MessageWriter, QueueOffsetTable } from './message-writer.js';
import { checkRecordAt, decodeRecord, readStoreTimestamp } from './record-codec.js';
import { type RecoveryReport, recover } from './recovery.js';
import { fileSystemUsage, type RetentionReport, RetentionService } from './retention.js';
import {
  parseDelayLevels,
  resolveStoreConfig,
  type StoreConfig,
  type StoreConfigInput,
} from './store-config.js';
import { StoreClosedError, StoreStateError } from './store-errors.js';
import { acquireStoreLock, releaseStoreLock } from './store-lock.js';

export interface FileMessageStoreOptions {
  logger?: Logger;
  /** Wall clock for store timestamps and retention (ms). */
  clock?: () => number;
  /** Fraction of the disk in use; defaults to statfs of storePathRootDir. */
  diskUsage?: () => Promise<number>;
  /** Entries per index run (default 262 144). */
  indexRunEntries?: number;
  /** Recovery scans of at least this many bytes check CRCs on a worker thread (default 64 MiB). */
  parallelScanBytes?: number;
  /** fdatasync of CommitLog segments; replaceable to inject a slow or failing disk in tests. */
  syncCommitLogFile?: (fd: number) => Promise<void>;
  /** Positional writes to CommitLog segments; replaceable to inject a full disk in tests. */
  writeCommitLogFile?: (fd: number, bufs: Buffer[], pos: number) => Promise<void>;
}

/** Counters and positions for metrics and admin commands. */
export interface StoreStats {
  putMessages: number;
  putBytes: number;
  putFailures: Partial<Record<PutStatus, number>>;
  pendingAppendBytes: number;
  getMessages: number;
  /** Records that failed their CRC/magic check on read and were skipped. */
  corruptRecordsSkipped: number;
  commitLogMinOffset: number;
  commitLogMaxOffset: number;
  commitLogFlushedOffset: number;
  dispatchedOffset: number;
  dispatchBehindBytes: number;
  commitLogSegments: number;
  flushes: number;
  flushMillisAverage: number;
  flushMillisLast: number;
  syncFlushTimeouts: number;
  consumeQueues: number;
  indexRuns: number;
  diskUsageRatio: number;
  diskFull: boolean;
  segmentsDeletedByRetention: number;
  recovery: RecoveryReport | undefined;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

const MAX_SCAN_ENTRIES = 800;
const READ_GROUP_GAP = 16 * 1024;
const READ_GROUP_SPAN = 1024 * 1024;

export class FileMessageStore implements MessageStore {
  readonly config: StoreConfig;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly delayLevels: number[];
  private readonly commitLog: CommitLog;
  private readonly queues: ConsumeQueueTable;
  private readonly index: KeyIndex;
  private readonly dispatcher: Dispatcher;
  private readonly offsets = new QueueOffsetTable();
  private readonly writer: MessageWriter;
  private readonly checkpoint: CheckpointFile;
  private readonly retention: RetentionService;
  private state: State = 'new';
  /** The pending timer of each periodic service, by name. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private checkpointRunning: Promise<void> | undefined;
  private retentionRunning: Promise<RetentionReport> | undefined;
  private recoveryReport: RecoveryReport | undefined;
  private getMessages = 0;
  private corruptSkipped = 0;
  private readonly paths: { root: string; abort: string; lock: string };
  private readonly parallelScanBytes: number | undefined;

  constructor(config: StoreConfig, options: FileMessageStoreOptions = {}) {
    this.config = config;
    this.logger = options.logger ?? createLogger('store');
    this.clock = options.clock ?? Date.now;
    this.parallelScanBytes = options.parallelScanBytes;
    this.delayLevels = parseDelayLevels(config.messageDelayLevel) ?? [];
    const root = config.storePathRootDir;
    this.paths = { root, abort: join(root, 'abort'), lock: join(root, 'lock') };
    this.commitLog = new CommitLog(
      config.storePathCommitLog,
      config.mappedFileSizeCommitLog,
      this.logger,
      options.syncCommitLogFile,
      options.writeCommitLogFile,
    );
    this.queues = new ConsumeQueueTable(
      join(root, 'consumequeue'),
      join(root, 'consumequeue.json'),
      config.mappedFileSizeConsumeQueue / CQ_ENTRY_SIZE,
      this.logger,
    );
    this.index = new KeyIndex({
      dir: join(root, 'index'),
      capacity: options.indexRunEntries ?? 262_144,
      flushIntervalMs: config.indexFlushInterval,
      clock: this.clock,
      logger: this.logger,
      beforeSeal: (offset) =>
        this.commitLog.flushedOffset >= offset ? Promise.resolve() : this.commitLog.flush(),
    });
    this.dispatcher = new Dispatcher(this.queues, this.index, this.logger);
    this.checkpoint = new CheckpointFile(join(root, 'checkpoint'));
    const diskUsage = options.diskUsage ?? (() => fileSystemUsage(root));
    this.retention = new RetentionService(
      config,
      this.commitLog,
      this.queues,
      this.index,
      diskUsage,
      this.clock,
      this.logger,
    );
    this.writer = new MessageWriter({
      config,
      commitLog: this.commitLog,
      dispatcher: this.dispatcher,
      offsets: this.offsets,
      delayLevels: this.delayLevels,
      clock: this.clock,
      logger: this.logger,
      refusal: () => this.refusal(),
      onDiskFull: () => {
        this.retention.diskFull = true;
      },
    });
  }

  private refusal(): { status: PutStatus; remark: string } | undefined {
    if (this.state !== 'running') {
      return {
        status: 'SERVICE_NOT_AVAILABLE',
        remark: `message store is ${this.state === 'new' ? 'not started' : this.state}`,
      };
    }
    if (this.retention.diskFull) {
      return {
        status: 'SERVICE_NOT_AVAILABLE',
        remark: `disk full: ${(this.retention.lastUsage * 100).toFixed(1)}% used (limit ${
          this.config.diskSpaceWarningLevelRatio * 100
        }%)`,
      };
    }
    if (this.commitLog.isFailed) {
      return {
        status: 'SERVICE_NOT_AVAILABLE',
        remark: `commit log failed: ${this.commitLog.failureReason}`,
      };
    }
    return undefined;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new StoreStateError(`start() called on a store that is ${this.state}`);
    this.state = 'starting';
    const { root, abort, lock } = this.paths;
    await mkdir(root, { recursive: true });
    await acquireStoreLock(lock);
    try {
      const cp = await this.checkpoint.read();
      if (cp && cp.segmentSize !== this.config.mappedFileSizeCommitLog) {
        throw new StoreStateError(
          `mappedFileSizeCommitLog is ${this.config.mappedFileSizeCommitLog} but the store was written with ` +
            `${cp.segmentSize}; set it back to ${cp.segmentSize}`,
        );
      }
      const abortMarker = await access(abort).then(
        () => true,
        () => false,
      );
      await this.commitLog.open();
      await this.queues.load();
      await this.index.load(this.commitLog.minOffset);
      this.recoveryReport = await recover({
        commitLog: this.commitLog,
        queues: this.queues,
        index: this.index,
        dispatcher: this.dispatcher,
        checkpoint: cp,
        abortMarker,
        delayLevels: this.delayLevels,
        logger: this.logger,
        parallelScanBytes: this.parallelScanBytes,
      });
      for (const cq of this.queues.all()) this.offsets.set(cq.topic, cq.queueId, cq.maxOffset);
      await this.queues.syncAll();
      await this.queues.writeManifest(true);
      await this.writeCheckpoint(false);
      const fd = await openFile(abort, fsc.O_WRONLY | fsc.O_CREAT);
      await closeFile(fd);
      await fsyncDir(root);
      await this.retention.checkDisk();
    } catch (err) {
      this.state = 'stopped';
      await this.closeFiles();
      await releaseStoreLock(lock);
      throw err;
    }
    this.state = 'running';
    this.startServices();
  }

  private startServices(): void {
    const every = (name: string, ms: number, task: () => Promise<unknown>) => {
      const schedule = () => {
        const t = setTimeout(tick, ms);
        t.unref();
        this.timers.set(name, t);
      };
      const tick = () => {
        if (this.state !== 'running') return;
        task()
          .catch((err) => this.logger.error(`store ${name} failed`, { err }))
          .finally(() => {
            if (this.state === 'running') schedule();
          });
      };
      schedule();
    };
    if (this.config.flushDiskType === 'ASYNC_FLUSH') {
      every('flush', this.config.flushIntervalCommitLog, () => this.commitLog.flush());
    }
    every('checkpoint', this.config.flushIntervalConsumeQueue, () => this.runCheckpoint());
    every('retention', this.config.cleanResourceInterval, () => this.runRetention());
  }

  // Never claims consume-queue entries durable past what the CommitLog has flushed: recovery
  // rebuilds from the checkpoint, so the log must hold every record it skips.
  private async writeCheckpoint(clean: boolean, cqDurable = this.dispatcher.dispatchedOffset): Promise<void> {
    await this.checkpoint.write({
      segmentSize: this.config.mappedFileSizeCommitLog,
      logEnd: this.commitLog.writtenOffset,
      logFlushed: this.commitLog.flushedOffset,
      cqDurable: Math.min(cqDurable, this.commitLog.flushedOffset),
      clean,
      writtenAt: this.clock(),
    });
  }

  /** Makes consume queues durable and records how far (runs every flushIntervalConsumeQueue ms). */
  runCheckpoint(): Promise<void> {
    if (!this.checkpointRunning) {
      this.checkpointRunning = (async () => {
        const dispatched = this.dispatcher.dispatchedOffset;
        await this.queues.syncAll();
        await this.index.flush(false);
        await this.commitLog.flush();
        await this.writeCheckpoint(false, dispatched);
        await this.queues.writeManifest();
      })().finally(() => {
        this.checkpointRunning = undefined;
      });
    }
    return this.checkpointRunning;
  }

  /** One retention pass now (`manual` deletes expired segments whatever the hour). */
  runRetention(manual = false): Promise<RetentionReport> {
    if (!this.retentionRunning) {
      this.retentionRunning = this.retention.run(manual).finally(() => {
        this.retentionRunning = undefined;
      });
    }
    return this.retentionRunning;
  }

  /** Flushes the CommitLog now (ASYNC_FLUSH callers that need durability at a point). */
  flush(): Promise<void> {
    return this.commitLog.flush();
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'running') {
      if (this.state === 'new') this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.writer.drain();
    await this.checkpointRunning?.catch(() => undefined);
    await this.retentionRunning?.catch(() => undefined);
    let clean = true;
    try {
      await this.commitLog.flush();
      await this.queues.syncAll();
      await this.index.close();
      await this.queues.writeManifest(true);
    } catch (err) {
      clean = false;
      this.logger.error('store shutdown could not flush everything; next start recovers', { err });
    }
    if (clean && this.dispatcher.dispatchedOffset === this.commitLog.writtenOffset) {
      await this.writeCheckpoint(true);
      await unlink(this.paths.abort).catch(() => undefined);
      await fsyncDir(this.paths.root);
    }
    await this.closeFiles();
    await releaseStoreLock(this.paths.lock);
    this.state = 'stopped';
  }

  /**
   * Stops at once without flushing or marking the shutdown clean: the next start recovers as after
   * a crash. For fatal errors (and crash tests); pending appends are answered SERVICE_NOT_AVAILABLE
   * if not yet written.
   */
  async halt(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.writer.drain();
    await this.checkpointRunning?.catch(() => undefined);
    await this.retentionRunning?.catch(() => undefined);
    await this.closeFiles(false);
    await releaseStoreLock(this.paths.lock);
    this.state = 'stopped';
  }

  private async closeFiles(flushQueues = true): Promise<void> {
    await this.queues.close(flushQueues).catch(() => undefined);
    await this.commitLog.close().catch(() => undefined);
    await this.checkpoint.close().catch(() => undefined);
  }

  putMessage(msg: MessageToStore): Promise<PutResult> {
    return this.writer.put([msg]);
  }

  putMessages(msgs: MessageToStore[]): Promise<PutResult> {
    return this.writer.put(msgs);
  }

  private ensureReadable(): void {
    if (this.state !== 'running' && this.state !== 'stopping') {
      throw new StoreClosedError(`message store is ${this.state}`);
    }
  }

  async getMessage(
    topic: string,
    queueId: number,
    offset: bigint,
    maxMsgNums: number,
    filter?: TagFilter,
  ): Promise<GetResult> {
    this.ensureReadable();
    const cq = this.queues.get(topic, queueId);
    const result = (status: GetStatus, next: number, records: Buffer[] = []): GetResult => ({
      status,
      records,
      nextBeginOffset: BigInt(next),
      minOffset: BigInt(cq?.minOffset ?? 0),
      maxOffset: BigInt(cq?.maxOffset ?? 0),
    });
    if (!cq || cq.maxOffset === 0) return result('NO_MESSAGE_IN_QUEUE', 0);
    const min = cq.minOffset;
    const max = cq.maxOffset;
    if (offset < BigInt(min)) return result('OFFSET_TOO_SMALL', min);
    if (offset === BigInt(max)) return result('OFFSET_OVERFLOW_ONE', max);
    if (offset > BigInt(max)) return result('OFFSET_OVERFLOW_BADLY', max);
    const from = Number(offset);
    const entries = await cq.readEntries(from, MAX_SCAN_ENTRIES);
    if (!entries) {
      const next = (Math.floor(from / cq.entriesPerFile) + 1) * cq.entriesPerFile;
      return result('OFFSET_FOUND_NULL', Math.min(next, max));
    }
    const count = entries.length / CQ_ENTRY_SIZE;
    const limitCount = Math.min(Math.max(1, maxMsgNums), this.config.maxTransferCountOnMessageInMemory);
    const limitBytes = this.config.maxTransferBytesOnMessageInMemory;
    const minPhy = this.commitLog.minOffset;
    const selected: CqEntry[] = [];
    let bytes = 0;
    let removed = false;
    let i = 0;
    for (; i < count; i++) {
      const e = entryAt(entries, i);
      if (selected.length > 0 && (selected.length >= limitCount || bytes + e.size > limitBytes)) break;
      if (e.size <= 0) continue;
      if (filter && !filter(BigInt(e.tagsCode))) continue;
      if (e.physicalOffset < minPhy) {
        removed = true;
        continue;
      }
      selected.push(e);
      bytes += e.size;
    }
    const next = from + i;
    const records = await this.readRecords(selected);
    this.getMessages += records.length;
    if (records.length > 0) return result('FOUND', next, records);
    return result(removed && selected.length === 0 ? 'MESSAGE_WAS_REMOVING' : 'NO_MATCHED_MESSAGE', next);
  }

  // Reads the records of consume-queue entries and drops any record that fails verification.
  private async readRecords(entries: CqEntry[]): Promise<Buffer[]> {
    if (entries.length > 0 && this.commitLog.isHot(entries[0].physicalOffset)) {
      return this.readHotRecords(entries);
    }
    return this.readColdRecords(entries);
  }

  // Recent records are read one by one, in place, back to back into one buffer: exactly the
  // bytes a pull returns, in one allocation (the records of a queue are interleaved with other
  // queues', so reading their whole span would copy, and allocate, many times more).
  private readHotRecords(entries: CqEntry[]): Buffer[] {
    let total = 0;
    for (const e of entries) total += e.size;
    const body = Buffer.allocUnsafe(total);
    const out: Buffer[] = [];
    let at = 0;
    for (const e of entries) {
      if (!this.commitLog.readHotInto(e.physicalOffset, e.size, body, at)) continue;
      const check = checkRecordAt(body, at, at + e.size, e.physicalOffset);
      if (check.kind === 'message' && check.size === e.size) {
        out.push(body.subarray(at, at + e.size));
        at += e.size;
      } else {
        this.reportCorrupt(e.physicalOffset, check.kind === 'invalid' ? check.reason : 'size mismatch');
      }
    }
    return out;
  }

  // Older records may need the disk: neighbours are merged into one asynchronous read.
  private async readColdRecords(entries: CqEntry[]): Promise<Buffer[]> {
    const out: Buffer[] = [];
    const segmentSize = this.config.mappedFileSizeCommitLog;
    let g = 0;
    while (g < entries.length) {
      const start = entries[g].physicalOffset;
      const segment = Math.floor(start / segmentSize);
      let end = start + entries[g].size;
      let h = g + 1;
      while (
        h < entries.length &&
        Math.floor(entries[h].physicalOffset / segmentSize) === segment &&
        entries[h].physicalOffset >= end &&
        entries[h].physicalOffset - end <= READ_GROUP_GAP &&
        entries[h].physicalOffset + entries[h].size - start <= READ_GROUP_SPAN
      ) {
        end = entries[h].physicalOffset + entries[h].size;
        h++;
      }
      const buf = await this.commitLog.read(start, end - start);
      if (buf) {
        for (let k = g; k < h; k++) {
          const e = entries[k];
          const local = e.physicalOffset - start;
          const check = checkRecordAt(buf, local, local + e.size, e.physicalOffset);
          if (check.kind === 'message' && check.size === e.size)
            out.push(buf.subarray(local, local + e.size));
          else
            this.reportCorrupt(e.physicalOffset, check.kind === 'invalid' ? check.reason : 'size mismatch');
        }
      }
      g = h;
    }
    return out;
  }

  private reportCorrupt(physicalOffset: number, reason: string): void {
    this.corruptSkipped++;
    this.logger.warn('record failed verification; not served', { physicalOffset, reason });
  }

  getMinOffsetInQueue(topic: string, queueId: number): bigint {
    return BigInt(this.queues.get(topic, queueId)?.minOffset ?? 0);
  }

  getMaxOffsetInQueue(topic: string, queueId: number): bigint {
    return BigInt(this.queues.get(topic, queueId)?.maxOffset ?? 0);
  }

  /** Physical offset of the record at a queue offset, or -1. */
  async getCommitLogOffsetInQueue(topic: string, queueId: number, offset: bigint): Promise<bigint> {
    this.ensureReadable();
    const e = await this.queues.get(topic, queueId)?.entry(Number(offset));
    return e ? BigInt(e.physicalOffset) : -1n;
  }

  private async storeTimeOfEntry(e: CqEntry): Promise<number> {
    const head = await this.commitLog.read(e.physicalOffset, Math.min(e.size, 96));
    if (!head || head.readInt32BE(0) !== e.size) return -1;
    return readStoreTimestamp(head);
  }

  async getMessageStoreTimestamp(topic: string, queueId: number, offset: bigint): Promise<number> {
    this.ensureReadable();
    const e = await this.queues.get(topic, queueId)?.entry(Number(offset));
    return e ? this.storeTimeOfEntry(e) : -1;
  }

  /**
   * First queue offset whose record was stored at or after `timestamp`; the max offset when every
   * record is older, 0 for an empty queue. (A deliberate simplification of Java 4.9's nearest-
   * record search, see protocol.md §3.4.)
   */
  async getOffsetInQueueByTime(topic: string, queueId: number, timestamp: number): Promise<bigint> {
    this.ensureReadable();
    const cq = this.queues.get(topic, queueId);
    if (!cq) return 0n;
    let lo = cq.minOffset;
    let hi = cq.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      let probe = mid;
      let e = await cq.entry(probe);
      while (!e && probe + 1 < hi) e = await cq.entry(++probe);
      const t = e ? await this.storeTimeOfEntry(e) : -1;
      if (t >= timestamp) hi = mid;
      else lo = probe + 1;
    }
    return BigInt(lo);
  }

  async lookMessageByOffset(physicalOffset: bigint): Promise<Buffer | null> {
    this.ensureReadable();
    if (physicalOffset < 0n || physicalOffset > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    const read = await this.commitLog.readRecord(Number(physicalOffset));
    if (read.status === 'ok') return read.record;
    if (read.status === 'corrupt') this.reportCorrupt(Number(physicalOffset), read.reason);
    return null;
  }

  async queryMessage(
    topic: string,
    key: string,
    maxNum: number,
    begin: number,
    end: number,
  ): Promise<Buffer[]> {
    this.ensureReadable();
    const out: Buffer[] = [];
    if (maxNum <= 0) return out;
    const candidates = await this.index.lookup(topic, key, begin, end, maxNum);
    for (const phy of candidates) {
      if (out.length >= maxNum) break;
      const read = await this.commitLog.readRecord(phy);
      if (read.status !== 'ok') {
        if (read.status === 'corrupt') this.reportCorrupt(phy, read.reason);
        continue;
      }
      const r = decodeRecord(read.record);
      if (r.topic !== topic || r.storeTimestamp < begin || r.storeTimestamp > end) continue;
      const matches =
        r.properties.get(MessageProperty.UNIQ_KEY) === key ||
        splitKeys(r.properties.get(MessageProperty.KEYS)).includes(key);
      if (matches) out.push(read.record);
    }
    return out;
  }

  /** Store time and physical offset of the newest indexed record (QUERY_MESSAGE response header). */
  indexLastUpdate(): { timestamp: number; physicalOffset: bigint } {
    return {
      timestamp: this.index.lastUpdateTimestamp,
      physicalOffset: BigInt(this.index.lastUpdatePhyOffset),
    };
  }

  getMinPhyOffset(): bigint {
    return BigInt(this.commitLog.minOffset);
  }

  getMaxPhyOffset(): bigint {
    return BigInt(this.commitLog.writtenOffset);
  }

  /** Topics that have consume queues. */
  topics(): string[] {
    return this.queues.topicNames();
  }

  /** Queue ids of a topic that have consume queues. */
  queueIds(topic: string): number[] {
    return this.queues
      .queuesOf(topic)
      .map((cq) => cq.queueId)
      .sort((a, b) => a - b);
  }

  async deleteTopics(topics: Iterable<string>): Promise<void> {
    this.ensureReadable();
    for (const topic of topics) {
      await this.queues.deleteTopic(topic);
      this.offsets.removeTopic(topic);
    }
    await this.queues.writeManifest(true);
  }

  onArrival(listener: ArrivalListener): () => void {
    return this.dispatcher.onArrival(listener);
  }

  stats(): StoreStats {
    const log = this.commitLog.stats;
    return {
      putMessages: this.writer.stats.putMessages,
      putBytes: this.writer.stats.putBytes,
      putFailures: { ...this.writer.stats.putFailures },
      pendingAppendBytes: this.writer.pendingBytes,
      getMessages: this.getMessages,
      corruptRecordsSkipped: this.corruptSkipped,
      commitLogMinOffset: this.commitLog.minOffset,
      commitLogMaxOffset: this.commitLog.writtenOffset,
      commitLogFlushedOffset: this.commitLog.flushedOffset,
      dispatchedOffset: this.dispatcher.dispatchedOffset,
      dispatchBehindBytes: this.commitLog.writtenOffset - this.dispatcher.dispatchedOffset,
      commitLogSegments: this.commitLog.segmentList.length,
      flushes: log.flushes,
      flushMillisAverage: log.flushes > 0 ? log.flushMillisTotal / log.flushes : 0,
      flushMillisLast: log.flushMillisLast,
      syncFlushTimeouts: log.syncFlushTimeouts,
      consumeQueues: this.queues.size,
      indexRuns: this.index.runCount,
      diskUsageRatio: this.retention.lastUsage,
      diskFull: this.retention.diskFull,
      segmentsDeletedByRetention: this.retention.segmentsDeleted,
      recovery: this.recoveryReport,
    };
  }

  /** What the last start found and did. */
  get recovery(): RecoveryReport | undefined {
    return this.recoveryReport;
  }
}

/** Validates the configuration, opens the store and recovers it. */
export async function openMessageStore(
  config: StoreConfig | StoreConfigInput,
  options: FileMessageStoreOptions = {},
): Promise<FileMessageStore> {
  const store = new FileMessageStore(resolveStoreConfig(config as StoreConfigInput), options);
  await store.start();
  return store;
}
