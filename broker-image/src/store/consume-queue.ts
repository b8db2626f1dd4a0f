// A ConsumeQueue: the entries of one topic/queue, 20 bytes each (commit-log offset int64, record
// size int32, tag code int64), in files named by the 20-digit byte position of their first entry.
// Entry n is queue offset n. Derived data: the dispatcher appends entries, recovery truncates or
// rebuilds them. Entries not yet written to their file are kept in memory and served from there,
// so a pull sees a record as soon as it is dispatched. An all-zero entry (size 0) is a hole.

import { constants as fsc } from 'node:fs';
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../common/index.js';
import { segmentFileName } from './commit-log.js';
import {
  closeFile,
  fdatasyncFile,
  fstatSize,
  fsyncDir,
  ftruncateFile,
  isNotFound,
  openFile,
  readAt,
  readAtSync,
  SharedFd,
  writevAtSync,
} from './file-io.js';
import { readLong, writeLong } from './record-codec.js';

export const CQ_ENTRY_SIZE = 20;
const NAME_PATTERN = /^\d{20}$/;

export interface CqEntry {
  physicalOffset: number;
  size: number;
  tagsCode: number;
}

/** Reads entry `i` of a buffer of entries. */
export function entryAt(buf: Buffer, i: number): CqEntry {
  const p = i * CQ_ENTRY_SIZE;
  return { physicalOffset: readLong(buf, p), size: buf.readInt32BE(p + 8), tagsCode: readLong(buf, p + 12) };
}

export class ConsumeQueue {
  /** First entry index still served. */
  minOffset = 0;
  /** Entries written to files (the rest are pending in memory). */
  private fileEnd = 0;
  /** Start (entry index) of each file, ascending. */
  private files: number[] = [];
  private tail: SharedFd | undefined;
  private tailBase = -1;
  private pending = Buffer.allocUnsafe(64 * CQ_ENTRY_SIZE);
  private pendingCount = 0;
  private writing: Promise<void> | undefined;
  /** Settled after each write of the running write loop (for `sync`, which needs no more than that). */
  private progress: { promise: Promise<void>; resolve: () => void } | undefined;
  private writeScheduled = false;
  private unsynced = false;
  private closed = false;
  private dirCreated = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Store timestamp of the newest entry, when known (for stats); -1 otherwise. */
  lastStoreTimestamp = -1;

  constructor(
    readonly topic: string,
    readonly queueId: number,
    readonly dir: string,
    readonly entriesPerFile: number,
    private readonly logger: Logger,
    /** Asks for `writePending()` to be called soon (writes of many queues are coalesced). */
    private readonly requestWrite: (cq: ConsumeQueue) => void = (cq) =>
      queueMicrotask(() => cq.writePending()),
  ) {}

  /** Next queue offset (number of entries including pending ones). */
  get maxOffset(): number {
    return this.fileEnd + this.pendingCount;
  }

  /** Entries dispatched but not yet written to a file. */
  get pendingEntries(): number {
    return this.pendingCount;
  }

  get needsSync(): boolean {
    return this.unsynced || this.pendingCount > 0;
  }

  private filePath(base: number): string {
    return join(this.dir, segmentFileName(base * CQ_ENTRY_SIZE));
  }

  private fileBaseOf(index: number): number {
    return Math.floor(index / this.entriesPerFile) * this.entriesPerFile;
  }

  /** Opens the files of an existing queue; trims a partial last entry. */
  async load(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => NAME_PATTERN.test(n)).sort();
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.dirCreated = true;
    const bytesPerFile = this.entriesPerFile * CQ_ENTRY_SIZE;
    for (const name of names) {
      const bytes = Number(name);
      const base = bytes / CQ_ENTRY_SIZE;
      const expected = this.files.length > 0 ? this.files[this.files.length - 1] + this.entriesPerFile : base;
      if (bytes % bytesPerFile !== 0 || base !== expected) {
        // A gap or a foreign size: keep what is contiguous; recovery rebuilds the rest from the log.
        this.logger.warn('consume queue file out of sequence; removing it', { file: join(this.dir, name) });
        await unlink(join(this.dir, name));
        continue;
      }
      this.files.push(base);
    }
    if (this.files.length === 0) return;
    const lastBase = this.files[this.files.length - 1];
    const fd = await openFile(this.filePath(lastBase), fsc.O_RDWR);
    let size = await fstatSize(fd);
    if (size % CQ_ENTRY_SIZE !== 0 || size > bytesPerFile) {
      size = Math.min(size - (size % CQ_ENTRY_SIZE), bytesPerFile);
      await ftruncateFile(fd, size);
    }
    this.tail = new SharedFd(fd);
    this.tailBase = lastBase;
    this.fileEnd = lastBase + size / CQ_ENTRY_SIZE;
    this.minOffset = this.files[0];
    // Leading holes (a queue rebuilt from a log whose oldest segments were deleted) are not served.
    await this.skipLeadingHoles();
  }

  private async skipLeadingHoles(): Promise<void> {
    while (this.minOffset < this.maxOffset) {
      const buf = await this.readEntries(this.minOffset, 256);
      if (!buf || buf.length === 0) return;
      const n = buf.length / CQ_ENTRY_SIZE;
      let i = 0;
      while (i < n && buf.readInt32BE(i * CQ_ENTRY_SIZE + 8) === 0) i++;
      this.minOffset += i;
      if (i < n) return;
    }
  }

  /**
   * Adds the entry for queue offset `queueOffset`. Offsets below the current end are already
   * present (recovery replays) and are ignored; a gap (a record lost to corruption) is filled
   * with holes. Returns false when ignored.
   */
  put(queueOffset: number, physicalOffset: number, size: number, tagsCode: number): boolean {
    if (this.closed) return false;
    const end = this.maxOffset;
    if (queueOffset < end) return false;
    if (queueOffset > end) {
      if (end === 0 && this.files.length === 0 && this.pendingCount === 0) {
        // A rebuilt queue whose first records were deleted: start at the first one we have.
        this.fileEnd = queueOffset;
        this.minOffset = queueOffset;
      } else {
        this.logger.warn('consume queue gap filled with holes', {
          topic: this.topic,
          queueId: this.queueId,
          from: end,
          to: queueOffset,
        });
        for (let q = end; q < queueOffset; q++) this.appendPending(0, 0, 0);
      }
    }
    this.appendPending(physicalOffset, size, tagsCode);
    this.scheduleWrite();
    return true;
  }

  private appendPending(physicalOffset: number, size: number, tagsCode: number): void {
    const need = (this.pendingCount + 1) * CQ_ENTRY_SIZE;
    if (need > this.pending.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.pending.length * 2));
      this.pending.copy(grown, 0, 0, this.pendingCount * CQ_ENTRY_SIZE);
      this.pending = grown;
    }
    const p = this.pendingCount * CQ_ENTRY_SIZE;
    writeLong(this.pending, physicalOffset, p);
    this.pending.writeInt32BE(size, p + 8);
    writeLong(this.pending, tagsCode, p + 12);
    this.pendingCount++;
  }

  // Entries are written a little later, so that one write carries many dispatch passes; a long
  // backlog is written at once. Reads serve pending entries from memory meanwhile.
  private scheduleWrite(): void {
    if (this.writing || this.closed) return;
    if (this.pendingCount >= 4096) {
      this.writeScheduled = false;
      this.startWriting();
      return;
    }
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    this.requestWrite(this);
  }

  /** Writes pending entries now (called by the scheduler that `requestWrite` reached). */
  writePending(): void {
    this.writeScheduled = false;
    this.startWriting();
  }

  private startWriting(): void {
    if (this.writing || this.pendingCount === 0 || this.closed) return;
    this.writing = this.writeLoop()
      .catch((err) => {
        this.logger.error('consume queue write failed; retrying in 1 s', {
          topic: this.topic,
          queueId: this.queueId,
          err,
        });
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.startWriting();
        }, 1000);
        this.retryTimer.unref();
      })
      .finally(() => {
        this.writing = undefined;
      });
  }

  private async writeLoop(): Promise<void> {
    while (this.pendingCount > 0 && !this.closed) {
      const start = this.fileEnd;
      const base = this.fileBaseOf(start);
      if (this.tailBase !== base) await this.openTail(base);
      const n = Math.min(this.pendingCount, base + this.entriesPerFile - start);
      const chunk = this.pending.subarray(0, n * CQ_ENTRY_SIZE);
      const tail = this.tail!;
      // A copy into the page cache, like the CommitLog's appends (no thread-pool hop).
      const wrote = tail.useSync((fd) => {
        writevAtSync(fd, [chunk], (start - base) * CQ_ENTRY_SIZE);
        return true;
      });
      if (!wrote) return;
      this.fileEnd = start + n;
      this.pending.copyWithin(0, n * CQ_ENTRY_SIZE, this.pendingCount * CQ_ENTRY_SIZE);
      this.pendingCount -= n;
      this.unsynced = true;
      const progress = this.progress;
      this.progress = undefined;
      progress?.resolve();
    }
  }

  /** Settles after the next write of the running write loop. */
  private nextWrite(): Promise<void> {
    if (!this.progress) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.progress = { promise, resolve };
    }
    return this.progress.promise;
  }

  private async openTail(base: number): Promise<void> {
    if (this.tail) {
      // Sealing: a full file is made durable before the queue moves on.
      const old = this.tail;
      this.tail = undefined;
      this.tailBase = -1;
      if (this.unsynced) await old.use((fd) => fdatasyncFile(fd));
      await old.close();
    }
    if (!this.dirCreated) {
      await mkdir(this.dir, { recursive: true });
      await fsyncDir(dirname(this.dir));
      await fsyncDir(dirname(dirname(this.dir)));
      this.dirCreated = true;
    }
    const fd = await openFile(this.filePath(base), fsc.O_RDWR | fsc.O_CREAT);
    if (!this.files.includes(base)) {
      this.files.push(base);
      await fsyncDir(this.dir);
    }
    this.tail = new SharedFd(fd);
    this.tailBase = base;
    this.unsynced = false;
  }

  /**
   * Entries from `from` (at most `max`, never crossing a file boundary when read from disk),
   * clamped to [minOffset, maxOffset). Null when the file holding `from` is gone.
   */
  async readEntries(from: number, max: number): Promise<Buffer | null> {
    if (from < this.minOffset || from >= this.maxOffset || max <= 0) return Buffer.alloc(0);
    const end = Math.min(from + max, this.maxOffset);
    const fileEnd = this.fileEnd;
    if (from >= fileEnd) {
      return Buffer.from(
        this.pending.subarray((from - fileEnd) * CQ_ENTRY_SIZE, (end - fileEnd) * CQ_ENTRY_SIZE),
      );
    }
    const base = this.fileBaseOf(from);
    const stop = Math.min(end, fileEnd, base + this.entriesPerFile);
    const memory =
      stop === fileEnd && end > fileEnd
        ? Buffer.from(this.pending.subarray(0, (end - fileEnd) * CQ_ENTRY_SIZE))
        : undefined;
    const len = (stop - from) * CQ_ENTRY_SIZE;
    // From the shared pool when small (one pull reads a few entries); zeroed below if short.
    const buf = Buffer.allocUnsafe(len);
    const pos = (from - base) * CQ_ENTRY_SIZE;
    let n: number | undefined;
    try {
      // The tail file was just written, so it is in the page cache: read it in place (see
      // CommitLog's hot reads); older files may need the disk and are read asynchronously.
      if (base === this.tailBase && this.tail) {
        n = this.tail.useSync((fd) => readAtSync(fd, buf, 0, len, pos));
      }
      if (n === undefined) {
        const fd = await openFile(this.filePath(base), 'r');
        try {
          n = await readAt(fd, buf, 0, len, pos);
        } finally {
          await closeFile(fd);
        }
      }
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    // A short read leaves zeros, which read as holes.
    if (n !== undefined && n < len) buf.fill(0, n);
    return memory ? Buffer.concat([buf, memory]) : buf;
  }

  /** The entry at `index`, or undefined if outside the queue or a hole. */
  async entry(index: number): Promise<CqEntry | undefined> {
    const buf = await this.readEntries(index, 1);
    if (!buf || buf.length < CQ_ENTRY_SIZE) return undefined;
    const e = entryAt(buf, 0);
    return e.size > 0 ? e : undefined;
  }

  /** The newest non-hole entry. */
  async lastEntry(): Promise<{ index: number; entry: CqEntry } | undefined> {
    let hi = this.maxOffset;
    while (hi > this.minOffset) {
      const from = Math.max(this.minOffset, this.fileBaseOf(hi - 1), hi - 1024);
      const buf = await this.readEntries(from, hi - from);
      if (!buf) return undefined;
      for (let i = buf.length / CQ_ENTRY_SIZE - 1; i >= 0; i--) {
        const e = entryAt(buf, i);
        if (e.size > 0) return { index: from + i, entry: e };
      }
      hi = from;
    }
    return undefined;
  }

  /** Recovery: removes every entry whose record starts at or after `physicalEnd`. */
  async truncateByPhysical(physicalEnd: number): Promise<number> {
    let keep = this.maxOffset;
    while (keep > this.minOffset) {
      const from = Math.max(this.minOffset, this.fileBaseOf(keep - 1), keep - 1024);
      const buf = await this.readEntries(from, keep - from);
      if (!buf) break;
      let i = buf.length / CQ_ENTRY_SIZE - 1;
      let stop = false;
      for (; i >= 0; i--) {
        const e = entryAt(buf, i);
        if (e.size > 0 && e.physicalOffset < physicalEnd) {
          stop = true;
          break;
        }
      }
      keep = from + i + 1;
      if (stop) break;
    }
    const removed = this.maxOffset - keep;
    if (removed > 0) await this.truncateEntries(keep);
    return removed;
  }

  /** Removes entries from `index` on (recovery only: no dispatch runs concurrently). */
  async truncateEntries(index: number): Promise<void> {
    await this.writing;
    if (index >= this.fileEnd) {
      this.pendingCount = Math.max(0, index - this.fileEnd);
      return;
    }
    this.pendingCount = 0;
    const base = this.fileBaseOf(index);
    for (const b of [...this.files].reverse()) {
      if (b <= base) break;
      if (b === this.tailBase && this.tail) {
        await this.tail.close();
        this.tail = undefined;
        this.tailBase = -1;
      }
      await unlink(this.filePath(b)).catch(() => undefined);
      this.files.pop();
    }
    if (this.files.length > 0) {
      if (this.tailBase !== base) {
        if (this.tail) await this.tail.close();
        this.tail = new SharedFd(await openFile(this.filePath(base), fsc.O_RDWR));
        this.tailBase = base;
      }
      await this.tail!.use((fd) => ftruncateFile(fd, (index - base) * CQ_ENTRY_SIZE));
      this.unsynced = true;
    }
    this.fileEnd = index;
    if (this.minOffset > index) this.minOffset = index;
  }

  /** Waits until every entry present now is written, then fdatasyncs. Returns the durable entry count. */
  async sync(): Promise<number> {
    const target = this.maxOffset;
    while (this.fileEnd < target && !this.closed) {
      // Not the end of the write loop: under steady appends it keeps going with newer entries.
      if (this.writing) await Promise.race([this.writing, this.nextWrite()]);
      else if (this.pendingCount > 0) this.startWriting();
      else break;
      if (!this.writing && this.retryTimer) break;
    }
    if (this.unsynced && this.tail) {
      this.unsynced = false;
      try {
        await this.tail.use((fd) => fdatasyncFile(fd));
      } catch (err) {
        this.unsynced = true;
        throw err;
      }
    }
    return Math.min(this.fileEnd, target);
  }

  /**
   * Retention: deletes whole files whose newest entry points below `minPhysicalOffset` (never the
   * file being written), then moves minOffset to the first entry still in the log.
   */
  async deleteBelow(minPhysicalOffset: number): Promise<number> {
    let deleted = 0;
    while (this.files.length > 1) {
      const base = this.files[0];
      const last = await this.readEntries(base + this.entriesPerFile - 1, 1);
      if (!last || last.length < CQ_ENTRY_SIZE) break;
      const e = entryAt(last, 0);
      if (e.size > 0 && e.physicalOffset >= minPhysicalOffset) break;
      await unlink(this.filePath(base)).catch(() => undefined);
      this.files.shift();
      deleted++;
      if (this.minOffset < base + this.entriesPerFile) this.minOffset = base + this.entriesPerFile;
    }
    await this.correctMinOffset(minPhysicalOffset);
    return deleted;
  }

  /** Moves minOffset to the first entry whose record is at or after `minPhysicalOffset`. */
  async correctMinOffset(minPhysicalOffset: number): Promise<void> {
    const first = await this.entry(this.minOffset);
    if (first && first.physicalOffset >= minPhysicalOffset) return;
    let lo = this.minOffset;
    let hi = this.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const buf = await this.readEntries(mid, 64);
      if (!buf || buf.length === 0) {
        hi = mid;
        continue;
      }
      let found: CqEntry | undefined;
      let at = mid;
      for (let i = 0; i < buf.length / CQ_ENTRY_SIZE; i++) {
        const e = entryAt(buf, i);
        if (e.size > 0) {
          found = e;
          at = mid + i;
          break;
        }
      }
      if (!found) lo = mid + buf.length / CQ_ENTRY_SIZE;
      else if (found.physicalOffset < minPhysicalOffset) lo = at + 1;
      else hi = mid;
    }
    this.minOffset = Math.min(lo, this.maxOffset);
    await this.skipLeadingHoles();
  }

  /** Stops writing (after flushing pending entries when `flush`) and closes the file. */
  async close(flush = true): Promise<void> {
    if (flush)
      await this.sync().catch((err) => this.logger.warn('consume queue sync at close failed', { err }));
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.writing;
    if (this.tail) await this.tail.close();
    this.tail = undefined;
  }

  /** Closes and removes the queue's directory. */
  async destroy(): Promise<void> {
    await this.close(false);
    await rm(this.dir, { recursive: true, force: true });
  }
}
