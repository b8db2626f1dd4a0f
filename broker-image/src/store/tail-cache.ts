// The newest bytes of the CommitLog, kept in memory as well as written, so that consumers who keep
// up (the usual case) are served by a copy instead of a system call per record. It plays the part
// of RocketMQ's mapped file for recent data. A ring: log offset o lives at o % capacity.

export class TailCache {
  private readonly ring: Buffer;
  /** First log offset held. */
  private start = 0;
  /** One past the last log offset held. */
  private end = 0;

  constructor(readonly capacity: number) {
    this.ring = Buffer.allocUnsafe(capacity);
  }

  /** Forgets everything; the next append is expected at `offset`. */
  reset(offset: number): void {
    this.start = offset;
    this.end = offset;
  }

  /** Records bytes just written at `offset`, in order. Anything but a continuation starts afresh. */
  append(offset: number, chunks: readonly Buffer[]): void {
    if (offset !== this.end) this.reset(offset);
    const cap = this.capacity;
    for (const chunk of chunks) {
      // Only the last `capacity` bytes of a chunk larger than the ring can survive.
      const skip = Math.max(0, chunk.length - cap);
      let from = skip;
      let pos = (this.end + skip) % cap;
      while (from < chunk.length) {
        const n = Math.min(chunk.length - from, cap - pos);
        chunk.copy(this.ring, pos, from, from + n);
        from += n;
        pos = (pos + n) % cap;
      }
      this.end += chunk.length;
    }
    if (this.end - this.start > cap) this.start = this.end - cap;
  }

  /** Copies [offset, offset + length) into `target` at `at` if all of it is held. */
  copyTo(offset: number, length: number, target: Buffer, at: number): boolean {
    if (length <= 0 || offset < this.start || offset + length > this.end) return false;
    const cap = this.capacity;
    const pos = offset % cap;
    const first = Math.min(length, cap - pos);
    this.ring.copy(target, at, pos, pos + first);
    if (first < length) this.ring.copy(target, at + first, 0, length - first);
    return true;
  }
}
