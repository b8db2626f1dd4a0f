// Scans CommitLog files forward from an offset, verifying every record (magic code, lengths, body
// CRC, and the physical offset each record stores about itself), and hands valid records to
// dispatch. This is the recovery path and the rebuild path for derived data.
//
// When the bytes at a position are not a valid record, the scanner looks further in the segment
// for the next valid one. Found: the bytes in between are a corrupt region, reported and skipped
// (later records are kept). Not found: valid data ends there — the last segment is cut at that
// point, an earlier segment gets an end filler so it reads as complete.

import type { Logger } from '../common/index.js';
import type { CommitLog, CommitLogSegment } from './commit-log.js';
import { computeTagsCode, type DispatchRequest, SCHEDULE_TOPIC } from './dispatcher.js';
import { writeAt } from './file-io.js';
import { javaHashOfUtf8 } from './java-hash.js';
import { TopicSeeds } from './key-index.js';
import {
  BLANK_MAGIC_CODE,
  checkRecordAt,
  END_FILLER_SIZE,
  MESSAGE_MAGIC_CODE,
  MessageSysFlag,
  POS_QUEUE_ID,
  POS_QUEUE_OFFSET,
  POS_SYS_FLAG,
  readLong,
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
}

export interface ScanOptions {
  delayLevels: readonly number[];
  logger: Logger;
  /** Bytes read per step. */
  chunkSize?: number;
  /** Repair files (cut the tail, close off earlier segments); false only reports. */
  repair?: boolean;
}

const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeInt32BE(MESSAGE_MAGIC_CODE);
const BLANK_BYTES = Buffer.alloc(4);
BLANK_BYTES.writeInt32BE(BLANK_MAGIC_CODE);

const NAME_TAGS = Buffer.from('TAGS');
const NAME_KEYS = Buffer.from('KEYS');
const NAME_UNIQ = Buffer.from('UNIQ_KEY');
const NAME_DELAY = Buffer.from('DELAY');

function nameIs(buf: Buffer, start: number, end: number, name: Buffer): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (buf[start + i] !== name[i]) return false;
  return true;
}

/**
 * Reads what dispatch needs from a verified record at `p` without decoding its properties into
 * strings: tag and key hashes are computed from the bytes. `seeds` caches key-hash seeds by topic.
 */
export function dispatchRequestAt(
  buf: Buffer,
  p: number,
  size: number,
  physicalOffset: number,
  delayLevels: readonly number[],
  seeds: TopicSeeds,
): DispatchRequest {
  const sysFlag = buf.readInt32BE(p + POS_SYS_FLAG);
  const storeTsPos = storeTimestampPos(sysFlag);
  const storeTimestamp = readLong(buf, p + storeTsPos);
  const storeLen = sysFlag & MessageSysFlag.STOREHOST_V6 ? 20 : 8;
  const bodyLenPos = p + storeTsPos + 8 + storeLen + 4 + 8;
  const bodyLen = buf.readInt32BE(bodyLenPos);
  const topicLenPos = bodyLenPos + 4 + bodyLen;
  const topicLen = buf[topicLenPos];
  const topic = seeds.topicAt(buf, topicLenPos + 1, topicLen);
  const seed = seeds.get(topic);
  const propsStart = topicLenPos + 1 + topicLen + 2;
  const propsEnd = p + size;
  let tagsCode = 0;
  let delay: string | undefined;
  let tags: string | undefined;
  const keyHashes: number[] = [];
  let i = propsStart;
  while (i < propsEnd) {
    let sep = i;
    while (sep < propsEnd && buf[sep] !== 1 && buf[sep] !== 2) sep++;
    if (sep >= propsEnd || buf[sep] === 2) {
      i = sep + 1;
      continue;
    }
    const v = sep + 1;
    let valueEnd = v;
    while (valueEnd < propsEnd && buf[valueEnd] !== 2) valueEnd++;
    if (sep > i && valueEnd > v) {
      if (nameIs(buf, i, sep, NAME_TAGS)) {
        tagsCode = javaHashOfUtf8(buf, v, valueEnd);
        if (topic === SCHEDULE_TOPIC) tags = buf.toString('utf8', v, valueEnd);
      } else if (nameIs(buf, i, sep, NAME_UNIQ)) {
        keyHashes.push(javaHashOfUtf8(buf, v, valueEnd, seed) >>> 0);
      } else if (nameIs(buf, i, sep, NAME_KEYS)) {
        let from = v;
        while (from <= valueEnd) {
          let to = buf.indexOf(0x20, from);
          if (to < 0 || to > valueEnd) to = valueEnd;
          if (to > from) keyHashes.push(javaHashOfUtf8(buf, from, to, seed) >>> 0);
          from = to + 1;
        }
      } else if (nameIs(buf, i, sep, NAME_DELAY)) delay = buf.toString('utf8', v, valueEnd);
    }
    i = valueEnd + 1;
  }
  if (topic === SCHEDULE_TOPIC && delay !== undefined) {
    tagsCode = computeTagsCode(topic, tags, delay, storeTimestamp, delayLevels);
  }
  return {
    topic,
    queueId: buf.readInt32BE(p + POS_QUEUE_ID),
    queueOffset: readLong(buf, p + POS_QUEUE_OFFSET),
    physicalOffset,
    size,
    tagsCode,
    storeTimestamp,
    sysFlag,
    keyHashes: keyHashes.length > 0 ? keyHashes : undefined,
  };
}

/** A forward reader over one segment's file bytes with one chunk of read-ahead. */
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
  private prefetch: { at: number; data: Promise<Chunk> } | undefined;

  constructor(
    private readonly log: CommitLog,
    private readonly seg: CommitLogSegment,
    private readonly dataEnd: number,
    private readonly chunkSize: number,
  ) {}

  get end(): number {
    return this.start + this.buf.length;
  }

  private async readRaw(at: number, len: number): Promise<Chunk> {
    const n = Math.max(0, Math.min(len, this.dataEnd - at));
    const mem = Buffer.allocUnsafe(HEADROOM + n);
    const got = await this.log.readSegmentBytes(this.seg, at, mem.subarray(HEADROOM), n);
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
  log: CommitLog,
  fromOffset: number,
  onRecord: (request: DispatchRequest) => void,
  options: ScanOptions,
): Promise<ScanReport> {
  const segs = log.segmentList;
  const segmentSize = log.segmentSize;
  const chunkSize = options.chunkSize ?? 8 * 1024 * 1024;
  const repair = options.repair ?? true;
  const report: ScanReport = {
    fromOffset,
    endOffset: fromOffset,
    scannedBytes: 0,
    records: 0,
    corruptRegions: [],
    cutBytes: 0,
  };
  if (segs.length === 0) return report;
  const seeds = new TopicSeeds();
  let from = Math.max(fromOffset, segs[0].base);
  report.fromOffset = from;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (seg.base + segmentSize <= from) continue;
    const isLast = i === segs.length - 1;
    const dataEnd = Math.min(seg.fileSize, segmentSize);
    const startPos = Math.max(0, from - seg.base);
    const reader = new SegmentReader(log, seg, dataEnd, chunkSize);
    let pos = startPos;
    let sealed = false;
    let stopReason = 'end of data';
    try {
      while (pos < dataEnd) {
        await reader.ensure(pos, END_FILLER_SIZE);
        if (reader.end - pos < END_FILLER_SIZE) {
          stopReason = 'torn record header';
          break;
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
        const next = await findNextRecord(reader, seg, pos + 1, dataEnd, segmentSize);
        if (next < 0) break;
        report.corruptRegions.push({ offset: seg.base + pos, length: next - pos, reason });
        options.logger.warn('corrupt commit log region skipped; later records are kept', {
          offset: seg.base + pos,
          length: next - pos,
          reason,
        });
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
    options.logger.warn('commit log segment ends without a filler; closing it off', {
      segment: seg.path,
      at: pos,
      reason: stopReason,
    });
    if (repair && pos <= segmentSize - END_FILLER_SIZE) {
      const filler = Buffer.allocUnsafe(END_FILLER_SIZE);
      filler.writeInt32BE(segmentSize - pos, 0);
      filler.writeInt32BE(BLANK_MAGIC_CODE, 4);
      await seg.file.use((fd) => writeAt(fd, filler, pos));
    }
    report.endOffset = seg.base + segmentSize;
    from = report.endOffset;
  }
  return report;
}

/** Segment position of the next valid record or end filler at or after `from`; -1 if none. */
async function findNextRecord(
  reader: SegmentReader,
  seg: CommitLogSegment,
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
    let check = checkRecordAt(reader.buf, candidate - reader.start, reader.buf.length, seg.base + candidate);
    if (check.kind === 'truncated' && candidate + check.size <= dataEnd) {
      await reader.ensure(candidate, check.size);
      check = checkRecordAt(reader.buf, candidate - reader.start, reader.buf.length, seg.base + candidate);
    }
    if (check.kind === 'message') return candidate;
    if (check.kind === 'blank' && check.size === segmentSize - candidate) return candidate;
    at = candidate + 1;
  }
  return -1;
}
