// Messages pulled from one queue and not yet consumed. The committed offset may only move up to the
// smallest offset still in flight, so a crash re-delivers rather than loses (protocol.md §8.6).

import type { MessageExt } from './message.js';

export class ProcessQueue {
  /** Offset → message, kept in ascending offset order. */
  private messages = new Map<number, MessageExt>();
  private cachedBytes = 0;
  private maxOffset = -1;
  /** Set when the queue is rebalanced away or its offset moved; pulls and commits stop. */
  dropped = false;
  lastPullTimestamp = Date.now();
  lastConsumeTimestamp = Date.now();

  get cachedCount(): number {
    return this.messages.size;
  }

  get cachedSize(): number {
    return this.cachedBytes;
  }

  /** Offset distance between the oldest and newest cached message (concurrent-mode flow control). */
  get offsetSpan(): number {
    if (this.messages.size === 0) return 0;
    return this.maxOffset - this.messages.keys().next().value!;
  }

  /** Adds pulled messages; returns how many were new. */
  putMessages(batch: readonly MessageExt[]): number {
    let added = 0;
    let outOfOrder = false;
    for (const msg of batch) {
      if (this.messages.has(msg.queueOffset)) continue;
      if (msg.queueOffset < this.maxOffset) outOfOrder = true;
      this.messages.set(msg.queueOffset, msg);
      this.cachedBytes += msg.body.length;
      if (msg.queueOffset > this.maxOffset) this.maxOffset = msg.queueOffset;
      added++;
    }
    if (outOfOrder) this.messages = new Map([...this.messages].sort((a, b) => a[0] - b[0]));
    return added;
  }

  /**
   * Removes consumed messages. Returns the offset that may now be committed: the smallest offset
   * still cached, or one past the newest ever cached when nothing is left; -1 if nothing was cached.
   */
  removeMessages(batch: readonly MessageExt[]): number {
    if (this.messages.size === 0) return -1;
    this.lastConsumeTimestamp = Date.now();
    for (const msg of batch) {
      const cached = this.messages.get(msg.queueOffset);
      if (cached === undefined) continue;
      this.messages.delete(msg.queueOffset);
      this.cachedBytes -= cached.body.length;
    }
    if (this.messages.size === 0) return this.maxOffset + 1;
    return this.messages.keys().next().value!;
  }

  clear(): void {
    this.messages.clear();
    this.cachedBytes = 0;
  }
}
