// Incremental frame decoder (protocol.md §1.2): feed it socket chunks of any size, get back whole
// frames. A frame handed out is the bytes after the 4-byte length field (header-length word,
// header, body). Frames that lie inside one chunk are zero-copy views of that chunk; only frames
// that straddle chunks are copied, once. Never Buffer.concat per chunk.

import { Buffer } from 'node:buffer';
import { FrameTooLargeError, ProtocolError } from './errors.js';

/** Java's default `com.rocketmq.remoting.frameMaxLength`: 16 MiB including the length field. */
export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024;

export interface FrameDecoderOptions {
  /** Largest accepted frame in bytes, counting the 4-byte length field (Java semantics). */
  maxFrameLength?: number;
}

export class FrameDecoder {
  readonly maxFrameLength: number;
  private readonly chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private headOffset = 0;
  private buffered = 0;
  /** Length of the frame being assembled (value of its length field), or -1 before it is known. */
  private pendingLength = -1;
  private failed: ProtocolError | null = null;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
  }

  /** Bytes received but not yet handed out as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds one chunk and calls `onFrame` for every frame it completes, in order. If `onFrame`
   * returns false, decoding stops after that frame and the rest stays buffered until the next
   * push (an empty chunk will do) — that is how a reader stops exactly at a limit. Throws a
   * ProtocolError on an impossible or oversized length; the decoder then stays failed (the
   * connection must be closed). If `onFrame` throws, that frame counts as consumed.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => unknown): void {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.pendingLength < 0) {
        if (this.buffered < 4) return;
        const length = this.readLength();
        if (length < 4 || length + 4 > this.maxFrameLength) {
          this.failed =
            length < 4
              ? new ProtocolError(`frame length ${length} is below the minimum of 4`)
              : new FrameTooLargeError(length + 4, this.maxFrameLength);
          this.reset();
          throw this.failed;
        }
        this.pendingLength = length;
      }
      if (this.buffered < this.pendingLength) return;
      const frame = this.take(this.pendingLength);
      this.pendingLength = -1;
      if (onFrame(frame) === false) return;
    }
  }

  /** Frames fully contained in `chunks`, for tests and one-shot decoding. */
  pushAll(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    this.push(chunk, (frame) => frames.push(frame));
    return frames;
  }

  private reset(): void {
    this.chunks.length = 0;
    this.headOffset = 0;
    this.buffered = 0;
  }

  private readLength(): number {
    const head = this.chunks[0];
    if (head.length - this.headOffset >= 4) {
      const length = head.readInt32BE(this.headOffset);
      this.advance(4);
      return length;
    }
    return this.take(4).readInt32BE(0);
  }

  private advance(n: number): void {
    this.headOffset += n;
    this.buffered -= n;
    if (this.headOffset === this.chunks[0].length) {
      this.chunks.shift();
      this.headOffset = 0;
    }
  }

  private take(n: number): Buffer {
    const head = this.chunks[0];
    if (head.length - this.headOffset >= n) {
      const view = head.subarray(this.headOffset, this.headOffset + n);
      this.advance(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const chunk = this.chunks[0];
      const available = chunk.length - this.headOffset;
      const count = Math.min(available, n - written);
      chunk.copy(out, written, this.headOffset, this.headOffset + count);
      written += count;
      this.advance(count);
    }
    return out;
  }
}
