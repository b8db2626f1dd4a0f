// The CommitLog: one append-only byte log in fixed-size segment files named by their 20-digit start
// offset. Node has no mmap, so each segment is a descriptor used with positional reads and writes.
// One writer appends whole batches; a record never spans segments (a segment's unused tail starts
// with an 8-byte filler: int remaining, int BLANK_MAGIC_CODE). Durability is fdatasync with group
// commit: one fdatasync settles every append waiting on it.

import { constants as fsc } from 'node:fs';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../common/index.js';
import {
  closeFile,
  fdatasyncFile,
  fstatSize,
  fsyncDir,
  ftruncateFile,
  openFile,
  readAt,
  readAtSync,
  SharedFd,
  writevAtSync,
} from './file-io.js';
import { BLANK_MAGIC_CODE, checkRecordAt, END_FILLER_SIZE, RECORD_MIN_SIZE } from './record-codec.js';
import { StoreStateError } from './store-errors.js';
import { TailCache } from './tail-cache.js';

const NAME_PATTERN = /^\d{20}$/;

/**
 * Reads this close behind the write position are served synchronously: those bytes were just
 * written and sit in the page cache, so a read is a copy and a thread-pool hop would cost more.
 * Older data may need the disk and is read asynchronously so the event loop never waits on it.
 */
const HOT_READ_BYTES = 256 * 1024 * 1024;

/** The newest bytes also kept in memory (see TailCache): seconds of traffic at full speed. */
const TAIL_CACHE_BYTES = 32 * 1024 * 1024;

export function segmentFileName(base: number): string {
  return String(base).padStart(20, '0');
}

export class CommitLogSegment {
  /** Bytes of this segment holding valid data; equals the segment size once sealed by a filler. */
  writePos = 0;
  constructor(
    readonly base: number,
    readonly path: string,
    readonly file: SharedFd,
    /** File length when opened (recovery scans up to it). */
    public fileSize: number,
  ) {}
}

/** A unit the writer places contiguously (one record, or a whole batch). */
export interface AppendItem {
  size: number;
  buffers: readonly Buffer[];
}

/**
 * Merges buffers that are adjacent views of the same memory (records encoded back to back in the
 * writer's ring buffer), so that a batch is written with one or two iovecs instead of one per record.
 */
function coalesce(bufs: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < bufs.length) {
    const first = bufs[i];
    let end = first.byteOffset + first.length;
    let j = i + 1;
    while (j < bufs.length && bufs[j].buffer === first.buffer && bufs[j].byteOffset === end) {
      end += bufs[j].length;
      j++;
    }
    out.push(j === i + 1 ? first : Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset));
    i = j;
  }
  return out;
}

export type DurableOutcome = 'ok' | 'timeout' | 'error';

interface SyncWaiter {
  offset: number;
  deadline: number;
  resolve(outcome: DurableOutcome): void;
}

interface FlushRequest {
  target: number;
  resolve(): void;
  reject(err: Error): void;
}

export type RecordRead =
  | { status: 'ok'; record: Buffer }
  | { status: 'missing' }
  | { status: 'corrupt'; reason: string };

export interface CommitLogStats {
  flushes: number;
  flushMillisTotal: number;
  flushMillisLast: number;
  syncFlushTimeouts: number;
  segmentsCreated: number;
  segmentsDeleted: number;
}

function filler(remaining: number): Buffer {
  const b = Buffer.allocUnsafe(END_FILLER_SIZE);
  b.writeInt32BE(remaining, 0);
  b.writeInt32BE(BLANK_MAGIC_CODE, 4);
  return b;
}

export class CommitLog {
  private segments: CommitLogSegment[] = [];
  /** Every byte below this is written (visible to reads). */
  writtenOffset = 0;
  /** Every byte below this is covered by a completed fdatasync. */
  flushedOffset = 0;
  private readonly dirty = new Set<CommitLogSegment>();
  private failure: Error | undefined;
  private flushing = false;
  private waiters: SyncWaiter[] = [];
  private waiterHead = 0;
  private flushRequests: FlushRequest[] = [];
  private waiterTimer: NodeJS.Timeout | undefined;
  private readonly tailCache = new TailCache(TAIL_CACHE_BYTES);
  readonly stats: CommitLogStats = {
    flushes: 0,
    flushMillisTotal: 0,
    flushMillisLast: 0,
    syncFlushTimeouts: 0,
    segmentsCreated: 0,
    segmentsDeleted: 0,
  };

  constructor(
    readonly dir: string,
    readonly segmentSize: number,
    private readonly logger: Logger,
    /** fdatasync of a segment descriptor (replaceable to inject slow or failing disks in tests). */
    private readonly syncFile: (fd: number) => Promise<void> = fdatasyncFile,
    /**
     * Positional write of a segment descriptor (replaceable to inject a full disk in tests). The
     * default is synchronous: appends are copies into the page cache (see `writevAtSync`).
     */
    private readonly writeFile: (
      fd: number,
      bufs: Buffer[],
      pos: number,
    ) => Promise<void> | void = writevAtSync,
  ) {}

  /** Opens existing segments (no scanning; recovery decides where the valid data ends). */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => NAME_PATTERN.test(n)).sort();
    let expected = -1;
    for (const name of names) {
      const base = Number(name);
      if (base % this.segmentSize !== 0) {
        throw new StoreStateError(
          `commit log segment ${name} does not start at a multiple of mappedFileSizeCommitLog ` +
            `(${this.segmentSize}); was the segment size changed? Use the size the files were written with`,
        );
      }
      if (expected >= 0 && base !== expected) {
        throw new StoreStateError(
          `commit log segment ${segmentFileName(expected)} is missing (found ${name} after it); ` +
            'restore the file or move the later segments away',
        );
      }
      const path = join(this.dir, name);
      const fd = await openFile(path, fsc.O_RDWR);
      const size = await fstatSize(fd);
      if (size > this.segmentSize) {
        await closeFile(fd);
        throw new StoreStateError(
          `commit log segment ${name} is ${size} bytes, larger than mappedFileSizeCommitLog (${this.segmentSize}); ` +
            'use the size the files were written with',
        );
      }
      this.segments.push(new CommitLogSegment(base, path, new SharedFd(fd), size));
      expected = base + this.segmentSize;
    }
  }

  get segmentList(): readonly CommitLogSegment[] {
    return this.segments;
  }

  /** First byte still on disk. */
  get minOffset(): number {
    return this.segments.length > 0 ? this.segments[0].base : this.writtenOffset;
  }

  get isFailed(): boolean {
    return this.failure !== undefined;
  }

  get failureReason(): string | undefined {
    return this.failure?.message;
  }

  /** The segment holding `offset`, if any. */
  segmentAt(offset: number): CommitLogSegment | undefined {
    if (this.segments.length === 0) return undefined;
    const i = Math.floor((offset - this.segments[0].base) / this.segmentSize);
    return i >= 0 && i < this.segments.length ? this.segments[i] : undefined;
  }

  /** Reads raw file bytes of a segment regardless of the write position (recovery scans). */
  async readSegmentBytes(seg: CommitLogSegment, pos: number, buf: Buffer, len: number): Promise<number> {
    return (await seg.file.use((fd) => readAt(fd, buf, 0, len, pos))) ?? 0;
  }

  /**
   * Sets the end of valid data after recovery: later segments are deleted and the last one is cut
   * to length. Returns the number of bytes removed from files.
   */
  async truncateTo(offset: number): Promise<number> {
    let removed = 0;
    while (this.segments.length > 0 && this.segments[this.segments.length - 1].base > offset) {
      const last = this.segments.pop()!;
      removed += last.fileSize;
      await last.file.close();
      await unlink(last.path);
      this.stats.segmentsDeleted++;
      this.logger.warn('deleted commit log segment past the end of valid data', { segment: last.path });
    }
    const last = this.segments[this.segments.length - 1];
    if (last) {
      const pos = Math.min(offset - last.base, this.segmentSize);
      if (pos < this.segmentSize && last.fileSize > pos) {
        removed += last.fileSize - pos;
        await last.file.use((fd) => ftruncateFile(fd, pos));
        last.fileSize = pos;
      }
      last.writePos = pos;
      for (const seg of this.segments) if (seg !== last) seg.writePos = this.segmentSize;
    }
    this.writtenOffset = offset;
    this.tailCache.reset(offset);
    this.flushedOffset = Math.min(this.flushedOffset, offset);
    if (removed > 0) await fsyncDir(this.dir);
    return removed;
  }

  /** Marks bytes from `fromOffset` as needing fdatasync (recovered data may sit only in the page cache). */
  markUnflushedFrom(fromOffset: number): void {
    this.flushedOffset = Math.min(this.flushedOffset, fromOffset);
    for (const seg of this.segments) {
      if (seg.base + this.segmentSize > fromOffset) this.dirty.add(seg);
    }
  }

  private async createSegment(base: number): Promise<CommitLogSegment> {
    const path = join(this.dir, segmentFileName(base));
    const fd = await openFile(path, fsc.O_RDWR | fsc.O_CREAT | fsc.O_TRUNC);
    await fsyncDir(this.dir);
    const seg = new CommitLogSegment(base, path, new SharedFd(fd), 0);
    this.segments.push(seg);
    this.stats.segmentsCreated++;
    return seg;
  }

  private async writableTail(): Promise<{ seg: CommitLogSegment; created: boolean }> {
    const tail = this.segments[this.segments.length - 1];
    if (!tail) {
      const base = Math.floor(this.writtenOffset / this.segmentSize) * this.segmentSize;
      return { seg: await this.createSegment(base), created: true };
    }
    if (tail.writePos >= this.segmentSize) {
      return { seg: await this.createSegment(tail.base + this.segmentSize), created: true };
    }
    return { seg: tail, created: false };
  }

  /**
   * Appends items in order. Each item is placed whole in one segment; when it does not fit with room
   * for the filler, the current segment is sealed and a new one started. Either every item is
   * written or the log is rolled back to where it was and the error is thrown.
   */
  async append<T extends AppendItem>(
    items: readonly T[],
    place: (item: T, physicalOffset: number) => void,
  ): Promise<void> {
    if (this.failure) throw this.failure;
    const created: CommitLogSegment[] = [];
    const tail = await this.writableTail();
    if (tail.created) created.push(tail.seg);
    type Run = { seg: CommitLogSegment; pos: number; bufs: Buffer[]; len: number };
    let run: Run = { seg: tail.seg, pos: tail.seg.writePos, bufs: [], len: 0 };
    const runs: Run[] = [run];
    try {
      for (const item of items) {
        const pos = run.pos + run.len;
        if (pos + item.size + END_FILLER_SIZE > this.segmentSize) {
          if (pos === 0) throw new StoreStateError(`an append of ${item.size} bytes cannot fit one segment`);
          run.bufs.push(filler(this.segmentSize - pos));
          run.len += END_FILLER_SIZE;
          const seg = await this.createSegment(run.seg.base + this.segmentSize);
          created.push(seg);
          run = { seg, pos: 0, bufs: [], len: 0 };
          runs.push(run);
        }
        place(item, run.seg.base + run.pos + run.len);
        for (const b of item.buffers) run.bufs.push(b);
        run.len += item.size;
      }
      for (const r of runs) {
        if (r.len === 0) continue;
        const iov = coalesce(r.bufs);
        const fd = r.seg.file;
        if (!fd.acquire()) throw new StoreStateError(`segment ${r.seg.path} was closed during a write`);
        try {
          const pending = this.writeFile(fd.fd, iov, r.pos);
          if (pending) await pending;
        } finally {
          fd.release();
        }
      }
    } catch (err) {
      await this.rollback(runs, created);
      throw err;
    }
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i];
      const sealed = i < runs.length - 1;
      r.seg.writePos = sealed ? this.segmentSize : r.pos + r.len;
      r.seg.fileSize = Math.max(r.seg.fileSize, r.pos + r.len);
      this.tailCache.append(r.seg.base + r.pos, r.bufs);
      this.dirty.add(r.seg);
      if (sealed) void this.extendSealed(r.seg);
    }
    const last = runs[runs.length - 1];
    this.writtenOffset = last.seg.base + last.pos + last.len;
  }

  // Sealed segments are extended to the full segment size (sparse), as RocketMQ's files are.
  private async extendSealed(seg: CommitLogSegment): Promise<void> {
    try {
      await seg.file.use((fd) => ftruncateFile(fd, this.segmentSize));
      seg.fileSize = this.segmentSize;
    } catch (err) {
      this.logger.warn('could not extend a sealed segment to full size', { segment: seg.path, err });
    }
  }

  private async rollback(
    runs: { seg: CommitLogSegment; pos: number }[],
    created: CommitLogSegment[],
  ): Promise<void> {
    try {
      for (const seg of created.reverse()) {
        const i = this.segments.indexOf(seg);
        if (i >= 0) this.segments.splice(i, 1);
        await seg.file.close();
        await unlink(seg.path).catch(() => undefined);
      }
      const first = runs[0];
      if (!created.includes(first.seg)) {
        await first.seg.file.use((fd) => ftruncateFile(fd, first.pos));
        first.seg.fileSize = first.pos;
      }
    } catch (err) {
      this.failure = new StoreStateError(
        `commit log could not be rolled back after a failed write: ${String(err)}`,
      );
      this.logger.error('commit log rollback failed; refusing further appends', { err });
    }
  }

  /** True when bytes from `offset` on are recent enough to be read in place (see HOT_READ_BYTES). */
  isHot(offset: number): boolean {
    return offset >= this.minOffset && this.writtenOffset - offset <= HOT_READ_BYTES;
  }

  /**
   * Reads `length` written bytes at a hot `offset` (see `isHot`) into `target` at `at`, in place;
   * false when they are not all available (outside the log, or spanning segments).
   */
  readHotInto(offset: number, length: number, target: Buffer, at: number): boolean {
    if (length <= 0 || !this.isHot(offset) || offset + length > this.writtenOffset) return false;
    if (this.tailCache.copyTo(offset, length, target, at)) return true;
    const seg = this.segmentAt(offset);
    if (!seg) return false;
    const pos = offset - seg.base;
    if (pos + length > this.segmentSize) return false;
    return seg.file.useSync((fd) => readAtSync(fd, target, at, length, pos)) === length;
  }

  /** Reads `length` written bytes at `offset` within one segment; null if not available. */
  async read(offset: number, length: number): Promise<Buffer | null> {
    if (length <= 0 || offset < this.minOffset || offset + length > this.writtenOffset) return null;
    const seg = this.segmentAt(offset);
    if (!seg) return null;
    const pos = offset - seg.base;
    if (pos + length > this.segmentSize) return null;
    const buf = Buffer.allocUnsafe(length);
    if (this.tailCache.copyTo(offset, length, buf, 0)) return buf;
    const n =
      this.writtenOffset - offset <= HOT_READ_BYTES
        ? seg.file.useSync((fd) => readAtSync(fd, buf, 0, length, pos))
        : await seg.file.use((fd) => readAt(fd, buf, 0, length, pos));
    return n === length ? buf : null;
  }

  /**
   * Reads and verifies the record starting at `offset` (magic, lengths, CRC, and that it records
   * this very offset). `sizeHint` (e.g. from a consume-queue entry) saves a second read.
   */
  async readRecord(offset: number, sizeHint = 4096): Promise<RecordRead> {
    const seg = this.segmentAt(offset);
    if (!seg || offset < this.minOffset || offset >= this.writtenOffset) return { status: 'missing' };
    const available = Math.min(this.writtenOffset, seg.base + this.segmentSize) - offset;
    const first = Math.min(available, Math.max(sizeHint, RECORD_MIN_SIZE));
    if (first < 8) return { status: 'missing' };
    let buf = await this.read(offset, first);
    if (!buf) return { status: 'missing' };
    const size = buf.readInt32BE(0);
    if (size > first && size <= available) {
      buf = await this.read(offset, size);
      if (!buf) return { status: 'missing' };
    }
    const check = checkRecordAt(buf, 0, Math.min(buf.length, Math.max(size, 0)), offset);
    if (check.kind === 'message') return { status: 'ok', record: buf.subarray(0, size) };
    if (check.kind === 'blank') return { status: 'missing' };
    return { status: 'corrupt', reason: check.kind === 'invalid' ? check.reason : 'record truncated' };
  }

  /** Resolves once every byte written before the call is fdatasync'd. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const target = this.writtenOffset;
    if (target <= this.flushedOffset && this.dirty.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.flushRequests.push({ target, resolve, reject });
      this.kickFlush();
    });
  }

  /** SYNC_FLUSH: resolves when an fdatasync covers `offset`, or 'timeout' after `timeoutMs`. */
  waitDurable(offset: number, timeoutMs: number): Promise<DurableOutcome> {
    if (offset <= this.flushedOffset) return Promise.resolve('ok');
    if (this.failure) return Promise.resolve('error');
    return new Promise((resolve) => {
      this.waiters.push({ offset, deadline: performance.now() + timeoutMs, resolve });
      this.armWaiterTimer();
      this.kickFlush();
    });
  }

  private kickFlush(): void {
    if (!this.flushing) void this.flushLoop();
  }

  private wanted(): number {
    let want = 0;
    if (this.waiterHead < this.waiters.length) want = this.waiters[this.waiters.length - 1].offset;
    for (const r of this.flushRequests) if (r.target > want) want = r.target;
    if (this.flushRequests.length > 0 && this.dirty.size > 0) want = Math.max(want, this.flushedOffset + 1);
    return want;
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    try {
      while (!this.failure && this.wanted() > this.flushedOffset) {
        const target = this.writtenOffset;
        const segs = [...this.dirty];
        this.dirty.clear();
        const t0 = performance.now();
        try {
          await Promise.all(segs.map((s) => s.file.use((fd) => this.syncFile(fd))));
        } catch (err) {
          this.fail(err as Error);
          break;
        }
        const ms = performance.now() - t0;
        this.stats.flushes++;
        this.stats.flushMillisTotal += ms;
        this.stats.flushMillisLast = ms;
        if (target > this.flushedOffset) this.flushedOffset = target;
        this.settle();
      }
    } finally {
      this.flushing = false;
    }
    if (!this.failure && this.wanted() > this.flushedOffset) this.kickFlush();
  }

  private settle(): void {
    while (
      this.waiterHead < this.waiters.length &&
      this.waiters[this.waiterHead].offset <= this.flushedOffset
    ) {
      this.waiters[this.waiterHead++].resolve('ok');
    }
    this.compactWaiters();
    if (this.flushRequests.length > 0) {
      const still: FlushRequest[] = [];
      for (const r of this.flushRequests) {
        if (r.target <= this.flushedOffset) r.resolve();
        else still.push(r);
      }
      this.flushRequests = still;
    }
  }

  private compactWaiters(): void {
    if (this.waiterHead === this.waiters.length) {
      this.waiters = [];
      this.waiterHead = 0;
    } else if (this.waiterHead > 1024 && this.waiterHead * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.waiterHead);
      this.waiterHead = 0;
    }
  }

  private armWaiterTimer(): void {
    if (this.waiterTimer || this.waiterHead >= this.waiters.length) return;
    const delay = Math.max(0, this.waiters[this.waiterHead].deadline - performance.now());
    this.waiterTimer = setTimeout(() => {
      this.waiterTimer = undefined;
      const now = performance.now();
      while (this.waiterHead < this.waiters.length && this.waiters[this.waiterHead].deadline <= now) {
        this.stats.syncFlushTimeouts++;
        this.waiters[this.waiterHead++].resolve('timeout');
      }
      this.compactWaiters();
      this.armWaiterTimer();
    }, delay + 1);
    this.waiterTimer.unref();
  }

  // After a failed fdatasync the kernel may have dropped the dirty pages, so nothing written since
  // the last good flush can be promised: stop appending and answer every waiter with an error.
  private fail(err: Error): void {
    this.failure = err;
    this.logger.error('fdatasync failed; the commit log refuses further appends', { err });
    for (let i = this.waiterHead; i < this.waiters.length; i++) this.waiters[i].resolve('error');
    this.waiters = [];
    this.waiterHead = 0;
    for (const r of this.flushRequests) r.reject(err);
    this.flushRequests = [];
  }

  /** Deletes the oldest segment (never the one being written). Returns false if there is none to delete. */
  async deleteOldestSegment(): Promise<boolean> {
    if (this.segments.length < 2) return false;
    const seg = this.segments.shift()!;
    this.dirty.delete(seg);
    await unlink(seg.path).catch((err) =>
      this.logger.warn('could not unlink segment', { segment: seg.path, err }),
    );
    void seg.file.close();
    this.stats.segmentsDeleted++;
    return true;
  }

  /** Stops the timers and closes every descriptor (flush first if durability is wanted). */
  async close(): Promise<void> {
    if (this.waiterTimer) clearTimeout(this.waiterTimer);
    this.waiterTimer = undefined;
    for (let i = this.waiterHead; i < this.waiters.length; i++) this.waiters[i].resolve('error');
    this.waiters = [];
    this.waiterHead = 0;
    await Promise.all(this.segments.map((s) => s.file.close()));
    this.segments = [];
  }
}
