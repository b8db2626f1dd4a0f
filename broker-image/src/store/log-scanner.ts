// Scans CommitLog files forward from an offset, verifying every record (magic code, lengths, body
// CRC, and the physical offset each record stores about itself), and hands valid records to
// dispatch. This is the recovery path and the rebuild path for derived data.
//
// When the bytes at a position are not a valid record, the scanner looks further in the segment
// for the next valid one. Found: the bytes in between are a corrupt region, reported and skipped
// (later records are kept). Not found: valid data ends there — the last segment is cut at that
// point, an earlier segment gets an end filler so it reads as complete.

import { javaHashOfUtf8 } from '../message/java-hash.js';
import type { CommitLog } from './commit-log.js';
import { type CrcVerifier, crcRanges } from './crc-verifier.js';
import { computeTagsCode, type DispatchRequest, emptyRequest, SCHEDULE_TOPIC } from './dispatcher.js';
import { writeAt } from './file-io.js';
import { TopicSeeds } from './key-index.js';
import {
  BLANK_MAGIC_CODE,
  bodyStartAt,
  checkRecordAt,
  END_FILLER_SIZE,
  MESSAGE_MAGIC_CODE,
  MessageSysFlag,
  POS_BODY_CRC,
  POS_QUEUE_ID,
  POS_QUEUE_OFFSET,
  POS_SYS_FLAG,
  RECORD_MIN_SIZE,
  storeTimestampPos,
} from './record-codec.js';

export interface CorruptRegion {
  offset: number;
  length: number;
  reason: string;
}

export interface ScanReport {
  fromOffset: number;
  /** End of valid data (the new write position). */
  endOffset: number;
  scannedBytes: number;
  records: number;
  /** Skipped regions with valid records after them. */
  corruptRegions: CorruptRegion[];
  /** Bytes removed from the end of the log, or closed off at the end of an earlier segment. */
  cutBytes: number;
  /** Where the cut happened, and why (undefined when nothing was cut). */
  cutAt?: { offset: number; reason: string };
  /** Earlier segments whose valid data ends without a filler: (segment base, position) to close off. */
  segmentEnds: { base: number; pos: number }[];
}

/** One segment file as the scanner sees it. */
export interface ScanSegment {
  base: number;
  fileSize: number;
  path: string;
}

/** Where the scanner reads from: the CommitLog's descriptors, or files opened by a worker. */
export interface ScanSource {
  readonly segmentSize: number;
  readonly segments: readonly ScanSegment[];
  read(index: number, pos: number, into: Buffer, len: number): Promise<number>;
  /** Writes an end filler at `pos` of segment `index`; without it the scan only reports. */
  closeSegment?(index: number, pos: number): Promise<void>;
}

/** An end filler for a segment whose data ends at `pos`. */
export function endFiller(segmentSize: number, pos: number): Buffer {
  const filler = Buffer.allocUnsafe(END_FILLER_SIZE);
  filler.writeInt32BE(segmentSize - pos, 0);
  filler.writeInt32BE(BLANK_MAGIC_CODE, 4);
  return filler;
}

/** The CommitLog's own segments as a scan source (reads and repairs through its descriptors). */
export function commitLogSource(log: CommitLog): ScanSource {
  const segs = log.segmentList;
  return {
    segmentSize: log.segmentSize,
    segments: segs.map((s) => ({ base: s.base, fileSize: s.fileSize, path: s.path })),
    read: (index, pos, into, len) => log.readSegmentBytes(segs[index], pos, into, len),
    closeSegment: async (index, pos) => {
      await segs[index].file.use((fd) => writeAt(fd, endFiller(log.segmentSize, pos), pos));
    },
  };
}

export interface ScanOptions {
  delayLevels: readonly number[];
  /** Checks CRCs on another thread while this one parses (for large scans). */
  crcVerifier?: CrcVerifier;
  /** Bytes read per step. */
  chunkSize?: number;
}

const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeInt32BE(MESSAGE_MAGIC_CODE);
const BLANK_BYTES = Buffer.alloc(4);
BLANK_BYTES.writeInt32BE(BLANK_MAGIC_CODE);

// Longer property names dispatch reads, each followed by the U+0001 that ends it (TAGS and KEYS
// are compared byte by byte in place).
const NAME_UNIQ = Buffer.from('UNIQ_KEY\u0001');
const NAME_DELAY = Buffer.from('DELAY\u0001');

/** True when buf[at, end) starts with `name`. */
function startsWith(buf: Buffer, at: number, end: number, name: Buffer): boolean {
  if (end - at < name.length) return false;
  for (let i = 0; i < name.length; i++) if (buf[at + i] !== name[i]) return false;
  return true;
}

/** End of the property value starting at `v`: the next U+0002, or `end`. */
function valueEndAt(buf: Buffer, v: number, end: number): number {
  let i = v;
  while (i < end && buf[i] !== 2) i++;
  return i;
}

/**
 * Reads what dispatch needs from a verified record at `p` without decoding its properties into
 * strings: tag and key hashes are computed from the bytes, in one pass that only looks closer at
 * the four names dispatch needs. `seeds` caches key-hash seeds by topic. Properties are read as
 * the Java client reads them: `name U+0001 value` segments split on U+0002, the name ending at its
 * first U+0001, empty names or values ignored.
 */
export function dispatchRequestAt(
  buf: Buffer,
  p: number,
  size: number,
  physicalOffset: number,
  delayLevels: readonly number[],
  seeds: TopicSeeds,
  out: DispatchRequest = emptyRequest(),
): DispatchRequest {
  // The record was verified by checkRecordAt, so raw byte reads are in bounds.
  const sysFlag = int32(buf, p + POS_SYS_FLAG);
  const storeTsPos = storeTimestampPos(sysFlag);
  const storeTimestamp = int32(buf, p + storeTsPos) * 4294967296 + (int32(buf, p + storeTsPos + 4) >>> 0);
  const storeLen = sysFlag & MessageSysFlag.STOREHOST_V6 ? 20 : 8;
  const bodyLenPos = p + storeTsPos + 8 + storeLen + 4 + 8;
  const bodyLen = int32(buf, bodyLenPos);
  const topicLenPos = bodyLenPos + 4 + bodyLen;
  const topicLen = buf[topicLenPos];
  const topic = seeds.topicAt(buf, topicLenPos + 1, topicLen);
  const seed = seeds.get(topic);
  const propsEnd = p + size;
  let tagsCode = 0;
  let delay: string | undefined;
  let tags: string | undefined;
  const keyHashes = out.keyHashes;
  let keyCount = 0;
  let i = topicLenPos + 1 + topicLen + 2;
  while (i < propsEnd) {
    // Which of the four names starts here (each must end with U+0001), by direct byte compares.
    const c = buf[i];
    let name = 0;
    let v = i;
    if (c === 0x54) {
      if (
        i + 5 <= propsEnd &&
        buf[i + 1] === 0x41 &&
        buf[i + 2] === 0x47 &&
        buf[i + 3] === 0x53 &&
        buf[i + 4] === 1
      ) {
        name = 1; // TAGS
        v = i + 5;
      }
    } else if (c === 0x55) {
      if (startsWith(buf, i, propsEnd, NAME_UNIQ)) {
        name = 2; // UNIQ_KEY
        v = i + NAME_UNIQ.length;
      }
    } else if (c === 0x4b) {
      if (
        i + 5 <= propsEnd &&
        buf[i + 1] === 0x45 &&
        buf[i + 2] === 0x59 &&
        buf[i + 3] === 0x53 &&
        buf[i + 4] === 1
      ) {
        name = 3; // KEYS
        v = i + 5;
      }
    } else if (c === 0x44) {
      if (startsWith(buf, i, propsEnd, NAME_DELAY)) {
        name = 4; // DELAY
        v = i + NAME_DELAY.length;
      }
    }
    if (name === 0) {
      // Any other property (or a segment without U+0001): skip to the next one.
      i = valueEndAt(buf, i, propsEnd) + 1;
      continue;
    }
    if (name === 4) {
      const valueEnd = valueEndAt(buf, v, propsEnd);
      if (valueEnd > v) delay = buf.toString('utf8', v, valueEnd);
      i = valueEnd + 1;
      continue;
    }
    // TAGS and UNIQ_KEY hash the whole value; KEYS one hash per word (split on single spaces,
    // empty words skipped). One pass, ASCII assumed until a byte says otherwise.
    const start = name === 1 ? 0 : seed;
    let h = start;
    let from = v;
    let ascii = true;
    let j = v;
    for (; j < propsEnd; j++) {
      const b = buf[j];
      if (b === 2) break;
      if (b === 0x20 && name === 3) {
        if (j > from) keyHashes[keyCount++] = (ascii ? h : javaHashOfUtf8(buf, from, j, seed)) >>> 0;
        from = j + 1;
        h = seed;
        ascii = true;
      } else {
        if (b >= 0x80) ascii = false;
        h = (Math.imul(31, h) + b) | 0;
      }
    }
    if (j > from) {
      const hash = ascii ? h : javaHashOfUtf8(buf, from, j, start);
      if (name === 1) {
        tagsCode = hash;
        if (topic === SCHEDULE_TOPIC) tags = buf.toString('utf8', from, j);
      } else keyHashes[keyCount++] = hash >>> 0;
    }
    i = j + 1;
  }
  if (topic === SCHEDULE_TOPIC && delay !== undefined) {
    tagsCode = computeTagsCode(topic, tags, delay, storeTimestamp, delayLevels);
  }
  out.topic = topic;
  out.queueId = int32(buf, p + POS_QUEUE_ID);
  out.queueOffset =
    int32(buf, p + POS_QUEUE_OFFSET) * 4294967296 + (int32(buf, p + POS_QUEUE_OFFSET + 4) >>> 0);
  out.physicalOffset = physicalOffset;
  out.size = size;
  out.tagsCode = tagsCode;
  out.storeTimestamp = storeTimestamp;
  out.sysFlag = sysFlag;
  out.keyCount = keyCount;
  return out;
}

/** A forward reader over one segment's file bytes with one chunk of read-ahead. */
function int32(buf: Buffer, p: number): number {
  return (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
}

/** A read chunk with free room before its data, so the tail of the previous chunk can be prepended without copying the new one. */
interface Chunk {
  mem: Buffer;
  /** Where the data starts in `mem` (= the room left before it). */
  at: number;
  length: number;
}

const HEADROOM = 256 * 1024;

class SegmentReader {
  buf: Buffer = Buffer.alloc(0);
  /** Segment position of buf[0]. */
  start = 0;
  /** The chunk memory `buf` points into, when it is a reusable chunk. */
  private current: Buffer | undefined;
  private prefetch: { at: number; data: Promise<Chunk> } | undefined;

  constructor(
    private readonly source: ScanSource,
    private readonly index: number,
    private readonly dataEnd: number,
    private readonly chunkSize: number,
    /** Chunk memory in SharedArrayBuffers, readable by the CRC worker. */
    private readonly shared: boolean,
  ) {}

  get end(): number {
    return this.start + this.buf.length;
  }

  // Chunk memory is reused: one buffer is being parsed while the other is read into.
  private spare: Buffer[] = [];

  private memory(size: number): Buffer {
    const i = this.spare.findIndex((b) => b.length >= size);
    if (i >= 0) return this.spare.splice(i, 1)[0];
    const length = Math.max(size, HEADROOM + this.chunkSize);
    return this.shared ? Buffer.from(new SharedArrayBuffer(length)) : Buffer.allocUnsafe(length);
  }

  private async readRaw(at: number, len: number): Promise<Chunk> {
    const n = Math.max(0, Math.min(len, this.dataEnd - at));
    const mem = this.memory(HEADROOM + n);
    const got = await this.source.read(this.index, at, mem.subarray(HEADROOM), n);
    return { mem, at: HEADROOM, length: got };
  }

  /** Makes [pos, pos + need) available (as far as the data goes). */
  async ensure(pos: number, need: number): Promise<void> {
    if (pos >= this.start && pos + need <= this.end) return;
    const keep = pos >= this.start && pos < this.end ? this.buf.subarray(pos - this.start) : Buffer.alloc(0);
    const from = pos + keep.length;
    let fresh: Chunk;
    if (this.prefetch && this.prefetch.at === from) {
      fresh = await this.prefetch.data;
      this.prefetch = undefined;
    } else {
      fresh = await this.readRaw(from, Math.max(this.chunkSize, need - keep.length));
    }
    if (keep.length + fresh.length < need && from + fresh.length < this.dataEnd) {
      // A record larger than a chunk: read the rest and join (rare).
      const rest = await this.readRaw(from + fresh.length, need - keep.length - fresh.length);
      this.buf = Buffer.concat([
        keep,
        fresh.mem.subarray(fresh.at, fresh.at + fresh.length),
        rest.mem.subarray(rest.at, rest.at + rest.length),
      ]);
    } else if (keep.length <= fresh.at) {
      keep.copy(fresh.mem, fresh.at - keep.length);
      this.buf = fresh.mem.subarray(fresh.at - keep.length, fresh.at + fresh.length);
      if (this.current) this.spare.push(this.current);
      this.current = fresh.mem;
    } else {
      this.buf = Buffer.concat([keep, fresh.mem.subarray(fresh.at, fresh.at + fresh.length)]);
    }
    this.start = pos;
    const next = this.end;
    if (next < this.dataEnd) {
      const data = this.readRaw(next, this.chunkSize);
      // Marked handled here; an error still surfaces when the data is awaited.
      data.catch(() => undefined);
      this.prefetch = { at: next, data };
    }
  }

  async finish(): Promise<void> {
    if (this.prefetch) await this.prefetch.data.catch(() => undefined);
    this.prefetch = undefined;
  }
}

/**
 * Scans from `fromOffset` to the end of the files, calling `onRecord` for each valid record in
 * order. Returns what was found; with `repair` the files are fixed as described above.
 */
export async function scanLog(
  source: ScanSource,
  fromOffset: number,
  onRecord: (request: DispatchRequest) => void,
  options: ScanOptions,
): Promise<ScanReport> {
  const segs = source.segments;
  const segmentSize = source.segmentSize;
  const chunkSize = options.chunkSize ?? 8 * 1024 * 1024;
  const report: ScanReport = {
    fromOffset,
    endOffset: fromOffset,
    scannedBytes: 0,
    records: 0,
    corruptRegions: [],
    cutBytes: 0,
    segmentEnds: [],
  };
  if (segs.length === 0) return report;
  const seeds = new TopicSeeds();
  const request = emptyRequest();
  const pool: DispatchRequest[] = [];
  const scratch: RunScratch = { positions: new Float64Array(0), ranges: new Float64Array(0) };
  let from = Math.max(fromOffset, segs[0].base);
  report.fromOffset = from;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (seg.base + segmentSize <= from) continue;
    const isLast = i === segs.length - 1;
    const dataEnd = Math.min(seg.fileSize, segmentSize);
    const startPos = Math.max(0, from - seg.base);
    const reader = new SegmentReader(source, i, dataEnd, chunkSize, options.crcVerifier !== undefined);
    let pos = startPos;
    let sealed = false;
    let stopReason = 'end of data';
    try {
      while (pos < dataEnd) {
        // Awaiting only when a read is due: an await per record would cost more than the check.
        if (pos + END_FILLER_SIZE > reader.end || pos < reader.start)
          await reader.ensure(pos, END_FILLER_SIZE);
        if (reader.end - pos < END_FILLER_SIZE) {
          stopReason = 'torn record header';
          break;
        }
        if (options.crcVerifier) {
          const run = await verifiedRun(
            reader,
            seg.base,
            pos,
            options.crcVerifier,
            pool,
            options.delayLevels,
            seeds,
            scratch,
          );
          for (let k = 0; k < run.records; k++) onRecord(pool[k]);
          report.records += run.records;
          if (run.end > pos) {
            pos = run.end;
            continue;
          }
        }
        let check = checkRecordAt(reader.buf, pos - reader.start, reader.buf.length, seg.base + pos);
        if (check.kind === 'truncated' && pos + check.size <= dataEnd) {
          await reader.ensure(pos, check.size);
          check = checkRecordAt(reader.buf, pos - reader.start, reader.buf.length, seg.base + pos);
        }
        if (check.kind === 'message') {
          onRecord(
            dispatchRequestAt(
              reader.buf,
              pos - reader.start,
              check.size,
              seg.base + pos,
              options.delayLevels,
              seeds,
              request,
            ),
          );
          report.records++;
          pos += check.size;
          continue;
        }
        if (check.kind === 'blank' && check.size === segmentSize - pos) {
          sealed = true;
          break;
        }
        const reason =
          check.kind === 'invalid'
            ? check.reason
            : check.kind === 'truncated'
              ? 'record extends past the end of the file'
              : 'filler size does not reach the end of the segment';
        if (
          reader.buf.readInt32BE(pos - reader.start) === 0 &&
          reader.buf.readInt32BE(pos - reader.start + 4) === 0
        ) {
          stopReason = 'zero bytes';
        } else {
          stopReason = reason;
        }
        const next = await findNextRecord(reader, seg.base, pos + 1, dataEnd, segmentSize);
        if (next < 0) break;
        report.corruptRegions.push({ offset: seg.base + pos, length: next - pos, reason });
        pos = next;
      }
    } finally {
      await reader.finish();
    }
    report.scannedBytes += (sealed ? segmentSize : Math.max(pos, dataEnd)) - startPos;
    if (sealed) {
      report.endOffset = seg.base + segmentSize;
      from = report.endOffset;
      continue;
    }
    // Valid data of this segment ends at `pos`.
    const garbage = dataEnd - pos;
    if (isLast) {
      report.endOffset = seg.base + pos;
      if (garbage > 0) {
        report.cutBytes += garbage;
        report.cutAt = { offset: seg.base + pos, reason: stopReason };
      }
      break;
    }
    // An earlier segment without its end filler: close it off so that reads go to the next one.
    report.cutBytes += segmentSize - pos;
    report.cutAt ??= { offset: seg.base + pos, reason: stopReason };
    if (pos <= segmentSize - END_FILLER_SIZE) {
      report.segmentEnds.push({ base: seg.base, pos });
      await source.closeSegment?.(i, pos);
    }
    report.endOffset = seg.base + segmentSize;
    from = report.endOffset;
  }
  return report;
}

/** Memory reused by every `verifiedRun` of a scan (one run at a time). */
interface RunScratch {
  positions: Float64Array;
  ranges: Float64Array;
}

/** Shorter runs are checked on this thread: a round trip to the worker costs more. */
const MIN_VERIFIED_RUN = 64;

/**
 * The fast path of large scans: finds the run of structurally valid records in the current chunk,
 * hands their bodies to the CRC worker, parses them meanwhile into `pool`, and returns how many
 * passed (a prefix) and where the scan continues. A record failing its CRC is left to the careful
 * per-record path, which reports it.
 */
async function verifiedRun(
  reader: SegmentReader,
  base: number,
  pos: number,
  verifier: CrcVerifier,
  pool: DispatchRequest[],
  delayLevels: readonly number[],
  seeds: TopicSeeds,
  scratch: RunScratch,
): Promise<{ records: number; end: number }> {
  const buf = reader.buf;
  if (!(buf.buffer instanceof SharedArrayBuffer)) return { records: 0, end: pos };
  const start = reader.start;
  // Records of the run: position, then (body offset in the shared memory, body length, stored
  // CRC) for the worker. Room for the smallest records the chunk can hold.
  const most = Math.ceil((reader.end - pos) / RECORD_MIN_SIZE);
  if (scratch.positions.length < most + 1) {
    scratch.positions = new Float64Array(most + 1);
    scratch.ranges = crcRanges(most);
  }
  const { positions, ranges } = scratch;
  let n = 0;
  let p = pos;
  while (p + END_FILLER_SIZE <= reader.end) {
    const local = p - start;
    const check = checkRecordAt(buf, local, buf.length, base + p, false);
    if (check.kind !== 'message') break;
    const body = bodyStartAt(buf, local);
    positions[n] = p;
    ranges[n * 3] = buf.byteOffset + body;
    ranges[n * 3 + 1] = int32(buf, body - 4);
    ranges[n * 3 + 2] = int32(buf, local + POS_BODY_CRC);
    n++;
    p += check.size;
  }
  if (n < MIN_VERIFIED_RUN) return { records: 0, end: pos };
  positions[n] = p;
  const verdict = verifier.verify(buf.buffer, ranges, n);
  for (let i = 0; i < n; i++) {
    pool[i] ??= emptyRequest();
    const at = positions[i];
    dispatchRequestAt(buf, at - start, positions[i + 1] - at, base + at, delayLevels, seeds, pool[i]);
  }
  const bad = await verdict;
  return bad < 0 ? { records: n, end: p } : { records: bad, end: positions[bad] };
}

/** Segment position of the next valid record or end filler at or after `from`; -1 if none. */
async function findNextRecord(
  reader: SegmentReader,
  base: number,
  from: number,
  dataEnd: number,
  segmentSize: number,
): Promise<number> {
  let at = from;
  while (at + END_FILLER_SIZE <= dataEnd) {
    await reader.ensure(at, END_FILLER_SIZE);
    const local = at - reader.start;
    const a = reader.buf.indexOf(MAGIC_BYTES, local + 4);
    const b = reader.buf.indexOf(BLANK_BYTES, local + 4);
    const hits = [a, b].filter((x) => x >= 0);
    if (hits.length === 0) {
      // Continue after this chunk, keeping 3 bytes in case a magic code straddles the boundary.
      at = Math.max(at + 1, reader.end - 7);
      if (reader.end >= dataEnd) return -1;
      continue;
    }
    const candidate = reader.start + Math.min(...hits) - 4;
    await reader.ensure(candidate, END_FILLER_SIZE);
    let check = checkRecordAt(reader.buf, candidate - reader.start, reader.buf.length, base + candidate);
    if (check.kind === 'truncated' && candidate + check.size <= dataEnd) {
      await reader.ensure(candidate, check.size);
      check = checkRecordAt(reader.buf, candidate - reader.start, reader.buf.length, base + candidate);
    }
    if (check.kind === 'message') return candidate;
    if (check.kind === 'blank' && check.size === segmentSize - candidate) return candidate;
    at = candidate + 1;
  }
  return -1;
}
