// The message-key index: "<topic>#<key>" (each KEYS word and the UNIQ_KEY) → physical offsets,
// searchable by store-time range. Our own format, kept on disk: entries are collected in memory and
// written as immutable "runs" sorted by key hash, each with a small fence table kept in memory for
// lookups. A run records which stretch of the CommitLog it covers, so after a crash the index
// knows by itself from where to re-index; deleting the directory makes recovery rebuild it.
//
// Run file: 64-byte header, `count` entries of 20 bytes (hash uint32, physical offset and store
// time as float64 — exact for integers below 2^53) sorted by (hash, offset), the fence (hash of every FENCE_STRIDE-th entry,
// uint32 each), then CRC32 of header + fence.

import { constants as fsc } from 'node:fs';
import { mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../common/index.js';
import { javaStringHashCode } from '../message/java-hash.js';
import { segmentFileName } from './commit-log.js';
import {
  closeFile,
  fdatasyncFile,
  fstatSize,
  fsyncDir,
  isNotFound,
  openFile,
  readAt,
  writeAt,
} from './file-io.js';
import { readLong, writeLong } from './record-codec.js';

const RUN_MAGIC = 0x424c4958; // "BLIX"
const RUN_VERSION = 2;
const HEADER_SIZE = 64;
const ENTRY_SIZE = 20;
const FENCE_STRIDE = 128;
const RUN_NAME = /^(\d{20})\.idx$/;
/** Largest run (entries are addressed with 32-bit positions; kept well below that). */
const MAX_RUN_ENTRIES = 2 ** 21;

/** Hash state after "<topic>#": index key hashes of one topic continue from it. */
export function keyHashSeed(topic: string): number {
  return javaStringHashCode('#', javaStringHashCode(topic));
}

/** Hash of an index key (Java String.hashCode of "<topic>#<key>", as uint32). */
export function indexKeyHash(topic: string, key: string): number {
  return javaStringHashCode(key, keyHashSeed(topic)) >>> 0;
}

/** Key-hash seeds by topic (topics are few; bounded anyway), and the last topic decoded from bytes. */
export class TopicSeeds {
  private readonly seeds = new Map<string, number>();
  private lastBytes = Buffer.alloc(0);
  private lastTopic = '';
  private lastSeedTopic: string | undefined;
  private lastSeed = 0;

  /** The topic whose UTF-8 bytes are buf[start, start + length), reusing the previous string when equal. */
  topicAt(buf: Buffer, start: number, length: number): string {
    const last = this.lastBytes;
    if (last.length === length) {
      let i = 0;
      while (i < length && last[i] === buf[start + i]) i++;
      if (i === length) return this.lastTopic;
    }
    this.lastBytes = Buffer.from(buf.subarray(start, start + length));
    this.lastTopic = this.lastBytes.toString('utf8');
    return this.lastTopic;
  }

  get(topic: string): number {
    // Runs of records of one topic are common: the last answer first (usually the same string).
    if (topic === this.lastSeedTopic) return this.lastSeed;
    let seed = this.seeds.get(topic);
    if (seed === undefined) {
      if (this.seeds.size >= 10_000) this.seeds.clear();
      seed = keyHashSeed(topic);
      this.seeds.set(topic, seed);
    }
    this.lastSeedTopic = topic;
    this.lastSeed = seed;
    return seed;
  }
}

interface RunMeta {
  path: string;
  count: number;
  minTime: number;
  maxTime: number;
  minPhy: number;
  maxPhy: number;
  coveredStart: number;
  coveredEnd: number;
  fence: Uint32Array;
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;

/**
 * `keys` sorted ascending, and the index in `keys` of each sorted entry; stable. LSD radix sort in
 * three 11-bit passes that carry (key, index) pairs, so every pass reads sequentially and writes
 * to few (2048) places at a time. `scratch` (four arrays of at least `keys.length`) is reused
 * memory; the results are views into it.
 */
export function radixSort(
  keys: Uint32Array,
  scratch: Uint32Array[] = Array.from({ length: 4 }, () => new Uint32Array(keys.length)),
): { sorted: Uint32Array; order: Uint32Array } {
  const n = keys.length;
  let k0 = scratch[0].subarray(0, n);
  let i0 = scratch[1].subarray(0, n);
  let k1 = scratch[2].subarray(0, n);
  let i1 = scratch[3].subarray(0, n);
  k0.set(keys);
  for (let i = 0; i < n; i++) i0[i] = i;
  // Histograms of all three digits in one pass, then starting positions per digit value.
  const starts = new Uint32Array(RADIX * 3);
  for (let i = 0; i < n; i++) {
    const k = k0[i];
    starts[k & (RADIX - 1)]++;
    starts[RADIX + ((k >>> RADIX_BITS) & (RADIX - 1))]++;
    starts[2 * RADIX + (k >>> (2 * RADIX_BITS))]++;
  }
  for (let d = 0; d < 3; d++) {
    let sum = 0;
    for (let b = d * RADIX; b < (d + 1) * RADIX; b++) {
      const c = starts[b];
      starts[b] = sum;
      sum += c;
    }
  }
  for (let d = 0; d < 3; d++) {
    const shift = d * RADIX_BITS;
    const base = d * RADIX;
    for (let i = 0; i < n; i++) {
      const k = k0[i];
      const at = starts[base + ((k >>> shift) & (RADIX - 1))]++;
      k1[at] = k;
      i1[at] = i0[i];
    }
    [k0, k1] = [k1, k0];
    [i0, i1] = [i1, i0];
  }
  return { sorted: k0, order: i0 };
}

/** Index entries in memory, in dispatch (= physical) order. */
class EntryBuffer {
  count = 0;
  hashes: Uint32Array;
  phys: Float64Array;
  times: Float64Array;
  createdAt: number;
  coveredEnd: number;
  coveredStart: number;
  constructor(capacity: number, coveredStart: number, now: number) {
    this.hashes = new Uint32Array(capacity);
    this.phys = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.coveredStart = coveredStart;
    this.createdAt = now;
    this.coveredEnd = coveredStart;
  }
  reset(coveredStart: number, now: number): void {
    this.count = 0;
    this.coveredStart = coveredStart;
    this.coveredEnd = coveredStart;
    this.createdAt = now;
  }
  get full(): boolean {
    return this.count === this.hashes.length;
  }
}

export interface KeyIndexOptions {
  dir: string;
  /** Entries per run (and per in-memory buffer). */
  capacity: number;
  /** Age after which a non-empty buffer is written even if not full. */
  flushIntervalMs: number;
  clock: () => number;
  logger: Logger;
  /** Called before a run is written: the CommitLog must be durable up to `offset` first. */
  beforeSeal: (offset: number) => Promise<void>;
}

export class KeyIndex {
  private runs: RunMeta[] = [];
  private buffer: EntryBuffer;
  private sealing: EntryBuffer[] = [];
  private sealChain: Promise<void> = Promise.resolve();
  /** Every record below this offset is in a run on disk. */
  coveredOffset = 0;
  /** Records below this were indexed before the last restart; re-dispatch skips them. */
  skipBelow = 0;
  lastUpdateTimestamp = 0;
  lastUpdatePhyOffset = 0;
  runsWritten = 0;

  constructor(private readonly opts: KeyIndexOptions) {
    if (!(opts.capacity >= 1 && opts.capacity <= MAX_RUN_ENTRIES)) {
      throw new RangeError(`index run capacity must be from 1 to ${MAX_RUN_ENTRIES}`);
    }
    this.buffer = new EntryBuffer(opts.capacity, 0, opts.clock());
  }

  /** Loads run metadata and works out how far the runs cover the log, starting at `logMinOffset`. */
  async load(logMinOffset: number): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    const names = (await readdir(this.opts.dir)).sort();
    for (const name of names) {
      const path = join(this.opts.dir, name);
      if (name.endsWith('.tmp')) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (!RUN_NAME.test(name)) continue;
      const meta = await this.readMeta(path);
      if (meta) this.runs.push(meta);
      else {
        this.opts.logger.warn('index run unreadable; removing it (it is rebuilt from the log)', { path });
        await unlink(path).catch(() => undefined);
      }
    }
    this.runs.sort((a, b) => a.coveredStart - b.coveredStart);
    let covered = logMinOffset;
    for (const run of this.runs) {
      if (run.coveredStart > covered) break;
      covered = Math.max(covered, run.coveredEnd);
      this.lastUpdateTimestamp = Math.max(this.lastUpdateTimestamp, run.maxTime);
      this.lastUpdatePhyOffset = Math.max(this.lastUpdatePhyOffset, run.maxPhy);
    }
    this.coveredOffset = covered;
    this.skipBelow = covered;
    this.buffer = new EntryBuffer(this.opts.capacity, covered, this.opts.clock());
  }

  private async readMeta(path: string): Promise<RunMeta | undefined> {
    let fd: number;
    try {
      fd = await openFile(path, 'r');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    try {
      const size = await fstatSize(fd);
      if (size < HEADER_SIZE + 4) return undefined;
      const header = Buffer.alloc(HEADER_SIZE);
      await readAt(fd, header, 0, HEADER_SIZE, 0);
      if (header.readUInt32BE(0) !== RUN_MAGIC || header.readInt32BE(4) !== RUN_VERSION) return undefined;
      const count = header.readInt32BE(8);
      const fenceLen = Math.ceil(count / FENCE_STRIDE) * 4;
      if (size !== HEADER_SIZE + count * ENTRY_SIZE + fenceLen + 4) return undefined;
      const tail = Buffer.alloc(fenceLen + 4);
      await readAt(fd, tail, 0, fenceLen + 4, HEADER_SIZE + count * ENTRY_SIZE);
      const fenceBytes = tail.subarray(0, fenceLen);
      if ((crc32(fenceBytes, crc32(header)) | 0) !== tail.readInt32BE(fenceLen)) return undefined;
      const fence = new Uint32Array(fenceLen / 4);
      for (let i = 0; i < fence.length; i++) fence[i] = fenceBytes.readUInt32BE(i * 4);
      return {
        path,
        count,
        minTime: readLong(header, 16),
        maxTime: readLong(header, 24),
        minPhy: readLong(header, 32),
        maxPhy: readLong(header, 40),
        coveredStart: readLong(header, 48),
        coveredEnd: readLong(header, 56),
        fence,
      };
    } finally {
      await closeFile(fd);
    }
  }

  /** Adds one key (its `indexKeyHash`) of the record at `physicalOffset`. */
  add(hash: number, physicalOffset: number, storeTimestamp: number): void {
    if (physicalOffset < this.skipBelow) return;
    if (this.buffer.full) this.rotate();
    const b = this.buffer;
    b.hashes[b.count] = hash;
    b.phys[b.count] = physicalOffset;
    b.times[b.count] = storeTimestamp;
    b.count++;
    if (storeTimestamp > this.lastUpdateTimestamp) this.lastUpdateTimestamp = storeTimestamp;
    if (physicalOffset > this.lastUpdatePhyOffset) this.lastUpdatePhyOffset = physicalOffset;
  }

  /**
   * After recovery: the log ends at `end`, so nothing at or past it is indexed yet (runs may still
   * hold stale entries there; lookups verify records, so those never match).
   */
  clampCoverage(end: number): void {
    this.skipBelow = Math.min(this.skipBelow, end);
    this.coveredOffset = Math.min(this.coveredOffset, end);
    if (this.buffer.coveredStart > end)
      this.buffer = new EntryBuffer(this.opts.capacity, end, this.opts.clock());
  }

  /** Every record below `offset` has been offered to `add`. */
  noteDispatched(offset: number): void {
    if (offset > this.buffer.coveredEnd) this.buffer.coveredEnd = offset;
  }

  // Written buffers are reused (their typed arrays are large).
  private spare: EntryBuffer[] = [];
  // Memory for sorting and encoding runs, reused (runs are written one at a time, on sealChain):
  // fresh memory per run would pile up as garbage the collector is slow to return.
  private sortScratch: Uint32Array[] | undefined;
  private runBytes: Buffer | undefined;

  private freshBuffer(coveredStart: number): EntryBuffer {
    const reused = this.spare.pop();
    if (!reused) return new EntryBuffer(this.opts.capacity, coveredStart, this.opts.clock());
    reused.reset(coveredStart, this.opts.clock());
    return reused;
  }

  private rotate(): void {
    const full = this.buffer;
    this.buffer = this.freshBuffer(full.coveredEnd);
    this.sealing.push(full);
    this.sealChain = this.sealChain
      .then(() => this.writeRun(full))
      .catch((err) =>
        this.opts.logger.error('writing an index run failed; it is rebuilt after restart', { err }),
      )
      .finally(() => {
        this.sealing = this.sealing.filter((b) => b !== full);
        if (this.spare.length < 2) this.spare.push(full);
      });
  }

  /** Writes the buffer as a run when it is old enough (or always with `force`); resolves when done. */
  async flush(force = false): Promise<void> {
    const b = this.buffer;
    const stale = this.opts.clock() - b.createdAt >= this.opts.flushIntervalMs;
    if (b.coveredEnd > b.coveredStart && (force || (stale && b.count > 0) || b.full)) this.rotate();
    else if (force && b.count > 0) this.rotate();
    await this.sealChain;
  }

  private async writeRun(b: EntryBuffer): Promise<void> {
    await this.opts.beforeSeal(b.coveredEnd);
    const last = this.runs[this.runs.length - 1];
    const merge = last && last.coveredEnd === b.coveredStart && last.count + b.count <= this.opts.capacity;
    let hashes = b.hashes.subarray(0, b.count);
    let phys = b.phys.subarray(0, b.count);
    let times = b.times.subarray(0, b.count);
    let coveredStart = b.coveredStart;
    if (merge) {
      const old = await this.readRunEntries(last, 0, last.count);
      const n = last.count + b.count;
      const h2 = new Uint32Array(n);
      const p2 = new Float64Array(n);
      const t2 = new Float64Array(n);
      const view = new DataView(old.buffer, old.byteOffset, old.length);
      for (let i = 0; i < last.count; i++) {
        h2[i] = view.getUint32(i * ENTRY_SIZE);
        p2[i] = view.getFloat64(i * ENTRY_SIZE + 4);
        t2[i] = view.getFloat64(i * ENTRY_SIZE + 12);
      }
      h2.set(hashes, last.count);
      p2.set(phys, last.count);
      t2.set(times, last.count);
      hashes = h2;
      phys = p2;
      times = t2;
      coveredStart = last.coveredStart;
    }
    const meta = await this.writeRunFile(hashes, phys, times, coveredStart, b.coveredEnd);
    if (merge) this.runs[this.runs.length - 1] = meta;
    else this.runs.push(meta);
    this.coveredOffset = Math.max(this.coveredOffset, b.coveredEnd);
    this.runsWritten++;
  }

  private async writeRunFile(
    hashes: Uint32Array,
    phys: Float64Array,
    times: Float64Array,
    coveredStart: number,
    coveredEnd: number,
  ): Promise<RunMeta> {
    const count = hashes.length;
    // Sorted by hash; the sort is stable and entries were added in physical order, so equal
    // hashes stay ordered by offset.
    this.sortScratch ??= Array.from({ length: 4 }, () => new Uint32Array(this.opts.capacity));
    const { sorted, order } = radixSort(hashes, this.sortScratch);
    const fenceLen = Math.ceil(count / FENCE_STRIDE);
    const size = HEADER_SIZE + count * ENTRY_SIZE + fenceLen * 4 + 4;
    if (!this.runBytes || this.runBytes.length < size) {
      const most =
        HEADER_SIZE + this.opts.capacity * ENTRY_SIZE + Math.ceil(this.opts.capacity / FENCE_STRIDE) * 4 + 4;
      this.runBytes = Buffer.alloc(Math.max(size, most));
    }
    // Every byte of [0, size) is written below.
    const buf = this.runBytes.subarray(0, size);
    let minTime = Number.MAX_SAFE_INTEGER;
    let maxTime = 0;
    let minPhy = Number.MAX_SAFE_INTEGER;
    let maxPhy = 0;
    const fence = new Uint32Array(fenceLen);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    for (let k = 0; k < count; k++) {
      const i = order[k];
      const p = HEADER_SIZE + k * ENTRY_SIZE;
      const h = sorted[k];
      const phy = phys[i];
      const time = times[i];
      view.setUint32(p, h);
      view.setFloat64(p + 4, phy);
      view.setFloat64(p + 12, time);
      if (k % FENCE_STRIDE === 0) fence[k / FENCE_STRIDE] = h;
      if (time < minTime) minTime = time;
      if (time > maxTime) maxTime = time;
      if (phy < minPhy) minPhy = phy;
      if (phy > maxPhy) maxPhy = phy;
    }
    if (count === 0) {
      minTime = 0;
      minPhy = coveredStart;
      maxPhy = coveredStart;
    }
    buf.writeUInt32BE(RUN_MAGIC, 0);
    buf.writeInt32BE(RUN_VERSION, 4);
    buf.writeInt32BE(count, 8);
    buf.writeInt32BE(FENCE_STRIDE, 12);
    writeLong(buf, minTime, 16);
    writeLong(buf, maxTime, 24);
    writeLong(buf, minPhy, 32);
    writeLong(buf, maxPhy, 40);
    writeLong(buf, coveredStart, 48);
    writeLong(buf, coveredEnd, 56);
    const fencePos = HEADER_SIZE + count * ENTRY_SIZE;
    for (let i = 0; i < fenceLen; i++) buf.writeUInt32BE(fence[i], fencePos + i * 4);
    const crc = crc32(buf.subarray(fencePos, fencePos + fenceLen * 4), crc32(buf.subarray(0, HEADER_SIZE)));
    buf.writeInt32BE(crc | 0, fencePos + fenceLen * 4);
    const path = join(this.opts.dir, `${segmentFileName(coveredStart)}.idx`);
    const tmp = `${path}.tmp`;
    const fd = await openFile(tmp, fsc.O_RDWR | fsc.O_CREAT | fsc.O_TRUNC);
    try {
      await writeAt(fd, buf, 0);
      await fdatasyncFile(fd);
    } finally {
      await closeFile(fd);
    }
    await rename(tmp, path);
    await fsyncDir(this.opts.dir);
    return { path, count, minTime, maxTime, minPhy, maxPhy, coveredStart, coveredEnd, fence };
  }

  private async readRunEntries(run: RunMeta, from: number, to: number): Promise<Buffer> {
    const len = (to - from) * ENTRY_SIZE;
    const buf = Buffer.alloc(len);
    const fd = await openFile(run.path, 'r');
    try {
      await readAt(fd, buf, 0, len, HEADER_SIZE + from * ENTRY_SIZE);
    } finally {
      await closeFile(fd);
    }
    return buf;
  }

  /**
   * Physical offsets of records indexed under `<topic>#<key>` with store time in [begin, end],
   * newest first, at most `max`. Hash collisions are possible: callers verify the records.
   */
  async lookup(topic: string, key: string, begin: number, end: number, max: number): Promise<number[]> {
    const hash = indexKeyHash(topic, key);
    const found = new Set<number>();
    const scanBuffer = (b: EntryBuffer) => {
      for (let i = 0; i < b.count; i++) {
        if (b.hashes[i] === hash && b.times[i] >= begin && b.times[i] <= end) found.add(b.phys[i]);
      }
    };
    scanBuffer(this.buffer);
    for (const b of this.sealing) scanBuffer(b);
    for (const run of [...this.runs].reverse()) {
      if (run.count === 0 || run.maxTime < begin || run.minTime > end) continue;
      // Entries with this hash lie between the last fence below it and the first fence above it.
      let lo = 0;
      let hi = run.fence.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (run.fence[mid] < hash) lo = mid + 1;
        else hi = mid;
      }
      const fromBlock = Math.max(0, lo - 1);
      let toBlock = lo;
      while (toBlock < run.fence.length && run.fence[toBlock] <= hash) toBlock++;
      const from = fromBlock * FENCE_STRIDE;
      const to = Math.min(run.count, toBlock * FENCE_STRIDE, from + 64 * 1024);
      let buf: Buffer;
      try {
        buf = await this.readRunEntries(run, from, to);
      } catch (err) {
        if (isNotFound(err)) continue;
        throw err;
      }
      for (let i = 0; i < to - from; i++) {
        const p = i * ENTRY_SIZE;
        if (buf.readUInt32BE(p) !== hash) continue;
        const t = buf.readDoubleBE(p + 12);
        if (t >= begin && t <= end) found.add(buf.readDoubleBE(p + 4));
      }
      if (found.size >= max * 4) break;
    }
    return [...found].sort((a, b) => b - a).slice(0, max * 4);
  }

  /** Retention: deletes runs that only point below `minPhysicalOffset`. */
  async deleteBelow(minPhysicalOffset: number): Promise<number> {
    let deleted = 0;
    while (this.runs.length > 1 && this.runs[0].maxPhy < minPhysicalOffset) {
      const run = this.runs.shift()!;
      await unlink(run.path).catch(() => undefined);
      deleted++;
    }
    return deleted;
  }

  get runCount(): number {
    return this.runs.length;
  }

  /** Writes what is buffered so the next start needs no re-indexing. */
  async close(): Promise<void> {
    await this.flush(true);
  }
}
