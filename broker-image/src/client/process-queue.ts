// Messages pulled from one queue and not yet consumed. The committed offset may only move up to the
// smallest offset still in flight, so a crash re-delivers rather than loses (protocol.md §8.6).
// Orderly consumption takes messages out in offset order (take → commit, or back on a failure)
// and tracks the queue's broker lock (§3.7).

import type { MessageExt } from './message.js';

export class ProcessQueue {
  /** Offset → message, kept in ascending offset order. */
  private messages = new Map<number, MessageExt>();
  /** Orderly: taken by the listener, not yet committed. */
  private readonly consumingMessages = new Map<number, MessageExt>();
  private cachedBytes = 0;
  private maxOffset = -1;
  /** Set when the queue is rebalanced away or its offset moved; pulls and commits stop. */
  dropped = false;
  lastPullTimestamp = Date.now();
  lastConsumeTimestamp = Date.now();
  /** Orderly, clustering: the broker granted us this queue's lock (LOCK_BATCH_MQ). */
  locked = false;
  lastLockTimestamp = 0;
  /** Orderly: a consume run for this queue is in progress. */
  consuming = false;

  get cachedCount(): number {
    return this.messages.size + this.consumingMessages.size;
  }

  /** Our lock counts as lost after `maxLiveMs` without a successful refresh (client side: 30 s). */
  isLockExpired(now: number, maxLiveMs: number): boolean {
    return now - this.lastLockTimestamp > maxLiveMs;
  }

  get cachedSize(): number {
    return this.cachedBytes;
  }

  /** Smallest and largest cached offset (taken ones included); -1 when nothing is cached. */
  cachedOffsetRange(): { min: number; max: number } {
    let min = -1;
    let max = -1;
    for (const map of [this.messages, this.consumingMessages]) {
      for (const offset of map.keys()) {
        if (min < 0 || offset < min) min = offset;
        if (offset > max) max = offset;
      }
    }
    return { min, max };
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

  /** Orderly: moves up to `n` of the oldest cached messages to the consuming set and returns them. */
  takeMessages(n: number): MessageExt[] {
    const out: MessageExt[] = [];
    for (const [offset, msg] of this.messages) {
      if (out.length >= n) break;
      out.push(msg);
      this.messages.delete(offset);
      this.consumingMessages.set(offset, msg);
    }
    if (out.length > 0) this.lastConsumeTimestamp = Date.now();
    return out;
  }

  /** Orderly: the consuming set is done. Returns the offset to commit (one past it), -1 if it was empty. */
  commit(): number {
    if (this.consumingMessages.size === 0) return -1;
    let highest = -1;
    for (const [offset, msg] of this.consumingMessages) {
      if (offset > highest) highest = offset;
      this.cachedBytes -= msg.body.length;
    }
    this.consumingMessages.clear();
    return highest + 1;
  }

  /** Orderly: puts taken messages back in front, to be delivered again in order. */
  makeMessagesToConsumeAgain(batch: readonly MessageExt[]): void {
    let moved = false;
    for (const msg of batch) {
      if (!this.consumingMessages.delete(msg.queueOffset)) continue;
      this.messages.set(msg.queueOffset, msg);
      moved = true;
    }
    if (moved) this.messages = new Map([...this.messages].sort((a, b) => a[0] - b[0]));
  }

  clear(): void {
    this.messages.clear();
    this.consumingMessages.clear();
    this.cachedBytes = 0;
  }
}
