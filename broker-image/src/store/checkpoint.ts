// The checkpoint file: how far the CommitLog and the derived data are known durable, and whether
// the last shutdown was clean. Two slots are written alternately, each with a sequence number and
// a CRC, so a torn write leaves the previous checkpoint readable.

import { constants as fsc } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { closeFile, fdatasyncFile, fsyncDir, isNotFound, openFile, readAt, writeAt } from './file-io.js';
import { readLong, writeLong } from './record-codec.js';

const MAGIC = 0x424c4350; // "BLCP"
const VERSION = 1;
const SLOT_SIZE = 80;
const SLOT_STRIDE = 2048;
const FILE_SIZE = 4096;

export interface CheckpointData {
  /** Segment size the log was written with. */
  segmentSize: number;
  /** CommitLog write position when the checkpoint was taken (exact end after a clean shutdown). */
  logEnd: number;
  /** Every CommitLog byte below this was fdatasync'd. */
  logFlushed: number;
  /** ConsumeQueue entries of every record below this are durable. */
  cqDurable: number;
  /** Written by a clean shutdown (nothing after it). */
  clean: boolean;
  /** Wall-clock time of the checkpoint (ms). */
  writtenAt: number;
}

export class CheckpointFile {
  private fd: number | undefined;
  private seq = 0;

  constructor(readonly path: string) {}

  /** Reads the newest valid slot; undefined when the file is missing or both slots are invalid. */
  async read(): Promise<CheckpointData | undefined> {
    let fd: number;
    try {
      fd = await openFile(this.path, 'r');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    let best: { seq: number; data: CheckpointData } | undefined;
    try {
      const buf = Buffer.alloc(FILE_SIZE);
      const n = await readAt(fd, buf, 0, FILE_SIZE, 0);
      for (const at of [0, SLOT_STRIDE]) {
        if (n < at + SLOT_SIZE) continue;
        const slot = buf.subarray(at, at + SLOT_SIZE);
        if (slot.readUInt32BE(0) !== MAGIC || slot.readInt32BE(4) !== VERSION) continue;
        if ((crc32(slot.subarray(0, SLOT_SIZE - 4)) | 0) !== slot.readInt32BE(SLOT_SIZE - 4)) continue;
        const seq = readLong(slot, 8);
        if (best && best.seq >= seq) continue;
        best = {
          seq,
          data: {
            segmentSize: readLong(slot, 16),
            logEnd: readLong(slot, 24),
            logFlushed: readLong(slot, 32),
            cqDurable: readLong(slot, 40),
            clean: slot.readInt32BE(48) === 1,
            writtenAt: readLong(slot, 52),
          },
        };
      }
    } finally {
      await closeFile(fd);
    }
    if (best) this.seq = best.seq;
    return best?.data;
  }

  /** Writes the next slot and fdatasyncs it. */
  async write(data: CheckpointData): Promise<void> {
    if (this.fd === undefined) {
      this.fd = await openFile(this.path, fsc.O_RDWR | fsc.O_CREAT);
      await fsyncDir(dirname(this.path));
    }
    this.seq++;
    const slot = Buffer.alloc(SLOT_SIZE);
    slot.writeUInt32BE(MAGIC, 0);
    slot.writeInt32BE(VERSION, 4);
    writeLong(slot, this.seq, 8);
    writeLong(slot, data.segmentSize, 16);
    writeLong(slot, data.logEnd, 24);
    writeLong(slot, data.logFlushed, 32);
    writeLong(slot, data.cqDurable, 40);
    slot.writeInt32BE(data.clean ? 1 : 0, 48);
    writeLong(slot, data.writtenAt, 52);
    slot.writeInt32BE(crc32(slot.subarray(0, SLOT_SIZE - 4)) | 0, SLOT_SIZE - 4);
    await writeAt(this.fd, slot, (this.seq % 2) * SLOT_STRIDE);
    await fdatasyncFile(this.fd);
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) await closeFile(this.fd);
    this.fd = undefined;
  }
}
